"""The local broker's principals and the policies it renders for them, without starting Java."""

from __future__ import annotations

import json
import re
import stat

import pytest

from components.kafka import parse_cluster_arn
from components.kafka_access import API_PRODUCER_IDEMPOTENT
from local.esm import EsmSettings
from local.kafka import ADMIN, PROGRAM_ROLES, LocalKafka, LocalKafkaError
from local.kafka.policies import default_consumer_group, render
from local.kafka.principals import (
    Principal,
    credentials_text,
    local_cluster_arn,
    policies_text,
    write_atomically,
)


def _kafka_statements(document: dict) -> list[dict]:
    return [s for s in document["Statement"]
            if any(a.startswith("kafka-cluster:") for a in s["Action"])]


def _actions(document: dict) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def test_the_cluster_arn_has_msks_serverless_form_and_a_fresh_uuid():
    first, second = local_cluster_arn("us-east-1"), local_cluster_arn("us-east-1")
    parsed = parse_cluster_arn(first)  # the program's own parser accepts it
    assert (parsed.region, parsed.account, parsed.name) == ("us-east-1", "123456789012", "local")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-s1",
                        parsed.uuid)
    assert first != second


def test_the_program_roles_are_the_api_the_consumer_and_the_topic_admin_with_exact_arns():
    arn = local_cluster_arn("us-east-1")
    c = parse_cluster_arn(arn)
    assert set(PROGRAM_ROLES) == {"api", "consumer", "topic-admin"}
    for role, policy in PROGRAM_ROLES.items():
        for statement in _kafka_statements(policy(arn, "orders", "billing")):
            resources = statement["Resource"]
            for resource in [resources] if isinstance(resources, str) else resources:
                assert "*" not in resource and "?" not in resource, (role, resource)
                assert resource in (arn, f"arn:aws:kafka:us-east-1:{c.account}:topic/local/"
                                    f"{c.uuid}/orders", f"arn:aws:kafka:us-east-1:{c.account}:"
                                    f"group/local/{c.uuid}/billing"), (role, resource)


def test_the_api_role_holds_what_the_api_producer_needs_and_no_more():
    document = PROGRAM_ROLES["api"](local_cluster_arn("us-east-1"), "events", "ignored")
    actions = _actions(document)
    assert ("kafka-cluster:WriteDataIdempotently" in actions) == API_PRODUCER_IDEMPOTENT
    assert {"kafka-cluster:WriteData", "kafka-cluster:DescribeTopic"} <= actions
    assert not actions & {"kafka-cluster:ReadData", "kafka-cluster:AlterGroup",
                          "kafka-cluster:DescribeGroup"}


def test_the_consumer_role_reads_with_its_group_and_cannot_write():
    actions = _actions(PROGRAM_ROLES["consumer"](local_cluster_arn("us-east-1"), "events", "g"))
    assert {"kafka-cluster:ReadData", "kafka-cluster:AlterGroup",
            "kafka-cluster:DescribeGroup"} <= actions
    assert "kafka-cluster:WriteData" not in actions


def test_the_default_group_is_the_programs_and_the_local_mappings():
    esm_default = EsmSettings(bootstrap_servers="127.0.0.1:9", topics=("events",)).group_id
    assert default_consumer_group() == esm_default == "event-consumer"


def test_render_gives_one_document_per_distinct_grant():
    arn = local_cluster_arn("us-east-1")
    grants = [("a", "g1"), ("a", "g2"), ("b", "g1")]
    assert len(render(PROGRAM_ROLES["api"], arn, grants)) == 2  # the group does not matter
    consumer = render(PROGRAM_ROLES["consumer"], arn, grants)
    assert len(consumer) == 3
    assert render(PROGRAM_ROLES["consumer"], arn, []) == []


def test_the_files_list_every_principal_with_its_own_key():
    arn = local_cluster_arn("us-east-1")
    principals = [Principal("api", PROGRAM_ROLES["api"]), Principal("fixed", documents=({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*",
                                                 "Resource": "*"}]},))]
    assert len({p.access_key_id for p in principals}) == 2
    assert all(re.fullmatch(r"AKIA[A-Z0-9]{16}", p.access_key_id) for p in principals)
    credentials = credentials_text(principals).splitlines()
    assert credentials == [f"{p.access_key_id}={p.secret_access_key}" for p in principals]
    document = json.loads(policies_text(arn, principals, [("events", "event-consumer")]))
    assert document["cluster_arn"] == arn
    by_key = document["principals"]
    assert by_key[principals[0].access_key_id]["name"] == "api"
    assert by_key[principals[0].access_key_id]["policies"] == [
        PROGRAM_ROLES["api"](arn, "events", "event-consumer")]
    assert by_key[principals[1].access_key_id]["policies"] == list(principals[1].documents)


def test_files_holding_secrets_are_owner_only_and_replaced_whole(tmp_path):
    path = tmp_path / "credentials.properties"
    write_atomically(path, "A=1\n")
    write_atomically(path, "B=2\n")
    assert path.read_text() == "B=2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["credentials.properties"]


def test_grants_and_new_principals_are_written_at_once(tmp_path):
    kafka = LocalKafka(tmp_path)
    kafka.grant("orders", "billing")
    kafka.grant("orders", "billing")  # a repeat changes nothing
    extra = kafka.add_principal("reader", documents=[{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kafka-cluster:Connect", "Resource": kafka.cluster_arn}]}])
    assert kafka.grants == [("orders", "billing")]
    document = json.loads(kafka.policies_file.read_text())
    names = {v["name"]: v for v in document["principals"].values()}
    assert set(names) == {ADMIN, *PROGRAM_ROLES, "reader"}
    assert names["consumer"]["policies"] == [
        PROGRAM_ROLES["consumer"](kafka.cluster_arn, "orders", "billing")]
    assert names[ADMIN]["policies"][0]["Statement"][0]["Action"] == "kafka-cluster:*"
    assert f"{extra.access_key_id}={extra.secret_access_key}" in (
        kafka.credentials_file.read_text().splitlines())
    with pytest.raises(LocalKafkaError, match="already exists"):
        kafka.add_principal("reader")


def test_an_unknown_principal_is_refused_with_the_known_ones(tmp_path):
    kafka = LocalKafka(tmp_path)
    with pytest.raises(LocalKafkaError, match=r"no principal 'apy' .*known: admin, api, consumer"):
        kafka.principal("apy")


def test_the_topic_admin_role_creates_and_grows_its_topic_and_touches_nothing_else():
    arn = local_cluster_arn("us-east-1")
    document = PROGRAM_ROLES["topic-admin"](arn, "events", "ignored")
    actions = _actions(document)
    assert {"kafka-cluster:CreateTopic", "kafka-cluster:AlterTopic"} <= actions
    assert not actions & {"kafka-cluster:WriteData", "kafka-cluster:ReadData",
                          "kafka-cluster:DeleteTopic", "kafka-cluster:AlterGroup"}


def test_cluster_ids_never_start_with_a_dash(monkeypatch):
    import base64

    from local.kafka import broker

    # The first draw would start with '-' (0xfb... encodes to "-..."); the id must skip it.
    draws = iter([b"\xfb" + b"\x00" * 15, b"\x01" * 16])
    monkeypatch.setattr(broker.secrets, "token_bytes", lambda n: next(draws))
    cluster_id = broker.new_cluster_id()
    assert not cluster_id.startswith("-")
    assert base64.urlsafe_b64decode(cluster_id + "==") == b"\x01" * 16
