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


def _topics_encrypted(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == TOPIC and not args.props.get("kmsMasterKeyId"):
        report(f"{args.name}: SNS topic without a KMS key (kmsMasterKeyId)")


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
        description="SNS topics are encrypted with a KMS key (SNS guide, 'Securing Amazon SNS "
                    "data with server-side encryption').",
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
