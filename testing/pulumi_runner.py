"""Running a Pulumi program under `AwsMocks` and recording what it registered (`PulumiRun`);
the stacks' config as the CLI passes it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import runpy
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

from testing import stack_trace
from testing.aws_account import BOOTSTRAPPED_POOL_ID, REGION, AwsAccount
from testing.aws_mocks import AwsMocks, reveal

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STACK_TYPE = "pulumi:pulumi:Stack"
# run_main: the file of the placeholder archive that stands for a built Lambda package.
PLACEHOLDER_FILE = "built-by-pip-into.txt"


@dataclass
class RecordedResource:
    """One registration as the engine saw it."""

    type: str
    name: str
    urn: str
    parent: str  # parent URN ("" for the stack itself)
    id: str
    custom: bool
    inputs: dict[str, Any]  # secrets revealed
    outputs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Resource options sent to the engine: delete_timeout, ignore_changes, protect, ...
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class PulumiRun:
    """Everything one mocked run registered and exported."""

    resources: list[RecordedResource]
    outputs: dict[str, Any]
    component_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lambda_builds: list[tuple[tuple, dict]] = field(default_factory=list)
    project: str = ""
    stack: str = ""

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {type_} {name or ''}, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def by_id(self, resource_id: str) -> RecordedResource:
        found = [r for r in self.resources if r.custom and r.id == resource_id]
        assert len(found) == 1, f"expected one resource with id {resource_id}, got {len(found)}"
        return found[0]

    def children_of(self, urn: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == urn]

    def types(self) -> set[str]:
        return {r.type for r in self.resources}


# --- running a program --------------------------------------------------------------------------

def _event_loop() -> asyncio.AbstractEventLoop:
    """The current event loop, or a new one if another test's `asyncio.run` left none. It is
    kept across runs, so Outputs created between runs (or returned by one) stay resolvable."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
        if not loop.is_closed():
            return loop
    except RuntimeError:
        pass
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    return loop


def _run_in_pulumi_runtime(program: Callable[[], Any], mocks: AwsMocks, *, project: str,
                           stack: str) -> dict[str, Any]:
    """Run `program` under `mocks` (preview=False) and return the stack's resolved exports.

    The only code here that relies on the Pulumi SDK's private runtime; checked against
    pulumi==3.272.0. What it uses and why:
    - `SETTINGS.outputs.clear()` and `set_root_resource(None)`: a fresh Stack and no leftover
      Outputs from the previous run (the mock settings keep both between runs);
    - `run_pulumi_func`: runs the program and waits for every registration, re-raising the
      program's own exception afterwards (what `pulumi up` does with a program);
    - `rpc.deserialize_properties` and the `RegisterResource*` request fields (parent,
      dependencies, customTimeouts, ignoreChanges, ...): what the engine would record;
    - the Stack's `outputs` dict: the program's `pulumi.export`s;
    - `_get_stack_trace`, replaced by an equal but cheaper one (testing/stack_trace.py).
    """
    from pulumi.runtime import rpc
    from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
    from pulumi.runtime.stack import run_pulumi_func

    class RecordingMonitor(MockMonitor):
        def RegisterResource(self, request):  # noqa: N802 - gRPC method name
            response = super().RegisterResource(request)
            if request.type != STACK_TYPE:
                registration = self.resources[response.urn]
                mocks.record(RecordedResource(
                    type=request.type, name=request.name, urn=response.urn,
                    parent=request.parent, id=registration.id, custom=request.custom,
                    inputs=reveal(rpc.deserialize_properties(request.object)),
                    outputs=reveal(dict(registration.state)),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={key: tuple(deps.urns) for key, deps
                                           in request.propertyDependencies.items()},
                    options={
                        "delete_timeout": request.customTimeouts.delete,
                        "ignore_changes": list(request.ignoreChanges),
                        "replace_on_changes": list(request.replaceOnChanges),
                        "delete_before_replace": request.deleteBeforeReplace,
                        "protect": request.protect,
                        "retain_on_delete": request.retainOnDelete,
                        "provider": request.provider,
                        # Parents (URNs) the resource was known under before (aliases).
                        "alias_parents": [a.spec.parentUrn for a in request.aliases
                                          if a.HasField("spec") and a.spec.parentUrn],
                    },
                ))
            return response

        def RegisterResourceOutputs(self, request):  # noqa: N802 - gRPC method name
            mocks.record_component_outputs(request.urn,
                                           rpc.deserialize_properties(request.outputs))
            return super().RegisterResourceOutputs(request)

    stack_trace.install()
    loop = _event_loop()
    SETTINGS.outputs.clear()
    set_root_resource(None)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False,
                             monitor=RecordingMonitor(mocks))
    root = get_root_resource()
    try:
        loop.run_until_complete(run_pulumi_func(program))
    except BaseException:
        # A program that raised can leave tasks pending on its loop: later runs get a fresh
        # loop, so those tasks never register into another run's mocks.
        asyncio.set_event_loop(asyncio.new_event_loop())
        raise
    return {name: reveal(loop.run_until_complete(pulumi.Output.from_input(value).future()))
            for name, value in root.outputs.items()}


