"""bench/_contention.py: --pin parsing, pinning every thread of a process tree, the busy
processes, the broker JVM's GC counters."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench._contention import Hogs, PinError, broker_gc, parse_pins, pin_tree

CPUS = sorted(os.sched_getaffinity(0))


def _allowed(pid: int) -> list[set[int]]:
    """The CPU set of every thread of `pid`, from the kernel."""
    return [os.sched_getaffinity(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")]


def test_pins_are_parsed_per_role():
    assert parse_pins([f"broker={CPUS[0]}", f"api={CPUS[-1]},{CPUS[0]}"]) == {
        "broker": {CPUS[0]}, "api": {CPUS[0], CPUS[-1]}}
    assert parse_pins(None) == {}


@pytest.mark.parametrize("item, says", [
    ("broker", "ROLE=CPUS"),
    ("kafka=0", "ROLE=CPUS"),
    ("api=one", "comma-separated"),
    ("api=4096", "may run on CPUs"),
])
def test_a_bad_pin_is_refused_with_its_reason(item, says):
    with pytest.raises(PinError, match=says):
        parse_pins([item])


def test_pin_tree_pins_every_thread_of_the_process_and_its_children():
    # A parent with a second thread, and a child with a second thread.
    code = ("import subprocess, sys, threading, time;"
            "threading.Thread(target=time.sleep, args=(30,), daemon=True).start();"
            "child = subprocess.Popen([sys.executable, '-c', 'import threading, time;"
            "threading.Thread(target=time.sleep, args=(30,), daemon=True).start();"
            "time.sleep(30)']);"
            "print(child.pid, flush=True); time.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 10
        while len(os.listdir(f"/proc/{child}/task")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        pin_tree(parent.pid, {CPUS[0]})
        threads = _allowed(parent.pid) + _allowed(child)
        assert len(threads) >= 4 and all(cpus == {CPUS[0]} for cpus in threads)
    finally:
        parent.kill()
        parent.wait()
        subprocess.run(["kill", "-9", str(child)], check=False)


def test_hogs_burn_cpu_on_their_cpus_and_end_with_the_block():
    with Hogs(1, {CPUS[-1]}) as hogs:
        process = hogs.processes[0]
        assert _allowed(process.pid) == [{CPUS[-1]}]
        time.sleep(0.5)
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(fields[11]) > 0  # user time: it is busy, not asleep
    assert process.poll() is not None


def test_broker_gc_reads_a_jvm_s_collections(tmp_path):
    # The broker's JDK (java, jstat) is a requirement of the repo: no skip without it.
    # A JVM that collects on request: System.gc() is a full collection jstat counts.
    (tmp_path / "Gc.java").write_text(
        "public class Gc { public static void main(String[] a) throws Exception {"
        " System.gc(); System.out.println(\"ready\"); Thread.sleep(30000); } }")
    jvm = subprocess.Popen(["java", "-XX:+UseG1GC", str(tmp_path / "Gc.java")],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert jvm.stdout.readline().strip() == "ready"
        collections, pause_ms = broker_gc(jvm.pid)
        assert collections >= 1 and pause_ms > 0
    finally:
        jvm.kill()
        jvm.wait()


def test_broker_gc_of_a_process_that_is_not_a_jvm_is_none():
    assert broker_gc(os.getpid()) is None
