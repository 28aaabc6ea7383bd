"""Image size and build times of the linux/arm64 API image (buildah under qemu, local base).

    .venv/bin/python -m bench.image_build [--cold-base]

Scenarios, in order: every Dockerfile step rebuilt (`--no-cache`, the base kept); a warm rebuild
with nothing changed; a warm rebuild after an application code change (a copy of the build
context with one edited file, so the repository is untouched). `--cold-base` first deletes the
cached debootstrap tree and base image and times making them again (~5 min). Run as root.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from local import image

CODE_CHANGE_TAG = "bench-code-change"


def time_cold_base() -> float:
    image.ensure_tools()
    image.ensure_arm64_emulation()
    subprocess.run(["buildah", "rmi", "--force", image.LOCAL_BASE_IMAGE],
                   capture_output=True, check=False)
    shutil.rmtree(image.cache_dir() / "bookworm-arm64-rootfs", ignore_errors=True)
    started = time.monotonic()
    image.ensure_local_base()
    return time.monotonic() - started


def build_after_code_change() -> image.BuiltImage:
    with tempfile.TemporaryDirectory(prefix="image-bench-") as tmp:
        context = image.stage_context(Path(tmp))
        marker = context / "services" / "api" / "event_api" / "__init__.py"
        marker.write_text(marker.read_text() + f"\n# bench edit {time.time()}\n")
        built = image.build(tag=CODE_CHANGE_TAG, context=context)
    # The bench image is not kept: drop it from both stores.
    ref = f"{image.API_IMAGE_NAME}:{CODE_CHANGE_TAG}"
    subprocess.run(["docker", "image", "rm", ref], capture_output=True, check=False)
    subprocess.run(["buildah", "rmi", ref], capture_output=True, check=False)
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cold-base", action="store_true",
                        help="also delete and time the debootstrapped base (~5 min)")
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    if args.cold_base:
        rows.append(("base: debootstrap + import (cold)", time_cold_base()))
    full = image.build(no_cache=True)
    rows.append(("build: every step (--no-cache), base cached", full.build_seconds))
    image.build()  # --no-cache stores no step cache: make sure it exists (not timed)
    warm = image.build()
    rows.append(("build: warm, nothing changed", warm.build_seconds))
    changed = build_after_code_change()
    rows.append(("build: warm, application code changed", changed.build_seconds))

    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores")
    print(f"image: {warm.reference}  size: {warm.size_bytes / 1e6:.1f} MB")
    print("| scenario | seconds (build + load into docker) |")
    print("|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
