"""The program's own IAM policies, enforced by the local broker: what each role may and may not do,
and how a wrong policy fails for the client that needs it, as on MSK.

The session broker holds the program's roles (`api`, `consumer`) and `admin`; each case that needs
an altered policy adds its own principal (`add_principal`), whose documents are the program's
rendered for the test's topic and group and then changed in one place.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError
from kafka.structs import OffsetAndMetadata

from components.kafka_access import API_PRODUCER_IDEMPOTENT
from local.api_server import free_port
from local.kafka import PROGRAM_ROLES, LocalKafka
from tests.fixtures.consumer import committed_offsets, produce, start_esm_cli, wait_until
from tests.fixtures.kafka import wait_for_broker_log

pytestmark = pytest.mark.integration
REPO_ROOT = Path(__file__).resolve().parents[2]

TIMEOUT_MS = 15_000
Edit = Callable[[dict[str, Any], LocalKafka], dict[str, Any]]


def _unique(stem: str) -> str:
    return f"{stem}-{uuid.uuid4().hex[:8]}"


def _altered(kafka: LocalKafka, role: str, edit: Edit) -> str:
    """A new principal holding the program's `role` policy changed by `edit`; its name."""
    name = _unique(f"{role}-altered")
    program = PROGRAM_ROLES[role]
    kafka.add_principal(
        name, lambda arn, topic, group: edit(copy.deepcopy(program(arn, topic, group)), kafka))
    return name


def without(action: str) -> Edit:
    def edit(document: dict[str, Any], kafka: LocalKafka) -> dict[str, Any]:
        for statement in document["Statement"]:
            actions = statement["Action"]
            statement["Action"] = [a for a in ([actions] if isinstance(actions, str) else actions)
                                   if a != action]
        document["Statement"] = [s for s in document["Statement"] if s["Action"]]
        return document
    return edit


def topic_arns_with_another_cluster_uuid(document: dict[str, Any],
                                         kafka: LocalKafka) -> dict[str, Any]:
    """The classic mistake: the topic ARN names another cluster's UUID (e.g. a recreated one)."""
    uuid_now = kafka.cluster_arn.rsplit("/", 1)[1]
    for statement in document["Statement"]:
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, str) else resources:
            if ":topic/" in resource:
                assert f"/{uuid_now}/" in resource
        statement["Resource"] = json.loads(json.dumps(resources).replace(
            f"topic/local/{uuid_now}/", f"topic/local/{uuid.uuid4()}-s1/"))
    return document


def with_deny(action: str) -> Edit:
    def edit(document: dict[str, Any], kafka: LocalKafka) -> dict[str, Any]:
        topics = kafka.cluster_arn.replace(":cluster/", ":topic/") + "/*"
        document["Statement"].append({"Sid": "NoReading", "Effect": "Deny", "Action": action,
                                      "Resource": topics})
        return document
    return edit


def _producer(kafka: LocalKafka, principal: str) -> KafkaProducer:
    # The API's own producer setting, so the api principal's policy is exercised as the API uses it.
    return KafkaProducer(acks="all", enable_idempotence=API_PRODUCER_IDEMPOTENT,
                         max_block_ms=TIMEOUT_MS, request_timeout_ms=TIMEOUT_MS,
                         **kafka.client_options(principal))


def _send(kafka: LocalKafka, principal: str, topic: str, value: bytes) -> None:
    producer = _producer(kafka, principal)
    try:
        producer.send(topic, value, partition=0).get(timeout=15)  # where _read_one reads
    finally:
        producer.close(timeout=10)


