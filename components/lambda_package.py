"""Build a Lambda deployment package: pinned dependencies for the Lambda platform + our packages.

`build_lambda_archive` is called by the Pulumi program when it runs (never at import time). It
installs the requirements with pip *for the target platform* (arm64 Lambda, its Python version),
so a build host of any architecture produces a package whose compiled wheels run on Lambda. The
result is cached: when the content hash of everything that goes in is unchanged, nothing is
rebuilt and `pulumi preview` stays fast and shows no diff.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pulumi

# Bump when the layout or the pip invocation changes, so old caches are rebuilt.
_BUILDER_VERSION = "1"
_STAMP_FILE = ".content-hash"
_PACKAGE_DIR = "package"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
_PYTHON_VERSION = re.compile(r"^3\.\d{1,2}$")


class LambdaPackageError(RuntimeError):
    """The package could not be built (bad input, or pip failed); the message says why."""


def _source_files(source_dir: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(source_dir):
        # Sorted, in place: a stable walk gives a stable hash.
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            path = Path(root, name)
            if path.suffix not in _SKIP_SUFFIXES:
                files.append(path)
    return files


def content_hash(
    source_dirs: Sequence[Path],
    requirements_file: Path,
    *,
    python_version: str,
    platform: str,
    pip_options: Sequence[str] = (),
) -> str:
    """SHA-256 over every input of a build: sources, requirements, target and pip options."""
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        # Length-prefixed so that no two different inputs can hash the same.
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    feed("builder", _BUILDER_VERSION.encode())
    feed("python", python_version.encode())
    feed("platform", platform.encode())
    feed("pip", "\0".join(pip_options).encode())
    feed("requirements", requirements_file.read_bytes())
    for source_dir in source_dirs:
        feed("package", source_dir.name.encode())
        for path in _source_files(source_dir):
            feed("path", path.relative_to(source_dir).as_posix().encode())
            feed("file", path.read_bytes())
    return digest.hexdigest()


def _has_byte_code(package: Path) -> bool:
    """Byte code the build never puts there (pip runs with --no-compile): something ran the
    package in place. The folder is what gets uploaded, so it is rebuilt rather than shipped."""
    return any(root.endswith("__pycache__") for root, _, _ in os.walk(package))


def _has_requirements(requirements_file: Path) -> bool:
    for line in requirements_file.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return True
    return False


def _run_pip(args: list[str]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise LambdaPackageError(
            f"pip could not install the Lambda dependencies (exit {result.returncode}):\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )


def _install_requirements(
    requirements_file: Path, target: Path, python_version: str, platform: str,
    pip_options: Sequence[str],
) -> None:
    _run_pip([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        # Wheels only, chosen for the Lambda platform rather than the build host.
        "--platform", platform,
        "--implementation", "cp",
        "--python-version", python_version,
        "--only-binary=:all:",
        # Byte code compiled by the host interpreter would be for the wrong Python version.
        "--no-compile",
        "--target", str(target),
        "--requirement", str(requirements_file),
        *pip_options,
    ])


def build_lambda_archive(
    packages: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    requirements_file: str | os.PathLike[str],
    build_dir: str | os.PathLike[str],
    *,
    python_version: str,
    platform: str = "manylinux2014_aarch64",
    pip_options: Sequence[str] = (),
) -> pulumi.FileArchive:
    """Build (or reuse) the deployment package and return it as a `pulumi.FileArchive`.

    - `packages`: the Python package the handler lives in, or several (e.g. the handler's and a
      shared one from libs/); each is copied under its own name to the archive root (so
      `services/consumer/event_consumer` gives handler strings
      `event_consumer.<module>.<function>`).
    - `requirements_file`: pinned runtime dependencies, installed for `platform` and
      `python_version` (the Lambda runtime's, e.g. "3.13"), wheels only.
    - `build_dir`: a scratch directory owned by this build; the archive root is
      `<build_dir>/package`, and `<build_dir>/.content-hash` remembers what it was built from.
    - `pip_options`: extra pip arguments, e.g. an index or `--no-index --find-links DIR`.
    """
    single = isinstance(packages, str | os.PathLike)
    sources = [Path(p).resolve() for p in ([packages] if single else packages)]
    requirements = Path(requirements_file).resolve()
    build = Path(build_dir).resolve()
    if not _PYTHON_VERSION.match(python_version):
        raise LambdaPackageError(f"python_version must look like '3.13', got {python_version!r}")
    if not sources:
        raise LambdaPackageError("packages is empty: name at least the handler's package")
    for source in sources:
        if not source.is_dir():
            raise LambdaPackageError(f"package source_dir {str(source)!r} is not a directory")
    names = [source.name for source in sources]
    if len(set(names)) != len(names):
        raise LambdaPackageError(f"two packages would land under one name: {names}")
    if not requirements.is_file():
        raise LambdaPackageError(f"requirements_file {str(requirements)!r} does not exist")

    wanted = content_hash(
        sources, requirements, python_version=python_version, platform=platform,
        pip_options=pip_options,
    )
    package = build / _PACKAGE_DIR
    stamp = build / _STAMP_FILE
    if (package.is_dir() and stamp.is_file() and stamp.read_text().strip() == wanted
            and not _has_byte_code(package)):
        return pulumi.FileArchive(str(package))

    build.mkdir(parents=True, exist_ok=True)
    # Build next to the final place, then swap: an interrupted build never leaves a half
    # package that a later run would mistake for a finished one.
    staging = Path(tempfile.mkdtemp(prefix="staging-", dir=build))
    try:
        if _has_requirements(requirements):
            _install_requirements(requirements, staging, python_version, platform, pip_options)
        for source in sources:
            shutil.copytree(
                source, staging / source.name,
                ignore=shutil.ignore_patterns(*_SKIP_DIRS, *(f"*{s}" for s in _SKIP_SUFFIXES)),
                dirs_exist_ok=True,
            )
        stamp.unlink(missing_ok=True)
        if package.exists():
            shutil.rmtree(package)
        staging.rename(package)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    stamp.write_text(wanted + "\n")
    return pulumi.FileArchive(str(package))