def _config_value(value: Any) -> str:
    # The CLI hands every config value to the program as a string; mimic that.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def full_config(config: Mapping[str, Any] | None, project: str,
                region: str = REGION) -> dict[str, str]:
    """Config as the CLI passes it: namespaced keys (the project's by default), string values,
    `aws:region` defaulting to the account's region (None unsets a key)."""
    full = {"aws:region": region}
    for key, value in (config or {}).items():
        full_key = key if ":" in key else f"{project}:{key}"
        if value is None:
            full.pop(full_key, None)
        else:
            full[full_key] = _config_value(value)
    return full


def project_name(project_dir: Path = PROJECT_ROOT) -> str:
    return yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["name"]


def run_program(program: Callable[[], Any], *, config: Mapping[str, Any] | None = None,
                mocks: AwsMocks | None = None, account: AwsAccount | None = None,
                project: str | None = None, stack: str = "test") -> PulumiRun:
    """Run `program` under mocks and return what it registered and exported.

    Config keys without a namespace get the project's. The program's own exception is
    re-raised after all pending registrations finished, so `mocks.resources` then shows what
    was registered. `account` (or `mocks.account`) is the account deployed into.
    """
    if mocks is None:
        mocks = AwsMocks(account)
    elif account is not None and account is not mocks.account:
        raise ValueError("pass either mocks or account, not both")
    project = project or project_name()
    pulumi.runtime.set_all_config(full_config(config, project, mocks.account.region))
    outputs = _run_in_pulumi_runtime(program, mocks, project=project, stack=stack)
    return PulumiRun(list(mocks.resources), outputs, dict(mocks.component_outputs),
                     list(mocks.calls), project=project, stack=stack)


def run_project(project_dir: Path, config: Mapping[str, Any] | None = None, *,
                stack: str = "test", **kwargs: Any) -> PulumiRun:
    """Run a Pulumi project's `__main__.py` in its directory with the directory on sys.path,
    as Pulumi's Python runtime does."""
    main = project_dir / "__main__.py"
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    try:
        with contextlib.chdir(project_dir):
            return run_program(lambda: runpy.run_path(str(main), run_name="__main__"),
                               config=config, project=project_name(project_dir), stack=stack,
                               **kwargs)
    finally:
        if added:
            sys.path.remove(str(project_dir))


def run_main(config: Mapping[str, Any] | None = None, **kwargs: Any) -> PulumiRun:
    """Run this repository's application program (`__main__.py`) with a stack's config.

    The consumer's deployment package is built by pip for arm64 when the real program runs;
    here a placeholder archive stands in (tests/unit/test_lambda_package.py builds real
    packages) and the call is recorded, so tests can assert what the program asked for.
    """
    from components import lambda_package

    builds: list[tuple[tuple, dict]] = []

    def record_build(*args: Any, **build_kwargs: Any) -> pulumi.Archive:
        builds.append((args, build_kwargs))
        # The placeholder names its build, so a function's `code` input says which package
        # the program gave it (testing/deployables.py reads it back).
        return pulumi.AssetArchive({PLACEHOLDER_FILE: pulumi.StringAsset(str(args[2]))})

    real_build = lambda_package.build_lambda_archive
    lambda_package.build_lambda_archive = record_build
    try:
        run = run_project(PROJECT_ROOT, config, **kwargs)
    finally:
        lambda_package.build_lambda_archive = real_build
    run.lambda_builds = builds
    return run


# The example stack files' placeholders (refused by the settings: settings/loader.py) and what
# the mocked account holds in their place, so the examples run here as a set-up account's would.
EXAMPLE_VALUES = {
    "REPLACE_WITH_POOL_ID": BOOTSTRAPPED_POOL_ID,
    "REPLACE_WITH_DOMAIN_NAME": "api.example.com",
    "REPLACE_WITH_HOSTED_ZONE_ID": "Z0123456789EXAMPLE0AB",
    "REPLACE_WITH_ALARM_EMAIL": "oncall@example.com",
}


def stack_config(stack: str, project_dir: Path = PROJECT_ROOT, *,
                 placeholders: bool = False) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, as the CLI would pass it, with the example's
    placeholders replaced by the mocked account's values (`placeholders=True` keeps them)."""
    data = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = dict(data.get("config") or {})
    if placeholders:
        return config
    return {key: EXAMPLE_VALUES.get(value, value) if isinstance(value, str) else value
            for key, value in config.items()}


def resolve(value: Any) -> Any:
    """Resolve an Input/Output outside a program run (e.g. a pure helper's Output)."""
    return _event_loop().run_until_complete(pulumi.Output.from_input(value).future())
