"""The event pipeline stack: read the settings, compose the components, export the outputs."""

from pathlib import Path

import pulumi

from components import lambda_package
from components.api_service import ApiService, ApiServiceArgs
from components.consumer import Consumer, ConsumerArgs
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from settings import load_settings

# Pulumi runs the program in the project directory.
CONSUMER_DIR = Path("services") / "consumer"
# What the consumer's Lambda package holds: its handler package and the shared libs it imports.
CONSUMER_PACKAGES = (
    CONSUMER_DIR / "event_consumer",
    Path("libs") / "event-contract" / "event_contract",
    Path("libs") / "log-redaction" / "log_redaction",
)
# The program decides the producer's idempotence (kafka-python 3.0.12's idempotent producer never
# recovers from a broker outage: tests/integration/test_fault_broker_restart.py); the API gets it
# as KAFKA_ENABLE_IDEMPOTENCE and the IAM policy follows it.
API_PRODUCER_IDEMPOTENT = False
CONSUMER_PYTHON = "3.13"  # the Lambda runtime's Python (ConsumerArgs.runtime is python3.13)


# Validated before any resource is registered: a bad key stops here with one clear message.
settings = load_settings(pulumi.Config(), region=pulumi.Config("aws").get("region"))
kafka_enabled = settings.kafka.enabled

network = Network("network", NetworkArgs(
    ipam_pool_id=settings.network.ipam_pool_id,
    vpc_netmask_length=settings.network.vpc_netmask_length,
    subnet_netmask_length=settings.network.subnet_netmask_length,
    availability_zone_count=settings.network.availability_zone_count,
    # Kafka-only endpoints cost money per AZ-hour: they exist only with Kafka.
    interface_endpoints=FARGATE_ENDPOINTS + (KAFKA_ENDPOINTS if kafka_enabled else ()),
))

kafka = None
if kafka_enabled:
    kafka = KafkaCluster("kafka", KafkaClusterArgs(
        vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
    ))

api = ApiService("api", ApiServiceArgs(
    network=network,
    kafka=kafka,
    **settings.api.model_dump(),  # same field names as ApiServiceArgs
    topic_name=settings.kafka.topic_name,
    topic_partitions=settings.kafka.topic_partitions,
    producer_idempotent=API_PRODUCER_IDEMPOTENT,
))

# The Lambda consumer exists only with Kafka (the kafkaEnabled cost toggle).
consumer = None
if kafka is not None:
    # Built when the program runs (preview and up), for arm64 and the function's Python;
    # reused from build/ while nothing in it changed.
    consumer_code = lambda_package.build_lambda_archive(
        CONSUMER_PACKAGES,
        CONSUMER_DIR / "requirements.txt",
        Path("build") / "consumer",
        python_version=CONSUMER_PYTHON,
    )
    c = settings.consumer
    consumer = Consumer("consumer", ConsumerArgs(
        code=consumer_code,
        network=network,
        cluster_arn=kafka.arn,
        cluster_security_group_id=kafka.security_group_id,
        topic=settings.kafka.topic_name,
        consumer_group_id=c.group_id,
        starting_position=c.starting_position,
        batch_size=c.batch_size,
        batching_window_seconds=c.batching_window_seconds,
        provisioned_pollers=c.provisioned_pollers,
        maximum_retry_attempts=c.max_retry_attempts,
        memory_mb=c.memory_mb,
        timeout_seconds=c.timeout_seconds,
        reserved_concurrency=c.reserved_concurrency,
        log_retention_days=c.log_retention_days,
        offset_lag_alarm_threshold=c.offset_lag_alarm_threshold,
    ))

pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
if kafka is not None:
    pulumi.export("kafkaClusterArn", kafka.arn)
    pulumi.export("kafkaBootstrapBrokers", kafka.bootstrap_brokers_sasl_iam)
pulumi.export("apiUrl", api.url)
pulumi.export("repositoryUrl", api.repository_url)
pulumi.export("imageDigest", api.image_digest)
pulumi.export("ecsClusterName", api.cluster_name)
pulumi.export("ecsServiceName", api.service_name)
if consumer is not None:
    pulumi.export("consumerFunctionName", consumer.function_name)
    pulumi.export("consumerLogGroup", consumer.log_group_name)
    pulumi.export("deadLetterQueueUrl", consumer.dead_letter_queue_url)
    pulumi.export("eventSourceMappingUuid", consumer.mapping_uuid)
    pulumi.export("consumerAlarmNames", consumer.alarm_names)
