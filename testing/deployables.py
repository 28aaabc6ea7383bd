"""What `pulumi up` ships for a stack file, read from the program's own resource graph.

The mocks harness runs `__main__.py` with `Pulumi.<stack>.yaml`; from what it registered this
module reads, for each Lambda function, the package the program builds for it (the real
`build_lambda_archive` call, replayed into the same build/ folder `pulumi up` uses), its handler
string, runtime, memory, timeout and environment variables; the topic `Invocation`'s input; the
event source mapping's settings; and the API task definition's environment. The local pipeline
and the tests run the deployables with exactly these, so a renamed handler, a module missing
from a package or a variable the program no longer sets shows up here, not on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.lambda_runtime.emulator import RESERVED_KEYS as RESERVED_VARIABLES  # noqa: F401 - re-exported
from testing.pulumi_harness import PLACEHOLDER_FILE, PROJECT_ROOT, PulumiRun, run_main, stack_config

FUNCTION = "aws:lambda/function:Function"
INVOCATION = "aws:lambda/invocation:Invocation"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
API_CONTAINER = "api"


class DeployablesError(RuntimeError):
    """The graph lacks something a local run needs; the message names it."""


@dataclass(frozen=True)
class LambdaDeployable:
    """One function as the program defines it."""

    resource_name: str  # the logical name, e.g. "topic-function"
    build_dir: str  # where the program builds its package, e.g. "build/topic_admin"
    handler: str
    runtime: str
    memory_mb: int
    timeout_s: int
    environment: Mapping[str, str]
    build_args: tuple[Any, ...] = field(repr=False, default=())
    build_kwargs: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def service(self) -> str:
        """The services/ folder the package comes from (the build folder's name)."""
        return Path(self.build_dir).name

    def runtime_environment(self, region: str,
                            credentials: Mapping[str, str] | None = None) -> dict[str, str]:
        """What the function's code sees on AWS: the program's variables plus the ones Lambda
        defines ("Defined runtime environment variables", https://docs.aws.amazon.com/lambda/
        latest/dg/configuration-envvars.html); `credentials` stand for the execution role's."""
        return {
            **self.environment,
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": self.resource_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "_HANDLER": self.handler, "TZ": ":UTC",
            **(credentials or {}),
        }

    @property
    def python_version(self) -> str:
        return self.runtime.removeprefix("python")

    def build(self) -> Path:
        """Build (or reuse) the package exactly as `pulumi up` does; returns its directory."""
        from components import lambda_package

        args = [_in_project(self.build_args[0]), PROJECT_ROOT / self.build_args[1],
                PROJECT_ROOT / self.build_args[2], *self.build_args[3:]]
        return Path(lambda_package.build_lambda_archive(*args, **self.build_kwargs).path)


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's delivery settings (AWS's API names in comments)."""

    topics: tuple[str, ...]
    group_id: str  # AmazonManagedKafkaEventSourceConfig.ConsumerGroupId
    batch_size: int  # BatchSize
    batching_window_s: float  # MaximumBatchingWindowInSeconds
    starting_position: str  # StartingPosition
    max_retry_attempts: int  # MaximumRetryAttempts; -1 (AWS's default) = until it succeeds
    report_batch_item_failures: bool  # FunctionResponseTypes has ReportBatchItemFailures
    function_resource_name: str


@dataclass(frozen=True)
class StackDeployables:
    """Everything a stack file deploys that runs code, as the program registers it."""

    stack: str
    functions: Mapping[str, LambdaDeployable]  # by service, e.g. "consumer", "topic_admin"
    topic_request: Mapping[str, Any] | None  # the provisioning Invocation's input
    mapping: MappingSettings | None
    api_environment: Mapping[str, str]

    def function(self, service: str) -> LambdaDeployable:
        try:
            return self.functions[service]
        except KeyError:
            raise DeployablesError(
                f"stack {self.stack!r} deploys no function from services/{service} "
                f"(it has: {', '.join(sorted(self.functions)) or 'none'})") from None


def _in_project(packages: Any) -> list[Path]:
    items = [packages] if isinstance(packages, str | Path) else list(packages)
    return [PROJECT_ROOT / p for p in items]


def _build_dir_of(function: Any) -> str:
    code = function.inputs.get("code")
    assets = getattr(code, "assets", None) or {}
    placeholder = assets.get(PLACEHOLDER_FILE)
    if placeholder is None:
        raise DeployablesError(f"function {function.name!r} has no package built by the program")
    return placeholder.text


def _functions(run: PulumiRun) -> dict[str, LambdaDeployable]:
    builds = {str(args[2]): (args, kwargs) for args, kwargs in run.lambda_builds}
    functions: dict[str, LambdaDeployable] = {}
    for resource in run.of_type(FUNCTION):
        build_dir = _build_dir_of(resource)
        args, kwargs = builds[build_dir]
        variables = (resource.inputs.get("environment") or {}).get("variables") or {}
        deployable = LambdaDeployable(
            resource_name=resource.name, build_dir=build_dir,
            handler=resource.inputs["handler"], runtime=resource.inputs["runtime"],
            memory_mb=int(resource.inputs.get("memorySize", 128)),
            timeout_s=int(resource.inputs.get("timeout", 3)),
            environment={str(k): str(v) for k, v in variables.items()},
            build_args=tuple(args), build_kwargs=dict(kwargs))
        functions[deployable.service] = deployable
    return functions


def _mapping(run: PulumiRun, functions: Mapping[str, LambdaDeployable]) -> MappingSettings | None:
    mappings = run.of_type(MAPPING)
    if not mappings:
        return None
    (mapping,) = mappings
    inputs = mapping.inputs
    target = next((f.resource_name for f in functions.values()
                   if str(inputs["functionName"]).split(":")[-1].startswith(
                       f"{f.resource_name}-")), None)
    if target is None:
        raise DeployablesError(f"the mapping's function {inputs['functionName']!r} is not one "
                               "of the program's functions")
    retries = inputs.get("maximumRetryAttempts")
    return MappingSettings(
        topics=tuple(inputs["topics"]),
        group_id=inputs["amazonManagedKafkaEventSourceConfig"]["consumerGroupId"],
        batch_size=int(inputs.get("batchSize", 100)),
        batching_window_s=float(inputs.get("maximumBatchingWindowInSeconds", 0.5)),
        starting_position=inputs["startingPosition"],
        # Without a value AWS retries a Kafka batch until it succeeds or the records expire
        # (Lambda API reference, EventSourceMapping MaximumRetryAttempts: -1 by default).
        max_retry_attempts=-1 if retries is None else int(retries),
        report_batch_item_failures="ReportBatchItemFailures" in (
            inputs.get("functionResponseTypes") or []),
        function_resource_name=target)


def _api_environment(run: PulumiRun) -> dict[str, str]:
    (task,) = run.of_type(TASK_DEFINITION)
    containers = json.loads(task.inputs["containerDefinitions"])
    (api,) = [c for c in containers if c["name"] == API_CONTAINER]
    return {item["name"]: item["value"] for item in api.get("environment", [])}


def stack_deployables(stack: str, config: Mapping[str, Any] | None = None) -> StackDeployables:
    """Run the program under mocks with `Pulumi.<stack>.yaml` (or `config`) and read back what
    it deploys."""
    if config is None:
        if not (PROJECT_ROOT / f"Pulumi.{stack}.yaml").is_file():
            known = sorted(p.name[7:-5] for p in PROJECT_ROOT.glob("Pulumi.*.yaml"))
            raise DeployablesError(f"no stack file Pulumi.{stack}.yaml (stacks: "
                                   f"{', '.join(known)})")
        config = stack_config(stack)
    run = run_main(config, stack=stack)
    functions = _functions(run)
    invocations = run.of_type(INVOCATION)
    topic_request = json.loads(invocations[0].inputs["input"]) if invocations else None
    return StackDeployables(stack, functions, topic_request, _mapping(run, functions),
                            _api_environment(run))
