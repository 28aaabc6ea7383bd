"""The role pull-request previews assume: read-only, trusted only for one repository's PRs.

Why a role of its own: a preview runs the pull request's code (the Pulumi program), so it must
never hold the deploy role's write permissions. GitHub's OIDC token for a workflow run by a
`pull_request` event (in a job without an environment) has the subject
`repo:<owner>/<repo>:pull_request` (GitHub docs, "OpenID Connect reference", subject claims);
the trust policy accepts exactly that subject with the `sts.amazonaws.com` audience (IAM guide,
"Create a role for OpenID Connect federation"). The deploy role trusts only
`repo:<owner>/<repo>:environment:dev`, so a PR can never assume it.

What the role may do: AWS's ViewOnlyAccess job-function policy (list and describe resource
metadata, no data reads; IAM guide, "AWS managed policies for job functions"), which covers the
program's invokes (regions, AZs, caller identity), plus ecr:GetAuthorizationToken, which
pulumi-docker asks for when it previews the image (the token grants nothing the role's ECR
permissions do not: no push).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
VIEW_ONLY_POLICY = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"


def trust_policy(provider_arn: str, repository: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PullRequestsOfThisRepositoryOnly",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                f"{GITHUB_OIDC_HOST}:sub": f"repo:{repository}:pull_request",
            }},
        }],
    })


def preview_policy() -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            # No resource-level permissions for GetAuthorizationToken: AWS requires "*".
            "Sid": "RegistryLoginForImagePreview",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        }],
    })


@dataclass
class PreviewRoleArgs:
    repository: str
    """GitHub repository (owner/name) whose pull requests may preview."""
    create_oidc_provider: bool = False
    """Create GitHub's OIDC provider (an account has one per URL; usually it exists)."""


class PreviewRole(pulumi.ComponentResource):
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: PreviewRoleArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("event-pipeline:ci:PreviewRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.create_oidc_provider:
            provider_arn = aws.iam.OpenIdConnectProvider(
                f"{name}-github-oidc", url=f"https://{GITHUB_OIDC_HOST}",
                client_id_lists=["sts.amazonaws.com"], opts=child).arn
        else:
            account = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
            provider_arn = pulumi.Output.concat(
                "arn:aws:iam::", account.account_id, ":oidc-provider/", GITHUB_OIDC_HOST)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"Read-only pulumi preview for pull requests of {args.repository}",
            assume_role_policy=provider_arn.apply(
                lambda arn: trust_policy(arn, args.repository)),
            max_session_duration=3600,
            opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-view-only", role=role.name,
                                     policy_arn=VIEW_ONLY_POLICY, opts=child)
        aws.iam.RolePolicy(f"{name}-registry-login", role=role.id, policy=preview_policy(),
                           opts=child)
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
