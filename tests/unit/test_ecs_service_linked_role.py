"""bootstrap/ipam creates ECS's service-linked role once per account (createEcsServiceLinkedRole,
default true), so an account's first ECS service never fails with "Unable to assume the service
linked role"; an account that already has AWSServiceRoleForECS turns it off."""

from __future__ import annotations

from testing.pulumi_harness import PROJECT_ROOT, AwsAccount, run_project, stack_config

BOOTSTRAP = PROJECT_ROOT / "bootstrap" / "ipam"
ROLE = "aws:iam/serviceLinkedRole:ServiceLinkedRole"


def _run(**config):
    full = {**stack_config("account", BOOTSTRAP),
            **{f"event-pipeline-ipam:{k}": v for k, v in config.items()}}
    return run_project(BOOTSTRAP, full, account=AwsAccount(), stack="account")


def test_bootstrap_creates_the_ecs_service_linked_role_by_default(options):
    run = _run()
    roles = run.of_type(ROLE)
    assert [r.inputs["awsServiceName"] for r in roles] == ["ecs.amazonaws.com"]
    # Shared by every application stack of the account: never deleted by a bootstrap destroy.
    assert options[roles[0].name]["retain_on_delete"] is True


def test_an_account_that_has_the_role_turns_it_off():
    assert _run(createEcsServiceLinkedRole="false").of_type(ROLE) == []