def _read_one(kafka: LocalKafka, principal: str, topic: str, **group: Any) -> list[bytes]:
    """Poll partition 0 from the beginning until a record arrives (or 20 s)."""
    consumer = KafkaConsumer(auto_offset_reset="earliest", enable_auto_commit=False,
                             request_timeout_ms=TIMEOUT_MS, **group,
                             **kafka.client_options(principal))
    try:
        consumer.assign([TopicPartition(topic, 0)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                return [r.value for r in records]
        return []
    finally:
        consumer.close()


# --- the program's roles ----------------------------------------------------------------------


def test_the_api_writes_its_topic_but_cannot_read_it_or_commit_offsets(kafka_broker, kafka_topic):
    _send(kafka_broker, "api", kafka_topic, b"from-the-api")

    with pytest.raises(TopicAuthorizationFailedError):
        _read_one(kafka_broker, "api", kafka_topic)
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal=api \S+ operation=READ resource=TOPIC:{kafka_topic}"
        r" request=FETCH iam_action=kafka-cluster:ReadData"))

    group = _unique("api-commits")
    consumer = KafkaConsumer(group_id=group, enable_auto_commit=False,
                             request_timeout_ms=TIMEOUT_MS, **kafka_broker.client_options("api"))
    try:
        partition = TopicPartition(kafka_topic, 0)
        consumer.assign([partition])
        with pytest.raises(GroupAuthorizationFailedError):
            consumer.commit({partition: OffsetAndMetadata(1, "", -1)})
    finally:
        consumer.close(autocommit=False)
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal=api \S+ operation=DESCRIBE resource=GROUP:{group}"
        r" request=FIND_COORDINATOR iam_action=kafka-cluster:DescribeGroup"))


def test_the_consumer_reads_and_commits_with_its_group_but_cannot_write(kafka_broker, kafka_topic):
    _send(kafka_broker, "api", kafka_topic, b"for-the-consumer")
    group = _unique("consumer-group")
    kafka_broker.grant(kafka_topic, group)
    consumer = KafkaConsumer(kafka_topic, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, request_timeout_ms=TIMEOUT_MS,
                             **kafka_broker.client_options("consumer"))
    try:
        received = wait_until(lambda: [r for rs in consumer.poll(timeout_ms=500).values()
                                       for r in rs], 30, "the consumer's first records")
        consumer.commit()
    finally:
        consumer.close(autocommit=False)
    assert b"for-the-consumer" in [r.value for r in received]
    assert committed_offsets(kafka_broker, group)

    with pytest.raises(TopicAuthorizationFailedError):
        _send(kafka_broker, "consumer", kafka_topic, b"never")
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal=consumer \S+ operation=WRITE resource=TOPIC:{kafka_topic}"
        r" request=PRODUCE iam_action=kafka-cluster:WriteData"))


def test_roles_hold_exact_topic_arns_so_a_topic_never_granted_is_refused(kafka_broker):
    topic = _unique("never-granted")
    admin = KafkaAdminClient(request_timeout_ms=TIMEOUT_MS, **kafka_broker.client_options("admin"))
    try:  # created without LocalKafka.grant: no role's policy names it
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}},
                            timeout_ms=TIMEOUT_MS)
    finally:
        admin.close()
    _send(kafka_broker, "admin", topic, b"by-admin")
    with pytest.raises(TopicAuthorizationFailedError):
        _send(kafka_broker, "api", topic, b"refused")


# --- a wrong consumer policy fails the local event source mapping, readably -----------------

ESM_CASES = [
    pytest.param(without("kafka-cluster:DescribeGroup"), GroupAuthorizationFailedError,
                 "FIND_COORDINATOR iam_action=kafka-cluster:DescribeGroup", id="no-DescribeGroup"),
    pytest.param(without("kafka-cluster:AlterGroup"), GroupAuthorizationFailedError,
                 "JOIN_GROUP iam_action=kafka-cluster:AlterGroup", id="no-AlterGroup"),
    pytest.param(topic_arns_with_another_cluster_uuid, TopicAuthorizationFailedError,
                 "METADATA iam_action=kafka-cluster:DescribeTopic", id="topic-ARN-other-UUID"),
]


