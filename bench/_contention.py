"""Controlled CPU contention for bench.ingest: pin its processes to cores, add busy processes,
read the broker JVM's garbage collections.

The ingest benchmark shares this machine's cores between the API worker(s), the broker (a JVM),
the load generator and the direct producer. These knobs make that sharing an experiment's
variable instead of an accident of the machine:

- `--pin broker=0 api=1 load=0` gives each role its own CPUs (sched_setaffinity on every
  thread: Linux applies affinity per thread, and threads started later inherit their creator's);
  `api` is the API server and its workers and also the direct producer's threads (its
  counterpart on the direct path), `load` is the load generator (this process's main thread),
  `hog` the busy processes.
- `--hog N` runs N busy-looping processes for the whole run: a machine with less spare CPU.
- `broker_gc(pid)` reads the JVM's own GC counters (jstat, from its hsperfdata file: no attach).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from local.processes import die_with_parent

ROLES = ("broker", "api", "load", "hog")


class PinError(ValueError):
    """A --pin item that is not ROLE=CPU[,CPU...] with a known role and an existing CPU."""


def parse_pins(items: list[str] | None) -> dict[str, set[int]]:
    """["broker=0", "api=1,0"] -> {"broker": {0}, "api": {0, 1}}; checked against this
    machine's CPUs so a typo fails before the broker starts."""
    pins: dict[str, set[int]] = {}
    available = os.sched_getaffinity(0)
    for item in items or []:
        role, sep, cpus = item.partition("=")
        if not sep or role not in ROLES:
            raise PinError(f"--pin {item!r}: expected ROLE=CPUS with ROLE one of "
                           f"{', '.join(ROLES)} (e.g. broker=0)")
        try:
            wanted = {int(cpu) for cpu in cpus.split(",")}
        except ValueError:
            raise PinError(f"--pin {item!r}: CPUS is a comma-separated list of CPU "
                           "numbers") from None
        if not wanted <= available:
            raise PinError(f"--pin {item!r}: this process may run on CPUs "
                           f"{sorted(available)} only")
        pins[role] = wanted
    return pins


def _threads(pid: int) -> list[int]:
    return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]


def _children(pid: int) -> list[int]:
    found = []
    for tid in _threads(pid):
        path = Path(f"/proc/{pid}/task/{tid}/children")
        found += [int(child) for child in path.read_text().split()] if path.exists() else []
    return found


def pin_tree(pid: int, cpus: set[int]) -> None:
    """Every thread of `pid` and of its descendants on `cpus`."""
    for child in _children(pid):
        pin_tree(child, cpus)
    for tid in _threads(pid):
        try:
            os.sched_setaffinity(tid, cpus)
        except ProcessLookupError:  # a thread that just ended
            pass


def pin_thread(cpus: set[int] | None) -> None:
    """The calling thread (and the threads it starts later) on `cpus`; None: leave it."""
    if cpus:
        os.sched_setaffinity(0, cpus)


class Hogs:
    """N processes that only burn CPU, for the duration of a `with` block."""

    def __init__(self, count: int, cpus: set[int] | None = None) -> None:
        self.count, self.cpus = count, cpus
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Hogs:
        for _ in range(self.count):
            process = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                       preexec_fn=die_with_parent())
            if self.cpus:
                pin_tree(process.pid, self.cpus)
            self.processes.append(process)
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            process.kill()
            process.wait(timeout=10)


def broker_gc(pid: int) -> tuple[int, float] | None:
    """(collections so far, milliseconds spent in them) of a HotSpot JVM, or None without
    jstat. G1's concurrent cycles (CGC) are counted apart by jstat and are not pauses of the
    application threads: only young and full collections (YGC, FGC) are summed."""
    jstat = shutil.which("jstat")
    if jstat is None:
        return None
    out = subprocess.run([jstat, "-gc", str(pid)], capture_output=True, text=True, timeout=30)
    lines = out.stdout.split()
    if out.returncode != 0 or "YGC" not in lines:
        return None
    half = len(lines) // 2
    row = dict(zip(lines[:half], lines[half:], strict=True))
    return (int(row["YGC"]) + int(row["FGC"]),
            (float(row["YGCT"]) + float(row["FGCT"])) * 1000)
