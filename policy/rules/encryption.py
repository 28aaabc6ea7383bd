"""Encryption at rest for queues, topics, repositories; rotating keys."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import as_list

QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
REPOSITORY = "aws:ecr/repository:Repository"
KEY = "aws:kms/key:Key"


def _queues_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == QUEUE and not (args.props.get("kmsMasterKeyId")
                                            or args.props.get("sqsManagedSseEnabled")):
        report(f"{args.name}: SQS queue without server-side encryption")


# SNS guide, "Managing Amazon SNS encryption keys" (https://docs.aws.amazon.com/sns/latest/dg/
# sns-key-management.html), "Enable compatibility between event sources from AWS services and
# encrypted topics": "To allow these event sources to work with encrypted topics, you must perform
# the following steps. 1. Use a customer managed CMK. ... 2. To allow the AWS service to have the
# kms:GenerateDataKey* and kms:Decrypt permissions, add the following statement to the CMK policy"
# (awsdocs/amazon-sns-developer-guide copy of the page; CloudWatch alarms are such a source). The
# AWS managed key alias/aws/sns has a key policy no one can change, so an alarm's notification to
# such a topic is never delivered.
AWS_MANAGED_SNS_KEY = "alias/aws/sns"


def _is_aws_managed_sns_key(key: str) -> bool:
    return key == AWS_MANAGED_SNS_KEY or key.endswith(f":{AWS_MANAGED_SNS_KEY}")


def _topics_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TOPIC:
        return
    key = args.props.get("kmsMasterKeyId")
    if not key:
        report(f"{args.name}: SNS topic without a KMS key (kmsMasterKeyId)")
    elif isinstance(key, str) and _is_aws_managed_sns_key(key):
        report(f"{args.name}: SNS topic encrypted with the AWS managed key {AWS_MANAGED_SNS_KEY}, "
               "whose policy cannot let CloudWatch alarms publish; use a customer managed key "
               "that grants cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt")


def _repositories_encrypted_with_kms(args: ResourceValidationArgs,
                                     report: ReportViolation) -> None:
    if args.resource_type != REPOSITORY:
        return
    kinds = {c.get("encryptionType") for c in as_list(args.props.get("encryptionConfigurations"))}
    if "KMS" not in kinds:
        report(f"{args.name}: ECR repository not encrypted with KMS")


def _keys_rotate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == KEY and not args.props.get("enableKeyRotation"):
        report(f"{args.name}: KMS key without automatic rotation")


POLICIES = [
    ResourceValidationPolicy(
        name="sqs-encrypted",
        description="SQS queues are encrypted at rest (SQS guide, 'Encryption at rest in "
                    "Amazon SQS').",
        validate=_queues_encrypted,
    ),
    ResourceValidationPolicy(
        name="sns-topic-encrypted",
        description="SNS topics are encrypted with a customer managed KMS key, not the AWS "
                    "managed alias/aws/sns that CloudWatch alarms cannot publish through (SNS "
                    "guide, 'Managing Amazon SNS encryption keys': enable compatibility between "
                    "event sources from AWS services and encrypted topics).",
        validate=_topics_encrypted,
    ),
    ResourceValidationPolicy(
        name="ecr-encrypted-with-kms",
        description="ECR repositories use KMS encryption (ECR guide, 'Encryption at rest').",
        validate=_repositories_encrypted_with_kms,
    ),
    ResourceValidationPolicy(
        name="kms-key-rotation",
        description="Customer managed KMS keys rotate (KMS guide, 'Rotate AWS KMS keys').",
        validate=_keys_rotate,
    ),
]
