"""Where the sources the components build live: the API image's build context and the services'
Lambda code, found relative to this package's own files, never the current directory.

In a checkout the package sits at the repository root, next to services/ and libs/; the built
distribution (pyproject.toml) carries the same tree as `components/_bundle/`. A program that
pip-installs the package therefore builds the same image and packages as this repository does.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLE = "_bundle"  # the folder name the distribution gives the sources (pyproject.toml)
API_DOCKERFILE = "services/api/Dockerfile"
SERVICES = "services"
FIRST_PARTY_ROOT = "libs"


def source_root() -> Path:
    """The folder holding services/, libs/ and the image's .dockerignore allow-list."""
    bundled = PACKAGE_DIR / BUNDLE
    return bundled if bundled.is_dir() else PACKAGE_DIR.parent


def program_relative(path: Path) -> str:
    """`path` as the program's working directory reaches it. Pulumi stores the value in the
    stack's state, so a relative path keeps it the same on every machine that checks the
    project out (an absolute one would differ, and show as a change, on each)."""
    return os.path.relpath(path, Path.cwd())
