"""Every Kafka IAM policy the pipeline grants, as plain functions of plain strings.

No Pulumi here: the components render these dicts with `pulumi.Output.json_dumps`, and the local
broker (issue 14) renders the same functions for its local cluster ARN to enforce them, so what
the tests run against is what AWS is asked to enforce.

Actions and resources: MSK developer guide, "Semantics of IAM authorization policy actions and
resources" (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html) and
"Common use cases for client authorization policy"; an action listed there always comes with its
"Required actions" (e.g. DescribeTopic with WriteData). Resources are exact ARNs of the form
`arn:<partition>:kafka:<region>:<account>:<topic|group>/<cluster-name>/<cluster-uuid>/<name>`.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

_CLUSTER_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):kafka:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"cluster/(?P<name>[^/]+)/(?P<uuid>[^/]+)$"
)
VERSION = "2012-10-17"
# The program's decision for the API's producer: not idempotent. kafka-python 3.0.12's idempotent
# producer never recovers from a broker outage under load (tests/integration/
# test_fault_broker_restart.py); delivery stays at least once and consumers deduplicate by event
# id. The task role's policy, the container's KAFKA_ENABLE_IDEMPOTENCE and the local broker's
# `api` principal all follow this one value.
API_PRODUCER_IDEMPOTENT = False


class ClusterArn(NamedTuple):
    partition: str
    region: str
    account: str
    name: str
    uuid: str


def parse_cluster_arn(cluster_arn: str) -> ClusterArn:
    match = _CLUSTER_ARN.match(cluster_arn)
    if match is None:
        raise ValueError(f"not an MSK cluster ARN: {cluster_arn!r}")
    return ClusterArn(**match.groupdict())


def _kafka_arn(cluster_arn: str, kind: str, leaf: str) -> str:
    c = parse_cluster_arn(cluster_arn)
    return f"arn:{c.partition}:kafka:{c.region}:{c.account}:{kind}/{c.name}/{c.uuid}/{leaf}"


def topic_arn(cluster_arn: str, topic: str) -> str:
    """`arn:<partition>:kafka:<region>:<account>:topic/<cluster-name>/<cluster-uuid>/<topic>`."""
    return _kafka_arn(cluster_arn, "topic", topic)


def group_arn(cluster_arn: str, group: str) -> str:
    """`arn:<partition>:kafka:<region>:<account>:group/<cluster-name>/<cluster-uuid>/<group>`."""
    return _kafka_arn(cluster_arn, "group", group)


def _allow(sid: str, actions: list[str], resources: list[str] | str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def producer_kafka_policy(cluster_arn: str, topic: str, *, idempotent: bool) -> dict[str, Any]:
    """What a producer of `topic` needs ("Produce data" use case). It cannot create topics: the
    topic is provisioned at deploy time (components/topic.py)."""
    cluster_actions = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    if idempotent:
        # Idempotent producers ask for a producer id; without this MSK answers
        # ClusterAuthorizationFailed ("Produce data idempotently" use case).
        cluster_actions.append("kafka-cluster:WriteDataIdempotently")
    return {
        "Version": VERSION,
        "Statement": [
            _allow("Cluster", cluster_actions, cluster_arn),
            _allow("Topic", ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                   topic_arn(cluster_arn, topic)),
        ],
    }


def consumer_kafka_policy(cluster_arn: str, topic: str, group_id: str) -> dict[str, Any]:
    """What an MSK event source mapping's execution role needs (Lambda guide, "Configuring
    Amazon MSK event sources for Lambda", execution role permissions)."""
    return {
        "Version": VERSION,
        "Statement": [
            # Control plane: Lambda looks up the cluster and its brokers. MSK Serverless
            # requires DescribeClusterV2.
            _allow("ClusterControlPlane",
                   ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"], cluster_arn),
            # The pollers' ENIs in the cluster's subnets. Resource "*" is required: the
            # Describe* actions support no resource-level permissions, and the ENIs Lambda
            # creates have ids unknown in advance.
            _allow("PollerNetworkInterfaces", [
                "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets", "ec2:DescribeVpcs",
            ], "*"),
            _allow("Cluster", ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                   cluster_arn),
            _allow("Topic", ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                   topic_arn(cluster_arn, topic)),
            _allow("Group", ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                   group_arn(cluster_arn, group_id)),
        ],
    }


def topic_admin_kafka_policy(cluster_arn: str, topic: str) -> dict[str, Any]:
    """What the deploy-time topic provisioner needs: create `topic`, read its partition count,
    add partitions (Kafka's CreatePartitions is ALTER on the topic: kafka-cluster:AlterTopic).
    No DeleteTopic, no data-plane reads or writes, no other topic."""
    return {
        "Version": VERSION,
        "Statement": [
            _allow("Cluster", ["kafka-cluster:Connect"], cluster_arn),
            _allow("Topic", ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic",
                             "kafka-cluster:AlterTopic"], topic_arn(cluster_arn, topic)),
        ],
    }
