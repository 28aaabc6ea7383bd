"""Documented stack changes that must survive the next `pulumi up`.

Each test runs the whole program (`__main__.py`) under the mocks BEFORE and AFTER a change of
the stack file and compares the two graphs the way the engine would diff them: what keeps its
logical name and inputs, what is replaced, what a provider refuses.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
from typing import Any

import pytest

from components.network import subnet_cidr
from testing.pulumi_harness import AwsMocks, PulumiRun, RecordedResource, run_main, stack_config
from testing.run_cache import cached_main

SUBNET = "aws:ec2/subnet:Subnet"
MSK = "aws:msk/serverlessCluster:ServerlessCluster"
INVOCATION = "aws:lambda/invocation:Invocation"
SERVICE = "aws:ecs/service:Service"
SCALING_TARGET = "aws:appautoscaling/target:Target"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
QUEUE = "aws:sqs/queue:Queue"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
# What `pulumi destroy` would lose: records, dead letters, logs, and the keys that decrypt them.
STATEFUL = {MSK, QUEUE, BUCKET, KEY}


def deploy(stack: str = "dev", **overrides: Any) -> PulumiRun:
    """The program with a stack file's config and `overrides`, on a fresh account."""
    return cached_main({**stack_config(stack), **overrides})


def _subnets(run: PulumiRun) -> dict[str, ipaddress.IPv4Network]:
    return {s.name: ipaddress.ip_network(s.outputs["cidrBlock"]) for s in run.of_type(SUBNET)}


# --- 1. availabilityZoneCount: existing subnets never move ---------------------------------------

@pytest.mark.parametrize(("stack", "before", "after"), [("dev", 2, 3), ("prod", 3, 4)])
def test_adding_an_availability_zone_moves_no_existing_subnet(stack, before, after):
    old = _subnets(deploy(stack, availabilityZoneCount=before))
    new = _subnets(deploy(stack, availabilityZoneCount=after))
    assert len(old) == 2 * before and len(new) == 2 * after
    # Same logical name, same CIDR: no subnet of the deployed stack is replaced.
    assert {name: new.get(name) for name in old} == old
    cidrs = list(new.values())
    assert not [(a, b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:] if a.overlaps(b)]
    # Pulumi creates before it deletes: what is new must not overlap anything still there
    # (EC2 CreateSubnet answers InvalidSubnet.Conflict).
    for name in new.keys() - old.keys():
        assert not [c for c in old.values() if c.overlaps(new[name])], name


def test_removing_an_availability_zone_keeps_the_remaining_subnets():
    old = _subnets(deploy(availabilityZoneCount=3))
    new = _subnets(deploy(availabilityZoneCount=2))
    assert new == {name: cidr for name, cidr in old.items() if not name.endswith("-2")}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_first_up_of_this_layout_moves_public_subnets_onto_free_blocks(stack):
    # The layout before this change: private subnet i at block i, public i at block count + i.
    config = stack_config(stack)
    count = int(config["event-pipeline:availabilityZoneCount"])
    run = deploy(stack)
    vpc = run.one("aws:ec2/vpc:Vpc").outputs["cidrBlock"]
    old = {f"network-{tier}-{i}": ipaddress.ip_network(subnet_cidr(vpc, 24, offset + i))
           for tier, offset in (("private", 0), ("public", count)) for i in range(count)}
    new = _subnets(run)
    moved = {name for name in new if new[name] != old[name]}
    assert all(name.startswith("network-public-") for name in moved)  # tasks, MSK, Lambdas stay
    for name in moved:
        assert not [c for c in old.values() if c.overlaps(new[name])], name


