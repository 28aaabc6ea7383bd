"""The consumer's copy of the event schema, and its small validator, against the real thing."""

from __future__ import annotations

import jsonschema_rs
import pytest
from event_api.events import EVENT_SCHEMA as API_SCHEMA
from event_api.events import build_event
from event_consumer.schema import (
    EVENT_SCHEMA,
    UnsupportedSchemaError,
    check_supported,
    validation_errors,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def test_schema_copy_equals_the_apis():
    assert EVENT_SCHEMA == API_SCHEMA


def test_events_the_api_builds_are_valid():
    for name in ("Bob", "a", "X" * 64, "Jean-Luc_2"):
        assert validation_errors(build_event(name).as_dict()) == []


def test_unknown_keywords_are_refused_not_ignored():
    with pytest.raises(UnsupportedSchemaError, match="oneOf"):
        check_supported({"type": "object", "properties": {"a": {"oneOf": []}}})
    with pytest.raises(UnsupportedSchemaError, match="format"):
        check_supported({"type": "string", "format": "email"})


def test_pattern_dollar_is_end_of_input_as_in_json_schema():
    event = build_event("Bob").as_dict() | {"name": "Bob\n"}
    assert validation_errors(event) == ["name: does not match ^[A-Za-z][-_A-Za-z0-9]*$"]


_json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=False, width=32),
    st.text(max_size=70),
    st.sampled_from(["Bob", "", "0190a0b0-0000-7000-8000-000000000000", "Hello, Bob!", "9x"]),
)
_values = st.recursive(
    _json_scalars, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
        st.text(max_size=3), inner, max_size=2
    ), max_leaves=4,
)
_fields = st.sampled_from(["event_id", "timestamp", "message", "name", "extra"])
_candidates = st.one_of(
    _values,
    st.dictionaries(_fields, _values, max_size=5),
    st.builds(  # mostly-valid events with one field replaced or removed
        lambda name, field, value, drop: _mutate(build_event(name).as_dict(), field, value, drop),
        st.from_regex(r"[A-Za-z][-_A-Za-z0-9]{0,70}", fullmatch=True),
        _fields, _values, st.booleans(),
    ),
)


def _mutate(event: dict, field: str, value, drop: bool) -> dict:
    event = dict(event)
    if drop:
        event.pop(field, None)
    else:
        event[field] = value
    return event


@settings(max_examples=250, deadline=None)
@given(_candidates)
def test_validator_agrees_with_a_full_json_schema_implementation(instance):
    reference = jsonschema_rs.validator_for(EVENT_SCHEMA, validate_formats=True)
    assert (validation_errors(instance) == []) == reference.is_valid(instance)
