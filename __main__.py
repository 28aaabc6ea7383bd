"""The event pipeline stack: read the settings, compose the components, export the outputs."""

import ast
import dataclasses
from pathlib import Path

import pulumi

from components.api_service import ApiService, ApiServiceArgs
from components.kafka import KafkaCluster, KafkaClusterArgs
from components.network import FARGATE_ENDPOINTS, KAFKA_ENDPOINTS, Network, NetworkArgs
from settings import load_settings

API_DIR = Path("services") / "api"  # Pulumi runs the program in the project directory


def api_producer_is_idempotent() -> bool:
    """`event_api.producer.PRODUCER_IS_IDEMPOTENT`, read from the source so the program does not
    need the API's runtime dependencies (kafka-python) to build the matching IAM policy."""
    tree = ast.parse((API_DIR / "event_api" / "producer.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PRODUCER_IS_IDEMPOTENT" for t in node.targets
        ):
            return bool(ast.literal_eval(node.value))
    raise pulumi.RunError("services/api/event_api/producer.py defines no PRODUCER_IS_IDEMPOTENT")


# Validated before any resource is registered: a bad key stops here with one clear message.
settings = load_settings(pulumi.Config(), region=pulumi.Config("aws").get("region"))
kafka_enabled = settings.kafka.enabled

network = Network("network", NetworkArgs(
    ipam_pool_cidr=settings.network.ipam_pool_cidr,
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
    **dataclasses.asdict(settings.api),  # same field names as ApiServiceArgs
    topic_name=settings.kafka.topic_name,
    topic_partitions=settings.kafka.topic_partitions,
    producer_idempotent=api_producer_is_idempotent(),
    build_context=API_DIR.as_posix(),
))

# --- consumer ---------------------------------------------------------------------------
# The Lambda consumer (components/consumer.py) is wired in here, only when kafka is not None:
# it takes settings.consumer, settings.kafka.topic_name, the network (allow_endpoint_access for
# sts/lambda/sqs with kafka.security_group_id: the event source mapping's pollers use the
# cluster's security group) and kafka (arn, consumer_policy_json).
# -----------------------------------------------------------------------------------------

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
