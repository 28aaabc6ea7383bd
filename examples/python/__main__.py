"""A program that pip-installed event-pipeline-components and has its own VPC (built here with
plain pulumi-aws resources, as any program may already have one): the library's KafkaCluster,
KafkaTopic and Consumer run in it, given it by plain ids (ExistingVpc), and alarm by mail."""

import pulumi
import pulumi_aws as aws

from components import (
    AlarmTopic,
    AlarmTopicArgs,
    Consumer,
    ConsumerArgs,
    ExistingVpc,
    KafkaCluster,
    KafkaClusterArgs,
    KafkaTopic,
    KafkaTopicArgs,
)

config = pulumi.Config()
zones = aws.get_availability_zones_output(state="available").names

# --- the program's own VPC: two private subnets, no NAT, the endpoints the consumer needs -----
vpc = aws.ec2.Vpc("vpc", cidr_block="10.20.0.0/16", enable_dns_support=True,
                  enable_dns_hostnames=True)
subnets = [aws.ec2.Subnet(f"private-{i}", vpc_id=vpc.id, cidr_block=f"10.20.{i}.0/24",
                          availability_zone=zones[i]) for i in range(2)]
routes = aws.ec2.RouteTable("private", vpc_id=vpc.id)
for i, subnet in enumerate(subnets):
    aws.ec2.RouteTableAssociation(f"private-{i}", subnet_id=subnet.id, route_table_id=routes.id)
region = aws.get_region_output().region
s3 = aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, vpc_endpoint_type="Gateway",
                         service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
                         route_table_ids=[routes.id])
endpoint_groups = {}
for service in ("sts", "lambda", "sqs"):
    group = aws.ec2.SecurityGroup(f"{service}-endpoint", vpc_id=vpc.id,
                                  description=f"{service} endpoint")
    aws.ec2.VpcEndpoint(f"{service}-endpoint", vpc_id=vpc.id, vpc_endpoint_type="Interface",
                        service_name=pulumi.Output.concat("com.amazonaws.", region, ".", service),
                        private_dns_enabled=True, subnet_ids=[s.id for s in subnets],
                        security_group_ids=[group.id])
    endpoint_groups[service] = group.id

my_vpc = ExistingVpc(vpc_id=vpc.id, private_subnet_ids=[s.id for s in subnets],
                     endpoint_security_group_ids=endpoint_groups,
                     s3_prefix_list_id=s3.prefix_list_id, name="my-vpc")

# --- the package's components -------------------------------------------------------------------
cluster = KafkaCluster("kafka", KafkaClusterArgs(vpc_id=vpc.id,
                                                 subnet_ids=[s.id for s in subnets]))
topic = KafkaTopic("orders", KafkaTopicArgs(cluster=cluster, network=my_vpc,
                                            topic_name="orders", partitions=6))
alarms = AlarmTopic("alarms", AlarmTopicArgs(alarm_email=config.get("alarmEmail")))
consumer = Consumer("orders-consumer", ConsumerArgs(
    network=my_vpc, topic=topic, alarm_actions=[alarms.arn], consumer_group_id="orders",
    batch_size=500))

pulumi.export("kafkaBootstrapBrokers", cluster.bootstrap_brokers_sasl_iam)
pulumi.export("consumerFunctionName", consumer.function_name)
pulumi.export("deadLetterQueueUrl", consumer.dead_letter_queue_url)
