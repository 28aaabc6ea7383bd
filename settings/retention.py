"""What `pulumi destroy` keeps: the `retainData` setting, applied to the whole stack in one place.

The stateful resources are those whose loss is data loss: the MSK Serverless cluster (records
not yet consumed), the dead-letter queue and the buckets (dead letters, access logs) and the KMS
keys that decrypt them. One stack transformation decides for all of them, whichever component
made them (components stay pure wiring and know nothing of the stack's policy):

- retainData = false (dev): buckets get `force_destroy`, so `pulumi destroy` empties them
  instead of failing with BucketNotEmpty (pulumi-aws "aws.s3.Bucket", forceDestroy: "all
  objects ... should be deleted from the bucket when the bucket is destroyed so that the bucket
  can be destroyed without error"). Nothing is protected. This overrides what a component chose
  (ApiService ties the access-log bucket's force_destroy to alb_deletion_protection): the
  stack's one rule for data wins.
- retainData = true (prod): no `force_destroy`, and `protect` + `retain_on_delete` on every
  stateful resource. Pulumi "Resource option: protect"
  (https://www.pulumi.com/docs/iac/concepts/resources/options/protect/): "it will be an error
  to do a Pulumi deployment which tries to delete a protected resource for any reason" - a
  destroy and a replacement alike, until `pulumi state unprotect`; "Resource option:
  retainOnDelete" (https://www.pulumi.com/docs/iac/concepts/resources/options/retainondelete/):
  Pulumi then "will not call through to the resource provider's Delete method", so once
  unprotected on purpose the resource leaves the stack but stays in the account.

Why a (legacy) stack transformation, `pulumi.runtime.register_stack_transformation`, and not a
`register_resource_transform`: it runs in the program itself, so the Pulumi mocks the tests use
see its effect as `pulumi up` does; the mock monitor does not run transforms (pulumi SDK,
`pulumi.runtime.mocks.MockResourceArgs`: "The mock monitor does not run them").
"""

from __future__ import annotations

import pulumi

# Type token -> the name of its force-destroy input (None: the type has none).
STATEFUL_TYPES: dict[str, str | None] = {
    "aws:msk/serverlessCluster:ServerlessCluster": None,
    "aws:sqs/queue:Queue": None,
    "aws:s3/bucket:Bucket": "force_destroy",
    "aws:kms/key:Key": None,
}


def retention_transformation(retain_data: bool) -> pulumi.ResourceTransformation:
    """The stack transformation that applies `retainData` to every stateful resource."""

    def transform(args: pulumi.ResourceTransformationArgs
                  ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in STATEFUL_TYPES:
            return None
        props = dict(args.props)
        force_destroy = STATEFUL_TYPES[args.type_]
        if force_destroy:
            props[force_destroy] = not retain_data
        kept = pulumi.ResourceOptions(protect=retain_data, retain_on_delete=retain_data)
        return pulumi.ResourceTransformationResult(
            props, pulumi.ResourceOptions.merge(args.opts, kept))

    return transform


def apply_data_retention(retain_data: bool) -> None:
    """Register the transformation on the running stack, before its first resource; outside a
    Pulumi program (settings read by a test or a tool) there is no stack and nothing to do."""
    if pulumi.runtime.get_root_resource() is not None:
        pulumi.runtime.register_stack_transformation(retention_transformation(retain_data))
