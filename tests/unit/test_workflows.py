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


def test_pull_requests_preview_with_the_pulumi_action_and_comment():
    workflow = _load(ROOT / ".github" / "workflows" / "pull-request.yml")
    pulumi_steps = [s for _, _, s in _steps(workflow)
                    if s.get("uses", "").startswith("pulumi/actions@")]
    assert len(pulumi_steps) == 1
    inputs = pulumi_steps[0]["with"]
    assert inputs["command"] == "preview"
    assert inputs["comment-on-pr"] is True
    assert "vars.PULUMI_STACK" in inputs["stack-name"] and "inputs.stack" in inputs["stack-name"]


def test_main_deploys_the_dev_stack_after_the_tests():
    workflow = _load(ROOT / ".github" / "workflows" / "deploy-dev.yml")
    up_job = workflow["jobs"]["up"]
    assert up_job["needs"] == "test"
    pulumi = [s for s in up_job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi[0]["with"] == {"command": "up", "stack-name": "dev"}
