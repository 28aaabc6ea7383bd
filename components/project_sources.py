"""What a deployable contains, read from its own `pyproject.toml`: the one declaration.

A service (e.g. `services/topic_admin`) names its dependencies in `[project] dependencies`. Those
that are first-party projects (a folder under one of `first_party_roots` whose pyproject has that
name, e.g. `libs/event-contract`) are copied into the package as source trees, with their own
first-party dependencies, recursively; every other one is third-party and must be pinned in the
service's `requirements.txt`, which pip installs for the target platform. The Lambda packages the
program builds, the API image's COPY lines (kept equal by tests/unit/test_project_sources.py) and
the local runs all come from here, so a lib a service starts to import is added in one place: the
service's pyproject.

Pure functions over files; nothing runs at import time.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = "pyproject.toml"
REQUIREMENTS = "requirements.txt"
# PEP 508: the name is everything before the first version, extra, marker or URL character.
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PINNED = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*[^\s;#]+")


class ProjectSourcesError(ValueError):
    """A pyproject or requirements file does not say what the package needs; the message says
    which file and what is missing."""


def normalize(name: str) -> str:
    """PEP 503's normalized form: `Kafka_Python` and `kafka-python` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Project:
    """One pyproject.toml: its distribution name, import packages and dependency names."""

    name: str
    directory: Path
    packages: tuple[str, ...]
    dependencies: tuple[str, ...]


@dataclass(frozen=True)
class ProjectSources:
    """Everything a deployable's package is made of."""

    name: str
    """The service's distribution name (normalized), e.g. `topic-admin`."""
    directory: Path
    """The service's project folder."""
    import_packages: tuple[Path, ...]
    """Source folders copied to the package root: the service's own first, then its first-party
    dependencies in the order they are first reached."""
    first_party: tuple[str, ...]
    """Distribution names of the first-party projects it includes (the service's own first)."""
    third_party: tuple[str, ...]
    """Third-party distribution names the closure declares (normalized, sorted); each is pinned
    in `requirements`."""
    requirements: Path
    """The service's pinned requirements file."""

    @property
    def module_names(self) -> tuple[str, ...]:
        """Top-level import names of the first-party code in the package."""
        return tuple(path.name for path in self.import_packages)


def read_project(directory: str | Path) -> Project:
    """A project's name, `[tool.setuptools] packages` and dependency names."""
    directory = Path(directory)
    path = directory / PYPROJECT
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ProjectSourcesError(f"{path}: no such file (a deployable is a Python project)") \
            from None
    except tomllib.TOMLDecodeError as error:
        raise ProjectSourcesError(f"{path}: not valid TOML: {error}") from None
    project = data.get("project") or {}
    name = project.get("name")
    packages = ((data.get("tool") or {}).get("setuptools") or {}).get("packages")
    if not isinstance(name, str) or not name:
        raise ProjectSourcesError(f"{path}: [project] name is missing")
    if not isinstance(packages, list) or not packages or not all(
            isinstance(p, str) and p.isidentifier() for p in packages):
        raise ProjectSourcesError(
            f"{path}: [tool.setuptools] packages must list the project's top-level import "
            f"packages, got {packages!r}")
    dependencies = []
    for requirement in project.get("dependencies") or []:
        match = _NAME.match(requirement)
        if match is None:
            raise ProjectSourcesError(f"{path}: dependency {requirement!r} has no project name")
        dependencies.append(normalize(match.group(1)))
    return Project(normalize(name), directory, tuple(packages), tuple(dependencies))


def first_party_projects(roots: Iterable[str | Path]) -> dict[str, Project]:
    """Every project directly under the given folders, by normalized name."""
    found: dict[str, Project] = {}
    for root in roots:
        for pyproject in sorted(Path(root).glob(f"*/{PYPROJECT}")):
            project = read_project(pyproject.parent)
            if project.name in found:
                raise ProjectSourcesError(
                    f"two first-party projects are named {project.name!r}: "
                    f"{found[project.name].directory} and {project.directory}")
            found[project.name] = project
    return found


def pinned_requirements(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalized name."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PINNED.match(line)
        if match is None:
            raise ProjectSourcesError(f"{path}: {line!r} is not pinned as name==version")
        pins[normalize(match.group(1))] = line
    return pins


def project_sources(directory: str | Path,
                    first_party_roots: Sequence[str | Path]) -> ProjectSources:
    """Resolve what the deployable at `directory` contains (see the module docstring).

    Raises ProjectSourcesError when a first-party package folder is missing or a third-party
    dependency of the closure is not pinned in the service's requirements.txt.
    """
    service = read_project(directory)
    libraries = first_party_projects(first_party_roots)
    order: list[Project] = []
    needed_by: dict[str, str] = {}  # third-party name -> the first project that declares it
    pending, seen = [service], {service.name}
    while pending:
        project = pending.pop(0)
        order.append(project)
        for dependency in project.dependencies:
            if dependency in libraries:
                if dependency not in seen:
                    seen.add(dependency)
                    pending.append(libraries[dependency])
            else:
                needed_by.setdefault(dependency, project.name)
    packages: list[Path] = []
    for project in order:
        for package in project.packages:
            source = project.directory / package
            if not (source / "__init__.py").is_file():
                raise ProjectSourcesError(
                    f"{project.directory / PYPROJECT}: package {package!r} has no "
                    f"{source / '__init__.py'}")
            packages.append(source)
    requirements = service.directory / REQUIREMENTS
    if not requirements.is_file():
        raise ProjectSourcesError(f"{requirements}: no such file (the pinned third-party "
                                  f"dependencies of {service.name})")
    pins = pinned_requirements(requirements)
    missing = [f"{name} (declared by {needed_by[name]})"
               for name in sorted(needed_by) if name not in pins]
    if missing:
        raise ProjectSourcesError(f"{requirements}: not pinned, but the package needs: "
                                  f"{', '.join(missing)}")
    return ProjectSources(service.name, service.directory, tuple(packages),
                          tuple(p.name for p in order), tuple(sorted(needed_by)), requirements)
