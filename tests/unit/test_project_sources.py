"""One declaration of what each deployable contains: the service's pyproject.toml, resolved by
components/project_sources.py, covers every import of the code it ships; the API image's COPY
lines and .dockerignore say the same."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import pytest

from components.project_sources import (
    ProjectSourcesError,
    normalize,
    pinned_requirements,
    project_sources,
)
from testing.pulumi_harness import PROJECT_ROOT

SERVICES = ("api", "consumer", "topic_admin")
LIBS = PROJECT_ROOT / "libs"


def _sources(service: str):
    return project_sources(PROJECT_ROOT / "services" / service, [LIBS])


def _imports(package: Path) -> dict[str, str]:
    """Top-level names of every absolute import in a package's modules -> one file using it.
    Imports inside functions count too: they fail at run time instead of at load."""
    found: dict[str, str] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(PROJECT_ROOT)))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_import_of_a_package_is_inside_it(service):
    """Removing a lib from a service's pyproject (or importing a new one without declaring it)
    fails here: each imported name is the stdlib, first-party code in the package, or a
    distribution pinned in the service's requirements.txt."""
    sources = _sources(service)
    pins = pinned_requirements(sources.requirements)
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for package in sources.import_packages:
        for name, where in _imports(package).items():
            if name in sys.stdlib_module_names or name in sources.module_names:
                continue
            owners = {normalize(d) for d in distributions.get(name, [])}
            if not owners & set(pins):
                missing.append(f"{name} (imported by {where})")
    assert not missing, f"services/{service}'s package lacks: {', '.join(missing)}"


def test_the_topic_provisioner_gets_the_event_contract():
    """The defect that failed every first `pulumi up`: request.py imports event_contract."""
    assert "event_contract" in _sources("topic_admin").module_names


def test_the_replay_tool_is_in_no_deployable():
    for service in SERVICES:
        assert "event_replay" not in _sources(service).module_names


def test_the_replay_tool_reads_letters_through_the_shared_lib_not_the_consumer():
    """The dead-letter format is a contract between two deployables (libs/dead-letter-format):
    the replay tool imports no consumer module and declares the lib it does import."""
    from components.project_sources import read_project

    replay = PROJECT_ROOT / "tools" / "replay"
    imports = _imports(replay / "event_replay")
    assert "event_consumer" not in imports, imports["event_consumer"]
    assert "dead_letter_format" in imports
    assert "dead-letter-format" in read_project(replay).dependencies
    assert "event-consumer" not in read_project(replay).dependencies


def test_no_local_only_code_ships_in_the_consumer():
    """The SQLite dead-letter store was local-only code in the Lambda package; locally the
    consumer now writes to the SQS/S3 server, as in AWS. Nothing in the package opens SQLite."""
    imports = {}
    for package in _sources("consumer").import_packages:
        imports |= _imports(package)
    assert "sqlite3" not in imports, imports.get("sqlite3")


def test_the_api_image_copies_exactly_what_the_api_declares():
    """The Dockerfile's COPY lines and the .dockerignore allow-list follow the declaration."""
    sources = _sources("api")
    dockerfile = (PROJECT_ROOT / "services" / "api" / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (\S+) /app/(\w+)$", dockerfile, flags=re.MULTILINE)
    declared = [(str(p.relative_to(PROJECT_ROOT)), p.name) for p in sources.import_packages]
    assert sorted(copied) == sorted(declared)
    allowed = {line[1:].rstrip("/") for line in
               (PROJECT_ROOT / ".dockerignore").read_text().splitlines() if line.startswith("!")}
    assert {path for path, _ in declared} <= allowed
    code_entries = {a for a in allowed if not a.endswith(("Dockerfile", "requirements.txt"))}
    assert code_entries == {path for path, _ in declared}


# --- the resolver on projects made for the test ------------------------------------------------

def _project(root: Path, folder: str, name: str, packages: list[str],
             dependencies: list[str], requirements: str | None = None) -> Path:
    directory = root / folder
    for package in packages:
        (directory / package).mkdir(parents=True)
        (directory / package / "__init__.py").write_text("")
    listed = ", ".join(f'"{d}"' for d in dependencies)
    (directory / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\ndependencies = [{listed}]\n'
        f"[tool.setuptools]\npackages = {packages!r}\n".replace("'", '"'))
    if requirements is not None:
        (directory / "requirements.txt").write_text(requirements)
    return directory


def test_first_party_dependencies_are_followed_transitively(tmp_path):
    libs = tmp_path / "libs"
    _project(libs, "a-lib", "a-lib", ["a_lib"], ["b_lib", "requests>=2"])
    _project(libs, "b-lib", "B.Lib", ["b_lib"], ["six"])
    _project(libs, "unused", "unused", ["unused"], [])
    service = _project(tmp_path, "svc", "svc", ["svc"], ["a-lib"],
                       "# pins\nrequests==2.32.0\nsix==1.17.0  # b-lib's\n")

    sources = project_sources(service, [libs])

    assert sources.module_names == ("svc", "a_lib", "b_lib")
    assert sources.first_party == ("svc", "a-lib", "b-lib")
    assert sources.third_party == ("requests", "six")


def test_an_unpinned_third_party_dependency_names_who_declares_it(tmp_path):
    libs = tmp_path / "libs"
    _project(libs, "a-lib", "a-lib", ["a_lib"], ["fastjsonschema"])
    service = _project(tmp_path, "svc", "svc", ["svc"], ["a-lib"], "kafka-python==3.0.12\n")
    with pytest.raises(ProjectSourcesError,
                       match=r"not pinned, but the package needs: fastjsonschema "
                             r"\(declared by a-lib\)"):
        project_sources(service, [libs])


@pytest.mark.parametrize("requirements, problem", [
    ("six>=1\n", "is not pinned as name==version"),
    (None, "requirements.txt: no such file"),
])
def test_requirements_must_exist_and_pin(tmp_path, requirements, problem):
    service = _project(tmp_path, "svc", "svc", ["svc"], ["six"], requirements)
    with pytest.raises(ProjectSourcesError, match=problem):
        project_sources(service, [tmp_path / "libs"])


def test_a_declared_package_without_its_folder_is_refused(tmp_path):
    service = _project(tmp_path, "svc", "svc", ["svc"], [], "")
    (service / "svc" / "__init__.py").unlink()
    with pytest.raises(ProjectSourcesError, match=r"package 'svc' has no"):
        project_sources(service, [])


@pytest.mark.parametrize("pyproject, problem", [
    (None, "no such file"),
    ("[project\n", "not valid TOML"),
    ('[project]\ndependencies = []\n', r"\[project\] name is missing"),
    ('[project]\nname = "svc"\n', r"packages must list"),
])
def test_a_broken_pyproject_says_which_file_and_what(tmp_path, pyproject, problem):
    service = tmp_path / "svc"
    service.mkdir()
    if pyproject is not None:
        (service / "pyproject.toml").write_text(pyproject)
    with pytest.raises(ProjectSourcesError, match=problem):
        project_sources(service, [])
