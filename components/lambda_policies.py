"""IAM statements every VPC Lambda of the pipeline needs (pure functions returning dicts).

Used by the consumer (components/consumer.py) and the topic provisioner (components/topic.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.iam import VERSION

# What Lambda does with the execution role to attach a function to the VPC (the list of AWS's
# AWSLambdaVPCAccessExecutionRole managed policy, without its logs part; Lambda guide, "Giving
# Lambda functions access to resources in an Amazon VPC", execution role permissions).
FUNCTION_ENI_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)


def function_eni_statement() -> dict[str, Any]:
    return {
        "Sid": "FunctionVpcNetworkInterfaces",
        "Effect": "Allow",
        "Action": list(FUNCTION_ENI_ACTIONS),
        # AWS requires "*": the Describe* actions support no resource-level permissions and
        # the ENIs Lambda creates and deletes have ids nobody knows in advance. A deny on the
        # function's own credentials (below) keeps its code from using them.
        "Resource": "*",
    }


def own_log_group_statement(log_group_arn: str) -> dict[str, Any]:
    return {
        "Sid": "OwnLogGroupOnly",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    }


def deny_eni_to_function_code(function_arn: str, actions: Sequence[str]) -> dict[str, Any]:
    """Deny the ENI actions to requests made with the function's own credentials.

    Credentials handed to the running function carry `lambda:SourceFunctionArn`; the Lambda
    service managing ENIs for the function (and an event source mapping) does not, so it is
    unaffected (IAM guide, "AWS global condition context keys": lambda:SourceFunctionArn).
    """
    return {
        "Version": VERSION,
        "Statement": [{
            "Sid": "NoNetworkInterfacesFromFunctionCode",
            "Effect": "Deny",
            "Action": sorted(actions),
            "Resource": "*",  # mirrors the allow; the condition does the scoping
            "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": function_arn}},
        }],
    }
