"""The API's event JSON Schema (a copy) and a small validator for the subset of keywords it uses.

The Lambda package stays lean: no jsonschema dependency. A unit test asserts this copy equals
`event_api.events.EVENT_SCHEMA`, and another cross-checks this validator against a full
JSON Schema implementation, so the two cannot drift apart silently.
"""

from __future__ import annotations

import functools
import re
from typing import Any

EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.invalid/schemas/hello-event.json",
    "title": "Hello event",
    "type": "object",
    "properties": {
        "event_id": {"type": "string", "format": "uuid"},
        "timestamp": {"type": "integer", "minimum": 0},
        "message": {"type": "string", "minLength": 1},
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[A-Za-z][-_A-Za-z0-9]*$",
        },
    },
    "required": ["event_id", "timestamp", "message", "name"],
    "additionalProperties": False,
}

# Keywords that only annotate; everything else must be implemented below or validation refuses.
_ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "default", "$comment"}
_SUPPORTED = _ANNOTATIONS | {
    "type", "properties", "required", "additionalProperties", "pattern", "minLength", "maxLength",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "const", "format",
}

# "format" is asserted, not just annotated: an event id that is not a UUID is poison.
_FORMATS = {
    "uuid": re.compile(
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    ),
}


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """JSON Schema patterns are ECMA-262: a final "$" matches only at the very end, whereas
    Python's "$" also matches before a trailing newline ("Bob\\n" would pass)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    # JSON has one number type; bool is an int subclass in Python but never a JSON number.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool))
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword this validator does not implement."""


def check_supported(schema: dict[str, Any]) -> None:
    """Refuse schemas with keywords we would otherwise silently ignore."""
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise UnsupportedSchemaError(f"unsupported JSON Schema keywords: {sorted(unknown)}")
    if "format" in schema and schema["format"] not in _FORMATS:
        raise UnsupportedSchemaError(f"unsupported JSON Schema format: {schema['format']!r}")
    for sub in schema.get("properties", {}).values():
        check_supported(sub)
    if isinstance(schema.get("additionalProperties"), dict):
        check_supported(schema["additionalProperties"])


def _errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    where = path or "event"
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_TYPES[name](value) for name in names):
            return [f"{where}: expected {'/'.join(names)}, got {type(value).__name__}"]
    errors: list[str] = []
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must equal {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {schema['enum']!r}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append(f"{where}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            errors.append(f"{where}: does not match {schema['pattern']}")
        if "format" in schema and not _FORMATS[schema["format"]].fullmatch(value):
            errors.append(f"{where}: not a valid {schema['format']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: below minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: above maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: not above {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append(f"{where}: not below {schema['exclusiveMaximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{where}: missing required property {key!r}")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            if key in props:
                errors.extend(_errors(item, props[key], child))
            elif extra is False:
                errors.append(f"{where}: unexpected property {key!r}")
            elif isinstance(extra, dict):
                errors.extend(_errors(item, extra, child))
    return errors


def validation_errors(value: Any, schema: dict[str, Any] = EVENT_SCHEMA) -> list[str]:
    """Every way `value` violates `schema` (empty when valid)."""
    return _errors(value, schema, "")


check_supported(EVENT_SCHEMA)
