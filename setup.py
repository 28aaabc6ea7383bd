"""Builds the event-pipeline-components distribution (metadata: pyproject.toml).

The one step pyproject.toml cannot declare: the sources the components build (the API image's
build context and the Lambda services' code) are copied into the wheel as
components/_bundle/, the same tree as the repository's, so a program that pip-installs the
package builds the same image and packages (components/package_files.py finds them there).
"""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from components.bundle import bundle_files  # noqa: E402
from components.package_files import BUNDLE  # noqa: E402


class BuildPyWithSources(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "components" / BUNDLE
        for relative in bundle_files(ROOT):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / relative, target / relative)


setup(cmdclass={"build_py": BuildPyWithSources})
