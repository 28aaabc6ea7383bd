"""Stack settings: one declaration per key, the documented defaults, every key read, the limits AWS
enforces, and one clear RunError listing every bad value."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi
import pydantic
import pytest

import settings
from settings import Settings, declared_keys, load_settings, render_settings_table

PROJECT = "event-pipeline"
POOL = "ipam-pool-0a1b2c3d4e5f60718"
OTHER_POOL = "ipam-pool-0fedcba9876543210"
# What every stack must say: its IPAM pool, and HTTPS or explicitly plain HTTP.
REQUIRED = {"ipamPoolId": POOL, "allowPlainHttp": "true"}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"


def load(config: dict[str, Any], region: str | None = "us-east-1", *,
         required: bool = True) -> Settings:
    full = {**(REQUIRED if required else {}), **config}
    pulumi.runtime.set_all_config({f"{PROJECT}:{k}": str(v) for k, v in full.items()
                                   if v is not None})
    return load_settings(pulumi.Config(PROJECT), region=region)


def problems_of(config: dict[str, Any], region: str | None = "us-east-1", **kwargs) -> str:
    with pytest.raises(pulumi.RunError) as error:
        load(config, region, **kwargs)
    return str(error.value)


def _field(loaded: Settings, path: str) -> Any:
    section, name = path.split(".")
    return getattr(getattr(loaded, section), name)


# key -> (settings field, a valid non-default value as the CLI passes it, the parsed value)
EVERY_KEY = {
    "ipamPoolId": ("network.ipam_pool_id", OTHER_POOL, OTHER_POOL),
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
    "apiLogRetentionDays": ("api.log_retention_days", "30", 30),
    "certificateArn": ("api.certificate_arn", CERT, CERT),
    "ecrForceDelete": ("api.ecr_force_delete", "false", False),
    "ecrKeepImages": ("api.ecr_keep_images", "3", 3),
    "albDeletionProtection": ("api.alb_deletion_protection", "true", True),
    "baseImage": ("api.base_image", "localhost/base:1", "localhost/base:1"),
    "domainName": ("ingress.domain_name", "API.Example.com", "api.example.com"),
    "hostedZoneId": ("ingress.hosted_zone_id", "Z0123456789ABCDEF", "Z0123456789ABCDEF"),
    "allowPlainHttp": ("ingress.allow_plain_http", "true", True),
    "albAccessLogs": ("ingress.access_logs_enabled", "true", True),
    "albAccessLogRetentionDays": ("ingress.access_log_retention_days", "30", 30),
    "alarmEmail": ("alarms.email", "oncall@example.com", "oncall@example.com"),
    "consumerBatchSize": ("consumer.batch_size", "500", 500),
    "consumerBatchingWindowSeconds": ("consumer.batching_window_seconds", "0", 0),
    "consumerStartingPosition": ("consumer.starting_position", "LATEST", "LATEST"),
    "consumerGroupId": ("consumer.consumer_group_id", "billing-v2", "billing-v2"),
    "consumerProvisionedPollers": ("consumer.provisioned_pollers", "2", 2),
    "consumerMaxRetryAttempts": ("consumer.maximum_retry_attempts", "5", 5),
    "consumerMemoryMb": ("consumer.memory_mb", "512", 512),
    "consumerTimeoutSeconds": ("consumer.timeout_seconds", "840", 840),
    "consumerReservedConcurrency": ("consumer.reserved_concurrency", "4", 4),
    "consumerLogRetentionDays": ("consumer.log_retention_days", "30", 30),
    "consumerOffsetLagAlarmThreshold": ("consumer.offset_lag_alarm_threshold", "50", 50),
    "retainData": ("data.retain_data", "true", True),
}
# Some keys are only valid together with others.
COMPANIONS = {
    "apiMinCount": {"apiDesiredCount": "0"},
    "apiMemory": {"apiCpu": "512"}, "apiCpu": {"apiMemory": "1024"},
    "certificateArn": {"allowPlainHttp": None},
    "domainName": {"hostedZoneId": "Z0123456789ABCDEF", "allowPlainHttp": None},
    "hostedZoneId": {"domainName": "api.example.com", "allowPlainHttp": None},
    "albAccessLogRetentionDays": {"albAccessLogs": "true"},
    "consumerMaxRetryAttempts": {"consumerProvisionedPollers": "1"},
}


def test_the_declared_keys_are_exactly_the_keys_read():
    assert set(EVERY_KEY) == set(declared_keys())
    assert len(declared_keys()) == len(set(declared_keys()))


def test_an_empty_config_gives_the_declared_defaults():
    loaded = load({})
    for key, (path, _, _) in EVERY_KEY.items():
        if key not in REQUIRED:
            assert _field(loaded, path) == settings.default(key), key
    assert loaded.region == "us-east-1"


@pytest.mark.parametrize("key", sorted(EVERY_KEY))
def test_every_key_reaches_its_field(key):
    path, raw, parsed = EVERY_KEY[key]
    assert parsed != settings.default(key)  # the probe must differ from the default
    loaded = load({key: raw, **COMPANIONS.get(key, {})})
    assert _field(loaded, path) == parsed


def test_settings_are_frozen():
    loaded = load({})
    with pytest.raises(pydantic.ValidationError):
        loaded.api.cpu = 1024  # type: ignore[misc]


def test_component_args_default_to_the_declarations():
    from components.api_service import ApiServiceArgs
    from components.consumer import ConsumerArgs
    from components.network import NetworkArgs

    fed = {
        ApiServiceArgs: {f"api.{name}": name for name in settings.SECTIONS["api"].model_fields},
        NetworkArgs: {"network.vpc_netmask_length": "vpc_netmask_length",
                      "network.subnet_netmask_length": "subnet_netmask_length",
                      "network.availability_zone_count": "availability_zone_count"},
        ConsumerArgs: {
            "consumer.consumer_group_id": "consumer_group_id",
            "consumer.starting_position": "starting_position",
            "consumer.batch_size": "batch_size",
            "consumer.batching_window_seconds": "batching_window_seconds",
            "consumer.provisioned_pollers": "provisioned_pollers",
            "consumer.maximum_retry_attempts": "maximum_retry_attempts",
            "consumer.memory_mb": "memory_mb",
            "consumer.timeout_seconds": "timeout_seconds",
            "consumer.reserved_concurrency": "reserved_concurrency",
            "consumer.log_retention_days": "log_retention_days",
            "consumer.offset_lag_alarm_threshold": "offset_lag_alarm_threshold",
        },
    }
    key_of = {path: key for key, (path, _, _) in EVERY_KEY.items()}
    for args_class, fields in fed.items():
        defaults = {f.name: f.default for f in dataclasses.fields(args_class)}
        for path, arg in fields.items():
            assert defaults[arg] == settings.default(key_of[path]), (args_class.__name__, arg)


BAD_CONFIG = [
    # (config, key named in the message, text of what is allowed)
    ({"ipamPoolId": "pool-1"}, "ipamPoolId", "IPAM pool id"),
    ({"vpcNetmaskLength": "26"}, "subnetNetmaskLength", "must hold 4 subnets"),
    ({"vpcNetmaskLength": "29"}, "vpcNetmaskLength", "from 16 to 28"),
    ({"availabilityZoneCount": "4", "vpcNetmaskLength": "22"}, "subnetNetmaskLength",
     "must hold 8 subnets"),
    # ELB guide, "Application Load Balancers": ALB subnets are at least a /27.
    ({"subnetNetmaskLength": "28"}, "subnetNetmaskLength", "from 16 to 27"),
    ({"availabilityZoneCount": "1"}, "availabilityZoneCount", "from 2 to 6"),
    ({"availabilityZoneCount": "-2"}, "availabilityZoneCount", "from 2 to 6"),
    ({"kafkaEnabled": "maybe"}, "kafkaEnabled", "true or false"),
    ({"kafkaEnabled": "yes"}, "kafkaEnabled", "true or false"),
    ({"topicName": "bad topic"}, "topicName", "Kafka topic names"),
    ({"topicName": ".."}, "topicName", "not '.' or '..'"),
    ({"topicName": "x" * 250}, "topicName", "1-249"),
    ({"topicName": "events\n"}, "topicName", "Kafka topic names"),
    ({"topicPartitions": "0"}, "topicPartitions", "from 1 to 2400"),
    # Amazon MSK quota, "MSK Serverless quota": partitions (leaders) per cluster.
    ({"topicPartitions": "2401"}, "topicPartitions", "from 1 to 2400"),
    ({"apiDesiredCount": "-1"}, "apiDesiredCount", ">= 0"),
    ({"apiDesiredCount": "0"}, "apiDesiredCount", "apiMinCount to 0"),
    ({"apiMinCount": "5"}, "apiMaxCount", ">= apiMinCount"),
    ({"apiDesiredCount": "two"}, "apiDesiredCount", "whole number"),
    ({"apiCpu": "300"}, "apiCpu", "must be one of 256, 512"),
    ({"apiMemory": "4096"}, "apiMemory", "with apiCpu 256"),
    ({"onDemandBase": "-1"}, "onDemandBase", "from 0 to 100000"),
    ({"spotWeight": "0"}, "spotWeight", "must be > 0"),
    ({"apiLogRetentionDays": "10"}, "apiLogRetentionDays", "must be one of 1, 3, 5"),
    ({"consumerLogRetentionDays": "2"}, "consumerLogRetentionDays", "must be one of 1, 3, 5"),
    ({"certificateArn": "arn:aws:iam::123456789012:server-certificate/x",
      "allowPlainHttp": None}, "certificateArn", "ACM certificate ARN"),
    # ACM guide, "Supported Regions": a load balancer uses a certificate of its own region.
    ({"certificateArn": CERT.replace("us-east-1", "eu-west-1"), "allowPlainHttp": None},
     "certificateArn", "ACM certificates are regional"),
    ({"certificateArn": CERT, "domainName": "api.example.com", "hostedZoneId": "Z1",
      "allowPlainHttp": None}, "domainName", "not both"),
    ({"domainName": "api.example.com", "allowPlainHttp": None}, "hostedZoneId",
     "needs the Route 53 hosted zone"),
    ({"hostedZoneId": "Z0123"}, "hostedZoneId", "no effect without domainName"),
    ({"domainName": "api..example.com", "hostedZoneId": "Z1", "allowPlainHttp": None},
     "domainName", "DNS name"),
    ({"hostedZoneId": "zone-1", "domainName": "api.example.com", "allowPlainHttp": None},
     "hostedZoneId", "hosted zone id"),
    ({"certificateArn": CERT}, "allowPlainHttp", "contradicts the certificate"),
    ({"albAccessLogRetentionDays": "30"}, "albAccessLogRetentionDays",
     "no effect without albAccessLogs"),
    ({"albAccessLogs": "true", "albAccessLogRetentionDays": "0"}, "albAccessLogRetentionDays",
     ">= 1"),
    ({"alarmEmail": "oncall"}, "alarmEmail", "email address"),
    ({"ecrForceDelete": "yes please"}, "ecrForceDelete", "true or false"),
    ({"ecrKeepImages": "0"}, "ecrKeepImages", ">= 1"),
    ({"consumerBatchSize": "10001"}, "consumerBatchSize", "from 1 to 10000"),
    ({"consumerBatchingWindowSeconds": "301"}, "consumerBatchingWindowSeconds", "0 to 300"),
    ({"consumerStartingPosition": "AT_TIMESTAMP"}, "consumerStartingPosition",
     "TRIM_HORIZON, LATEST"),
    ({"consumerGroupId": "group*"}, "consumerGroupId", "consumer group ids"),
    ({"consumerProvisionedPollers": "-1"}, "consumerProvisionedPollers", "from 0 to 200"),
    ({"consumerProvisionedPollers": "201"}, "consumerProvisionedPollers", "from 0 to 200"),
    # Lambda guide, "Configuring error handling controls for Kafka event sources".
    ({"consumerMaxRetryAttempts": "5"}, "consumerMaxRetryAttempts", "only in provisioned mode"),
    ({"consumerMaxRetryAttempts": "-2", "consumerProvisionedPollers": "1"},
     "consumerMaxRetryAttempts", "from -1 to 10000"),
    ({"consumerMemoryMb": "64"}, "consumerMemoryMb", "from 128 to 10240"),
    # Lambda guide, "Configuring Amazon MSK event sources for Lambda": 14 minutes at most.
    ({"consumerTimeoutSeconds": "841"}, "consumerTimeoutSeconds", "from 1 to 840"),
    ({"consumerTimeoutSeconds": "900"}, "consumerTimeoutSeconds", "from 1 to 840"),
    ({"consumerReservedConcurrency": "0"}, "consumerReservedConcurrency", ">= 1"),
    ({"consumerOffsetLagAlarmThreshold": "0"}, "consumerOffsetLagAlarmThreshold", ">= 1"),
]


@pytest.mark.parametrize(("config", "key", "allowed"), BAD_CONFIG,
                         ids=[f"{c[1]}={next(iter(c[0].values()))[:20]}" for c in BAD_CONFIG])
def test_a_bad_value_gives_one_message_naming_key_value_and_what_is_allowed(config, key, allowed):
    message = problems_of(config)
    assert message.startswith("Invalid stack configuration (1 problem(s))"), message
    bad_line = next(line for line in message.splitlines() if f"{PROJECT}:{key} = " in line)
    assert allowed in bad_line
    if config.get(key) is not None:
        assert str(config[key]).strip()[:40] in bad_line
    assert "Traceback" not in message


@pytest.mark.parametrize(("old", "new"), [
    ("consumerLagAlarmThreshold", "renamed to consumerOffsetLagAlarmThreshold"),
    ("logRetentionDays", "split into apiLogRetentionDays and consumerLogRetentionDays"),
    ("ipamPoolCidr", "set ipamPoolId"),
])
def test_a_retired_key_is_refused_with_its_new_name(old, new):
    message = problems_of({old: "7"})
    assert f"{PROJECT}:{old} " in message and new in message


def test_the_ipam_pool_is_required():
    message = problems_of({"allowPlainHttp": "true"}, required=False)
    assert f"{PROJECT}:ipamPoolId is not set" in message


def test_a_stack_serves_https_unless_it_says_otherwise():
    message = problems_of({"ipamPoolId": POOL}, required=False)
    assert "certificateArn, event-pipeline:domainName or event-pipeline:allowPlainHttp must " \
           "be set" in message
    assert load({"allowPlainHttp": None, "certificateArn": CERT}).api.certificate_arn == CERT
    https = load({"allowPlainHttp": None, "domainName": "api.example.com",
                  "hostedZoneId": "Z0123"}).ingress
    assert (https.domain_name, https.allow_plain_http) == ("api.example.com", False)


def test_all_problems_are_reported_together():
    message = problems_of({"topicName": "a b", "apiCpu": "3", "availabilityZoneCount": "9",
                           "consumerLagAlarmThreshold": "5"})
    assert message.startswith("Invalid stack configuration (4 problem(s))")
    for key in ("topicName", "apiCpu", "availabilityZoneCount", "consumerLagAlarmThreshold"):
        assert f"{PROJECT}:{key}" in message


def test_a_missing_region_is_a_problem_too():
    assert "aws:region is not set" in problems_of({}, region=None)


def test_the_settings_table_lists_every_key_with_its_default_and_limit_source():
    table = render_settings_table()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == declared_keys()
    assert "| `ipamPoolId` | **required** |" in table
    assert "| `kafkaEnabled` | `true` | true, false |" in table
    assert "| `certificateArn` | _unset_ |" in table
    timeout = next(row for row in rows if row.startswith("| `consumerTimeoutSeconds`"))
    assert "1 to 840" in timeout and "Configuring Amazon MSK event sources" in timeout
