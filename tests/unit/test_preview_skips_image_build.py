"""The PR preview does not build the arm64 API image.

pulumi-docker-build's Image builds during previews by default ("buildOnPreview ... Defaults to
true"; "Setting this to false will always skip image builds during previews"). The preview job
of .github/workflows/pull-request.yml runs on an x86 runner without QEMU and with the read-only
role, where the image's arm64 RUN steps fail with "exec format error". The program sets
build_on_preview=False; the test job builds and runs the image instead.
"""

from __future__ import annotations

import yaml

from testing.pulumi_harness import PROJECT_ROOT, stack_config
from testing.run_cache import cached_main

IMAGE = "docker-build:index:Image"


def test_the_api_image_is_not_built_on_preview():
    for stack in ("dev", "prod"):
        images = cached_main(stack_config(stack), stack=stack).of_type(IMAGE)
        assert images, stack
        assert all(image.inputs.get("buildOnPreview") is False for image in images), stack


def test_the_preview_job_needs_no_qemu_for_it():
    workflow = yaml.safe_load((PROJECT_ROOT / ".github/workflows/pull-request.yml").read_text())
    steps = workflow["jobs"]["preview"]["steps"]
    text = str(steps).lower()
    assert "qemu" not in text and "binfmt" not in text
    assert any("pulumi/actions" in step.get("uses", "") and
               step.get("with", {}).get("command") == "preview" for step in steps)
