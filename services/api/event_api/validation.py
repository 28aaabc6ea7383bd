"""Query-string validation; the rules mirror openapi.json (a unit test keeps them in step)."""

from __future__ import annotations

import re
from collections.abc import Iterable

NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 64
NAME_PATTERN = "^[A-Za-z][-_A-Za-z0-9]*$"
# fullmatch, not `$`: `$` would accept a trailing newline.
_NAME_RE = re.compile(r"[A-Za-z][-_A-Za-z0-9]*", re.ASCII)


class InvalidQuery(Exception):
    """Bad input from the client; mapped to 400 problem+json."""

    def __init__(self, detail: str, errors: list[dict]):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


def reject_unknown(params: Iterable[tuple[str, str]], allowed: frozenset[str]) -> None:
    unknown = sorted({key for key, _ in params if key not in allowed})
    if unknown:
        raise InvalidQuery(
            "Unknown query parameter(s): " + ", ".join(unknown),
            [{"parameter": key, "problem": "unknown parameter"} for key in unknown],
        )


def parse_name(params: list[tuple[str, str]]) -> str:
    """Return the single valid `name` from the query items or raise InvalidQuery."""
    reject_unknown(params, frozenset({"name"}))
    values = [value for key, value in params if key == "name"]
    if not values:
        raise InvalidQuery("Query parameter 'name' is required", [_problem("is required")])
    if len(values) > 1:
        raise InvalidQuery(
            "Query parameter 'name' must be given once", [_problem("given more than once")]
        )
    name = values[0]
    if not NAME_MIN_LENGTH <= len(name) <= NAME_MAX_LENGTH:
        raise InvalidQuery(
            f"Query parameter 'name' must be {NAME_MIN_LENGTH} to {NAME_MAX_LENGTH} characters",
            [_problem(f"length {len(name)} outside {NAME_MIN_LENGTH}..{NAME_MAX_LENGTH}")],
        )
    if not _NAME_RE.fullmatch(name):
        raise InvalidQuery(
            f"Query parameter 'name' must match {NAME_PATTERN}",
            [_problem(f"does not match {NAME_PATTERN}")],
        )
    return name


def _problem(text: str) -> dict:
    return {"parameter": "name", "problem": text}
