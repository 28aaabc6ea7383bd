"""The examples run: examples/python under the mocks harness, examples/yaml validated against the
component package's schema (components/provider/schema.json)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from testing.pulumi_harness import run_project

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMA_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
                "array": list, "object": dict}
REFERENCE = re.compile(r"^\$\{([A-Za-z][\w-]*)(?:\.([A-Za-z]\w*))?")


# --- examples/python ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def python_example():
    from components import lambda_package

    builds: list[tuple] = []

    def record(*args: Any, **kwargs: Any) -> pulumi.Archive:
        builds.append(args)
        return pulumi.AssetArchive({"handler.py": pulumi.StringAsset("")})

    real, lambda_package.build_lambda_archive = lambda_package.build_lambda_archive, record
    try:
        return run_project(EXAMPLES / "python"), builds
    finally:
        lambda_package.build_lambda_archive = real


def test_the_python_example_runs_the_package_in_its_own_vpc(python_example):
    run, _ = python_example
    (vpc,) = run.of_type("aws:ec2/vpc:Vpc")
    assert vpc.name == "vpc"  # the program's own, not the package's Network
    assert "event-pipeline:network:Network" not in run.types()
    function = run.one("aws:lambda/function:Function", "orders-consumer-function")
    subnets = {s.id for s in run.of_type("aws:ec2/subnet:Subnet")}
    assert set(function.inputs["vpcConfig"]["subnetIds"]) == subnets
    mapping = run.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["topics"] == ["orders"]
    assert set(run.outputs) == {"kafkaBootstrapBrokers", "consumerFunctionName",
                                "deadLetterQueueUrl"}


def test_the_python_example_builds_the_packages_own_lambda_sources(python_example):
    _, builds = python_example
    built = sorted(Path(build_dir).name for _, _, build_dir in builds)
    assert built == ["consumer", "topic_admin"]


# --- examples/yaml ------------------------------------------------------------------------------

def _schema() -> dict[str, Any]:
    from components.provider.schema import package_schema

    return package_schema()


def yaml_problems(program: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Everything in a Pulumi YAML program that the package's schema would refuse."""
    problems: list[str] = []
    resources = program.get("resources", {})
    config = set(program.get("config", {}))

    def check_reference(where: str, text: str) -> None:
        match = REFERENCE.match(text)
        if not match:
            return
        name, prop = match.groups()
        if name in config and prop is None:
            return
        if name not in resources:
            problems.append(f"{where}: {text} names no resource or config key")
            return
        token = resources[name]["type"]
        outputs = schema["resources"].get(token, {}).get("properties")
        if outputs is not None and prop is not None and prop not in outputs:
            problems.append(f"{where}: {token} has no output {prop!r}")

    def check_value(where: str, value: Any, spec: dict[str, Any]) -> None:
        if isinstance(value, str) and value.startswith("${"):
            if spec.get("plain") and REFERENCE.match(value) and "." in value:
                problems.append(f"{where}: a plain input cannot take an output ({value})")
            check_reference(where, value)
            return
        expected = SCHEMA_TYPES.get(spec.get("type", ""))
        if expected and not isinstance(value, expected):
            problems.append(f"{where}: {value!r} is not a {spec['type']}")
        if isinstance(value, list):
            for i, item in enumerate(value):
                check_value(f"{where}[{i}]", item, spec.get("items", {}))
        if isinstance(value, dict):
            for key, item in value.items():
                check_value(f"{where}.{key}", item, spec.get("additionalProperties", {}))

    for name, resource in resources.items():
        token = resource["type"]
        if not token.startswith(schema["name"] + ":"):
            continue
        spec = schema["resources"].get(token)
        if spec is None:
            problems.append(f"{name}: the package has no {token}")
            continue
        properties = resource.get("properties", {})
        for key in spec.get("requiredInputs", []):
            if key not in properties:
                problems.append(f"{name}: required input {key} is missing")
        for key, value in properties.items():
            if key not in spec["inputProperties"]:
                problems.append(f"{name}: {token} has no input {key!r}")
            else:
                check_value(f"{name}.{key}", value, spec["inputProperties"][key])
        for dependency in resource.get("options", {}).get("dependsOn", []):
            check_reference(f"{name}.dependsOn", dependency)
    for key, value in program.get("outputs", {}).items():
        check_reference(f"outputs.{key}", value)
    return problems


@pytest.fixture(scope="module")
def yaml_program() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text())


def test_the_yaml_example_is_valid_against_the_schema(yaml_program):
    assert yaml_program["packages"][_schema()["name"]] == "../../components/provider"
    assert (EXAMPLES / "yaml" / yaml_program["packages"]["event-pipeline"] /
            "PulumiPlugin.yaml").is_file()
    assert yaml_problems(yaml_program, _schema()) == []


def test_the_yaml_example_uses_every_component_of_the_package(yaml_program):
    used = {r["type"] for r in yaml_program["resources"].values()}
    assert used == set(_schema()["resources"])


@pytest.mark.parametrize(("change", "problem"), [
    (lambda p: p["resources"]["kafka"]["properties"].pop("vpcId"), "required input vpcId"),
    (lambda p: p["resources"]["topic"]["properties"].update(partitions="three"),
     "'three' is not a integer"),
    (lambda p: p["resources"]["topic"]["properties"].update(topicName="${kafka.arn}"),
     "a plain input cannot take an output"),
    (lambda p: p["resources"]["consumer"]["properties"].update(vpcId="${network.vpc}"),
     "has no output 'vpc'"),
    (lambda p: p["resources"]["api"].update(type="event-pipeline:index:Api"),
     "the package has no event-pipeline:index:Api"),
    (lambda p: p["resources"]["alarms"]["properties"].update(email="x@example.com"),
     "has no input 'email'"),
])
def test_the_validation_finds_a_broken_program(yaml_program, change, problem):
    broken = yaml.safe_load(yaml.safe_dump(yaml_program))
    change(broken)
    assert any(problem in found for found in yaml_problems(broken, _schema()))
