"""Components read top-down: no function under components/ is longer than 80 lines (issue 16)."""

from __future__ import annotations

import ast

from testing.pulumi_harness import PROJECT_ROOT

MAX_LINES = 80
COMPONENTS = PROJECT_ROOT / "components"


def long_functions(source: str, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method longer than `limit` lines, decorators included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = node.end_lineno - first + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def test_the_check_finds_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    assert long_functions(f"def f():\n{body}\n") == [("f", MAX_LINES + 1)]
    assert long_functions(f"def f():\n{body}\n", limit=MAX_LINES + 1) == []


def test_no_component_function_is_longer_than_80_lines():
    files = sorted(COMPONENTS.glob("*.py"))
    assert {f.name for f in files} >= {"network.py", "api_service.py", "consumer.py"}
    offenders = {f.name: long_functions(f.read_text()) for f in files}
    assert {name: found for name, found in offenders.items() if found} == {}
