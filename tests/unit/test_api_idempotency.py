"""Idempotency-Key (issue 15.5): a retried request yields the same event id and record key, so a
duplicate written after a 503 can be dropped by consumers; bad keys are a 400 problem."""

import json
import uuid

import pytest
from event_api.idempotency import derived_event_id
from event_api.publisher_protocol import TIMEOUT, PublishError

KEY = "billing-svc:3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"


def _send(client, name="Ada", key=KEY):
    return client.get("/current_time", params={"name": name},
                      headers={"Idempotency-Key": key} if key else {})


def test_a_retry_with_the_same_key_gets_the_same_event_id_and_record_key(api_client,
                                                                         publisher_double):
    first, second = _send(api_client), _send(api_client)
    assert first.status_code == second.status_code == 200
    assert first.headers["x-event-id"] == second.headers["x-event-id"]
    one, two = publisher_double.records
    assert one.key == two.key == b"Ada"
    assert json.loads(one.value)["event_id"] == json.loads(two.value)["event_id"]
    assert dict(one.headers)["event_id"] == dict(two.headers)["event_id"]


def test_the_retry_after_a_503_carries_the_id_of_the_attempt_that_may_have_been_written(
    api_client, publisher_double
):
    publisher_double.failure = PublishError(TIMEOUT, "no acknowledgement in time")
    assert _send(api_client).status_code == 503
    publisher_double.failure = None
    retry = _send(api_client)
    assert retry.status_code == 200
    assert retry.headers["x-event-id"] == str(derived_event_id(KEY, "Ada"))


@pytest.mark.parametrize("other", [
    {"key": "billing-svc:3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e50"},  # another key
    {"key": "orders-svc:3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f"},  # same key, another scope
    {"name": "Bob"},  # the key reused for another name is another event, not a duplicate
    {"key": None},  # no key: a fresh UUIDv7 every time
])
def test_different_requests_get_different_event_ids(api_client, other):
    first = _send(api_client).headers["x-event-id"]
    assert _send(api_client, **other).headers["x-event-id"] != first


def test_without_a_key_ids_are_uuid7_and_with_a_key_uuid5(api_client):
    assert uuid.UUID(_send(api_client, key=None).headers["x-event-id"]).version == 7
    assert uuid.UUID(_send(api_client).headers["x-event-id"]).version == 5


def test_derived_ids_are_stable_across_releases():
    # A consumer's dedup store outlives a deploy: the derivation (UUIDv5 of "<key>\n<name>" in
    # the API's fixed namespace) must never change.
    namespace = uuid.UUID("6f1b6a52-3c1e-4f59-9a57-0d5e1e0b7a61")
    assert derived_event_id("a:12345678", "Ada") == uuid.uuid5(namespace, "a:12345678\nAda")


@pytest.mark.parametrize("key", [
    # (a plain key without a scope is accepted since issue 27.4: test_api_hostile_input.py)
    ":missing-scope-1234",
    "scope:short",  # key under 8 characters
    "scope:" + "k" * 129,  # key over 128
    "s" * 65 + ":12345678",  # scope over 64
    "scope:has space1234",
    "scope:has/slash1234",
    "scope:ünïcode-1234",
    "sc:ope:12345678",  # one separator only
    "",
])
def test_bad_keys_are_a_400_problem_and_write_nothing(api_client, publisher_double, key):
    response = api_client.get("/current_time?name=Ada",
                              headers={"Idempotency-Key": key.encode("utf-8")})
    assert response.status_code == 400, key
    assert response.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in response.json()["detail"]
    assert publisher_double.records == []


@pytest.mark.parametrize("key", ["a:12345678", "s" * 64 + ":" + "k" * 128,
                                 "Client_1.prod-x:AbC~._-0123"])
def test_boundary_keys_are_accepted(api_client, key):
    assert _send(api_client, key=key).status_code == 200
