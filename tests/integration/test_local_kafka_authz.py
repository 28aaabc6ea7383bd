"""The local broker authorizes MSK IAM principals against IAM policies, like MSK does.

The session broker (local/msk-iam-validator's MskIamAuthorizer) is given one more principal with a
hand-written policy (`add_principal`), in force without a restart. Clients are kafka-python over
SASL_SSL with real MSK IAM tokens (msk_iam_client.MskIamTokenProvider); the operator's PLAINTEXT
listener is not enforced.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from local.kafka import LocalKafka
from tests.fixtures.kafka import wait_for_broker_log

pytestmark = pytest.mark.integration

# Unique per run: the session broker is shared with other test modules.
_RUN = uuid.uuid4().hex[:8]
ALLOWED_TOPIC = f"authz-allowed-{_RUN}"
OTHER_TOPIC = f"authz-other-{_RUN}"
GROUP = f"authz-group-{_RUN}"
PRINCIPAL = f"producer-under-test-{_RUN}"
CLIENT_TIMEOUT_MS = 15000


def _policies(cluster_arn: str) -> list[dict]:
    """Write/ReadData on one topic; DescribeGroup, no AlterGroup; no WriteDataIdempotently."""
    topics = cluster_arn.replace(":cluster/", ":topic/")
    groups = cluster_arn.replace(":cluster/", ":group/")
    return [{
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Connect", "Effect": "Allow",
             "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
             "Resource": cluster_arn},
            {"Sid": "DescribeAllTopics", "Effect": "Allow", "Action": "kafka-cluster:DescribeTopic",
             "Resource": f"{topics}/*"},
            {"Sid": "UseOneTopic", "Effect": "Allow",
             "Action": ["kafka-cluster:WriteData", "kafka-cluster:ReadData"],
             "Resource": f"{topics}/{ALLOWED_TOPIC}"},
            {"Sid": "DescribeGroups", "Effect": "Allow", "Action": "kafka-cluster:DescribeGroup",
             "Resource": f"{groups}/*"},
        ],
    }]


@pytest.fixture(scope="module")
def authz_broker(kafka_broker: LocalKafka) -> LocalKafka:
    kafka_broker.create_topic(ALLOWED_TOPIC)
    kafka_broker.create_topic(OTHER_TOPIC)
    kafka_broker.add_principal(PRINCIPAL, documents=_policies(kafka_broker.cluster_arn))
    return kafka_broker


def _sasl_options(kafka: LocalKafka) -> dict:
    return {**kafka.client_options(PRINCIPAL), "request_timeout_ms": CLIENT_TIMEOUT_MS,
            "bootstrap_timeout_ms": CLIENT_TIMEOUT_MS}


def _producer(kafka: LocalKafka, *, idempotent: bool) -> KafkaProducer:
    return KafkaProducer(acks="all", enable_idempotence=idempotent, max_block_ms=CLIENT_TIMEOUT_MS,
                         **_sasl_options(kafka))


def test_producer_writes_to_its_topic_and_is_refused_another(authz_broker):
    producer = _producer(authz_broker, idempotent=False)
    try:
        producer.send(ALLOWED_TOPIC, b"allowed").get(timeout=15)
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(OTHER_TOPIC, b"refused").get(timeout=15)
    finally:
        producer.close(timeout=10)
    arn = authz_broker.cluster_arn.replace(":cluster/", ":topic/")
    wait_for_broker_log(authz_broker, (
        rf"WARN MSK IAM DENY principal={PRINCIPAL}"
        rf" access_key={authz_broker.principal(PRINCIPAL).access_key_id}"
        rf" operation=WRITE resource=TOPIC:{OTHER_TOPIC} request=PRODUCE"
        rf" iam_action=kafka-cluster:WriteData iam_resource={re.escape(arn)}/{OTHER_TOPIC}"
        r' decided_by="implicit deny: no statement allows"'))
    wait_for_broker_log(authz_broker, (
        rf"INFO MSK IAM ALLOW principal={PRINCIPAL} \S+ operation=WRITE"
        rf' resource=TOPIC:{ALLOWED_TOPIC} .* decided_by="allowed by \\"UseOneTopic\\"'))


def test_idempotent_producer_without_write_data_idempotently_is_refused(authz_broker):
    # As on MSK: WriteData on one topic ARN does not stand in for WriteDataIdempotently.
    producer = _producer(authz_broker, idempotent=True)
    try:
        # kafka-python 3.0.12 wraps InitProducerId's error 31 in a plain KafkaError.
        with pytest.raises(KafkaError, match=ClusterAuthorizationFailedError.__name__):
            producer.send(ALLOWED_TOPIC, b"idempotent").get(timeout=15)
    finally:
        producer.close(timeout=10)
    wait_for_broker_log(authz_broker, (
        r"MSK IAM DENY .* operation=IDEMPOTENT_WRITE resource=CLUSTER:kafka-cluster"
        r" request=INIT_PRODUCER_ID iam_action=kafka-cluster:WriteDataIdempotently"))


def test_consumer_without_alter_group_cannot_join_its_group(authz_broker):
    consumer = KafkaConsumer(ALLOWED_TOPIC, group_id=GROUP, auto_offset_reset="earliest",
                             enable_auto_commit=False, **_sasl_options(authz_broker))
    try:
        with pytest.raises(GroupAuthorizationFailedError):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                consumer.poll(timeout_ms=500)
    finally:
        consumer.close()
    wait_for_broker_log(authz_broker, (
        rf"WARN MSK IAM DENY principal={PRINCIPAL} \S+ operation=READ resource=GROUP:{GROUP}"
        r" request=JOIN_GROUP iam_action=kafka-cluster:AlterGroup"))


def test_reader_without_a_group_reads_its_topic(authz_broker):
    marker = f"read-{uuid.uuid4()}".encode()
    producer = _producer(authz_broker, idempotent=False)
    try:
        producer.send(ALLOWED_TOPIC, marker, partition=0).get(timeout=15)
    finally:
        producer.close(timeout=10)
    consumer = KafkaConsumer(auto_offset_reset="earliest", **_sasl_options(authz_broker))
    try:
        consumer.assign([TopicPartition(ALLOWED_TOPIC, 0)])
        consumer.seek_to_beginning()
        received: list[bytes] = []
        deadline = time.monotonic() + 20
        while marker not in received and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend(record.value for record in records)
    finally:
        consumer.close()
    assert marker in received
    wait_for_broker_log(authz_broker, (
        rf"MSK IAM ALLOW .* operation=READ resource=TOPIC:{ALLOWED_TOPIC}"
        r" request=FETCH iam_action=kafka-cluster:ReadData"))


def test_create_topics_forwarded_to_the_controller_is_still_authorized(authz_broker):
    # KRaft forwards CreateTopics to the controller, which sees the CONTROLLER listener but the
    # client's principal: the policy grants no CreateTopic, so the topic must not appear.
    name = f"authz-created-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(**_sasl_options(authz_broker))
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            admin.create_topics({name: {"num_partitions": 1, "replication_factor": 1}},
                                timeout_ms=CLIENT_TIMEOUT_MS)
    finally:
        admin.close()
    wait_for_broker_log(authz_broker, (
        rf"WARN MSK IAM DENY principal={PRINCIPAL} \S+ operation=CREATE resource=TOPIC:{name}"
        r" request=CREATE_TOPICS iam_action=kafka-cluster:CreateTopic"))
    operator = KafkaAdminClient(bootstrap_servers=authz_broker.plaintext_bootstrap,
                                request_timeout_ms=CLIENT_TIMEOUT_MS)
    try:
        assert name not in operator.list_topics()
    finally:
        operator.close()
