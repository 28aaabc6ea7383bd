"""The policy pack (policy/rules) run offline over a mocked run's resources.

`pulumi preview --policy-pack policy` hands each resource's inputs to the resource rules and
every resource's outputs to the stack rules; this feeds a PulumiRun's recorded resources to the
same rule functions the same way, so a rule that would fail in CI fails in `./dev test`.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import ALL_POLICIES
from testing.pulumi_harness import PulumiRun, RecordedResource


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str  # logical name, or "" for the stack
    message: str


def _seconds(timeout: str) -> float:
    """Pulumi's custom timeout text ("45m", "1h30m") in seconds; 0 when unset."""
    units = {"h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", timeout or "")))


def _options(resource: RecordedResource) -> PolicyResourceOptions:
    o = resource.options
    return PolicyResourceOptions(
        protect=bool(o.get("protect")), ignore_changes=list(o.get("ignore_changes") or []),
        delete_before_replace=o.get("delete_before_replace"), aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, _seconds(o.get("delete_timeout", ""))),
        additional_secret_outputs=[], parent=resource.parent or None)


def _await(result) -> None:
    if inspect.isawaitable(result):
        asyncio.new_event_loop().run_until_complete(result)


def _stack_resources(resources: list[RecordedResource]) -> list[PolicyResource]:
    by_urn = {r.urn: PolicyResource(r.type, r.outputs, r.urn, r.name, _options(r), None, None,
                                    [], {}) for r in resources}
    for r in resources:
        policy_resource = by_urn[r.urn]
        policy_resource.parent = by_urn.get(r.parent)
        policy_resource.dependencies = [by_urn[u] for u in r.dependencies if u in by_urn]
        policy_resource.property_dependencies = {
            key: [by_urn[u] for u in urns if u in by_urn]
            for key, urns in r.property_dependencies.items()}
    return list(by_urn.values())


def check(run: PulumiRun, policies: Iterable[Policy] = ALL_POLICIES) -> list[Violation]:
    """Every violation the pack reports for the run's resources."""
    resources = [r for r in run.resources if r.custom]
    names = {r.urn: r.name for r in resources}
    found: list[Violation] = []
    for policy in policies:
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                def report(message: str, urn: str | None = None, _r=r, _p=policy) -> None:
                    found.append(Violation(_p.name, _r.name, message))

                _await(policy.validate(ResourceValidationArgs(
                    r.type, r.inputs, r.urn, r.name, _options(r), None), report))
        elif isinstance(policy, StackValidationPolicy):
            def report_stack(message: str, urn: str | None = None, _p=policy) -> None:
                found.append(Violation(_p.name, names.get(urn or "", ""), message))

            _await(policy.validate(StackValidationArgs(_stack_resources(resources)),
                                   report_stack))
    return found
