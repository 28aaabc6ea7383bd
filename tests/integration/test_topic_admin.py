"""The topic provisioner's handler against the real local broker, over SASL_SSL with MSK IAM
tokens (the broker's validator checks them as MSK does): create, grow, refuse to shrink,
idempotent re-runs. The handler runs exactly as Lambda calls it, with the function's env."""

from __future__ import annotations

import uuid

import pytest
from kafka import KafkaAdminClient
from topic_admin.handler import ProvisioningFailed, lambda_handler

pytestmark = pytest.mark.integration


@pytest.fixture
def function_env(kafka_broker, monkeypatch) -> None:
    # The function signs as the program's topic-provisioning role, whose policy the broker holds.
    for name, value in kafka_broker.client_env("topic-admin").items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def partitions_of(kafka_broker):
    """An independent PLAINTEXT admin that reads a topic's partition count."""
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.plaintext_bootstrap,
                             request_timeout_ms=15000, bootstrap_timeout_ms=15000)

    def count(topic: str) -> int | None:
        (info,) = admin.describe_topics([topic])
        return len(info["partitions"]) if info.get("error_code", 0) == 0 else None

    yield count
    admin.close()


@pytest.fixture
def fresh_topic(kafka_broker):
    """A topic name no one created yet, which the program's policies are rendered for (as
    `pulumi up` renders them for the stack's topicName)."""

    def name() -> str:
        topic = f"provisioned-{uuid.uuid4().hex[:12]}"
        kafka_broker.grant(topic)
        return topic

    return name


def test_creates_a_missing_topic_then_reruns_change_nothing(function_env, fresh_topic,
                                                            partitions_of):
    topic = fresh_topic()
    assert partitions_of(topic) is None
    assert lambda_handler({"topic": topic, "partitions": 2}) == {
        "topic": topic, "partitions": 2, "action": "created"}
    assert partitions_of(topic) == 2
    for _ in range(2):
        assert lambda_handler({"topic": topic, "partitions": 2}) == {
            "topic": topic, "partitions": 2, "action": "unchanged"}
    assert partitions_of(topic) == 2


def test_grows_partitions_and_refuses_to_shrink(function_env, fresh_topic, partitions_of):
    topic = fresh_topic()
    lambda_handler({"topic": topic, "partitions": 2})
    assert lambda_handler({"topic": topic, "partitions": 5})["action"] == "grown"
    assert partitions_of(topic) == 5
    with pytest.raises(ProvisioningFailed) as refused:
        lambda_handler({"topic": topic, "partitions": 3})
    message = str(refused.value)
    assert "ShrinkRefused" in message and "has 5 partitions" in message
    assert "asks for 3" in message and "nothing was changed" in message
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
    assert partitions_of(topic) == 5  # nothing deleted, nothing shrunk


def test_a_topic_made_elsewhere_is_adopted_as_it_is(function_env, kafka_topic, partitions_of):
    assert partitions_of(kafka_topic) == 3
    assert lambda_handler({"topic": kafka_topic, "partitions": 3})["action"] == "unchanged"
    assert lambda_handler({"topic": kafka_topic, "partitions": 4})["action"] == "grown"
    assert partitions_of(kafka_topic) == 4


def test_bad_credentials_fail_with_one_clear_message(function_env, fresh_topic, monkeypatch,
                                                     partitions_of):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-broker-secret-000000000000")
    monkeypatch.setenv("KAFKA_REQUEST_TIMEOUT_MS", "5000")
    topic = fresh_topic()
    with pytest.raises(ProvisioningFailed) as failed:
        lambda_handler({"topic": topic, "partitions": 1})
    message = str(failed.value)
    assert "could not connect to or authenticate with the Kafka cluster" in message
    assert "kafka-cluster:Connect" in message and "within 5000 ms" in message
    assert partitions_of(topic) is None
