"""testing/run_cache.py: a standard run is run once per key, and no caller sees another's
changes."""

from __future__ import annotations

import json

from testing.pulumi_harness import PulumiRun, stack_config
from testing.run_cache import RUNS, RunCache, cached_main, main_key

DEV = stack_config("dev")
VPC = "aws:ec2/vpc:Vpc"


def _graph(run: PulumiRun) -> str:
    # Archives (a function's code) compare by identity: compare what they hold instead.
    return json.dumps([vars(r) for r in run.resources], sort_keys=True, default=vars)


def test_the_same_run_twice_runs_the_program_once_and_gives_equal_graphs():
    cache = RunCache()
    first = cached_main(DEV, cache=cache)
    # The same config as the CLI passes it, spelled differently: the same run.
    second = cached_main({**DEV, "availabilityZoneCount": "2"}, cache=cache)
    assert len(cache) == 1
    assert _graph(first) == _graph(second) and first.outputs == second.outputs
    assert first.lambda_builds == second.lambda_builds and first.stack == second.stack == "test"
    assert first is not second and first.resources[0] is not second.resources[0]


def test_another_config_is_another_run():
    cache = RunCache()
    with_kafka = cached_main(DEV, cache=cache)
    without = cached_main({**DEV, "kafkaEnabled": False}, cache=cache)
    assert len(cache) == 2
    assert with_kafka.of_type("aws:msk/serverlessCluster:ServerlessCluster")
    assert not without.of_type("aws:msk/serverlessCluster:ServerlessCluster")


def test_the_stack_name_and_every_config_value_are_part_of_the_key():
    assert main_key(DEV, "test") == main_key(dict(DEV), "test")
    assert main_key(DEV, "test") != main_key(DEV, "dev")
    assert main_key(DEV, "test") != main_key({**DEV, "apiCpu": 512}, "test")
    assert main_key(DEV, "test") != main_key({**DEV, "aws:region": "eu-west-1"}, "test")


def test_what_one_caller_changes_the_next_does_not_see():
    mine = cached_main(DEV)
    resource = mine.one(VPC)
    pristine = (_graph(mine), dict(mine.outputs))
    resource.inputs["changed"] = True
    resource.options["protect"] = "changed"
    resource.outputs.clear()
    mine.outputs.clear()
    mine.resources.pop()
    mine.lambda_builds.clear()

    theirs = cached_main(DEV)
    assert (_graph(theirs), dict(theirs.outputs)) == pristine
    assert theirs.one(VPC).outputs and theirs.lambda_builds
    assert main_key(DEV, "test") in RUNS
