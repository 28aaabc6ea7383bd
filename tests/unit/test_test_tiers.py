"""Which tiers `./dev test` runs (tests/fixtures/tiers.py): `--unit` leaves out everything that
needs the broker or the container, and a non-root run leaves out the container tier, saying so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MARKED_TESTS = """
import pytest

def test_plain():
    pass

@pytest.mark.integration
def test_needs_the_broker():
    pass

@pytest.mark.container
def test_needs_root():
    pass
"""


@pytest.fixture
def tiers(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("""
[pytest]
markers =
    integration: the broker
    container: root
""")
    pytester.makepyfile(test_marked=MARKED_TESTS)
    return pytester


def test_as_non_root_the_container_tier_is_left_out_and_named(tiers, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = tiers.runpytest_inprocess("-p", "tests.fixtures.tiers", "-v")
    result.assert_outcomes(passed=2, deselected=1)
    result.stdout.fnmatch_lines([
        "*test_plain PASSED*", "*test_needs_the_broker PASSED*",
        "not root: 1 container tests left out: they install Debian packages*dockerd*"
        "run as root to include them",
    ])
    assert "test_needs_root" not in result.stdout.str()


def test_as_root_every_tier_runs(tiers, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    result = tiers.runpytest_inprocess("-p", "tests.fixtures.tiers", "-v")
    result.assert_outcomes(passed=3)
    assert "left out" not in result.stdout.str()


def test_unit_leaves_out_the_broker_and_the_container_even_as_root(tiers, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    result = tiers.runpytest_inprocess("-p", "tests.fixtures.tiers", "--unit", "-v")
    result.assert_outcomes(passed=1, deselected=2)


def collected(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {line for line in done.stdout.splitlines() if re.match(r"tests/\S+::", line)}


def test_unit_on_this_repository_is_tests_unit_without_the_brokers_users():
    unit = collected("--unit")
    assert unit and all(t.startswith("tests/unit/") for t in unit)
    # The same set as the unit folder with the broker's users (tests/fixtures/kafka.py marks
    # them `integration`) left out, and some of those exist, so the selection does something.
    assert unit == collected("tests/unit", "-m", "not integration and not container")
    assert collected("tests/unit", "-m", "integration") - unit
