"""The three tools that run a deployment package as Lambda's python3.13 runtime runs it.

1. Python 3.13 (Lambda's `python3.13` runtime), as a clean venv of its own: the function must see
   the package, awslambdaric and the standard library, never the site-packages of whatever
   interpreter the machine has.
2. awslambdaric, the runtime interface client Lambda's Python runtime provides (pinned in
   requirements.txt beside this file), installed from wheels for CPython 3.13 and a manylinux
   platform into a folder of its own.
3. AWS's Lambda Runtime Interface Emulator (RIE), built from its Go module with `go install`.

Everything is cached under ${XDG_CACHE_HOME:-~/.cache}/event-pipeline/lambda-runtime, one stamp
per pinned version, so only the first call does any work. The machine's own Go and pip
configuration is used as it is (no index or proxy is named here).
"""

from __future__ import annotations

import fcntl
import os
import platform as host_platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from local.image import cache_dir
from local.processes import die_with_parent

REQUIREMENTS = Path(__file__).with_name("requirements.txt")
RIC_PACKAGE = "awslambdaric"
RIE_PACKAGE = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"
# The Go module proxy serves this module only as pseudo-versions (the repository's release tags
# are not module versions), so the pin is one: the RIE source of 2026-10-30, commit bef5c4ba774d.
RIE_VERSION = "v0.0.0-20261030222936-bef5c4ba774d"
PYTHON_VERSION = (3, 13)
# platform.machine() -> the manylinux wheel tag pip installs awslambdaric's compiled part for.
HOST_WHEEL_PLATFORMS = {
    "x86_64": "manylinux2014_x86_64",
    "amd64": "manylinux2014_x86_64",
    "aarch64": "manylinux2014_aarch64",
    "arm64": "manylinux2014_aarch64",
}
NO_PYTHON_MESSAGE = (
    "Python 3.13 (Lambda's python3.13 runtime) not found: install it with `pyenv install 3.13` "
    "or apt (Debian 13: python3.13), or set PYTHON313=/path/to/python3.13"
)
NO_GO_MESSAGE = (
    "Go is needed to build AWS's Lambda Runtime Interface Emulator and is not on PATH: install "
    "it (`apt-get install golang-go`, or from go.dev) and retry"
)


class LambdaRuntimeError(RuntimeError):
    """A one-line failure of the local Lambda runtime: a missing tool, an emulator that died."""


@dataclass(frozen=True)
class Toolchain:
    python: Path  # the clean venv's interpreter (Python 3.13)
    ric_dir: Path  # awslambdaric and its dependencies, for PYTHONPATH
    rie: Path  # the aws-lambda-rie binary


def runtime_cache() -> Path:
    return cache_dir() / "lambda-runtime"


def say(message: str) -> None:
    print(f"[local.lambda_runtime] {message}", file=sys.stderr, flush=True)


def ensure_toolchain(cache: Path | None = None) -> Toolchain:
    """All three tools for this machine, installing what the cache lacks (one line each)."""
    root = cache or runtime_cache()
    with _locked(root):
        return Toolchain(
            python=ensure_python(root),
            ric_dir=ensure_ric(root),
            rie=ensure_rie(root),
        )


# --- 1. Python 3.13 -------------------------------------------------------------------------


def find_python313() -> Path:
    """PYTHON313 if set, else python3.13 on PATH, else the newest pyenv 3.13.x."""
    explicit = os.environ.get("PYTHON313")
    if explicit:
        version = _python_version(explicit)
        if version != PYTHON_VERSION:
            found = "not runnable" if version is None else "Python {}.{}".format(*version)
            raise LambdaRuntimeError(f"PYTHON313={explicit} is not Python 3.13 ({found})")
        return Path(explicit)
    for candidate in _python313_candidates():
        # A pyenv shim named python3.13 exists even where no 3.13 is selected: run each one.
        if _python_version(str(candidate)) == PYTHON_VERSION:
            return candidate
    raise LambdaRuntimeError(NO_PYTHON_MESSAGE)


def ensure_python(root: Path) -> Path:
    """A venv made `--without-pip` from Python 3.13: its site-packages is empty and it ignores
    the base interpreter's (include-system-site-packages = false) and the user's site."""
    base = find_python313().resolve()
    venv = root / "python3.13-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".base-interpreter"
    if python.exists() and _read(stamp) == str(base):
        return python
    say(f"creating a clean Python 3.13 venv from {base}")
    shutil.rmtree(venv, ignore_errors=True)
    _run([str(base), "-m", "venv", "--without-pip", str(venv)], "creating the Python 3.13 venv")
    stamp.write_text(str(base))
    return python


