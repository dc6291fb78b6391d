"""`make bench`: build a large synthetic show in a throwaway database and measure the site on it.

Not part of the product: the wheel leaves this package out and config.settings does not know it.
Run as `python -m bench` (see `bench/__main__.py` and docs/PERFORMANCE.md).
"""


class BenchError(Exception):
    """A benchmark step could not run; `python -m bench` prints the message and exits non-zero."""
