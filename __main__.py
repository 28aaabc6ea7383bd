"""The event pipeline stack: read the settings, compose the components, export the outputs."""

import pulumi

# The library exactly as a program that pip-installed event-pipeline-components uses it: its
# public names only. Everything stack-specific (config keys, validation, retention) stays here.
from components import (
    API_PRODUCER_IDEMPOTENT,
    FARGATE_ENDPOINTS,
    KAFKA_ENDPOINTS,
    AlarmTopic,
    AlarmTopicArgs,
    ApiService,
    ApiServiceArgs,
    Consumer,
    ConsumerArgs,
    KafkaCluster,
    KafkaClusterArgs,
    KafkaTopic,
    KafkaTopicArgs,
    Network,
    NetworkArgs,
    PipelineDashboard,
    PipelineDashboardArgs,
)
from settings import load_settings
from settings.retention import apply_data_retention

# Validated before any resource is registered: a bad key stops here with one clear message.
settings = load_settings(pulumi.Config(), region=pulumi.Config("aws").get("region"))
# What `pulumi destroy` keeps (retainData), for every stateful resource of the stack; registered
# before the first resource so that it sees them all.
apply_data_retention(settings.data.retain_data)
kafka_enabled = settings.kafka.enabled

network = Network("network", NetworkArgs(
    **settings.network.model_dump(),  # same field names as NetworkArgs
    # Kafka-only endpoints cost money per AZ-hour: they exist only with Kafka.
    interface_endpoints=FARGATE_ENDPOINTS + (KAFKA_ENDPOINTS if kafka_enabled else ()),
))

alarms = AlarmTopic("alarms", AlarmTopicArgs(alarm_email=settings.alarms.email))

# The functions' packages are built from the package's own services/ when the program runs
# (preview and up), into build/ here, and reused while nothing in them changed.
topic = None
if kafka_enabled:
    kafka = KafkaCluster("kafka", KafkaClusterArgs(
        vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
    ))
    # Provisioned at deploy time from inside the VPC; the API and the mapping wait for it.
    topic = KafkaTopic("topic", KafkaTopicArgs(
        cluster=kafka,
        network=network,
        topic_name=settings.kafka.topic_name,
        partitions=settings.kafka.topic_partitions,
    ))

api = ApiService("api", ApiServiceArgs(
    network=network,
    topic=topic,
    alarm_actions=[alarms.arn],
    # Both sections use ApiServiceArgs' field names.
    **settings.api.model_dump(),
    **settings.ingress.model_dump(),
    producer_idempotent=API_PRODUCER_IDEMPOTENT,  # the program decides (components/kafka_access.py)
))

# The Lambda consumer exists only with Kafka (the kafkaEnabled cost toggle).
consumer = None
if topic is not None:
    consumer = Consumer("consumer", ConsumerArgs(
        network=network,
        topic=topic,
        alarm_actions=[alarms.arn],
        **settings.consumer.model_dump(),  # same field names as ConsumerArgs
    ))

dashboard = PipelineDashboard("pipeline", PipelineDashboardArgs(api=api, consumer=consumer))

pulumi.export("vpcId", network.vpc_id)
pulumi.export("privateSubnetIds", network.private_subnet_ids)
pulumi.export("publicSubnetIds", network.public_subnet_ids)
if topic is not None:
    pulumi.export("kafkaClusterArn", topic.cluster.arn)
    pulumi.export("kafkaBootstrapBrokers", topic.cluster.bootstrap_brokers_sasl_iam)
pulumi.export("apiUrl", api.url)
pulumi.export("repositoryUrl", api.repository_url)
pulumi.export("imageDigest", api.image_digest)
pulumi.export("imageRef", api.image_ref)
pulumi.export("ecsClusterName", api.cluster_name)
pulumi.export("ecsServiceName", api.service_name)
pulumi.export("alarmTopicArn", alarms.arn)
pulumi.export("dashboardName", dashboard.name)
if consumer is not None:
    pulumi.export("consumerFunctionName", consumer.function_name)
    pulumi.export("consumerLogGroup", consumer.log_group_name)
    pulumi.export("deadLetterQueueUrl", consumer.dead_letter_queue_url)
    pulumi.export("deadLetterBucket", consumer.dead_letter_bucket_name)
    pulumi.export("eventSourceMappingUuid", consumer.mapping_uuid)
    pulumi.export("consumerAlarmNames", consumer.alarm_names)
