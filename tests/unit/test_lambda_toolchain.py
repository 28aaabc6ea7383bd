"""A missing interpreter or Go stops the Lambda runtime's setup with one line saying what to
install, never a traceback (local/lambda_runtime/toolchain.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from local.lambda_runtime import LambdaRuntimeError, toolchain


def test_a_python313_that_is_not_313_is_named(monkeypatch):
    monkeypatch.setenv("PYTHON313", sys.executable)  # the dev venv's Python 3.11
    with pytest.raises(LambdaRuntimeError, match=r"is not Python 3\.13 \(Python 3\.\d+\)"):
        toolchain.find_python313()


def test_no_python313_anywhere_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv("PYTHON313", raising=False)
    monkeypatch.setattr(toolchain, "_python313_candidates", lambda: iter(()))
    with pytest.raises(LambdaRuntimeError) as error:
        toolchain.find_python313()
    assert str(error.value) == toolchain.NO_PYTHON_MESSAGE
    assert "pyenv install 3.13" in str(error.value)


def test_no_go_says_how_to_install_it(monkeypatch, tmp_path):
    real_which = toolchain.shutil.which
    monkeypatch.setattr(toolchain.shutil, "which",
                        lambda name: None if name == "go" else real_which(name))
    with pytest.raises(LambdaRuntimeError) as error:
        toolchain.ensure_rie(tmp_path)
    assert "apt-get install golang-go" in str(error.value)


def test_the_command_line_fails_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "local.lambda_runtime", "setup"],
        env={**os.environ, "PYTHON313": "/bin/false", "XDG_CACHE_HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "local.lambda_runtime: PYTHON313=/bin/false is not Python 3.13 (not runnable)"]
