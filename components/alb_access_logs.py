"""The ALB's access-log bucket: SSE-S3, private, TLS-only, expiring, writable by ELB only.

ELB guide, "Enable access logs for your Application Load Balancer"
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html):
- the bucket is in the load balancer's Region, and "the only server-side encryption option
  that's supported is Amazon S3-managed keys (SSE-S3)" - so not the KMS keys used elsewhere;
- its policy lets Elastic Load Balancing write `<prefix>/AWSLogs/<account>/*`: in Regions
  available before August 2022 through the Region's Elastic Load Balancing account, in newer
  Regions through the `logdelivery.elasticloadbalancing.amazonaws.com` service principal.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import VERSION, deny_insecure_transport, render

LOG_PREFIX = "alb"
# The Elastic Load Balancing account per Region available before August 2022 (same guide,
# "Step 2: Attach a policy to your S3 bucket"); every other Region uses the service principal.
LEGACY_ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331", "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806", "eu-west-2": "652711504416",
    "eu-south-1": "635631232127", "eu-west-3": "009996457667", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993", "cn-northwest-1": "037604701340",
}
LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def log_delivery_principal(partition: str, region: str) -> dict[str, str]:
    account = LEGACY_ELB_LOG_ACCOUNTS.get(region)
    if account is not None:
        return {"AWS": f"arn:{partition}:iam::{account}:root"}
    return {"Service": LOG_DELIVERY_SERVICE}


def access_log_bucket_policy(bucket_arn: str, account_id: str, partition: str,
                             region: str) -> dict[str, Any]:
    """ELB writes this account's logs under the prefix; nothing over plain HTTP."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ElbDeliversAccessLogs",
                "Effect": "Allow",
                "Principal": log_delivery_principal(partition, region),
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{LOG_PREFIX}/AWSLogs/{account_id}/*",
            },
            deny_insecure_transport([bucket_arn, f"{bucket_arn}/*"], "s3:*"),
        ],
    }


def access_log_bucket(parent: pulumi.Resource, name: str, *, retention_days: int,
                      force_destroy: bool, account_id: pulumi.Input[str],
                      partition: pulumi.Input[str], region: pulumi.Input[str],
                      ) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
    """Create the bucket and its settings as children of `parent`; returns the bucket and its
    policy (the load balancer must wait for the policy: ELB checks it when logs are enabled)."""
    def child() -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent)

    bucket = aws.s3.Bucket(f"{name}-access-logs", force_destroy=force_destroy, opts=child())
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-access-logs-encryption", bucket=bucket.id,
        rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3
            .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"))],  # SSE-S3: the only option ELB log delivery supports
        opts=child())
    aws.s3.BucketPublicAccessBlock(
        f"{name}-access-logs-public-access", bucket=bucket.id, block_public_acls=True,
        block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        opts=child())
    aws.s3.BucketLifecycleConfiguration(
        f"{name}-access-logs-lifecycle", bucket=bucket.id,
        rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="expire-access-logs", status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=f"{LOG_PREFIX}/"),
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                days=retention_days))],
        opts=child())
    policy = aws.s3.BucketPolicy(
        f"{name}-access-logs-policy", bucket=bucket.id,
        policy=render(access_log_bucket_policy, bucket.arn, account_id, partition, region),
        opts=child())
    return bucket, policy
