"""build_lambda_archive: pip installs for the Lambda platform into a build directory.

Real pip, end to end: a tiny wheel made here (no network), a requirement pip cannot find, and a
compiled wheel from the package index (the aarch64 build is chosen on any build host). The cache
cases (skip, rebuild, a failed rebuild) test the builder's bookkeeping, not pip: they watch the
builds through `recording_pip`, which installs the tiny wheels by unzipping them (~1.2 s of pip
each saved).
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

import pulumi
import pytest

from components import lambda_package
from components.lambda_package import LambdaPackageError, build_lambda_archive


@pytest.fixture(autouse=True)
def _no_conflict_check_against_this_environment(monkeypatch):
    """pip checks what it installs against the environment it runs in (this test's virtualenv,
    ~300 distributions) even with --target, where that environment is not the package's: only
    a warning, never the exit status, and half of each small install's CPU. Off here."""
    monkeypatch.setenv("PIP_NO_WARN_CONFLICTS", "1")


def _make_wheel(wheel_dir: Path, name: str = "tinydep", version: str = "1.0") -> Path:
    """Write a minimal, valid pure-Python wheel (what pip would download from an index)."""
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
        ),
        f"{name}-{version}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record_lines = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(data)}")
    record_lines.append(f"{name}-{version}.dist-info/RECORD,,")
    files[f"{name}-{version}.dist-info/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    wheel_dir.mkdir(parents=True, exist_ok=True)
    wheel = wheel_dir / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    source = tmp_path / "src" / "event_consumer"
    source.mkdir(parents=True)
    (source / "__init__.py").write_text("")
    (source / "handler.py").write_text("def lambda_handler(event, context):\n    return None\n")
    # Junk that must never reach the package.
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    wheels = tmp_path / "wheels"
    _make_wheel(wheels)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pinned\ntinydep==1.0\n")
    return {
        "source": source,
        "requirements": requirements,
        "build": tmp_path / "build",
        "wheels": wheels,
    }


@pytest.fixture
def recording_pip(monkeypatch) -> list[list[str]]:
    """Stands in for `_run_pip` (each call's arguments recorded): installs each `name==version`
    requirement by unzipping its wheel from the --find-links directory into --target, and fails
    as the real one does (LambdaPackageError) when no such wheel is there."""
    calls: list[list[str]] = []

    def install(args: list[str]) -> None:
        calls.append(list(args))
        option = {name: args[args.index(name) + 1] for name in
                  ("--target", "--requirement", "--find-links", "--platform")}
        assert args[0] == "install" and option["--platform"] == "manylinux2014_aarch64"
        for line in Path(option["--requirement"]).read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, version = re.fullmatch(r"\s*([\w.-]+)==([\w.]+)\s*", line).groups()
            wheel = Path(option["--find-links"]) / f"{name}-{version}-py3-none-any.whl"
            if not wheel.is_file():
                raise LambdaPackageError(f"pip could not install the Lambda dependencies "
                                         f"(stand-in): no wheel for {name}=={version}")
            with zipfile.ZipFile(wheel) as archive:
                archive.extractall(option["--target"])

    monkeypatch.setattr(lambda_package, "_run_pip", install)
    return calls


def _build(project: dict[str, Path], **overrides) -> pulumi.FileArchive:
    kwargs = {
        "python_version": "3.13",
        "pip_options": ["--no-index", "--find-links", str(project["wheels"])],
    }
    kwargs.update(overrides)
    return build_lambda_archive(
        project["source"], project["requirements"], project["build"], **kwargs
    )


def _tree(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_archive_holds_dependencies_and_package_at_its_root(project):
    archive = _build(project)

    assert isinstance(archive, pulumi.FileArchive)
    root = Path(archive.path)
    assert root == project["build"] / "package"
    files = _tree(root)
    assert "tinydep/__init__.py" in files
    assert "event_consumer/__init__.py" in files
    assert "event_consumer/handler.py" in files
    assert "tinydep-1.0.dist-info/METADATA" in files
    # No host byte code (wrong interpreter version for Lambda) and no build bookkeeping.
    assert not [f for f in files if f.endswith(".pyc") or "__pycache__" in f]
    assert ".content-hash" not in files
    assert not [p for p in project["build"].iterdir() if p.name.startswith("staging-")]


def test_unchanged_inputs_skip_the_build(project, monkeypatch, recording_pip):
    first = _build(project)
    assert len(recording_pip) == 1

    def no_pip(args):
        raise AssertionError(f"pip must not run for unchanged inputs: {args}")

    monkeypatch.setattr(lambda_package, "_run_pip", no_pip)
    second = _build(project)
    assert second.path == first.path


@pytest.mark.parametrize("change", ["source", "requirements", "python_version"])
def test_any_changed_input_rebuilds(project, change, recording_pip):
    _build(project)
    overrides = {}
    if change == "source":
        (project["source"] / "handler.py").write_text("X = 2\n")
    elif change == "requirements":
        _make_wheel(project["wheels"], version="2.0")
        project["requirements"].write_text("tinydep==2.0\n")
    else:
        overrides["python_version"] = "3.12"

    root = Path(_build(project, **overrides).path)

    assert len(recording_pip) == 2, "the changed input did not rebuild"
    files = _tree(root)
    if change == "source":
        assert (root / "event_consumer" / "handler.py").read_text() == "X = 2\n"
    elif change == "requirements":
        assert "tinydep-2.0.dist-info/METADATA" in files
        assert "tinydep-1.0.dist-info/METADATA" not in files
    assert "event_consumer/handler.py" in files


def test_a_failed_install_raises_and_keeps_no_half_package(project):
    project["requirements"].write_text("does-not-exist==9.9\n")

    with pytest.raises(LambdaPackageError, match="pip could not install"):
        _build(project)

    assert not (project["build"] / "package").exists()
    assert not (project["build"] / ".content-hash").exists()
    assert not [p for p in project["build"].iterdir() if p.name.startswith("staging-")]


def test_a_failed_rebuild_does_not_leave_a_stale_stamp(project, recording_pip):
    _build(project)
    project["requirements"].write_text("does-not-exist==9.9\n")
    with pytest.raises(LambdaPackageError):
        _build(project)
    # Put the good input back: the earlier package is reused or rebuilt, never half-built.
    project["requirements"].write_text("# pinned\ntinydep==1.0\n")
    assert "tinydep/__init__.py" in _tree(Path(_build(project).path))


def test_requirements_with_only_comments_need_no_pip(project, monkeypatch):
    project["requirements"].write_text("# nothing at run time\n\n")
    monkeypatch.setattr(
        lambda_package, "_run_pip", lambda args: pytest.fail("pip called for no requirements")
    )
    assert _tree(Path(_build(project).path)) == {"event_consumer/__init__.py",
                                                 "event_consumer/handler.py"}


@pytest.mark.parametrize("bad", ["3", "python3.13", "3.13.1", ""])
def test_bad_python_version_is_rejected(project, bad):
    with pytest.raises(LambdaPackageError, match="python_version"):
        _build(project, python_version=bad)


def test_missing_inputs_are_reported(project, tmp_path):
    with pytest.raises(LambdaPackageError, match="source_dir"):
        build_lambda_archive(tmp_path / "nope", project["requirements"], project["build"],
                             python_version="3.13")
    with pytest.raises(LambdaPackageError, match="requirements_file"):
        build_lambda_archive(project["source"], tmp_path / "nope.txt", project["build"],
                             python_version="3.13")


def test_compiled_wheels_are_chosen_for_lambda_arm64_not_the_host(project):
    # From the package index through the machine's pip configuration: a small wheel with a C
    # extension. Whatever the host is, the installed extension must be Lambda's aarch64 build.
    project["requirements"].write_text("markupsafe==3.0.3\n")

    root = Path(_build(project, pip_options=[]).path)

    extensions = [f for f in _tree(root) if f.startswith("markupsafe/") and f.endswith(".so")]
    assert extensions == ["markupsafe/_speedups.cpython-313-aarch64-linux-gnu.so"]


def test_the_topic_provisioners_package_holds_everything_its_handler_imports():
    """The real package, from the real pinned requirements: its handler imports from nothing
    but the archive (no editable installs, no host site-packages)."""
    import subprocess
    import sys

    from components.project_sources import project_sources
    from components.topic import HANDLER
    from testing.pulumi_harness import PROJECT_ROOT

    sources = project_sources(PROJECT_ROOT / "services" / "topic_admin", [PROJECT_ROOT / "libs"])
    # Kept between sessions, as the program keeps its own (components/service_code.py): the
    # builder reuses it while its content hash (sources, pinned requirements, target) holds,
    # and a directory per version of the builder's code rebuilds it when the pip call changes.
    # -B below: importing from the package must not leave byte code in it (a rebuild).
    builder = hashlib.sha256(Path(lambda_package.__file__).read_bytes()).hexdigest()[:16]
    archive = build_lambda_archive(
        sources.import_packages, sources.requirements,
        PROJECT_ROOT / "build" / "unit-tests" / f"topic_admin-{builder}", python_version="3.13")
    module, function = HANDLER.rsplit(".", 1)
    # -S -I: no site-packages, no PYTHONPATH or user site; only the archive is importable.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import importlib; "
            f"m = importlib.import_module({module!r}); assert callable(m.{function}); "
            "import kafka, aws_msk_iam_sasl_signer, botocore; "
            "print(*sorted(n.split('.')[0] for n in sys.modules if n.split('.')[0] in "
            "{'topic_admin','msk_iam_client','log_redaction','event_contract'}))")
    result = subprocess.run([sys.executable, "-S", "-I", "-B", "-c", code, archive.path],
                            capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert {"topic_admin", "msk_iam_client", "log_redaction", "event_contract"} <= set(
        result.stdout.split())
    assert not (Path(archive.path) / "event_replay").exists()  # never an operator tool
