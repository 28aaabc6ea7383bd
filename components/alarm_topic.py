"""Where every alarm of the pipeline goes: an encrypted SNS topic, optionally mailed to someone.

The topic is encrypted with its own customer managed key, because CloudWatch alarms cannot
publish to a topic encrypted with the AWS managed key: the key policy must let the CloudWatch
service principal use the key (SNS guide, "Managing Amazon SNS encryption keys and costs" ->
"Enable compatibility between event sources from AWS services and encrypted topics",
https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import VERSION, account_key_policy, deny_insecure_transport, render

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class AlarmTopicArgs:
    alarm_email: str | None = None
    """An address that gets every alarm (SNS sends it a confirmation mail first); None: the
    topic only, for subscriptions made elsewhere (chat, paging)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags for every taggable resource."""

    def __post_init__(self) -> None:
        if self.alarm_email is not None and not _EMAIL.match(self.alarm_email):
            raise ValueError(f"invalid AlarmTopicArgs: alarm_email {self.alarm_email!r} is not "
                             "an email address")


def alarm_key_policy(partition: str, account_id: str) -> dict[str, Any]:
    """The account's IAM governs the key; CloudWatch (for this account only) may encrypt the
    alarm notifications it publishes to the topic."""
    return account_key_policy(partition, account_id, {
        "Sid": "CloudWatchAlarmsPublishEncrypted",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    })


def alarm_topic_policy(topic_arn: str, partition: str, region: str,
                       account_id: str) -> dict[str, Any]:
    """Only this account's CloudWatch alarms publish; nothing over plain HTTP."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "CloudWatchAlarmsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn":
                                f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"},
                },
            },
            deny_insecure_transport([topic_arn], "sns:Publish"),
        ],
    }


class AlarmTopic(pulumi.ComponentResource):
    """The encrypted SNS topic every alarm notifies."""

    arn: pulumi.Output[str]
    """The topic's ARN: give it as alarm_actions."""
    key_arn: pulumi.Output[str]
    """The KMS key that encrypts it."""

    def __init__(self, name: str, args: AlarmTopicArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:monitoring:AlarmTopic", name, None, opts)
        args = args or AlarmTopicArgs()
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        key = aws.kms.Key(
            f"{name}-key", description=f"{name}: alarm notifications",
            enable_key_rotation=True, deletion_window_in_days=7,
            policy=render(alarm_key_policy, partition, account_id),
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self))
        topic = aws.sns.Topic(
            f"{name}-topic", kms_master_key_id=key.arn, tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self))
        aws.sns.TopicPolicy(
            f"{name}-topic-policy", arn=topic.arn,
            policy=render(alarm_topic_policy, topic.arn, partition, region, account_id),
            opts=pulumi.ResourceOptions(parent=self))
        if args.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-email", topic=topic.arn, protocol="email", endpoint=args.alarm_email,
                opts=pulumi.ResourceOptions(parent=self))
        self.arn, self.key_arn = topic.arn, key.arn
        self.register_outputs({"arn": self.arn, "key_arn": self.key_arn})