def _esm_messages(log: Path, prefix: str) -> list[dict[str, Any]]:
    """The mapping's JSON log lines whose message starts with `prefix`."""
    lines = [json.loads(line) for line in log.read_text(errors="replace").splitlines()
             if line.startswith("{")]
    return [x for x in lines if str(x.get("message", "")).startswith(prefix)]


@pytest.mark.parametrize(("edit", "error", "denied"), ESM_CASES)
def test_a_wrong_consumer_policy_stops_the_mapping_with_the_authorization_error(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path, edit, error, denied
):
    principal = _altered(kafka_broker, "consumer", edit)
    group = _unique("esm")
    produce(kafka_broker, kafka_topic, [{"value": b"waiting", "partition": 0}])
    process, log = start_esm_cli(kafka_broker, dead_letter_aws, kafka_topic, tmp_path, group,
                                 0.1, principal=principal)
    expected = ("PROBLEM: Cluster failed to authorize Lambda: "
                f"[Error {error.errno}] {error.__name__}")
    try:
        problem = wait_until(
            lambda: _esm_messages(log, expected), 60, f"the mapping to log {expected!r}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert problem[0]["level"] == "ERROR"
    assert problem[0]["message"].endswith(kafka_topic if error is TopicAuthorizationFailedError
                                          else group)
    assert len(problem) == 1, "logged once, not once per retry"
    assert committed_offsets(kafka_broker, group) == {}
    wait_for_broker_log(kafka_broker, rf"WARN MSK IAM DENY principal={principal} .*{denied}")


def test_control_the_programs_consumer_policy_lets_the_same_mapping_consume(
    kafka_broker, kafka_topic, dead_letter_aws, tmp_path
):
    # The harness above, with the unaltered policy: the failures come from the edits alone.
    group = _unique("esm-control")
    produce(kafka_broker, kafka_topic, [{"value": b"not an event", "partition": 0}])
    process, log = start_esm_cli(kafka_broker, dead_letter_aws, kafka_topic, tmp_path, group, 0.1)
    try:
        wait_until(lambda: committed_offsets(kafka_broker, group).get((kafka_topic, 0)) == 1, 60,
                   "the mapping to consume and commit")
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not _esm_messages(log, "PROBLEM")


# --- a wrong API policy: the readiness reason and the answer name the Kafka error -------------


def test_an_api_policy_on_another_clusters_topic_arn_keeps_the_api_unready(
    kafka_broker, kafka_topic, api_server
):
    principal = _altered(kafka_broker, "api", topic_arns_with_another_cluster_uuid)
    server = api_server(kafka_broker.client_env(principal), topic=kafka_topic)
    detail = wait_until(lambda: _readyz_detail(server.base_url, "TopicAuthorizationFailed"), 30,
                        "/readyz to name the authorization error")
    # The API never creates its topic: it is refused the topic's metadata, and says which grant.
    assert "kafka-cluster:DescribeTopic" in detail, detail
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal={principal} .* resource=TOPIC:{kafka_topic}"
        r" request=\S+ iam_action=kafka-cluster:DescribeTopic"))


def _readyz_detail(base_url: str, needle: str) -> str | None:
    response = httpx.get(base_url + "/readyz", timeout=5)
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    return detail if needle in detail else None


def test_an_api_policy_without_write_data_answers_503_naming_the_error(
    kafka_broker, kafka_topic, api_server
):
    principal = _altered(kafka_broker, "api", without("kafka-cluster:WriteData"))
    server = api_server(kafka_broker.client_env(principal), topic=kafka_topic)
    assert server.wait_ready(60), server.log_text()[-2000:]  # it may describe its topic
    response = httpx.get(server.base_url + "/current_time", params={"name": "Ada"}, timeout=30)
    assert response.status_code == 503
    assert "TopicAuthorizationFailedError" in response.json()["detail"], response.text
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal={principal} .* resource=TOPIC:{kafka_topic}"
        r" request=PRODUCE iam_action=kafka-cluster:WriteData"))


