"""What the arm64 tier needs to run a package as Lambda's arm64 python3.13 runtime runs it.

Lambda's arm64 functions run on Graviton (aarch64), so a package built for manylinux aarch64 only
proves itself on aarch64 ("Selecting and configuring an instruction set architecture for your
Lambda function", https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html). This
machine is x86_64: qemu-user runs the arm64 binaries through binfmt_misc, inside a Debian trixie
arm64 tree whose python3 is 3.13, the version of Lambda's python3.13 runtime.

Made once and cached, one stamp each, so only the first call does any work:

1. the trixie arm64 root filesystem, under ${XDG_CACHE_HOME:-~/.cache}/event-pipeline/
   lambda-arm64-trixie (debootstrap, about 5 min: its second stage runs under qemu);
2. AWS's Runtime Interface Emulator cross-built for linux/arm64 from the Go module pinned in
   toolchain.py, in <lambda-runtime cache>/bin-arm64;
3. awslambdaric's manylinux2014_aarch64 wheels for CPython 3.13 (toolchain.ensure_ric).

The host's Debian mirror, Go and pip configuration are used as they are (local/image.py finds
the mirror from apt's sources).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from local import image
from local.lambda_runtime.toolchain import (
    NO_GO_MESSAGE,
    RIE_PACKAGE,
    RIE_VERSION,
    LambdaRuntimeError,
    _locked,
    _read,
    _run,
    ensure_ric,
    runtime_cache,
)

ROOTFS_SUITE = "trixie"  # Debian 13: python3 is 3.13 (bookworm's is 3.11)
ROOTFS_PACKAGES = "python3,ca-certificates"
ARM64_WHEEL_PLATFORM = "manylinux2014_aarch64"
# Where the sandbox (arm64.py) mounts things, as Lambda lays them out: the package at /var/task,
# the runtime's own libraries (here awslambdaric) at /var/runtime ("Using Lambda environment
# variables": LAMBDA_TASK_ROOT, LAMBDA_RUNTIME_DIR). The RIE goes to a folder of its own and
# files the caller exposes (e.g. a CA) to a tmpfs at /mnt. The mount points are made in the
# tree once, so that at run time the tree itself can stay read-only.
GUEST_TASK_ROOT = "/var/task"
GUEST_RUNTIME_DIR = "/var/runtime"
GUEST_RIE_DIR = "/var/rie"
GUEST_FILES_DIR = "/mnt"
GUEST_PYTHON = "/usr/bin/python3.13"
# Bump when the tree's preparation changes: a cached tree with another stamp is made again.
ROOTFS_LAYOUT = 1
# command -> Debian package. unshare and chroot are essential on Debian; listed for clarity.
HOST_TOOLS = {
    "debootstrap": "debootstrap",
    "qemu-aarch64-static": "qemu-user-static",
    "update-binfmts": "binfmt-support",
    "unshare": "util-linux",
}
NOT_ROOT_MESSAGE = (
    "the arm64 Lambda tier needs root (debootstrap, binfmt_misc, mount namespaces): run it as "
    "root, e.g. `sudo .venv/bin/python -m local.lambda_runtime arm64-setup`"
)


@dataclass(frozen=True)
class Arm64Toolchain:
    rootfs: Path  # the Debian trixie arm64 tree (read-only at run time)
    ric_dir: Path  # awslambdaric for cp313 manylinux2014_aarch64: the guest's /var/runtime
    rie: Path  # aws-lambda-rie for linux/arm64


def rootfs_dir() -> Path:
    return image.cache_dir() / f"lambda-arm64-{ROOTFS_SUITE}"


def ensure_arm64_toolchain(cache: Path | None = None) -> Arm64Toolchain:
    """Everything the arm64 emulator needs, installing what is missing (one line per slow step;
    a missing tool is one LambdaRuntimeError line saying what to install)."""
    if os.geteuid() != 0:
        raise LambdaRuntimeError(NOT_ROOT_MESSAGE)
    root = cache or runtime_cache()
    with _locked(root):
        ensure_host_tools()
        return Arm64Toolchain(
            rootfs=ensure_rootfs(),
            ric_dir=ensure_ric(root, platform=ARM64_WHEEL_PLATFORM),
            rie=ensure_rie_arm64(root),
        )


def ensure_host_tools() -> None:
    """debootstrap, qemu-user-static and binfmt-support from apt, and qemu-aarch64 enabled in
    binfmt_misc (local/image.py's helpers, as for the API image)."""
    try:
        image.ensure_tools(HOST_TOOLS)
        image.ensure_arm64_emulation()
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        packages = " ".join(sorted(set(HOST_TOOLS.values())))
        raise LambdaRuntimeError(
            f"arm64 emulation is not available ({_one_line(exc)}): install it with "
            f"`apt-get install {packages}` (as root; binfmt_misc must be mountable)") from None


# --- 1. the Debian trixie arm64 tree --------------------------------------------------------


def _rootfs_stamp() -> str:
    return f"{ROOTFS_SUITE} {ROOTFS_PACKAGES} layout {ROOTFS_LAYOUT}"


def ensure_rootfs() -> Path:
    """The cached trixie arm64 tree; made whole in a .partial folder, renamed when complete."""
    rootfs = rootfs_dir()
    stamp = rootfs / ".complete"
    if (_read(stamp) or "").startswith(_rootfs_stamp() + "\n"):
        return rootfs
    partial = rootfs.with_name(rootfs.name + ".partial")
    _remove_tree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    mirror = image.debian_mirror()
    # Bookworm's debootstrap (1.0.128) knows trixie: its scripts/trixie links to scripts/sid.
    title = f"Making the Debian {ROOTFS_SUITE} arm64 tree with debootstrap from {mirror} (~5 min)"
    try:
        with image.step(title):
            image.debootstrap_arm64(ROOTFS_SUITE, partial, ROOTFS_PACKAGES, mirror)
    except subprocess.CalledProcessError as exc:
        log = partial / "debootstrap" / "debootstrap.log"
        raise LambdaRuntimeError(
            f"debootstrap of Debian {ROOTFS_SUITE} arm64 from {mirror} failed (exit "
            f"{exc.returncode}); see {log if log.exists() else 'its output above'}") from None
    version = _finish_tree(partial)
    _remove_tree(rootfs)
    partial.rename(rootfs)
    image.say(f"Debian {ROOTFS_SUITE} arm64 tree ready in {rootfs} ({version})")
    return rootfs


def _finish_tree(partial: Path) -> str:
    """Strip, add the mount points, check the python and stamp; returns the python found."""
    image.remove_unread_paths(partial)
    for mount_point in (GUEST_TASK_ROOT, GUEST_RUNTIME_DIR, GUEST_RIE_DIR, GUEST_FILES_DIR):
        (partial / mount_point.lstrip("/")).mkdir(parents=True, exist_ok=True)
    hosts = partial / "etc" / "hosts"
    if not hosts.exists():
        # Clients inside resolve "localhost" through nss files; minbase may ship no /etc/hosts.
        hosts.write_text("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    version = _guest_python_version(partial)
    (partial / ".complete").write_text(f"{_rootfs_stamp()}\n{version}\n")
    return version


def _guest_python_version(tree: Path) -> str:
    """Run the tree's python under qemu once: it must be aarch64 and 3.13."""
    probe = "import platform, sys; print(platform.machine(), platform.python_version())"
    try:
        result = subprocess.run(
            [shutil.which("chroot") or "/usr/sbin/chroot", str(tree), GUEST_PYTHON, "-c", probe],
            capture_output=True, text=True, timeout=120, check=False,
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LambdaRuntimeError(f"{GUEST_PYTHON} in {tree} did not run: {exc}") from None
    words = result.stdout.split()
    if result.returncode != 0 or len(words) != 2 or words[0] != "aarch64" \
            or not words[1].startswith("3.13."):
        detail = _one_line(result.stderr or result.stdout) or f"exit {result.returncode}"
        raise LambdaRuntimeError(
            f"the {ROOTFS_SUITE} tree's {GUEST_PYTHON} is not Python 3.13 on aarch64: {detail}")
    return f"Python {words[1]} on {words[0]}"


def _remove_tree(path: Path) -> None:
    """rmtree, after unmounting anything an interrupted debootstrap left mounted inside (its
    second stage mounts /proc and /sys in the tree): rmtree must never walk into them."""
    if not path.exists():
        return
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
    shutil.rmtree(path)


# --- 2. the RIE for linux/arm64 -------------------------------------------------------------


def ensure_rie_arm64(root: Path) -> Path:
    """aws-lambda-rie cross-compiled for linux/arm64 (static: CGO off) from the pinned module."""
    bindir = root / "bin-arm64"
    rie = bindir / "aws-lambda-rie"
    stamp = bindir / ".aws-lambda-rie.version"
    if rie.exists() and _read(stamp) == RIE_VERSION:
        return rie
    go = shutil.which("go")
    if go is None:
        raise LambdaRuntimeError(NO_GO_MESSAGE)
    module, _, package = RIE_PACKAGE.partition("/cmd/")
    bindir.mkdir(parents=True, exist_ok=True)
    partial = bindir / "aws-lambda-rie.partial"
    with image.step(f"Building aws-lambda-rie {RIE_VERSION} for linux/arm64 with go build"):
        source = _module_dir(go, f"{module}@{RIE_VERSION}", cwd=root)
        _run(
            [go, "build", "-trimpath", "-o", str(partial), f"./cmd/{package}"],
            "go build of aws-lambda-rie for linux/arm64",
            cwd=source,
            env={**os.environ, "GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0"},
        )
    partial.rename(rie)
    stamp.write_text(RIE_VERSION)
    return rie


def _module_dir(go: str, module_at_version: str, cwd: Path) -> Path:
    """The module's source in Go's module cache (`go mod download -json` gives its Dir)."""
    result = subprocess.run(
        [go, "mod", "download", "-json", module_at_version], cwd=cwd,
        capture_output=True, text=True, timeout=600, check=False,
    )
    try:
        info = json.loads(result.stdout)
    except ValueError:
        info = {}
    if result.returncode != 0 or not info.get("Dir"):
        detail = info.get("Error") or _one_line(result.stderr) or f"exit {result.returncode}"
        raise LambdaRuntimeError(f"go mod download {module_at_version} failed: {detail}")
    return Path(info["Dir"])


def _one_line(value: object) -> str:
    if isinstance(value, subprocess.CalledProcessError):
        # image.run() sends a command's output to stderr as progress: it holds no text then.
        text = value.stderr or f"{' '.join(map(str, value.cmd))} exited {value.returncode}"
    else:
        text = value
    lines = [line for line in re.split(r"[\r\n]+", str(text or "")) if line.strip()]
    return " | ".join(lines[-3:])
