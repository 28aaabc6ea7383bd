"""The topic provisioner's input and environment checks, and its decisions, without a broker
(tests/integration/test_topic_admin.py runs it against the real local broker)."""

from __future__ import annotations

import pytest
from kafka import errors as kafka_errors
from topic_admin.handler import ProvisioningFailed, lambda_handler
from topic_admin.provision import ShrinkRefused, ensure_topic
from topic_admin.request import InvalidRequest, TopicRequest, parse_request
from topic_admin.settings import SettingsError, load_settings

GOOD_ENV = {"KAFKA_BOOTSTRAP_SERVERS": "b-1:9098,b-2:9098", "AWS_REGION": "eu-west-1"}


def test_a_request_names_a_topic_and_a_partition_count():
    assert parse_request({"topic": "events", "partitions": 3}) == TopicRequest("events", 3)


@pytest.mark.parametrize(("event", "expected"), [
    (None, "must be a JSON object"),
    ({"topic": "events\n", "partitions": 3}, "topic 'events\\n'"),
    ({"topic": "a*b", "partitions": 3}, "Kafka topic names are"),
    ({"topic": "events", "partitions": 0}, "partitions 0: must be a whole number"),
    ({"topic": "events", "partitions": True}, "partitions True"),
    ({"topic": "events", "partitions": "3"}, "partitions '3'"),
    ({"partitions": 3}, "topic None"),
])
def test_a_bad_request_is_named(event, expected):
    with pytest.raises(InvalidRequest, match=None) as refused:
        parse_request(event)
    assert expected in str(refused.value)


def test_settings_come_from_the_environment():
    settings = load_settings(GOOD_ENV)
    assert settings.bootstrap_servers == ("b-1:9098", "b-2:9098")
    assert (settings.security_protocol, settings.region, settings.ca_file) == (
        "SASL_SSL", "eu-west-1", None)
    assert settings.request_timeout_ms == 15_000 and settings.ready_timeout_ms == 30_000


def test_every_bad_setting_is_reported_at_once():
    with pytest.raises(SettingsError) as refused:
        load_settings({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_REQUEST_TIMEOUT_MS": "5s"})
    message = str(refused.value)
    for part in ("KAFKA_BOOTSTRAP_SERVERS is required", "KAFKA_SECURITY_PROTOCOL='SSL'",
                 "KAFKA_REQUEST_TIMEOUT_MS='5s'"):
        assert part in message


def test_the_handler_refuses_bad_input_before_connecting(monkeypatch):
    monkeypatch.setattr("topic_admin.handler.admin_client",
                        lambda settings: pytest.fail("must not connect"))
    with pytest.raises(ProvisioningFailed, match=r"InvalidRequest: partitions -1"):
        lambda_handler({"topic": "events", "partitions": -1})


class FakeAdmin:
    """Records what the provisioner asks a cluster that has `topics` {name: partitions}."""

    def __init__(self, topics: dict[str, int]) -> None:
        self.topics = dict(topics)
        self.calls: list[tuple] = []

    def describe_topics(self, names):
        (name,) = names
        if name not in self.topics:
            return [{"name": name, "error_code": kafka_errors.UnknownTopicOrPartitionError.errno,
                     "partitions": []}]
        return [{"name": name, "error_code": 0,
                 "partitions": [{"partition_index": i} for i in range(self.topics[name])]}]

    def create_topics(self, spec):
        self.calls.append(("create", spec))
        ((name, options),) = spec.items()
        self.topics[name] = options["num_partitions"]

    def create_partitions(self, spec):
        self.calls.append(("grow", spec))
        self.topics.update(spec)

    def wait_for_topics(self, names, timeout_ms):
        self.calls.append(("wait", tuple(names), timeout_ms))


def test_shrinking_is_refused_and_changes_nothing():
    admin = FakeAdmin({"events": 6})
    with pytest.raises(ShrinkRefused, match="has 6 partitions and the request asks for 4"):
        ensure_topic(admin, "events", 4, ready_timeout_ms=1000)
    assert admin.calls == [] and admin.topics == {"events": 6}


@pytest.mark.parametrize(("existing", "wanted", "action", "call"), [
    (None, 3, "created", ("create", {"events": {"num_partitions": 3}})),
    (3, 5, "grown", ("grow", {"events": 5})),
    (3, 3, "unchanged", None),
])
def test_create_grow_or_leave_alone(existing, wanted, action, call):
    admin = FakeAdmin({} if existing is None else {"events": existing})
    outcome = ensure_topic(admin, "events", wanted, ready_timeout_ms=1234)
    assert (outcome.action, outcome.partitions) == (action, wanted)
    assert admin.calls == [*([call] if call else []), ("wait", ("events",), 1234)]