def _python313_candidates() -> Iterator[Path]:
    on_path = shutil.which("python3.13")
    if on_path:
        yield Path(on_path)
    pyenv_root = _pyenv_root()
    if pyenv_root is None:
        return
    versions = []
    for entry in (pyenv_root / "versions").glob("3.13.*"):
        # 3.13.N only: not free-threaded (3.13.0t) or other builds, which Lambda does not run.
        match = re.fullmatch(r"3\.13\.(\d+)", entry.name)
        if match and (entry / "bin" / "python3.13").exists():
            versions.append((int(match.group(1)), entry / "bin" / "python3.13"))
    for _, python in sorted(versions, reverse=True):
        yield python


def _pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True, check=False)
        if result.returncode == 0 and result.stdout.strip():
            return Path(result.stdout.strip())
    # pyenv installed but not on this shell's PATH (e.g. a non-login CI shell): its default root.
    fallback = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    return fallback if (fallback / "versions").is_dir() else None


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


# --- 2. awslambdaric ------------------------------------------------------------------------


def host_wheel_platform() -> str:
    machine = host_platform.machine().lower()
    try:
        return HOST_WHEEL_PLATFORMS[machine]
    except KeyError:
        raise LambdaRuntimeError(
            f"no Lambda architecture for this machine ({machine}): Lambda runs x86_64 and arm64"
        ) from None


def ric_version() -> str:
    """The awslambdaric pin, read from requirements.txt (the one place it is written)."""
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.fullmatch(rf"{RIC_PACKAGE}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise LambdaRuntimeError(f"{REQUIREMENTS} pins no {RIC_PACKAGE}==VERSION")


def ensure_ric(root: Path, platform: str | None = None) -> Path:
    """awslambdaric for CPython 3.13 on `platform` (default: this machine's; a container tier
    passes "manylinux2014_aarch64"), wheels only: its C++ part comes prebuilt for cp313."""
    wheel_platform = platform or host_wheel_platform()
    version = ric_version()
    target = root / f"{RIC_PACKAGE}-{version}-{wheel_platform}"
    stamp = target / ".installed"
    requirements = REQUIREMENTS.read_text()
    if _read(stamp) == requirements:
        return target
    say(f"installing {RIC_PACKAGE} {version} for CPython 3.13 on {wheel_platform} (pip, wheels)")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile",  # pip would byte-compile with this (the dev) Python, not 3.13
            "--only-binary=:all:", "--python-version", "{}.{}".format(*PYTHON_VERSION),
            "--implementation", "cp", "--platform", wheel_platform,
            "--target", str(partial), "-r", str(REQUIREMENTS),
        ],
        f"pip installing {RIC_PACKAGE} {version} for {wheel_platform}",
    )
    # Installed whole or not at all: an interrupted install leaves only the .partial folder.
    (partial / stamp.name).write_text(requirements)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


# --- 3. the Runtime Interface Emulator ------------------------------------------------------


def ensure_rie(root: Path) -> Path:
    """aws-lambda-rie built by `go install` into <cache>/bin (Go's own module and build caches
    and proxy settings are the machine's)."""
    bindir = root / "bin"
    rie = bindir / "aws-lambda-rie"
    stamp = bindir / ".aws-lambda-rie.version"
    if rie.exists() and _read(stamp) == RIE_VERSION:
        return rie
    go = shutil.which("go")
    if go is None:
        raise LambdaRuntimeError(NO_GO_MESSAGE)
    say(f"building aws-lambda-rie {RIE_VERSION} with go install (about 30 s the first time)")
    bindir.mkdir(parents=True, exist_ok=True)
    _run(
        [go, "install", f"{RIE_PACKAGE}@{RIE_VERSION}"],
        "go install of aws-lambda-rie",
        env={**os.environ, "GOBIN": str(bindir)},
        cwd=root,  # outside any module: `go install pkg@version` must not see a go.mod
    )
    stamp.write_text(RIE_VERSION)
    return rie


# --- helpers --------------------------------------------------------------------------------


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One installer at a time per cache (parallel test workers share it)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(command: Sequence[str], what: str, timeout_s: float = 900, **kwargs) -> None:
    try:
        result = subprocess.run(
            list(command), capture_output=True, text=True, check=False, timeout=timeout_s,
            preexec_fn=die_with_parent(), **kwargs,
        )
    except subprocess.TimeoutExpired:
        raise LambdaRuntimeError(f"{what} did not finish within {timeout_s:.0f} s") from None
    except OSError as exc:
        raise LambdaRuntimeError(f"{what} could not start: {exc}") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        detail = " | ".join(lines[-3:]) or "no output"
        raise LambdaRuntimeError(f"{what} failed (exit {result.returncode}): {detail}")


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None
