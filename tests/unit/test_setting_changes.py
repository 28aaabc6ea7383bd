"""Every stack setting, changed alone on the dev stack: what would the next `pulumi up` replace?

For each declared setting (settings.SECTIONS) the program runs under the mocks before and after
a change of that setting, and testing/replacements.py says what the engine would replace. Issue
23: a stateful resource (MSK cluster, queue, bucket, KMS key) is replaced only where the docs
(docs/operating.md, docs/configuration.md) say so (DOCUMENTED_REPLACEMENTS), no replacement
takes a unique value the old graph still holds, and a replaced cluster gets its topic
provisioned again.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass
from typing import Any

import pytest
from annotated_types import Ge, Le
from pydantic import AfterValidator

from settings import SECTIONS
from testing.pulumi_harness import PulumiRun, run_main, stack_config
from testing.replacements import (
    FORCE_NEW,
    SOURCES,
    STATEFUL,
    Replacement,
    deleted,
    replaced,
    unique_value_conflicts,
)
from testing.run_cache import cached_main
from tests.fixtures.docs import flat, page

# Where a replacement is documented: the guide to changing settings, or the settings table.
DOCUMENTED_IN = ("operating.md", "configuration.md")
MSK = "aws:msk/serverlessCluster:ServerlessCluster"
INVOCATION = "aws:lambda/invocation:Invocation"
PREFIX = "event-pipeline:"

# Settings whose value cannot be derived from the declaration (free text, no default) or whose
# change is invalid alone: the other keys the same change needs (cross-key rules, settings/
# checks.py). The change under test is the first key; the others come with it.
HAND_VALUES: dict[str, dict[str, Any]] = {
    "topicName": {"topicName": "events-v2"},
    "consumerGroupId": {"consumerGroupId": "event-consumer-v2"},
    "baseImage": {"baseImage": "public.ecr.aws/docker/library/python:3.12-slim"},
    "alarmEmail": {"alarmEmail": "oncall@example.com"},
    "consumerReservedConcurrency": {"consumerReservedConcurrency": 5},
    # https_unless_plain_http_is_explicit: a certificate contradicts allowPlainHttp.
    "certificateArn": {"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                          "0ff1ce00-0000-4000-8000-000000000001",
                       "allowPlainHttp": False},
    "domainName": {"domainName": "api.example.com", "hostedZoneId": "Z0123456789EXAMPLE0AB",
                   "allowPlainHttp": False},
    "hostedZoneId": {"hostedZoneId": "Z0123456789EXAMPLE0AB", "domainName": "api.example.com",
                     "allowPlainHttp": False},
    # allowPlainHttp=false alone leaves the dev stack without HTTPS: give it a certificate.
    "allowPlainHttp": {"allowPlainHttp": False,
                       "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                         "0ff1ce00-0000-4000-8000-000000000001"},
    # access_log_retention_needs_access_logs.
    "albAccessLogRetentionDays": {"albAccessLogRetentionDays": 91, "albAccessLogs": True},
    # retry_limits_need_provisioned_pollers.
    "consumerMaxRetryAttempts": {"consumerMaxRetryAttempts": 4, "consumerProvisionedPollers": 1},
    # fargate_memory_fits_the_cpu: 512 CPU units need 1024-4096 MiB.
    "apiCpu": {"apiCpu": 512, "apiMemory": 1024},
    "apiMemory": {"apiMemory": 1024},  # allowed by apiCpu: a step, not + 1
    # task_counts_are_ordered: desired within [min, max] (dev: 1 within [1, 2]).
    "apiDesiredCount": {"apiDesiredCount": 2},
    "apiMinCount": {"apiMinCount": 0},
}

# Settings not exercised, with the reason (printed by test_every_setting_is_exercised).
NOT_EXERCISED: dict[str, str] = {
    "ipamPoolId": "the mocked account has one IPAM pool (IPAMs per Region: 1); another pool "
                  "is another account's setup, not a change of this stack",
}

# A stateful resource replaced by a setting, where the docs say so: (setting, logical name)
# -> the sentence in DOCUMENTED_IN.
DOCUMENTED_REPLACEMENTS: dict[tuple[str, str], str] = {
    ("availabilityZoneCount", "kafka-cluster"):
        "Either way the MSK Serverless cluster is replaced",
}

# Stateful resources a setting deletes (not replaces), where its description says so.
DOCUMENTED_DELETIONS: dict[str, str] = {
    "kafkaEnabled": "Turning it off on a deployed stack deletes the cluster with the records "
                    "not yet consumed, and the dead-letter queue and bucket with their letters",
}

# Unique-value conflicts a setting's change runs into, each stated by the setting's description
# (the generated settings table): (setting, what) -> the sentence. The test asserts this exact
# set, so a new conflict fails it.
VPC_FIXED = ("Fixed once deployed: a new value replaces the VPC, every subnet and the MSK "
             "Serverless cluster")
SUBNETS_FIXED = ("Fixed once deployed: a new value replaces every subnet and the MSK "
                 "Serverless cluster, and EC2 refuses new subnets that overlap the old ones")
DOCUMENTED_REPLACEMENTS.update({
    ("vpcNetmaskLength", "kafka-cluster"): VPC_FIXED,
    ("subnetNetmaskLength", "kafka-cluster"): SUBNETS_FIXED,
})
DOCUMENTED_CONFLICTS: dict[tuple[str, str], str] = {
    (("subnetNetmaskLength", f"{subnet} takes a held value")): SUBNETS_FIXED
    for subnet in ("network-private-0", "network-private-1", "network-public-0",
                   "network-public-1")
}


def _fields() -> dict[str, Any]:
    return {f.alias: f for model in SECTIONS.values() for f in model.model_fields.values()}


def _allowed(field: Any) -> tuple | None:
    for meta in field.metadata:
        if isinstance(meta, AfterValidator) and hasattr(meta.func, "allowed"):
            allowed = meta.func.allowed
            return allowed if isinstance(allowed, tuple) else None
    return None


def _derived(key: str, field: Any, current: Any) -> Any:
    """Another valid value of `key` from its declaration: a bool flipped, a Literal's or a
    one_of's next member, an int + 1 within its bounds (- 1 at the top)."""
    annotation = field.annotation
    if annotation is bool:
        return not (str(current).lower() == "true")
    if typing.get_origin(annotation) is typing.Literal:
        members = typing.get_args(annotation)
        return members[(members.index(current) + 1) % len(members)]
    allowed = _allowed(field)
    if allowed is not None:
        return allowed[(allowed.index(int(current)) + 1) % len(allowed)]
    if annotation is int:
        high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        value = int(current) + 1
        if high is not None and value > high:
            value = int(current) - 1
        assert low is None or value >= low
        return value
    raise LookupError(f"no derived value for {key} ({annotation}): add it to HAND_VALUES")


