"""Sample the API's worker processes with py-spy while the load runs, and summarise the samples.

py-spy (a sampling profiler that attaches to a running process; needs ptrace, i.e. root or
CAP_SYS_PTRACE) writes collapsed stacks ("frame;frame;... count"); the summary groups them by
thread (event loop, kafka-python's sender, executor threads) and by library, and lists the
functions with the most samples on top of the stack (self time) and anywhere in it (inclusive).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from local.processes import die_with_parent

# The first path component that names where the time goes, most specific first.
_BUCKETS = (
    ("kafka/", "kafka-python"),
    ("ssl.py", "TLS (ssl)"),
    ("h11/", "h11 HTTP parser"),
    ("uvicorn/", "uvicorn"),
    ("fastapi/", "FastAPI"),
    ("pydantic", "pydantic"),
    ("starlette/", "Starlette"),
    ("event_api/", "event_api (our code)"),
    ("json/", "json"),
    ("logging/", "logging"),
    ("concurrent/", "thread pool"),
    ("threading.py", "threading"),
    ("asyncio/", "asyncio loop"),
    ("uvloop", "asyncio loop"),
    ("selectors.py", "selectors"),
)
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter or on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def record(pids: Iterable[int], seconds: float, out_prefix: Path) -> list[subprocess.Popen]:
    """Start one py-spy per pid (raw collapsed stacks, all threads, 200 Hz); returns the
    recorders so the caller can wait for them after its load finishes."""
    exe = py_spy()
    if exe is None:
        raise RuntimeError("py-spy is not installed (pip install -r requirements-dev.txt)")
    return [subprocess.Popen(
        [exe, "record", "-p", str(pid), "-d", str(max(1, round(seconds))), "-r", "200",
         "--threads", "--gil", "--nonblocking", "-f", "raw", "-o", f"{out_prefix}.{pid}.txt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent()) for pid in pids]  # no recorder outlives the benchmark


def _parse(line: str) -> tuple[str, list[tuple[str, str]], int] | None:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = stack.split(";")
    thread = frames[0].split(": ", 1)[-1]
    parsed = []
    for frame in frames[1:]:
        match = _FRAME.match(frame)
        parsed.append((match["func"], match["file"]) if match else (frame, ""))
    return thread, parsed, int(count)


def _thread_group(name: str) -> str:
    if name == "MainThread":
        return "event loop (MainThread)"
    if "kafka" in name and "send" not in name and "admin" not in name:
        return "kafka-python sender"
    return "other threads (" + re.sub(r"[-_]?\d+$", "", name) + ")"


def _bucket(file: str) -> str:
    for needle, label in _BUCKETS:
        if needle in file:
            return label
    return "other"


def summarise(files: Iterable[Path], top: int = 15) -> str:
    threads: Counter[str] = Counter()
    leaf_bucket: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for path in files:
        for line in path.read_text(errors="replace").splitlines():
            parsed = _parse(line)
            if parsed is None:
                continue
            thread, frames, count = parsed
            total += count
            threads[_thread_group(thread)] += count
            if frames:
                func, file = frames[-1]
                leaf_bucket[_bucket(file)] += count
                self_time[f"{func} ({file})"] += count
            for name in {f"{func} ({file})" for func, file in frames}:
                inclusive[name] += count
    if not total:
        return "no samples (is py-spy allowed to attach? it needs root or CAP_SYS_PTRACE)"

    def table(title: str, counter: Counter[str], n: int) -> list[str]:
        rows = [f"{title}:"]
        rows += [f"  {100 * c / total:5.1f} %  {name}" for name, c in counter.most_common(n)]
        return rows

    lines = [f"{total} samples of busy threads (idle threads are not sampled)"]
    lines += table("by thread", threads, 10)
    lines += table("self time by library", leaf_bucket, 12)
    lines += table("self time by function", self_time, top)
    lines += table("inclusive time by function", inclusive, top)
    return "\n".join(lines)
