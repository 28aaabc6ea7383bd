"""The Pulumi component package (components/provider/): its committed schema is what the provider
host infers from the code today, every input and output has a type and a description and none is
`Any`, and the hosted components build the library's components from plain values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.provider import hosted
from components.provider.schema import SCHEMA_FILE, package_schema, render
from testing.pulumi_harness import BOOTSTRAPPED_POOL_ID

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIR = ROOT / "components" / "provider"
ALARMS = "arn:aws:sns:us-east-1:123456789012:alarms"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return package_schema()


def test_the_committed_schema_is_the_one_the_code_gives():
    assert SCHEMA_FILE.read_text() == render(), (
        "components/provider/schema.json is stale: run `python -m components.provider.schema`")


def test_every_hosted_component_is_in_the_schema(schema):
    assert set(schema["resources"]) == {
        f"{hosted.PACKAGE}:index:{component.__name__}" for component in hosted.COMPONENTS}


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property, nested ones (list items, map values, object types) included."""
    def walk(path: str, prop: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        yield path, prop
        for key in ("items", "additionalProperties"):
            if isinstance(prop.get(key), dict):
                yield from walk(f"{path}.{key}", prop[key])

    for token, resource in schema["resources"].items():
        for kind in ("inputProperties", "properties"):
            for name, prop in resource.get(kind, {}).items():
                yield from walk(f"{token}.{kind}.{name}", prop)
    for token, type_ in schema.get("types", {}).items():
        for name, prop in type_.get("properties", {}).items():
            yield from walk(f"{token}.{name}", prop)


def test_every_input_and_output_is_typed_and_described(schema):
    properties = list(_properties(schema))
    assert len(properties) > 60
    untyped = [path for path, prop in properties if "type" not in prop and "$ref" not in prop]
    anything = [path for path, prop in properties if "Any" in prop.get("$ref", "")]
    # A list's items and a map's values are described by their property.
    undescribed = [path for path, prop in properties
                   if not path.endswith((".items", ".additionalProperties"))
                   and not prop.get("description")]
    assert (untyped, anything, undescribed) == ([], [], [])


def test_every_component_is_described(schema):
    assert all(resource.get("description") for resource in schema["resources"].values())


def test_the_walk_sees_a_missing_type_and_an_any():
    broken = {"resources": {"p:index:C": {"inputProperties": {
        "a": {"description": "x"}, "b": {"$ref": "pulumi.json#/Any", "description": "y"}}}}}
    paths = dict(_properties(broken))
    assert "type" not in paths["p:index:C.inputProperties.a"]
    assert "Any" in paths["p:index:C.inputProperties.b"]["$ref"]


def test_the_plugin_manifest_runs_the_provider_host_in_python():
    manifest = yaml.safe_load((PLUGIN_DIR / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert "component_provider_host(" in (PLUGIN_DIR / "__main__.py").read_text()


def _pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==") for line in lines if "==" in line)


def test_the_provider_host_pins_what_the_program_pins():
    host, program = _pins(PLUGIN_DIR / "requirements.txt"), _pins(ROOT / "requirements.txt")
    assert host and all(program[name] == version for name, version in host.items())


def _pipeline() -> None:
    """A program in another language, as the engine constructs it: one component's outputs are
    the next one's inputs, all plain values."""
    net = hosted.Network("network", {"ipam_pool_id": BOOTSTRAPPED_POOL_ID,
                                     "interface_endpoints": ["ecr.api", "ecr.dkr", "logs", "sts",
                                                             "lambda", "sqs"]})
    endpoints = net.endpoint_security_group_ids
    vpc = {"vpc_id": net.vpc_id, "private_subnet_ids": net.private_subnet_ids,
           "s3_prefix_list_id": net.s3_prefix_list_id}
    cluster = hosted.KafkaCluster("kafka", {"vpc_id": net.vpc_id,
                                            "subnet_ids": net.private_subnet_ids})
    kafka = {"cluster_arn": cluster.arn, "cluster_security_group_id": cluster.security_group_id,
             "bootstrap_brokers_sasl_iam": cluster.bootstrap_brokers_sasl_iam}
    hosted.KafkaTopic("topic", {**kafka, "vpc_id": net.vpc_id,
                                "private_subnet_ids": net.private_subnet_ids})
    hosted.Consumer("consumer", {
        **vpc, **kafka, "topic_name": "events", "alarm_actions": [ALARMS],
        "endpoint_security_group_ids": {name: endpoints[name] for name in ("sts", "lambda", "sqs")},
    })
    hosted.ApiService("api", {
        **vpc, **kafka, "public_subnet_ids": net.public_subnet_ids, "alarm_actions": [ALARMS],
        "allow_plain_http": True,
        "endpoint_security_group_ids": {name: endpoints[name]
                                        for name in ("ecr.api", "ecr.dkr", "logs")},
    })
    pulumi.export("url", hosted.AlarmTopic("alarms", {}).arn)


def test_hosted_components_compose_from_plain_values(run_pulumi, monkeypatch):
    from components import lambda_package

    monkeypatch.setattr(lambda_package, "build_lambda_archive",
                        lambda *a, **k: pulumi.AssetArchive({"h.py": pulumi.StringAsset("")}))
    run = run_pulumi(_pipeline)
    hosted_types = {f"{hosted.PACKAGE}:index:{c.__name__}" for c in hosted.COMPONENTS}
    assert hosted_types <= run.types()
    # Each hosted component holds exactly the library component of the same name.
    for component in run.resources:
        if component.type in hosted_types:
            (child,) = run.children_of(component.urn)
            assert child.type.endswith(":" + component.type.rsplit(":", 1)[1])
    mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == run.one(
        "aws:msk/serverlessCluster:ServerlessCluster").outputs["arn"]
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    environment = {v["name"]: v["value"]
                   for v in json.loads(task.inputs["containerDefinitions"])[0]["environment"]}
    assert environment["KAFKA_TOPIC"] == "events"
