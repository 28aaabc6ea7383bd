"""Acceptance: the built distribution `event-pipeline-components`, installed into a fresh
virtualenv outside the repository, runs a program under Pulumi's mocks exactly as the checkout
does, and finds the sources it builds (image context, Lambda code) inside itself.

The wheel is built by pip from a copy of the sources outside the tree. The virtualenv gets the
wheel alone (`--no-deps --no-index`); its dependencies (pulumi, pulumi-aws, ...) are made visible
from this test's own environment by a .pth file, so the test needs no network. Only the
directories are added, not their .pth files, so the checkout's editable libs stay invisible: what
`components` and `event_contract` the program imports must come from the wheel."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests" / "distribution" / "outside_program.py"
BUILD_INPUTS = ("pyproject.toml", "setup.py", "CHANGELOG.md", ".dockerignore")
SOURCE_TREES = ("components", "libs", "services")
DEPENDENCIES = ("pulumi", "pulumi_aws", "pulumi_docker_build", "fastjsonschema", "grpc")


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _isolation_flags() -> tuple[str, ...]:
    """pip builds in an isolated environment it first installs the build backend into (~4 s);
    when this environment already holds exactly the pinned backend, the build is the same
    without it."""
    import importlib.metadata
    import tomllib

    (pinned,) = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    name, _, version = pinned.partition("==")
    try:
        here = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ()
    return ("--no-build-isolation",) if here == version else ()


def _build_wheel(tmp: Path) -> Path:
    source = tmp / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        shutil.copy2(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "venv", "build", "target",
                                    "*.egg-info")
    for tree in SOURCE_TREES:
        shutil.copytree(ROOT / tree, source / tree, ignore=ignore)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *_isolation_flags(),
         "-w", tmp / "dist", source, cwd=tmp)
    (wheel,) = (tmp / "dist").glob("event_pipeline_components-*.whl")
    return wheel


def _dependency_dirs() -> set[str]:
    return {str(Path(importlib.util.find_spec(name).origin).parents[1])  # type: ignore[union-attr, arg-type]
            for name in DEPENDENCIES}


def _pip_for(python: Path | str) -> tuple[str, ...]:
    """This environment's pip, acting on `python`'s environment (pip's --python option): the
    virtualenv is made without pip, whose install from ensurepip cost ~5 s of CPU."""
    return (sys.executable, "-m", "pip", "--python", str(python))


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp)
    python = venv / "bin" / "python"
    _run(*_pip_for(python), "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=tmp).strip())
    (site / "dependencies.pth").write_text("\n".join(sorted(_dependency_dirs())) + "\n")
    return venv


def _outside_run(python: Path | str, workdir: Path, extra_path: str | None = None) -> dict:
    workdir.mkdir()
    shutil.copy2(PROGRAM, workdir / PROGRAM.name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if extra_path:
        env["PYTHONPATH"] = extra_path
    return json.loads(_run(python, PROGRAM.name, cwd=workdir, env=env).splitlines()[-1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("distribution")
    assert ROOT not in tmp.parents
    venv = _fresh_venv(tmp, _build_wheel(tmp))
    return venv, _outside_run(venv / "bin" / "python", tmp / "program")


def test_the_program_imports_the_installed_distribution(installed):
    venv, found = installed
    assert Path(found["components"]).is_relative_to(venv)
    assert Path(found["event_contract"]).is_relative_to(venv)
    from components import __version__
    assert found["version"] == __version__


def test_the_sources_it_builds_ship_inside_it(installed):
    venv, found = installed
    bundle = Path(found["source_root"])
    assert bundle.is_relative_to(venv) and bundle.name == "_bundle"
    assert found["image_context"] == str(bundle)
    assert Path(found["dockerfile"]).is_file()
    # The same closure the checkout resolves for the consumer (its pyproject and the libs'),
    # found in the bundle: a lib the wheel leaves out fails here.
    from components.project_sources import project_sources
    checkout = project_sources(ROOT / "services" / "consumer", (ROOT / "libs",))
    expected = [Path(p).relative_to(ROOT).as_posix() for p in checkout.import_packages]
    assert "services/consumer/event_consumer" in expected and len(expected) >= 3
    assert [Path(p).relative_to(bundle).as_posix() for p in found["consumer_packages"]] == expected
    assert all(Path(p, "__init__.py").is_file() for p in found["consumer_packages"])


def test_installed_and_checkout_register_the_same_graph(installed, tmp_path):
    _, found = installed
    checkout = _outside_run(sys.executable, tmp_path / "checkout",
                            f"{ROOT}{os.pathsep}{ROOT / 'libs' / 'event-contract'}")
    assert Path(checkout["components"]).is_relative_to(ROOT)
    assert (found["types"], found["resources"]) == (checkout["types"], checkout["resources"])
    assert found["resources"] > 50


def test_the_wheel_declares_what_the_library_imports(installed):
    """Every third-party import of components/ (tests/unit/test_library_stands_alone.py) is a
    declared dependency, or ships inside the wheel (event_contract), and pip finds them met."""
    from tests.unit.test_library_stands_alone import DEPENDENCIES as IMPORTED

    venv, _ = installed
    python = str(venv / "bin" / "python")
    requires = json.loads(_run(python, "-c", "import importlib.metadata as m, json; "
                               "print(json.dumps(m.requires('event-pipeline-components')))",
                               cwd=venv))
    declared = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].replace("-", "_") for r in requires}
    assert IMPORTED - {"event_contract"} <= declared
    assert "fastjsonschema" in declared  # event_contract's own dependency
    check = subprocess.run([*_pip_for(python), "check"], capture_output=True, text=True,
                           timeout=120)
    assert "ERROR" not in check.stderr, check.stderr  # pip ran (a broken pip names nothing)
    assert "event-pipeline-components" not in check.stdout + check.stderr
