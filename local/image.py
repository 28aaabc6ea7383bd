"""Build the linux/arm64 API image on a machine with no image registry.

    python -m local.image build [--base local|default] [--tag TAG]

`--base local` (the default) makes a Debian bookworm arm64 base from Debian packages with
debootstrap once, caches it under ${XDG_CACHE_HOME:-~/.cache}/event-pipeline/, and builds
services/api/Dockerfile on it with buildah under qemu. `--base default` keeps the Dockerfile's
pinned public Python image (needs a registry). The result is pushed into the local docker
engine as localhost/event-pipeline-api:TAG. Missing tools are installed from Debian and the
engine is started when it is not running, so this works on a fresh machine (run as root).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# debian_mirror: also used by local/lambda_runtime/arm64_toolchain.py as image.debian_mirror.
from local.apt_sources import NoDebianMirror, debian_mirror

REPO_ROOT = Path(__file__).resolve().parent.parent
# The build context is the repository root filtered by its .dockerignore allow-list; builds run on
# a staged copy of exactly those files (components/docker_context.py), what `pulumi up` builds.
DOCKERFILE = Path("services") / "api" / "Dockerfile"
LOCAL_BASE_IMAGE = "localhost/event-pipeline-base:bookworm"
API_IMAGE_NAME = "localhost/event-pipeline-api"
DEFAULT_TAG = "local"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# The base holds only what the Dockerfile's build stage needs: a python that can make a venv.
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
# A command that proves each Debian package is present (command -> package).
REQUIRED_TOOLS = {
    "dockerd": "docker.io",
    "buildah": "buildah",
    "qemu-aarch64-static": "qemu-user-static",
    "update-binfmts": "binfmt-support",
    "debootstrap": "debootstrap",
}
# Left out of the base image: ~50 MB that the service never reads.
UNREAD_PATHS = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale")
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
HEARTBEAT_SECONDS = 30


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "event-pipeline"


def say(message: str) -> None:
    print(f"[local.image] {message}", file=sys.stderr, flush=True)


def format_seconds(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """Announce a step, print a heartbeat while it runs (some take minutes), then its duration."""
    say(f"{title} ...")
    started = time.monotonic()
    done = threading.Event()

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT_SECONDS):
            say(f"  still working on: {title} ({format_seconds(time.monotonic() - started)})")

    ticker = threading.Thread(target=heartbeat, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
    say(f"{title}: done in {format_seconds(time.monotonic() - started)}")


def run(cmd: Sequence[str], *, quiet: bool = False, **kwargs) -> subprocess.CompletedProcess:
    """Run a command; its output goes to stderr (the progress) unless quiet. Raises on failure."""
    if quiet:
        result = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kwargs)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, cmd, result.stdout, result.stderr
            )
        return result
    return subprocess.run(list(cmd), stdout=sys.stderr, stderr=sys.stderr, check=True, **kwargs)


def succeeds(cmd: Sequence[str]) -> bool:
    return subprocess.run(list(cmd), capture_output=True, check=False).returncode == 0


def ensure_tools(tools: Mapping[str, str] = REQUIRED_TOOLS) -> None:
    """Install the Debian package of each missing command (`tools`: command -> package)."""
    missing = sorted({pkg for tool, pkg in tools.items() if shutil.which(tool) is None})
    if not missing:
        return
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Other jobs may hold the dpkg lock briefly: wait for it rather than fail.
    lock_wait = ["-o", "DPkg::Lock::Timeout=600"]
    with step(f"Installing Debian packages: {' '.join(missing)}"):
        run(["apt-get", *lock_wait, "update", "-q"], env=apt_env)
        run(
            ["apt-get", *lock_wait, "install", "-y", "-q", "--no-install-recommends", *missing],
            env=apt_env,
        )


def ensure_arm64_emulation() -> None:
    if not (BINFMT_DIR / "register").exists():
        say(f"mounting binfmt_misc on {BINFMT_DIR}")
        run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT_DIR)])
    entry = BINFMT_DIR / "qemu-aarch64"
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        say("enabling qemu-aarch64 in binfmt_misc")
        run(["update-binfmts", "--enable", "qemu-aarch64"])
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        raise RuntimeError(f"arm64 emulation is not enabled: {entry} missing or disabled")


def ensure_docker_engine() -> None:
    if succeeds(["docker", "info"]):
        return
    log_path = cache_dir() / "dockerd.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with step(f"Starting the docker engine (log: {log_path})"):
        with log_path.open("ab") as log:
            # Its own session so the engine outlives this command and later test runs reuse it.
            subprocess.Popen(
                ["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + 90
        while not succeeds(["docker", "info"]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not come up within 90 s; see {log_path}")
            time.sleep(1)


def ensure_base_rootfs() -> Path:
    """The debootstrapped arm64 tree, made once (about 5 min, second stage under qemu)."""
    rootfs = cache_dir() / "bookworm-arm64-rootfs"
    if (rootfs / ".complete").exists():
        return rootfs
    partial = cache_dir() / "bookworm-arm64-rootfs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    with step(f"Making the Debian bookworm arm64 base with debootstrap from {mirror} (~5 min)"):
        debootstrap_arm64("bookworm", partial, BASE_PACKAGES, mirror)
        (partial / ".complete").touch()
    shutil.rmtree(rootfs, ignore_errors=True)
    partial.rename(rootfs)
    return rootfs


def debootstrap_arm64(suite: str, destination: Path, packages: str, mirror: str) -> None:
    """A minimal Debian `suite` arm64 tree in `destination` (second stage under qemu)."""
    run([
        "debootstrap", "--variant=minbase", "--arch=arm64", f"--include={packages}",
        suite, str(destination), mirror,
    ])
    # Package caches and indexes would only bloat every image built on this base.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (destination / leftover).glob("*"):
            if item.is_file():
                item.unlink()


def remove_unread_paths(tree: Path) -> None:
    """Documentation and translations are a quarter of the tree and nothing reads them."""
    for unread in UNREAD_PATHS:
        for item in Path(tree, unread).glob("*"):
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item)
            else:
                item.unlink()


def image_exists_in_buildah(image: str) -> bool:
    return succeeds(["buildah", "inspect", "--type", "image", image])


def ensure_local_base() -> str:
    if image_exists_in_buildah(LOCAL_BASE_IMAGE):
        say(f"base image {LOCAL_BASE_IMAGE} is ready (cached)")
        return LOCAL_BASE_IMAGE
    rootfs = ensure_base_rootfs()
    with step(f"Importing the cached tree as {LOCAL_BASE_IMAGE}"):
        # `docker import` would record the host's amd64; buildah lets us say arm64.
        from_scratch = ["buildah", "from", "--arch", "arm64", "scratch"]
        container = run(from_scratch, quiet=True).stdout.strip()
        try:
            mountpoint = run(["buildah", "mount", container], quiet=True).stdout.strip()
            run(["cp", "-a", f"{rootfs}/.", mountpoint])
            Path(mountpoint, ".complete").unlink(missing_ok=True)
            remove_unread_paths(Path(mountpoint))
            run([
                "buildah", "config", "--arch", "arm64", "--os", "linux",
                "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env", "LANG=C.UTF-8", "--cmd", "/bin/bash", container,
            ])
            run(["buildah", "commit", "--quiet", container, LOCAL_BASE_IMAGE], quiet=True)
        finally:
            succeeds(["buildah", "umount", container])
            succeeds(["buildah", "rm", container])
    return LOCAL_BASE_IMAGE


@dataclass(frozen=True)
class BuiltImage:
    reference: str
    size_bytes: int
    build_seconds: float


def build_command(image: str, base_image: str | None, context: Path,
                  no_cache: bool = False) -> list[str]:
    cmd = [
        "buildah", "build",
        "--format", "docker",  # the OCI image format has no HEALTHCHECK
        # Cached steps make a warm rebuild take about a minute.
        "--no-cache" if no_cache else "--layers",
        "--platform", "linux/arm64",
        "--network", "host",
        "--file", str(context / DOCKERFILE),
        "--tag", image,
    ]
    if base_image is not None:
        cmd += ["--pull=false", "--build-arg", f"BASE_IMAGE={base_image}"]
    if HOST_CA_BUNDLE.is_file():
        # Lets pip inside the build trust a TLS-inspecting proxy; mounted, never in a layer.
        cmd += ["--secret", f"id=ca,src={HOST_CA_BUNDLE}"]
    return [*cmd, str(context)]


def docker_image_id(image: str) -> str | None:
    result = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", image],
                            capture_output=True, text=True, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def docker_image_size(image: str) -> int:
    out = run(["docker", "image", "inspect", "--format", "{{.Size}}", image], quiet=True)
    return int(out.stdout.strip())


def stage_context(destination: Path, root: Path = REPO_ROOT) -> Path:
    """Copy the build context (the allow-listed files and the .dockerignore) to `destination`."""
    from components.docker_context import DOCKERIGNORE, context_files

    for relative in [Path(DOCKERIGNORE), *context_files(root)]:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
    return destination


def build(base: str = "local", tag: str = DEFAULT_TAG, context: Path | None = None,
          no_cache: bool = False) -> BuiltImage:
    """Build the API image for linux/arm64 and load it into the docker engine. `context` is a
    staged build context (default: the repository's, staged into a temporary folder)."""
    if base not in ("local", "default"):
        raise ValueError(f"base must be 'local' or 'default', not {base!r}")
    if context is None:
        with tempfile.TemporaryDirectory(prefix="api-image-context-") as staged:
            return build(base, tag, stage_context(Path(staged)), no_cache)
    image = f"{API_IMAGE_NAME}:{tag}"
    ensure_tools()
    ensure_arm64_emulation()
    ensure_docker_engine()
    base_image = ensure_local_base() if base == "local" else None
    started = time.monotonic()
    with step(f"Building {image} for linux/arm64 with buildah (under qemu)"):
        run(build_command(image, base_image, context, no_cache))
    replaced = docker_image_id(image)
    with step(f"Loading {image} into the docker engine"):
        run(["buildah", "push", "--quiet", image, f"docker-daemon:{image}"])
    if replaced and replaced != docker_image_id(image):
        # The previous build lost its tag; drop it unless a container still uses it.
        succeeds(["docker", "image", "rm", replaced])
    built = BuiltImage(image, docker_image_size(image), time.monotonic() - started)
    say(
        f"image {built.reference}: {built.size_bytes / 1e6:.1f} MB, "
        f"built and loaded in {format_seconds(built.build_seconds)}"
    )
    return built


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local.image", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="build the linux/arm64 API image")
    build_parser.add_argument(
        "--base", choices=["local", "default"], default="local",
        help="local: debootstrapped Debian base made here (default); "
        "default: the Dockerfile's pinned public image (needs a registry)",
    )
    build_parser.add_argument("--tag", default=DEFAULT_TAG, help="image tag (default: %(default)s)")
    build_parser.add_argument(
        "--no-cache", action="store_true", help="rebuild every Dockerfile step (the base stays)"
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: it installs packages, starts dockerd and mounts binfmt_misc")
    total_started = time.monotonic()
    try:
        built = build(base=args.base, tag=args.tag, no_cache=args.no_cache)
    except subprocess.CalledProcessError as failure:
        say(f"failed (exit {failure.returncode}): {' '.join(map(str, failure.cmd))}")
        if failure.stderr:
            say(failure.stderr.strip())
        return 1
    except (RuntimeError, NoDebianMirror) as failure:
        say(f"failed: {failure}")
        return 1
    print(f"image: {built.reference}")
    print(f"size_mb: {built.size_bytes / 1e6:.1f}")
    print(f"build_seconds: {built.build_seconds:.1f}")
    print(f"total_seconds: {time.monotonic() - total_started:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
