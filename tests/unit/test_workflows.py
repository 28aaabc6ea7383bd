"""The GitHub workflows parse, pin every action to a commit, and only reference files that exist."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, job, step


def _load(path: Path) -> dict:
    # PyYAML reads the key `on` as boolean True (YAML 1.1); normalise it.
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def test_there_are_workflows_for_pull_requests_and_main():
    triggers = {p.name: _load(p)["on"] for p in WORKFLOWS}
    assert any("pull_request" in t for t in triggers.values())
    assert any("push" in t and t["push"]["branches"] == ["main"] for t in triggers.values())


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha(path):
    uses = [step["uses"] for _, _, step in _steps(_load(path)) if "uses" in step]
    assert uses, "a workflow without actions is suspicious"
    unpinned = [u for u in uses if not PINNED.match(u)]
    assert not unpinned, f"actions must be pinned by commit SHA: {unpinned}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_referenced_script_and_file_exists(path):
    missing = []
    for _, _, step in _steps(_load(path)):
        for token in shlex.split(step.get("run", "").replace("&&", " ")):
            if token.startswith("./") or token.endswith((".txt", ".yaml", ".yml", ".py")):
                if not (ROOT / token).exists():
                    missing.append(token)
    assert not missing, f"{path.name} references files that do not exist: {missing}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_aws_access_is_oidc_role_assumption_only(path):
    workflow = _load(path)
    for job_name, job, step in _steps(workflow):
        if "configure-aws-credentials" not in step.get("uses", ""):
            continue
        inputs = step.get("with", {})
        assert "role-to-assume" in inputs
        assert not {"aws-access-key-id", "aws-secret-access-key"} & inputs.keys()
        assert job.get("permissions", {}).get("id-token") == "write", job_name
    assert "AWS_SECRET_ACCESS_KEY" not in path.read_text()


PREVIEW_ROLE = "vars.AWS_PREVIEW_ROLE_ARN"
DEPLOY_ROLE = "vars.AWS_DEPLOY_ROLE_ARN"


def _pulumi_step(job: dict) -> dict:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    return step


def _role(job: dict) -> str:
    (step,) = [s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")]
    return step["with"]["role-to-assume"]


def test_pull_requests_preview_with_the_policy_pack_and_comment():
    workflow = _load(ROOT / ".github" / "workflows" / "pull-request.yml")
    assert set(workflow["on"]) == {"pull_request"}
    inputs = _pulumi_step(workflow["jobs"]["preview"])["with"]
    assert inputs["command"] == "preview"
    assert inputs["policyPacks"] == "policy"  # pulumi preview --policy-pack policy
    assert (ROOT / inputs["policyPacks"] / "PulumiPolicy.yaml").exists()
    assert inputs["comment-on-pr"] is True
    assert "vars.PULUMI_STACK" in inputs["stack-name"]


def test_previews_assume_the_read_only_preview_role_never_the_deploy_role():
    workflow = _load(ROOT / ".github" / "workflows" / "pull-request.yml")
    preview = workflow["jobs"]["preview"]
    assert PREVIEW_ROLE in _role(preview)
    assert DEPLOY_ROLE not in (ROOT / ".github" / "workflows" / "pull-request.yml").read_text()
    # An environment would change the OIDC subject from `repo:<repo>:pull_request`, the only one
    # the preview role trusts.
    assert "environment" not in preview


def test_fork_pull_requests_skip_the_preview_with_a_notice():
    jobs = _load(ROOT / ".github" / "workflows" / "pull-request.yml")["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repo
    notice = jobs["preview-skipped-for-fork"]
    assert notice["if"] == same_repo.replace("==", "!=")
    assert "::notice" in notice["steps"][0]["run"] and "fork" in notice["steps"][0]["run"]
    assert not any("configure-aws-credentials" in s.get("uses", "") for s in notice["steps"])


def test_no_workflow_runs_fork_code_with_secrets():
    for path in WORKFLOWS:
        assert "pull_request_target" not in _load(path)["on"], path.name


def test_main_deploys_the_dev_stack_after_the_tests_with_the_deploy_role():
    workflow = _load(ROOT / ".github" / "workflows" / "deploy-dev.yml")
    up_job = workflow["jobs"]["up"]
    assert up_job["needs"] == "test"
    # The deploy role trusts `repo:<repo>:environment:dev` only.
    assert up_job["environment"] == "dev"
    assert DEPLOY_ROLE in _role(up_job)
    assert _pulumi_step(up_job)["with"] == {"command": "up", "stack-name": "dev",
                                            "policyPacks": "policy"}