# --- IAM semantics on the real broker ----------------------------------------------------------


def test_an_explicit_deny_beats_the_programs_allow(kafka_broker, kafka_topic):
    _send(kafka_broker, "api", kafka_topic, b"denied-to-read")
    principal = _altered(kafka_broker, "consumer", with_deny("kafka-cluster:ReadData"))
    with pytest.raises(TopicAuthorizationFailedError):
        _read_one(kafka_broker, principal, kafka_topic)
    wait_for_broker_log(kafka_broker, (
        rf"WARN MSK IAM DENY principal={principal} .* iam_action=kafka-cluster:ReadData .*"
        r'decided_by="explicit deny by \\"NoReading\\"'))
    assert _read_one(kafka_broker, "consumer", kafka_topic)  # the same read, program's policy


def test_wildcard_resources_match_as_iam_says(kafka_broker):
    stem = _unique("orders")
    matching, one_char, outside = f"{stem}-eu", f"{stem}-x", f"{stem}eu"
    for topic in (matching, one_char, outside):
        kafka_broker.create_topic(topic, partitions=1)
    topics = kafka_broker.cluster_arn.replace(":cluster/", ":topic/")
    principal = _unique("wildcard-writer")
    kafka_broker.add_principal(principal, documents=[{
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow",
             "Action": ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
             "Resource": kafka_broker.cluster_arn},
            # "*" spans any characters, "?" exactly one (IAM User Guide, "IAM JSON policy
            # elements: Resource", Using wildcards in resource ARNs,
            # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
            {"Sid": "Prefix", "Effect": "Allow",
             "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
             "Resource": [f"{topics}/{stem}-e*", f"{topics}/{stem}-?"]},
        ],
    }])
    _send(kafka_broker, principal, matching, b"star")
    _send(kafka_broker, principal, one_char, b"question-mark")
    with pytest.raises(TopicAuthorizationFailedError):
        _send(kafka_broker, principal, outside, b"no dash, no match")


# --- the one-command pipeline with a wrong consumer policy ------------------------------------

# Runs `python -m local.pipeline` with the program's consumer policy lacking DescribeGroup, as if
# the consumer component had dropped it: the one change is the role table's entry.
_PIPELINE_WITHOUT_DESCRIBE_GROUP = """
import sys
from local.kafka import policies
program = policies.PROGRAM_ROLES["consumer"]

def without_describe_group(arn, topic, group):
    document = program(arn, topic, group)
    for statement in document["Statement"]:
        statement["Action"] = [a for a in statement["Action"]
                               if a != "kafka-cluster:DescribeGroup"]
    return document

policies.PROGRAM_ROLES["consumer"] = without_describe_group
from local.pipeline import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_pipeline_stops_with_the_consumers_authorization_error(tmp_path):
    out = tmp_path / "pipeline.out"
    with out.open("wb") as sink:
        process = subprocess.run(
            [sys.executable, "-c", _PIPELINE_WITHOUT_DESCRIBE_GROUP, "--exit-after-demo",
             "--demo-events", "1", "--port", str(free_port()), "--work-dir", str(tmp_path / "w")],
            cwd=REPO_ROOT, stdout=sink, stderr=subprocess.STDOUT, timeout=300,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)
    log = out.read_text(errors="replace")
    assert process.returncode == 1, log[-4000:]
    assert ("[pipeline] ERROR: the local event source mapping did not join its group: PROBLEM: "
            "Cluster failed to authorize Lambda: [Error 30] GroupAuthorizationFailedError: "
            "event-consumer") in log, log[-4000:]
    assert "Kafka stopped" in log
    broker_log = (tmp_path / "w" / "kafka" / "broker.log").read_text(errors="replace")
    assert re.search(r"WARN MSK IAM DENY principal=consumer .* request=FIND_COORDINATOR "
                     r"iam_action=kafka-cluster:DescribeGroup", broker_log)
