"""The wheel carries the site's templates, static files and demo show inside companion/site/.

They live at the top of the checkout, where `make run` and the tests use them; a package can only
ship data from inside itself, so the build copies them in. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SITE = ["templates", "static", "fixtures"]


class BuildPyWithSite(build_py):
    def run(self) -> None:
        super().run()
        # An editable install runs from the checkout, which has them already.
        if not self.editable_mode:
            for name in SITE:
                target = Path(self.build_lib) / "companion" / "site" / name
                shutil.copytree(name, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithSite})
