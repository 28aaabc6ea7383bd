"""Limits AWS enforces on what the components' args configure, each with the page that states it.

The library owns them: the components' args refuse a value beyond these, and a program's own
validation (this repository's settings/, via settings/limits.py) reads them from here. The policy
pack (policy/rules/) checks the same limits on the resources, and a test keeps the two equal.
"""

from __future__ import annotations

# Lambda guide, "Configuring Amazon MSK event sources for Lambda"
# (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-configure.html): event source mappings
# for Amazon MSK "only support functions with maximum timeout limits of 14 minutes".
MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S = 14 * 60

# Lambda guide, "Configure Lambda function memory": 128 MB to 10,240 MB.
LAMBDA_MEMORY_MB = (128, 10240)

# Lambda API reference, CreateEventSourceMapping: BatchSize for Amazon MSK 1-10,000;
# MaximumBatchingWindowInSeconds 0-300; AmazonManagedKafkaEventSourceConfig.ConsumerGroupId
# 1-200 characters (kept with the other Kafka name rules in event_contract.kafka_names);
# ProvisionedPollerConfig.MinimumPollers 1-200.
MSK_MAPPING_BATCH_SIZE = (1, 10000)
MAPPING_BATCHING_WINDOW_S = (0, 300)
MAPPING_MINIMUM_POLLERS = (1, 200)

# Lambda guide, "Configuring error handling controls for Kafka event sources"
# (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html): retry
# attempts, split batch on error and partial batch responses (ReportBatchItemFailures) exist
# in provisioned mode only; retry attempts 0-10000, or -1 for infinite.
KAFKA_MAPPING_RETRY_ATTEMPTS = (-1, 10000)

# Elastic Load Balancing guide, "Application Load Balancers", subnets
# (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html):
# subnets from at least two Availability Zones, each "with at least a /27 bitmask" and at
# least 8 free IP addresses.
ALB_MAX_SUBNET_PREFIX = 27
ALB_MIN_AZS = 2

# Amazon VPC guide, "Subnet CIDR blocks": IPv4 VPC and subnet CIDRs are /16 to /28.
VPC_PREFIX = (16, 28)

# Amazon MSK developer guide, "Amazon MSK quota" (https://docs.aws.amazon.com/msk/latest/
# developerguide/limits.html), table "MSK Serverless quota (per cluster unless stated)", row
# "Maximum number of partitions (leaders) | 2400 for non-compacted topics; 120 for compacted
# topics | Request fails with INVALID_REQUEST" (re-read 2026-12-07 in a public copy of the page:
# the search tool's excerpt of the page stops before that table). The 120 of the archived guide,
# awsdocs/amazon-msk-developer-guide, was the old limit for every topic. Our cluster holds one
# non-compacted topic (the topic admin sets no cleanup.policy), so it may use them all.
MSK_SERVERLESS_MAX_PARTITIONS = 2400

# Amazon ECS guide, "Amazon ECS task definition parameters for Fargate", task size: valid
# cpu -> memory (MiB) combinations for Linux tasks (8 and 16 vCPU: platform 1.4.0 or later).
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# Amazon ECS API reference, CapacityProviderStrategyItem: base 0-100,000, weight 0-1,000.
CAPACITY_PROVIDER_BASE = (0, 100000)
CAPACITY_PROVIDER_WEIGHT = (0, 1000)

# CloudWatch Logs API reference, PutRetentionPolicy: the values retentionInDays accepts.
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)

# ACM API reference, RequestCertificate (https://docs.aws.amazon.com/acm/latest/APIReference/
# API_RequestCertificate.html), DomainName: "In compliance with RFC 5280, the length of the domain
# name (technically, the Common Name) that you provide cannot exceed 64 octets (characters),
# including periods"; only a Subject Alternative Name may be longer (253). We request the
# certificate for domainName itself, so 64 is its limit.
ACM_DOMAIN_NAME_MAX = 64

# Amazon S3 guide, "Lifecycle configuration elements": Expiration Days is a positive integer.
S3_EXPIRATION_MIN_DAYS = 1

# Amazon ECR guide, "Lifecycle policy parameters": countNumber is a positive integer.
ECR_LIFECYCLE_MIN_COUNT = 1
