"""Small IAM helpers shared by the components: trust policies and rendering documents.

Policy documents are plain functions of plain strings returning dicts (unit-testable on their
own); `render` turns one into the `Output[str]` a resource takes, once its inputs are known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi

VERSION = "2012-10-17"


def render(build: Callable[..., dict[str, Any]], *inputs: pulumi.Input[Any]) -> pulumi.Output[str]:
    """`build(*resolved_inputs)` as JSON: the one way a component turns a document into a
    policy string (`pulumi.Output.json_dumps`, which keeps secrets and unknowns intact)."""
    return pulumi.Output.json_dumps(pulumi.Output.all(*inputs).apply(lambda v: build(*v)))


def service_trust_policy(
    service: str, account_id: str, source_arn_like: str | None = None
) -> dict[str, Any]:
    """Only `service` acting for this account (and, if given, for a matching source ARN) may
    assume the role: the confused-deputy guard of the IAM guide ("The confused deputy
    problem", aws:SourceAccount / aws:SourceArn)."""
    condition: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if source_arn_like is not None:
        condition["ArnLike"] = {"aws:SourceArn": source_arn_like}
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }],
    }


def deny_insecure_transport(resources: list[str], action: str) -> dict[str, Any]:
    """The TLS-only statement for a resource policy (aws:SecureTransport)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def account_key_policy(partition: str, account_id: str,
                       *service_statements: dict[str, Any]) -> dict[str, Any]:
    """A KMS key policy: administration and use stay with the account's IAM (KMS guide,
    "Default key policy": without this statement the key would be unmanageable), plus the
    given statements for AWS services that must use the key themselves."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AccountIamPoliciesGovernThisKey",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",  # in a key policy "*" means this key and nothing else
            },
            *service_statements,
        ],
    }
