"""For every stack file: what the program gives each deployable (handler string, environment,
the topic Invocation's input, the task definition's environment) is what the service's own code
requires. A variable a service needs that the program stops setting, a handler renamed in a
service but not in the program, or an Invocation input the provisioner refuses fails here by
name, before an `up` fails on AWS. (tests/integration/test_lambda_packages.py then runs the
packages themselves in the Lambda emulator with the same values.)"""

from __future__ import annotations

import ast

import pytest

from components.project_sources import project_sources
from testing.deployables import RESERVED_VARIABLES, StackDeployables, stack_deployables
from testing.pulumi_harness import PROJECT_ROOT, REGION

STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
ROLE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "ASIATESTTESTTESTTEST",
                    "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_SESSION_TOKEN": "test-token"}


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> StackDeployables:
    return stack_deployables(request.param)


def test_every_example_stack_is_checked():
    assert {"dev", "prod"} <= set(STACKS)


def _defines(module_file, name: str) -> bool:
    tree = ast.parse(module_file.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
    return False


@pytest.mark.parametrize("service", ["topic_admin", "consumer"])
def test_the_handler_string_names_a_function_of_the_package(stack, service):
    function = stack.function(service)
    module, _, name = function.handler.rpartition(".")
    sources = project_sources(PROJECT_ROOT / "services" / service, [PROJECT_ROOT / "libs"])
    top, *rest = module.split(".")
    (package,) = [p for p in sources.import_packages if p.name == top] or [None]
    assert package is not None, f"{function.handler}: no package {top!r} in services/{service}"
    module_file = package.joinpath(*rest).with_suffix(".py")
    assert module_file.is_file(), f"{function.handler}: no module {module_file}"
    assert _defines(module_file, name), f"{function.handler}: {module_file} defines no {name}"


def test_the_program_sets_no_variable_lambda_reserves(stack):
    for function in stack.functions.values():
        assert not RESERVED_VARIABLES & set(function.environment), function.resource_name


def test_the_topic_provisioner_accepts_its_environment_and_the_invocations_input(stack):
    from topic_admin.request import parse_request
    from topic_admin.settings import load_settings

    function = stack.function("topic_admin")
    settings = load_settings(function.runtime_environment(REGION, ROLE_CREDENTIALS))
    assert settings.security_protocol == "SASL_SSL"
    request = parse_request(stack.topic_request)
    assert request.topic in stack.mapping.topics


def test_the_consumer_accepts_its_environment(stack, monkeypatch):
    from event_consumer.deadletter import sink_from_env
    from event_consumer.handler import report_failures_from_env
    from event_consumer.sqs_sink import SqsDeadLetterSink

    env = stack.function("consumer").runtime_environment(REGION, ROLE_CREDENTIALS)
    for key, value in env.items():  # the sink's boto3 clients read the region from the process
        monkeypatch.setenv(key, value)
    assert isinstance(sink_from_env(env), SqsDeadLetterSink)
    # The handler answers partial batch responses exactly when the mapping reads them.
    assert report_failures_from_env(env) is stack.mapping.report_batch_item_failures


def test_the_api_task_accepts_its_environment(stack):
    from event_api.settings import load_settings

    settings = load_settings(stack.api_environment)
    assert settings.topic in stack.mapping.topics
    assert not settings.kafka_disabled


def test_a_missing_variable_fails_by_name(stack):
    """The checks above can fail: without DEAD_LETTER_BUCKET the consumer refuses to start."""
    from event_consumer.deadletter import sink_from_env
    from event_consumer.errors import ConfigError

    env = dict(stack.function("consumer").runtime_environment(REGION, ROLE_CREDENTIALS))
    del env["DEAD_LETTER_BUCKET"]
    with pytest.raises(ConfigError, match="DEAD_LETTER_BUCKET is required"):
        sink_from_env(env)
