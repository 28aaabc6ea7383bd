"""Stack settings: defaults, every key read, and one clear RunError listing every bad value."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pytest

from settings import SETTINGS_DOC, Settings, load_settings, render_settings_table

PROJECT = "event-pipeline"


def load(config: dict[str, Any], region: str | None = "us-east-1") -> Settings:
    pulumi.runtime.set_all_config({f"{PROJECT}:{k}": str(v) for k, v in config.items()})
    return load_settings(pulumi.Config(PROJECT), region=region)


def problems_of(config: dict[str, Any], region: str | None = "us-east-1") -> str:
    with pytest.raises(pulumi.RunError) as error:
        load(config, region)
    return str(error.value)


def _field(settings: Settings, path: str) -> Any:
    section, name = path.split(".")
    return getattr(getattr(settings, section), name)


# key -> (settings field, a valid non-default value as the CLI passes it, the parsed value)
EVERY_KEY = {
    "ipamPoolCidr": ("network.ipam_pool_cidr", "10.20.0.0/16", "10.20.0.0/16"),
    "vpcNetmaskLength": ("network.vpc_netmask_length", "20", 20),
    "subnetNetmaskLength": ("network.subnet_netmask_length", "23", 23),
    "availabilityZoneCount": ("network.availability_zone_count", "3", 3),
    "kafkaEnabled": ("kafka.enabled", "false", False),
    "topicName": ("kafka.topic_name", "orders.v1", "orders.v1"),
    "topicPartitions": ("kafka.topic_partitions", "6", 6),
    "apiDesiredCount": ("api.desired_count", "2", 2),
    "apiMinCount": ("api.min_count", "0", 0),
    "apiMaxCount": ("api.max_count", "8", 8),
    "apiCpu": ("api.cpu", "512", 512),
    "apiMemory": ("api.memory", "1024", 1024),
    "onDemandBase": ("api.on_demand_base", "1", 1),
    "onDemandWeight": ("api.on_demand_weight", "1", 1),
    "spotWeight": ("api.spot_weight", "3", 3),
    "logRetentionDays": ("api.log_retention_days", "30", 30),
    "certificateArn": (
        "api.certificate_arn",
        "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
        "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
    ),
    "ecrForceDelete": ("api.ecr_force_delete", "false", False),
    "ecrKeepImages": ("api.ecr_keep_images", "3", 3),
    "albDeletionProtection": ("api.alb_deletion_protection", "true", True),
    "baseImage": ("api.base_image", "localhost/base:1", "localhost/base:1"),
    "consumerBatchSize": ("consumer.batch_size", "500", 500),
    "consumerBatchingWindowSeconds": ("consumer.batching_window_seconds", "0", 0),
    "consumerStartingPosition": ("consumer.starting_position", "LATEST", "LATEST"),
    "consumerGroupId": ("consumer.group_id", "billing-v2", "billing-v2"),
    "consumerProvisionedPollers": ("consumer.provisioned_pollers", "2", 2),
    "consumerMaxRetryAttempts": ("consumer.max_retry_attempts", "5", 5),
    "consumerMemoryMb": ("consumer.memory_mb", "512", 512),
    "consumerTimeoutSeconds": ("consumer.timeout_seconds", "120", 120),
    "consumerReservedConcurrency": ("consumer.reserved_concurrency", "4", 4),
    "consumerLagAlarmThreshold": ("consumer.lag_alarm_threshold", "50", 50),
}


def test_the_documented_keys_are_exactly_the_keys_read():
    assert set(EVERY_KEY) == set(SETTINGS_DOC)


def test_an_empty_config_gives_the_documented_defaults():
    settings = load({})
    for key, (path, _, _) in EVERY_KEY.items():
        assert _field(settings, path) == SETTINGS_DOC[key][0], key
    assert settings.region == "us-east-1"


@pytest.mark.parametrize("key", sorted(EVERY_KEY))
def test_every_key_reaches_its_field(key):
    path, raw, parsed = EVERY_KEY[key]
    assert parsed != SETTINGS_DOC[key][0]  # the probe must differ from the default
    # Some keys are only valid together with others (min <= desired, cpu/memory pairs).
    companions = {"apiMinCount": {"apiDesiredCount": "0"},
                  "apiMemory": {"apiCpu": "512"}, "apiCpu": {"apiMemory": "1024"}}
    settings = load({key: raw, **companions.get(key, {})})
    assert _field(settings, path) == parsed


def test_settings_are_frozen():
    settings = load({})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.api.cpu = 1024  # type: ignore[misc]


BAD_CONFIG = [
    # (config, key named in the message, text of what is allowed)
    ({"ipamPoolCidr": "10.11.0.1/20"}, "ipamPoolCidr", "no host bits"),
    ({"ipamPoolCidr": "banana"}, "ipamPoolCidr", "IPv4 network CIDR"),
    ({"ipamPoolCidr": "fd00::/56"}, "ipamPoolCidr", "IPv4"),
    ({"ipamPoolCidr": "10.11.0.0/22"}, "vpcNetmaskLength", "cannot hold a /21"),
    ({"vpcNetmaskLength": "26"}, "subnetNetmaskLength", "must hold 4 subnets"),
    ({"availabilityZoneCount": "4", "vpcNetmaskLength": "22"}, "subnetNetmaskLength",
     "must hold 8 subnets"),
    ({"availabilityZoneCount": "1"}, "availabilityZoneCount", "from 2 to 6"),
    ({"availabilityZoneCount": "-2"}, "availabilityZoneCount", "from 2 to 6"),
    ({"kafkaEnabled": "maybe"}, "kafkaEnabled", "true or false"),
    ({"topicName": "bad topic"}, "topicName", "Kafka topic names"),
    ({"topicName": ".."}, "topicName", "not '.' or '..'"),
    ({"topicName": "x" * 250}, "topicName", "1-249"),
    ({"topicPartitions": "0"}, "topicPartitions", ">= 1"),
    ({"apiDesiredCount": "-1"}, "apiDesiredCount", ">= 0"),
    ({"apiDesiredCount": "0"}, "apiDesiredCount", "apiMinCount to 0"),
    ({"apiMinCount": "5"}, "apiMaxCount", ">= apiMinCount"),
    ({"apiDesiredCount": "two"}, "apiDesiredCount", "whole number"),
    ({"apiCpu": "300"}, "apiCpu", "Fargate allows"),
    ({"apiMemory": "4096"}, "apiMemory", "with apiCpu 256"),
    ({"onDemandBase": "-1"}, "onDemandBase", "from 0 to 100000"),
    ({"spotWeight": "0"}, "spotWeight", "must be > 0"),
    ({"logRetentionDays": "10"}, "logRetentionDays", "CloudWatch allows"),
    ({"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}, "certificateArn",
     "ACM certificate ARN"),
    ({"ecrForceDelete": "yes please"}, "ecrForceDelete", "true or false"),
    ({"ecrKeepImages": "0"}, "ecrKeepImages", "from 1 to 1000"),
    ({"consumerBatchSize": "10001"}, "consumerBatchSize", "from 1 to 10000"),
    ({"consumerBatchingWindowSeconds": "301"}, "consumerBatchingWindowSeconds", "0 to 300"),
    ({"consumerStartingPosition": "AT_TIMESTAMP"}, "consumerStartingPosition",
     "TRIM_HORIZON, LATEST"),
    ({"consumerGroupId": "group*"}, "consumerGroupId", "consumer group ids"),
    ({"consumerProvisionedPollers": "-1"}, "consumerProvisionedPollers", "from 0 to 200"),
    ({"consumerMaxRetryAttempts": "-1"}, "consumerMaxRetryAttempts", "from 0 to 10000"),
    ({"consumerMemoryMb": "64"}, "consumerMemoryMb", "from 128 to 10240"),
    ({"consumerTimeoutSeconds": "901"}, "consumerTimeoutSeconds", "from 1 to 900"),
    ({"consumerReservedConcurrency": "0"}, "consumerReservedConcurrency", ">= 1"),
    ({"consumerLagAlarmThreshold": "0"}, "consumerLagAlarmThreshold", ">= 1"),
]


@pytest.mark.parametrize(("config", "key", "allowed"), BAD_CONFIG,
                         ids=[f"{c[1]}={next(iter(c[0].values()))[:20]}" for c in BAD_CONFIG])
def test_a_bad_value_gives_one_message_naming_key_value_and_what_is_allowed(config, key, allowed):
    message = problems_of(config)
    assert f"{PROJECT}:{key} = " in message
    bad_line = next(line for line in message.splitlines() if f"{PROJECT}:{key} = " in line)
    assert allowed in bad_line
    if key in config:
        assert repr(config[key])[1:-1][:40] in bad_line or str(config[key])[:40] in bad_line
    assert "Traceback" not in message


def test_all_problems_are_reported_together():
    message = problems_of({"topicName": "a b", "apiCpu": "3", "availabilityZoneCount": "9"})
    assert message.startswith("Invalid stack configuration (3 problem(s))")
    for key in ("topicName", "apiCpu", "availabilityZoneCount"):
        assert f"{PROJECT}:{key}" in message


def test_a_missing_region_is_a_problem_too():
    assert "aws:region is not set" in problems_of({}, region=None)


def test_the_settings_table_lists_every_key_with_its_default():
    table = render_settings_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(SETTINGS_DOC)
    assert "| `ipamPoolCidr` | `10.11.0.0/20` |" in table
    assert "| `kafkaEnabled` | `true` |" in table
    assert "| `certificateArn` | _unset_ |" in table
