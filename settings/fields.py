"""What a declared setting allows, read back from its pydantic field: for messages and the table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types
from pydantic import TypeAdapter
from pydantic.fields import FieldInfo


def metadata(field: FieldInfo) -> list[Any]:
    """The field's constraints and validators, including those inside `X | None`."""
    found = list(field.metadata)

    def walk(annotation: Any) -> None:
        if get_origin(annotation) is Annotated:
            found.extend(annotation.__metadata__)
        for arg in get_args(annotation):
            walk(arg)

    walk(field.annotation)
    return found


def bounds(field: FieldInfo) -> tuple[int | None, int | None]:
    low = high = None
    for item in metadata(field):
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    return low, high


def range_text(field: FieldInfo) -> str:
    low, high = bounds(field)
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


def _literal_choices(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) is Literal:
        return get_args(annotation)
    for arg in get_args(annotation):
        found = _literal_choices(arg)
        if found:
            return found
    return None


def _validator_allowed(field: FieldInfo) -> Iterator[Any]:
    for item in metadata(field):
        allowed = getattr(getattr(item, "func", None), "allowed", None)
        if allowed is not None:
            yield allowed


def allowed_text(field: FieldInfo) -> str:
    """What the "Allowed" column of docs/configuration.md's settings table shows for the field."""
    declared = (field.json_schema_extra or {}).get("allowed")
    if declared:
        return str(declared)
    choices = _literal_choices(field.annotation)
    if choices:
        return ", ".join(map(str, choices))
    for allowed in _validator_allowed(field):
        return ", ".join(map(str, allowed)) if isinstance(allowed, tuple) else str(allowed)
    if bool in _base_types(field.annotation):
        return "true, false"
    return range_text(field).strip().removeprefix("from ") or "text"


def _base_types(annotation: Any) -> set[Any]:
    if get_origin(annotation) is Annotated:
        return _base_types(get_args(annotation)[0])
    args = get_args(annotation)
    return {t for arg in args for t in _base_types(arg)} if args else {annotation}


def message(field: FieldInfo, error: dict[str, Any]) -> str:
    """One clear sentence for a validation error of the field, from its declaration."""
    kind = error["type"]
    if kind in ("int_parsing", "int_from_float", "int_type", "greater_than_equal",
                "less_than_equal"):
        return f"must be a whole number{range_text(field)}"
    if kind == "literal_error":
        return f"must be one of {', '.join(map(str, _literal_choices(field.annotation) or ()))}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return str(error["msg"])


def adapter(field: FieldInfo) -> TypeAdapter:
    """A validator for one field's value alone, so every key is checked even if others fail."""
    if not field.metadata:
        return TypeAdapter(field.annotation)
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)])
