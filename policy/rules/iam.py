"""Least privilege: no wildcard actions, exact resource ARNs, no public resource policies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from .common import as_list, statements

# Identity policies: where a role's permissions are written.
IDENTITY_POLICIES = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
ROLE = "aws:iam/role:Role"
# Resource policies: who may use a resource.
RESOURCE_POLICIES = {
    "aws:sqs/queuePolicy:QueuePolicy": "policy",
    "aws:sns/topicPolicy:TopicPolicy": "policy",
    "aws:s3/bucketPolicy:BucketPolicy": "policy",
    "aws:lambda/permission:Permission": None,
}

# Actions AWS only grants on Resource "*". Sources:
# - ecr:GetAuthorizationToken: Service Authorization Reference, "Actions defined by Amazon
#   Elastic Container Registry" (no resource types); ECR guide, "Private registry
#   authentication".
# - The network-interface actions: Lambda guide, "Giving Lambda functions access to resources in
#   an Amazon VPC" (AWSLambdaVPCAccessExecutionRole) and "Configuring your Amazon MSK cluster and
#   Amazon VPC network for Lambda" (the mapping's pollers); the Describe* actions support no
#   resource-level permissions and the interfaces' ids are unknown in advance.
RESOURCE_STAR_ACTIONS = frozenset({
    "ecr:GetAuthorizationToken",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
})
# A log group's streams are named at run time: "<log group ARN>:*" or ":log-stream:*".
LOG_STREAMS = re.compile(r"arn:[^:]+:logs:[^:]+:\d{12}:log-group:[^*:]+(:log-stream)?:\*")
# Object keys are chosen at run time: "<exact bucket ARN>/<exact key prefix>/*" (S3 guide, "Policy
# resources for Amazon S3": object ARNs name a key-name prefix with a wildcard). A whole bucket's
# objects ("bucket/*") are not an exact grant.
OBJECT_PREFIX = re.compile(r"arn:[^:]+:s3:::[^*/]+/[^*]+/\*")
RUNTIME_NAMED = (LOG_STREAMS, OBJECT_PREFIX)


def _identity_documents(args: ResourceValidationArgs) -> Iterator[Any]:
    key = IDENTITY_POLICIES.get(args.resource_type)
    if key:
        yield args.props.get(key)
    if args.resource_type == ROLE:
        for inline in as_list(args.props.get("inlinePolicies")):
            yield inline.get("policy")


def _allows(document: Any) -> Iterator[dict]:
    for statement in statements(document):
        if statement.get("Effect") == "Allow":
            yield statement


def _no_wildcard_actions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for document in _identity_documents(args):
        for statement in _allows(document):
            if "NotAction" in statement:
                report(f"{args.name}: Allow with NotAction grants everything else")
            wild = [a for a in as_list(statement.get("Action")) if "*" in a]
            if wild:
                report(f"{args.name}: wildcard actions {wild}; name each action")


def _exact_resources(args: ResourceValidationArgs, report: ReportViolation) -> None:
    for document in _identity_documents(args):
        for statement in _allows(document):
            actions = set(as_list(statement.get("Action")))
            for resource in as_list(statement.get("Resource")):
                if resource == "*":
                    extra = sorted(actions - RESOURCE_STAR_ACTIONS)
                    if extra:
                        report(f"{args.name}: Resource '*' for {extra}; grant them on exact "
                               "ARNs ('*' only where AWS requires it)")
                elif "*" in resource and not any(p.fullmatch(resource) for p in RUNTIME_NAMED):
                    report(f"{args.name}: wildcard resource {resource}; use the exact ARN")


def _public(principal: Any) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def _no_public_resource_policies(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in RESOURCE_POLICIES:
        return
    key = RESOURCE_POLICIES[args.resource_type]
    if key is None:  # a Lambda permission names its principal directly
        if args.props.get("principal") == "*":
            report(f"{args.name}: a Lambda permission for any principal")
        return
    for statement in _allows(args.props.get(key)):
        if _public(statement.get("Principal")) and not statement.get("Condition"):
            report(f"{args.name}: statement {statement.get('Sid', '')!r} allows anyone")


POLICIES = [
    ResourceValidationPolicy(
        name="iam-no-wildcard-actions",
        description="Identity policies name every action (IAM guide, 'Security best practices "
                    "in IAM': apply least-privilege permissions).",
        validate=_no_wildcard_actions,
    ),
    ResourceValidationPolicy(
        name="iam-exact-resources",
        description="Resource '*' only for actions without resource-level permissions (Service "
                    "Authorization Reference; documented allowlist in policy/rules/iam.py).",
        validate=_exact_resources,
    ),
    ResourceValidationPolicy(
        name="no-public-resource-policies",
        description="No resource policy allows anyone (IAM guide, 'Security best practices in "
                    "IAM'; use IAM Access Analyzer to validate public access).",
        validate=_no_public_resource_policies,
    ),
]
