"""Static checks of services/api/Dockerfile, above all the parts that differ between its bases.

The image is built for real in tests/container; these catch, in milliseconds, the mistakes that
only show up on the base we do not build here (python:*-slim keeps python in /usr/local/bin, the
local Debian base in /usr/bin) and the ones that would leak into a layer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

API_DIR = Path(__file__).resolve().parents[2] / "services" / "api"
DIGEST_PINNED = re.compile(r"^[a-z0-9.-]+(:\d+)?/[\w./-]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$")
ABSOLUTE_INTERPRETER = re.compile(r"/usr(/local)?/bin/python|/opt/python|/usr/lib/python3\.\d+/")


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # a comment inside a continued instruction is not part of it
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            keyword, _, rest = whole.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return parse_dockerfile((API_DIR / "Dockerfile").read_text())


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def only(instructions: list[tuple[str, str]], keyword: str) -> str:
    found = [args for kw, args in instructions if kw == keyword]
    assert len(found) == 1, f"expected one {keyword}, found {found}"
    return found[0]


def test_parser_joins_continuations_and_drops_comments():
    parsed = parse_dockerfile("# c\nFROM x AS y\nRUN a \\\n  # inner\n  && b\nUSER 1\n")
    assert parsed == [("FROM", "x AS y"), ("RUN", "a && b"), ("USER", "1")]


def test_default_base_image_is_a_public_image_pinned_by_digest(instructions):
    first_kw, first_args = instructions[0]
    assert first_kw == "ARG", "BASE_IMAGE must be declared before the first FROM"
    name, _, default = first_args.partition("=")
    assert name == "BASE_IMAGE"
    assert DIGEST_PINNED.match(default), f"not pinned by digest: {default!r}"
    assert "/python:3." in default and "-slim" in default


def test_every_stage_starts_from_the_base_image_argument(instructions):
    stages = [args.split()[0] for kw, args in instructions if kw == "FROM"]
    assert len(stages) >= 2, "multi-stage: dependencies are installed in a stage that is dropped"
    assert set(stages) == {"${BASE_IMAGE}"}


def test_no_absolute_interpreter_paths_that_differ_between_bases(instructions):
    offending = [f"{kw} {args}" for kw, args in instructions if ABSOLUTE_INTERPRETER.search(args)]
    assert offending == []
    assert any("python3 -m venv" in args for kw, args in instructions if kw == "RUN")


def test_ca_secret_is_mounted_for_pip_and_never_copied(instructions):
    runs_with_secret = [args for kw, args in instructions
                        if kw == "RUN" and "--mount=type=secret,id=ca" in args]
    assert len(runs_with_secret) == 1
    assert "pip install" in runs_with_secret[0]
    for kw, args in instructions:
        if kw in ("COPY", "ADD", "ENV", "ARG"):
            assert "ca.pem" not in args and "PIP_CERT" not in args and "/run/secrets" not in args


def test_final_stage_installs_nothing_and_removes_pip(instructions):
    final = final_stage(instructions)
    final_runs = " ".join(args for kw, args in final if kw == "RUN")
    assert "pip install" not in final_runs
    assert "apt-get" not in final_runs
    for leftover in ("site-packages/pip", "ensurepip", "/usr/share/python-wheels"):
        assert leftover in final_runs, f"final stage does not remove {leftover}"
    assert [args for kw, args in final if kw == "COPY" and "--from=build" in args]


def test_build_stage_uses_wheels_only_and_drops_pip_from_the_venv(instructions):
    pip_run = next(args for kw, args in instructions if kw == "RUN" and "pip install" in args)
    assert "--only-binary=:all:" in pip_run
    assert re.search(r"pip uninstall --yes pip\b", pip_run)


def test_runs_as_a_numeric_non_root_user(instructions):
    user = only(final_stage(instructions), "USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER must be a numeric non-root uid, got {user!r}"


def test_runtime_contract(instructions):
    final = final_stage(instructions)
    assert only(final, "EXPOSE") == "8000"
    assert only(final, "STOPSIGNAL") == "SIGTERM"
    assert json.loads(only(final, "CMD")) == ["python", "-m", "event_api"]
    env = only(final, "ENV")
    assert env.startswith("PATH=/opt/venv/bin:"), "the venv's python must come first on PATH"
    assert "PYTHONPATH=/app" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert only(final, "WORKDIR") == "/app"


def test_docker_healthcheck_runs_the_healthcheck_module(instructions):
    healthcheck = only(final_stage(instructions), "HEALTHCHECK")
    exec_form = json.loads(healthcheck.split(" CMD ", 1)[1])
    assert exec_form == ["python", "-m", "event_api.healthcheck"]


def test_dockerignore_admits_exactly_what_the_dockerfile_copies(instructions):
    from components.docker_context import allow_list, context_files

    root = API_DIR.parents[1]
    included, excluded = allow_list(root)
    copied = {args.split()[0].rstrip("/") for kw, args in instructions
              if kw == "COPY" and not args.startswith("--from")}
    assert set(included) - {"services/api/Dockerfile"} == copied
    assert "**/__pycache__" in excluded
    files = context_files(root)
    assert all(not f.as_posix().startswith((".venv", "tests", "local")) for f in files)
    assert not any(f.suffix == ".pyc" for f in files)
