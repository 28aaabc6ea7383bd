"""The Lambda package of one of the package's own services, built from its bundled sources.

What a function's package holds is declared by the service's own pyproject.toml
(components/project_sources.py); the sources are found next to this package's files
(components/package_files.py), so a program that installed the distribution builds the same
packages as this repository.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from components import lambda_package
from components.package_files import FIRST_PARTY_ROOT, SERVICES, program_relative, source_root
from components.project_sources import project_sources

BUILD_DIR = Path("build")  # under the program's directory: the packages' build cache


def service_archive(service: str, runtime: str, build_dir: str | Path | None = None
                    ) -> pulumi.Archive:
    """The package of services/<service> for arm64 and `runtime`'s Python ("python3.13"),
    built when the program runs (preview and up) and reused from `build_dir` (default
    build/<service> under the program's directory) while nothing in it changed."""
    root = source_root()
    sources = project_sources(Path(program_relative(root / SERVICES / service)),
                              (Path(program_relative(root / FIRST_PARTY_ROOT)),))
    # Looked up on the module when called: the mocks harness stands in for the real build.
    return lambda_package.build_lambda_archive(
        sources.import_packages, sources.requirements, Path(build_dir or BUILD_DIR / service),
        python_version=runtime.removeprefix("python"))
