"""Settings for `python -m bench` only: the real settings plus a trivial view to compare pages with.

The benchmark sets DJANGO_DEBUG=0 and the other production variables in the environment, so what it
measures is the production configuration; this module adds only what a benchmark needs on top.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# collectstatic writes the manifest into the benchmark's throwaway folder, not into the project.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT))  # noqa: F405