class _Config:
    """The few `pulumi.Config` methods the settings reader uses, over a plain dict."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def full_key(self, key: str) -> str:
        return f"event-pipeline:{key}"


def test_the_layout_fits_every_network_the_settings_accept():
    from components.network import NetworkArgs, subnet_block, subnet_blocks
    from settings.checks import subnets_fit_the_vpc
    from settings.declarations import NetworkSettings
    from settings.loader import Reader

    accepted = 0
    for vpc, subnet, azs in itertools.product(range(16, 29), range(16, 28), range(2, 7)):
        reader = Reader(_Config({"ipamPoolId": "ipam-pool-0a1b2c3d4e5f60718",
                                 "vpcNetmaskLength": str(vpc),
                                 "subnetNetmaskLength": str(subnet),
                                 "availabilityZoneCount": str(azs)}), "us-east-1")
        values = reader.read(NetworkSettings)
        subnets_fit_the_vpc(reader)
        if reader.problems:
            with pytest.raises(ValueError, match="invalid NetworkArgs"):
                NetworkArgs(**values)
            continue
        accepted += 1
        NetworkArgs(**values)
        blocks = subnet_blocks(vpc, subnet)
        cidr = str(ipaddress.ip_network((0x0A000000, vpc)))
        cidrs = [ipaddress.ip_network(subnet_cidr(cidr, subnet, subnet_block(tier, i, blocks)))
                 for tier in ("private", "public") for i in range(azs)]
        assert len(set(cidrs)) == 2 * azs, (vpc, subnet, azs)
        assert not [(a, b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:] if a.overlaps(b)]
    assert accepted


# --- 2. a replaced MSK cluster gets its topic again -----------------------------------------------

def _replaced_cluster() -> AwsMocks:
    """Mocks under which the cluster comes back with a new name and UUID, as a replacement does
    (any vpc_config change replaces an MSK Serverless cluster)."""
    mocks = AwsMocks()
    created = mocks.outputs[MSK]

    def replacement(resource, account):
        outputs = created(resource, account)
        arn = outputs["arn"].replace("/kafka-cluster-", "/kafka-cluster-replaced-")
        arn = arn.rsplit("/", 1)[0] + "/0ff1ce00-0000-4000-8000-000000000001-s1"
        return {**outputs, "id": arn, "arn": arn}

    mocks.outputs[MSK] = replacement
    return mocks


def test_a_replaced_cluster_runs_the_topic_provisioning_again():
    before = deploy()
    after = run_main(stack_config("dev"), mocks=_replaced_cluster())
    cluster_before, cluster_after = (run.one(MSK).outputs["arn"] for run in (before, after))
    assert cluster_before != cluster_after
    triggers_before, triggers_after = (run.one(INVOCATION).inputs["triggers"]
                                       for run in (before, after))
    # The cluster's identity is one of the triggers, read from the graph ...
    assert cluster_before in triggers_before.values()
    assert cluster_after in triggers_after.values()
    # ... so a new cluster is a changed trigger: the Invocation is replaced, i.e. runs again.
    assert triggers_before != triggers_after
    # Nothing else told it to: same input, same provisioner code.
    assert before.one(INVOCATION).inputs["input"] == after.one(INVOCATION).inputs["input"]


# --- 3. onDemandBase / onDemandWeight / spotWeight ------------------------------------------------

def _service(run: PulumiRun) -> RecordedResource:
    return run.one(SERVICE)


def test_a_changed_capacity_provider_strategy_is_an_update_the_provider_accepts():
    before = _service(deploy())
    after = _service(deploy(onDemandBase=1, onDemandWeight=1, spotWeight=3))
    assert before.inputs["capacityProviderStrategies"] != after.inputs["capacityProviderStrategies"]
    # hashicorp/terraform-provider-aws#43533: updating capacity_provider_strategy of an existing
    # service fails the plan unless force_new_deployment is true.
    assert after.inputs.get("forceNewDeployment") is True
    # A constant, not a trigger: it adds no diff of its own, so an unchanged stack rolls nothing.
    assert before.inputs.get("forceNewDeployment") is True
    assert "triggers" not in before.inputs and "triggers" not in after.inputs


# --- 4. apiDesiredCount: 0 stops a running API ----------------------------------------------------

def test_api_desired_count_zero_scales_a_running_service_to_zero():
    before, after = deploy(), deploy(apiDesiredCount=0, apiMinCount=0)
    # The service's desiredCount is autoscaling's once it exists (ignored by `up`) ...
    assert "desiredCount" in _service(after).options["ignore_changes"]
    # ... so the scalable target is what must say 0: Application Auto Scaling moves the current
    # count into [min, max] when the target is updated.
    target_before, target_after = (run.one(SCALING_TARGET).inputs for run in (before, after))
    assert (target_before["minCapacity"], target_before["maxCapacity"]) == (1, 2)
    assert (target_after["minCapacity"], target_after["maxCapacity"]) == (0, 0)


# --- 5. consumerMaxRetryAttempts: -1 --------------------------------------------------------------

def test_unlimited_retries_reach_the_mapping():
    before = deploy(consumerProvisionedPollers=1, consumerMaxRetryAttempts=3)
    after = deploy(consumerProvisionedPollers=1, consumerMaxRetryAttempts=-1)
    assert before.one(MAPPING).inputs["maximumRetryAttempts"] == 3
    assert after.one(MAPPING).inputs["maximumRetryAttempts"] == -1
    assert after.one(MAPPING).inputs["provisionedPollerConfig"]["minimumPollers"] == 1


# --- 6. what `pulumi destroy` keeps ---------------------------------------------------------------

@pytest.mark.parametrize(("stack", "overrides", "retained"), [
    ("dev", {}, False),
    ("dev", {"albAccessLogs": True}, False),  # the access-log bucket too
    ("prod", {}, True),
])
def test_destroy_keeps_the_data_exactly_when_the_stack_says_so(stack, overrides, retained):
    run = deploy(stack, **overrides)
    stateful = [r for r in run.resources if r.type in STATEFUL]
    assert {r.type for r in stateful} == STATEFUL
    buckets = [r for r in stateful if r.type == BUCKET]
    assert len(buckets) == (2 if overrides or stack == "prod" else 1)
    for resource in stateful:
        options = resource.options
        assert (options["protect"], options["retain_on_delete"]) == (retained, retained), \
            resource.name
    for bucket in buckets:
        # Without it S3 refuses to delete a bucket that holds objects (BucketNotEmpty).
        assert bool(bucket.inputs.get("forceDestroy")) is not retained, bucket.name
    assert not [r.name for r in run.resources if r.type not in STATEFUL and r.options["protect"]]


# The mocked account hands out ids and auto-name suffixes in registration order, which varies
# between runs: masked, they are not a change of the stack.
_MOCK_HEX = re.compile(r"[0-9a-f]{7,}")


def _masked(value: Any) -> str:
    return _MOCK_HEX.sub("<id>", json.dumps(value, sort_keys=True, default=str))


def _changed(old: RecordedResource, new: RecordedResource) -> set[str]:
    return {k for k in {*old.inputs, *new.inputs}
            if _masked(old.inputs.get(k)) != _masked(new.inputs.get(k))}


def test_retaining_data_in_a_running_stack_changes_options_not_resources():
    # `again` is a second, independent run of the unchanged stack: what differs from run to run.
    before, again, after = deploy(), run_main(stack_config("dev")), deploy(retainData=True)
    old, same, new = ({r.name: r for r in run.resources if r.type in STATEFUL}
                      for run in (before, again, after))
    assert old.keys() == new.keys()
    for name, resource in new.items():
        assert not old[name].options["protect"] and resource.options["protect"], name
        assert resource.options["retain_on_delete"], name
        # Auto-names and ids differ from run to run under the mocks: not a change of the stack.
        noise = _changed(old[name], same[name])
        # Only what no provider replaces for: the bucket's force_destroy (state only).
        assert _changed(old[name], resource) - noise <= {"forceDestroy"}, name
