"""`./dev`'s help says what the script and `python -m local.pipeline` really accept (issue 25)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "dev"
FLAG = re.compile(r"--[a-z][a-z0-9-]*")


def dev(*args: str) -> subprocess.CompletedProcess:
    # Only the help paths: they install nothing.
    return subprocess.run([str(DEV), *args], capture_output=True, text=True, timeout=30,
                          check=False, cwd=ROOT)


def help_text() -> str:
    done = dev("help")
    assert done.returncode == 0, done.stderr
    return done.stdout


def usage_line(command: str) -> str:
    (line,) = [x for x in help_text().splitlines() if x.strip().startswith(f"./dev {command}")]
    return line


def test_pipeline_help_lists_exactly_the_pipelines_own_options():
    argparse_help = subprocess.run(
        [sys.executable, "-m", "local.pipeline", "--help"], capture_output=True, text=True,
        timeout=120, check=True, cwd=ROOT).stdout
    options = set(FLAG.findall(argparse_help.split("options:", 1)[1])) - {"--help"}
    assert options, argparse_help
    assert set(FLAG.findall(usage_line("pipeline"))) == options


def test_help_lists_exactly_the_commands_the_script_dispatches():
    source = DEV.read_text()
    dispatch = source[source.index('case "$cmd" in'):]
    # Arms of the top-level `case`: `  name)` or `  name | alias | alias)`; `*)` is the fallback.
    arms = re.findall(r"^  ([a-z][a-z -|]*)\)", dispatch, re.MULTILINE)
    commands = {arm.split("|")[0].strip() for arm in arms}
    listed = set(re.findall(r"^  \./dev ([a-z]+)", help_text(), re.MULTILINE))
    assert listed == commands


def test_help_lists_the_test_and_setup_flags_the_script_reads():
    source = DEV.read_text()
    assert "--unit" in usage_line("test") and '" --unit "' in source
    assert "--pipeline" in usage_line("setup") and "--pipeline) setup pipeline" in source


def test_no_command_or_an_unknown_one_prints_the_help_and_fails():
    for args in ((), ("deploy",)):
        done = dev(*args)
        assert done.returncode == 2
        assert help_text() in done.stderr
    assert "unknown command 'deploy'" in dev("deploy").stderr


def test_a_bad_setup_flag_is_refused_in_one_line():
    done = dev("setup", "--pipline")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: ./dev setup takes only --pipeline, not '--pipline'"
