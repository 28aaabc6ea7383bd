"""What the distribution carries besides the components: every file the components build from.

That is the API image's build context (the .dockerignore allow-list, components/docker_context.py)
and each Lambda service's package sources as its pyproject.toml declares them, with the
first-party libs' pyproject files that declaration is resolved against
(components/project_sources.py). setup.py copies these into the wheel as components/_bundle/.
"""

from __future__ import annotations

from pathlib import Path

from components.docker_context import DOCKERIGNORE, context_files
from components.package_files import FIRST_PARTY_ROOT, SERVICES
from components.project_sources import PYPROJECT, project_sources

# The services the components build as Lambda packages (Consumer, KafkaTopic).
LAMBDA_SERVICES = ("consumer", "topic_admin")


def _tree(root: Path, folder: Path) -> list[Path]:
    return [p.relative_to(root) for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")]


def bundle_files(root: str | Path) -> list[Path]:
    """The files, relative to `root` (a checkout), that the components' defaults read."""
    root = Path(root).resolve()
    found = {Path(DOCKERIGNORE), *context_files(root)}
    found.update(p.relative_to(root) for p in (root / FIRST_PARTY_ROOT).glob(f"*/{PYPROJECT}"))
    for service in LAMBDA_SERVICES:
        sources = project_sources(root / SERVICES / service, (root / FIRST_PARTY_ROOT,))
        found.add(Path(SERVICES) / service / PYPROJECT)
        found.add(sources.requirements.resolve().relative_to(root))
        for package in sources.import_packages:
            found.update(_tree(root, package.resolve()))
    return sorted(found)
