"""The API image's build context: the repository root filtered by the `.dockerignore` allow-list.

One place says what goes into the image (the allow-list): BuildKit applies it when `pulumi up`
builds (components/api_service.py), and the local image build stages exactly these files.
Pure functions, no Pulumi.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

DOCKERIGNORE = ".dockerignore"


class ContextError(ValueError):
    """The .dockerignore is not the allow-list form this project uses."""


def allow_list(root: str | Path) -> tuple[list[str], list[str]]:
    """(included paths, excluded glob patterns) of an allow-list .dockerignore: `*` first, then
    `!path` entries, then exclusion globs such as `**/__pycache__`."""
    lines = [line.strip() for line in (Path(root) / DOCKERIGNORE).read_text().splitlines()]
    rules = [line for line in lines if line and not line.startswith("#")]
    if not rules or rules[0] != "*":
        raise ContextError(f"{DOCKERIGNORE} must start with '*' (an allow-list)")
    included = [rule[1:].rstrip("/") for rule in rules[1:] if rule.startswith("!")]
    excluded = [rule for rule in rules[1:] if not rule.startswith("!")]
    return included, excluded


def context_files(root: str | Path) -> list[Path]:
    """Every file the build context holds, relative to `root`, sorted."""
    root = Path(root)
    included, excluded = allow_list(root)
    found: set[Path] = set()
    for entry in included:
        path = root / entry
        if not path.exists():
            raise ContextError(f"{DOCKERIGNORE} admits {entry!r}, which does not exist")
        candidates = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for candidate in candidates:
            relative = candidate.relative_to(root)
            if not any(_matches(relative, pattern) for pattern in excluded):
                found.add(relative)
    return sorted(found)


def _matches(relative: Path, pattern: str) -> bool:
    # `**/x` matches x at any depth, for a file or any of its parent folders.
    leaf = pattern.removeprefix("**/")
    return any(fnmatch.fnmatch(part, leaf) for part in relative.parts)
