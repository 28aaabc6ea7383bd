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


def collect(*args: str) -> tuple[set[str], str]:
    """The test ids pytest would run here with `args`, and its summary line. The tiers are this
    repository's own plugin (tests/conftest.py loads it); the installed third-party plugins
    (hypothesis, schemathesis, ...: 1.8 s of imports a run) select nothing, so they stay off."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    return {x for x in lines if re.match(r"tests/\S+::", x)}, lines[-1]


# A file mixing tests that use the broker (tests/fixtures/kafka.py marks them `integration` at
# collection) with tests that do not, one without any, and one of another tier.
SAMPLE = ("tests/unit/test_consumer_log_redaction.py", "tests/unit/test_apt_sources.py",
          "tests/integration/test_topic_admin.py")


def test_unit_on_this_repository_leaves_out_the_brokers_users_and_other_tiers():
    unit, summary = collect("--unit", *SAMPLE)
    assert unit and all(t.startswith("tests/unit/") for t in unit)
    assert int(re.search(r"(\d+) deselected", summary).group(1)) > 0, summary
    assert unit == collect(*SAMPLE[:2], "-m", "not integration and not container")[0]
    assert any(t.startswith(SAMPLE[0]) for t in unit)