def _changes() -> dict[str, dict[str, Any]]:
    config = stack_config("dev")
    changes = {}
    for key, field in _fields().items():
        if key in NOT_EXERCISED:
            continue
        if key in HAND_VALUES:
            changes[key] = HAND_VALUES[key]
            continue
        current = config.get(PREFIX + key, field.default)
        changes[key] = {key: _derived(key, field, current)}
    return changes


CHANGES = _changes()


@functools.cache
def _before() -> PulumiRun:
    return cached_main(stack_config("dev"))


@dataclass(frozen=True)
class Change:
    """What changing one setting does to the dev stack. Kept instead of the after-run: 38 runs'
    graphs held to the end of the module made every full garbage collection rescan them."""

    types: frozenset[str]  # of the custom resources the after-graph registers
    replacements: tuple[Replacement, ...]
    conflicts: tuple[str, ...]  # unique_value_conflicts
    deletions: tuple[tuple[str, str], ...]  # (type, logical name)


@functools.cache
def _change(key: str) -> Change:
    before, after = _before(), cached_main({**stack_config("dev"), **CHANGES[key]})
    replacements = replaced(before, after)
    return Change(frozenset(r.type for r in after.resources if r.custom), tuple(replacements),
                  tuple(unique_value_conflicts(before, after, replacements)),
                  tuple(deleted(before, after)))


