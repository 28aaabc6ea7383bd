"""The shared event contract: one JSON Schema file, validated with fastjsonschema, and the Kafka
name rules, checked against the real things."""

from __future__ import annotations

import jsonschema_rs
import pytest
from event_api.events import build_event
from event_contract.kafka_names import group_id_problem, topic_name_problem
from event_contract.schema import EVENT_SCHEMA, InvalidEvent, validate_event
from hypothesis import given, settings
from hypothesis import strategies as st


def _errors(value) -> list[str]:
    try:
        validate_event(value)
    except InvalidEvent as err:
        return [err.reason]
    return []


def test_events_the_api_builds_are_valid():
    for name in ("Bob", "a", "X" * 64, "Jean-Luc_2"):
        assert _errors(build_event(name).as_dict()) == []


def test_pattern_dollar_is_end_of_input_as_in_json_schema():
    event = build_event("Bob").as_dict() | {"name": "Bob\n"}
    assert _errors(event) == ["schema: data.name must match pattern ^[A-Za-z][-_A-Za-z0-9]*$"]


def test_the_uuid_format_is_asserted_not_just_annotated():
    event = build_event("Bob").as_dict() | {"event_id": "not-a-uuid"}
    assert _errors(event) == ["schema: data.event_id must be uuid"]


@pytest.mark.parametrize("name", ["events", "a.b_c-d", "x" * 249])
def test_legal_topic_names(name):
    assert topic_name_problem(name) is None


@pytest.mark.parametrize("name", ["", ".", "..", "events\n", "a b", "x" * 250, "é", None])
def test_illegal_topic_names(name):
    assert "letters, digits" in topic_name_problem(name)


@pytest.mark.parametrize("group", ["", "g*", "g?", "events\n", "x" * 201, 7])
def test_group_ids_that_would_widen_an_iam_arn_or_break_the_mapping(group):
    assert group_id_problem(group) is not None
    assert group_id_problem("event-consumer") is None


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
def test_fastjsonschema_agrees_with_a_second_json_schema_implementation(instance):
    reference = jsonschema_rs.validator_for(EVENT_SCHEMA, validate_formats=True)
    assert (_errors(instance) == []) == reference.is_valid(instance)
