"""Child processes that die with their parent, and stop signals that always arrive.

Children. Every long-running process started here (broker JVM, SQS/S3 server, API server, Lambda
emulator) gets `preexec_fn=die_with_parent()`: prctl(2) PR_SET_PDEATHSIG makes the kernel send it
SIGKILL when its parent dies, SIGKILL of the parent included, so nothing is left holding ports.
Caveats (prctl(2)): the signal fires when the *thread* that forked the child exits, so spawn from
the main thread (or one that lives as long as the child); the setting is cleared in a fork()ed
grandchild, so a child that starts processes of its own must arrange the same for them
(event_api/server.py does it for uvicorn's workers, local/lambda_runtime/emulator.py for the
runtime the RIE starts); it survives execve(2) except of set-user-ID/capability binaries.
The children keep their own session (`start_new_session=True`): a terminal's Ctrl-C reaches
only the parent, which stops them in order.

Signals. A POSIX shell starts a background job (`cmd &` in a script) with SIGINT ignored (POSIX
Shell Command Language 2.11, "Signals and Error Handling"), and an ignored signal stays ignored
across execve(2) (signal(7)); Python then never raises KeyboardInterrupt. So entry points install
their SIGINT and SIGTERM handlers explicitly (`StopSignals`), whatever they inherited.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["Interrupted", "StopSignals", "descendants", "die_with_parent", "kill_descendants",
           "session_members"]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen: the child gets SIGKILL when this process dies.

    Resolved before the fork, so the child only calls into libc. If this process died between
    the fork and the prctl, the child's parent is already someone else: it kills itself."""
    if _prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by the first SIGINT or SIGTERM (a KeyboardInterrupt, so code
    that cleans up on Ctrl-C cleans up on SIGTERM too)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class StopSignals:
    """SIGINT and SIGTERM handlers, installed explicitly (see the module's docstring).

    The first signal raises `Interrupted` in the main thread, wherever it is (starting, waiting,
    serving). Once `shutting_down()` was called (or after that first signal), a signal no longer
    raises, so an orderly shutdown is never cut in the middle, only told to hurry:
    `on_signal(signum, repeated)` is called for every signal (`repeated`: one that did not
    raise). It runs inside the handler: it must only set flags, never take a lock."""

    def __init__(self, on_signal: Callable[[int, bool], None] | None = None) -> None:
        self._on_signal = on_signal
        self._shutting_down = False

    def install(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)
        return self

    def shutting_down(self) -> None:
        self._shutting_down = True

    def _handle(self, signum: int, _frame: object) -> None:
        repeated = self._shutting_down
        self._shutting_down = True
        if self._on_signal is not None:
            self._on_signal(signum, repeated)
        if not repeated:
            raise Interrupted(signum)


def _live_processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, session id) of every live process, from /proc; zombies excluded (they
    only wait to be reaped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z":
            found.append((int(entry.name), int(fields[1]), int(fields[3])))
    return found


def session_members(session: int) -> list[int]:
    """Live processes of a session. A session id is not reused while any member lives, so this
    never names a stranger."""
    return [pid for pid, _, sid in _live_processes() if sid == session]


def descendants(pid: int | None = None) -> list[int]:
    """Live descendants of `pid` (default: this process), parents before their children."""
    children: dict[int, list[int]] = {}
    for child, parent, _ in _live_processes():
        children.setdefault(parent, []).append(child)
    found, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants() -> None:
    """SIGKILL every live descendant of this process (a last resort, without waiting)."""
    for pid in descendants():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
