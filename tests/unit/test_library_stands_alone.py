"""components/ is a library: it imports only the standard library, itself and what its distribution
depends on, never the program around it (settings/, local/, services/, tests/, testing/ ...).

Every import statement of every module is read from its source (AST), including those inside
functions, so a lazy `from settings import default` is caught as well as a top-level one."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "components"
# The runtime dependencies of the event-pipeline-components distribution (its pyproject.toml).
# event_contract (libs/event-contract) holds the Kafka name rules the consumer's args check.
DEPENDENCIES = {"pulumi", "pulumi_aws", "pulumi_docker_build", "event_contract"}
# What this repository has besides the library: the program and what runs and proves it.
PROGRAM = {"settings", "local", "services", "tests", "testing", "policy", "bench", "tools",
           "libs", "bootstrap", "__main__"}


def imported_roots(source: str) -> set[str]:
    """The top-level module of every absolute import in `source`."""
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def library_modules() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if "__pycache__" not in p.parts)


def test_the_walk_finds_every_kind_of_import():
    source = ("import os.path\nfrom settings import default\n"
              "def f():\n    from local.esm import x\n    import testing.pulumi_harness\n"
              "from . import sibling\n")
    assert imported_roots(source) == {"os", "settings", "local", "testing"}


def test_the_library_has_modules_to_check():
    assert len(library_modules()) >= 15


@pytest.mark.parametrize("module", library_modules(),
                         ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_a_component_module_imports_nothing_from_the_program(module: Path):
    roots = imported_roots(module.read_text())
    from_program = sorted(roots & PROGRAM)
    assert not from_program, (
        f"components/{module.relative_to(LIBRARY)} imports {from_program}: the library must not "
        "depend on the program (move the value into the component, and let the program read it)")
    unknown = sorted(roots - set(sys.stdlib_module_names) - DEPENDENCIES - {"components"})
    assert not unknown, (
        f"components/{module.relative_to(LIBRARY)} imports {unknown}, which the distribution "
        "does not depend on: add it to its dependencies (and DEPENDENCIES here) or drop it")
