"""bootstrap/ci: the role pull-request previews assume is read-only and trusts only this
repository's pull_request OIDC subject."""

from __future__ import annotations

import json

import pulumi
import pytest

from testing.policy_run import check
from testing.pulumi_harness import PROJECT_ROOT, AwsAccount, PulumiRun, run_project, stack_config

CI = PROJECT_ROOT / "bootstrap" / "ci"
ROLE = "aws:iam/role:Role"


def bootstrap_ci(**config) -> PulumiRun:
    return run_project(CI, {**stack_config("account", CI), **config}, account=AwsAccount(),
                       stack="account")


@pytest.fixture(scope="module")
def ci() -> PulumiRun:
    return bootstrap_ci(githubRepository="acme/event-pipeline")


def test_the_preview_role_trusts_only_this_repositorys_pull_requests(ci):
    (statement,) = json.loads(ci.one(ROLE).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": "arn:aws:iam::123456789012:oidc-provider/"
                                                    "token.actions.githubusercontent.com"}
    # StringEquals, not StringLike: no wildcard subject, no branch or environment subject.
    assert statement["Condition"] == {"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/event-pipeline:pull_request",
    }}
    assert ci.outputs["previewRoleArn"] == ci.one(ROLE).outputs["arn"]


def test_the_preview_role_can_only_read(ci):
    attachments = ci.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert [a.inputs["policyArn"] for a in attachments] == [
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
    (inline,) = ci.of_type("aws:iam/rolePolicy:RolePolicy")
    actions = {a for s in json.loads(inline.inputs["policy"])["Statement"] for a in s["Action"]}
    assert actions == {"ecr:GetAuthorizationToken"}
    assert ci.one(ROLE).inputs["maxSessionDuration"] == 3600
    assert check(ci) == []  # the policy pack holds for the CI bootstrap too


def test_the_oidc_provider_is_created_only_on_request(ci):
    assert ci.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    created = bootstrap_ci(githubRepository="acme/event-pipeline", createOidcProvider=True)
    provider = created.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == "https://token.actions.githubusercontent.com"
    assert json.loads(created.one(ROLE).inputs["assumeRolePolicy"])["Statement"][0][
        "Principal"] == {"Federated": provider.outputs["arn"]}


@pytest.mark.parametrize("repository", ["acme/*", "acme", "acme/event pipeline"])
def test_a_wildcard_or_malformed_repository_is_refused(repository):
    with pytest.raises(pulumi.RunError, match="githubRepository"):
        bootstrap_ci(githubRepository=repository)
