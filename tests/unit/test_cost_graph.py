"""The billed shape read from the program's own graph (the example stack files under mocks),
and the command line's refusals."""

from __future__ import annotations

import pytest
import yaml

from testing.pulumi_harness import PROJECT_ROOT
from tools.cost.__main__ import main
from tools.cost.graph import StackError, read_stack


def stack_file(stack: str) -> dict:
    config = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {key.split(":", 1)[1]: value for key, value in config.items()}


@pytest.fixture(scope="module")
def prod():
    return read_stack("prod")


def test_prod_shape_is_what_its_stack_file_asks_for(prod):
    config = stack_file("prod")
    azs = int(config["availabilityZoneCount"])
    assert set(prod.interface_endpoint_azs) == {azs} and len(prod.interface_endpoint_azs) == 6
    assert prod.load_balancer_azs == azs
    assert prod.task_vcpu == int(config["apiCpu"]) / 1024
    assert prod.task_memory_gb == int(config["apiMemory"]) / 1024
    assert prod.task_architecture == "ARM64"
    assert (prod.min_tasks, prod.max_tasks) == (int(config["apiMinCount"]),
                                                int(config["apiMaxCount"]))
    assert (prod.on_demand_base, prod.on_demand_weight, prod.spot_weight) == (
        int(config["onDemandBase"]), float(config["onDemandWeight"]),
        float(config["spotWeight"]))
    assert prod.consumer.memory_mb == int(config["consumerMemoryMb"])
    assert prod.consumer.architecture == "arm64"
    assert prod.batch_size == int(config["consumerBatchSize"])
    assert prod.batching_window_s == float(config["consumerBatchingWindowSeconds"])
    assert prod.provisioned_pollers == int(config["consumerProvisionedPollers"])
    assert prod.log_retention_days["api"] == int(config["apiLogRetentionDays"])
    assert prod.kafka_clusters == 1 and prod.partitions >= 1
    assert prod.cpu_target_percent and prod.requests_per_target_per_minute


def test_an_unknown_stack_is_refused_with_the_known_ones(capsys):
    with pytest.raises(StackError, match=r"no stack file Pulumi.nope.yaml \(stack files: dev, "):
        read_stack("nope")
    assert main(["--stack", "nope", "--events-per-second", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no stack file Pulumi.nope.yaml") and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["--stack", "dev", "--events-per-second", "-5"],
    ["--stack", "dev", "--events-per-second", "lots"],
    ["--stack", "dev", "--events-per-second", "nan"],
    ["--stack", "dev", "--events-per-second", "10", "--payload-bytes", "0"],
    ["--stack", "dev"],
])
def test_bad_numbers_are_refused_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "must be" in err or "is not a" in err or "required" in err