def test_every_setting_is_exercised_or_listed_with_a_reason():
    declared = set(_fields())
    assert declared == CHANGES.keys() | NOT_EXERCISED.keys()
    assert not CHANGES.keys() & NOT_EXERCISED.keys()
    for key, reason in NOT_EXERCISED.items():
        print(f"not exercised: {key}: {reason}")
    for key, change in CHANGES.items():
        print(f"exercised: {key}: {change}")


def test_the_table_covers_every_type_the_program_registers():
    types = {r.type for r in _before().resources if r.custom}
    for key in CHANGES:
        types |= _change(key).types
    assert not types - FORCE_NEW.keys()
    assert STATEFUL <= FORCE_NEW.keys()
    assert all(SOURCES[t] for t in FORCE_NEW)


def test_an_unchanged_stack_replaces_nothing():
    # Two independent runs: the second is not the cached one.
    assert replaced(_before(), run_main(stack_config("dev"))) == []


def test_the_documented_replacements_are_in_the_docs():
    from settings import render_settings_table

    text = flat(" ".join(page(name) for name in DOCUMENTED_IN))
    for sentence in DOCUMENTED_REPLACEMENTS.values():
        assert sentence in text, sentence
    # A deletion is documented by the setting's description, in the generated settings table.
    for sentence in DOCUMENTED_DELETIONS.values():
        assert sentence in render_settings_table() and sentence in text, sentence


def _findings() -> dict[tuple[str, str], str]:
    """Every undocumented stateful replacement and unique-value conflict, over all changes."""
    found = {}
    for key in CHANGES:
        change = _change(key)
        for kind, name, inputs in change.replacements:
            if kind in STATEFUL and (key, name) not in DOCUMENTED_REPLACEMENTS:
                found[(key, name)] = f"{kind} replaced ({', '.join(inputs)})"
        for conflict in change.conflicts:
            found[(key, f"{conflict.split(':')[0]} takes a held value")] = conflict
    return found


def test_no_setting_replaces_state_or_takes_a_held_value_unless_its_description_says_so():
    found = _findings()
    for (key, what), why in found.items():
        print(f"PROBLEM {key}: {what}: {why}")
    assert set(found) == set(DOCUMENTED_CONFLICTS)
    from settings import render_settings_table

    text = render_settings_table()
    for sentence in DOCUMENTED_CONFLICTS.values():
        assert sentence in text, sentence


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_a_replaced_cluster_provisions_its_topic_again(key):
    replacements = {(kind, name): inputs for kind, name, inputs in _change(key).replacements}
    cluster = [inputs for (kind, _), inputs in replacements.items() if kind == MSK]
    if not cluster:
        return  # nothing to provision again for this change
    invocation = [inputs for (kind, _), inputs in replacements.items() if kind == INVOCATION]
    assert invocation, f"{key} replaces the cluster but does not run the topic provisioning"
    assert any(i.startswith("triggers") for i in invocation[0]), invocation


def test_documented_replacements_happen():
    for (key, name), _sentence in DOCUMENTED_REPLACEMENTS.items():
        names = {n for _, n, _ in _change(key).replacements}
        assert name in names, (key, name)


def test_stateful_deletions_are_the_documented_ones():
    found = {key: sorted(n for t, n in _change(key).deletions if t in STATEFUL)
             for key in CHANGES}
    found = {key: names for key, names in found.items() if names}
    for key, names in found.items():
        print(f"deletes stateful: {key}: {names}")
    assert found.keys() == DOCUMENTED_DELETIONS.keys()


def test_a_new_image_count_replaces_the_lifecycle_policy_alone():
    # aws_ecr_lifecycle_policy has no Update: a new policy document is a replacement, which
    # pulumi-aws runs delete-first (testing/replacements.py cites both). Nothing else moves.
    found = [tuple(r) for r in _change("ecrKeepImages").replacements]
    assert found == [("aws:ecr/lifecyclePolicy:LifecyclePolicy", "api-repo-lifecycle",
                      ("policy",))]
