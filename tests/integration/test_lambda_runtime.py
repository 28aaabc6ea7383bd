"""local.lambda_runtime against the real tools: AWS's Runtime Interface Emulator, awslambdaric
and Python 3.13, with throwaway packages. Nothing is skipped when a tool is missing: the session
fixture installs the toolchain or fails with the one line saying what to install."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from local.lambda_runtime import (
    FunctionSpec,
    LambdaEmulator,
    LambdaRuntimeError,
    ensure_toolchain,
)
from local.lambda_runtime.emulator import FunctionError
from local.processes import session_members

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os
import site
import sys


def lambda_handler(event, context):
    importable = {}
    for name in ("httpx", "pytest", "local"):
        try:
            __import__(name)
            importable[name] = True
        except ImportError:
            importable[name] = False
    return {
        "event": event,
        "version": list(sys.version_info[:2]),
        "path": sys.path,
        "base_prefix": sys.base_prefix,
        "site_packages": site.getsitepackages(),
        "environ": dict(os.environ),
        "importable": importable,
        "pid": os.getpid(),
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
    }


def boom(event, context):
    raise ValueError("boom")
"""


@pytest.fixture(scope="session")
def toolchain():
    return ensure_toolchain()


@pytest.fixture
def package(tmp_path):
    """A package folder holding the given modules (name -> source)."""

    def write(**modules: str) -> Path:
        root = tmp_path / "package"
        root.mkdir(exist_ok=True)
        for name, source in modules.items():
            (root / f"{name}.py").write_text(textwrap.dedent(source))
        return root

    return write


@pytest.fixture
def emulator(tmp_path, toolchain):
    """Starts a LambdaEmulator for a spec; every one is stopped at teardown."""
    started: list[LambdaEmulator] = []

    def start(spec: FunctionSpec, extra_env: dict[str, str] | None = None) -> LambdaEmulator:
        function = LambdaEmulator(spec, tmp_path / f"{spec.name}-{len(started)}.log",
                                  extra_env=extra_env, toolchain=toolchain)
        started.append(function)
        function.start()
        return function

    yield start
    for function in started:
        function.stop()


def probe_spec(root: Path, **overrides) -> FunctionSpec:
    fields = {"name": "probe", "package_dir": root, "handler": "probe.lambda_handler",
              "environment": {}}
    return FunctionSpec(**{**fields, **overrides})


def test_answers_through_the_invoke_api_under_python_313_warm_twice(package, emulator):
    function = emulator(probe_spec(package(probe=PROBE), memory_mb=256))
    event = {"records": [{"value": "aGk=", "offset": 7}], "text": "é ✓", "none": None}

    first = function.invoke(event)
    second = function.invoke({"second": True})

    assert first["event"] == event
    assert first["version"] == [3, 13]
    assert first["function_name"] == "probe"
    assert first["memory_limit_in_mb"] == "256"
    assert second["event"] == {"second": True}
    assert second["pid"] == first["pid"], "warm: the same runtime process answers again"
    assert second["request_id"] != first["request_id"]
    log = function.log_path.read_text()
    assert log.count("START RequestId:") == 2 and log.count("REPORT RequestId:") == 2
    assert "Init Duration" in log


def test_two_emulators_run_side_by_side(package, emulator):
    # The RIE's runtime API defaults to the fixed 127.0.0.1:9001; each emulator gets its own.
    root = package(probe=PROBE)
    first = emulator(probe_spec(root, name="first"))
    second = emulator(probe_spec(root, name="second"))
    answers = [function.invoke({}) for function in (first, second, first)]
    assert [answer["function_name"] for answer in answers] == ["first", "second", "first"]
    assert (answers[0]["environ"]["AWS_LAMBDA_RUNTIME_API"]
            != answers[1]["environ"]["AWS_LAMBDA_RUNTIME_API"])


def test_only_the_package_awslambdaric_and_the_stdlib_are_importable(package, emulator,
                                                                     toolchain):
    root = package(probe=PROBE)
    result = emulator(probe_spec(root)).invoke({})

    # The dev venv running this test has httpx and pytest; the function must not see them.
    assert result["importable"] == {"httpx": False, "pytest": False, "local": False}
    allowed = {str(root.resolve()), str(toolchain.ric_dir)}
    stdlib = [entry for entry in result["path"] if entry not in allowed]
    assert str(root.resolve()) == result["path"][0]
    assert str(toolchain.ric_dir) in result["path"]
    for entry in stdlib:
        if entry in result["site_packages"]:
            # The clean venv's own site-packages, created empty (--without-pip).
            assert not any(Path(entry).iterdir()), f"{entry} is not empty"
        else:
            assert entry.startswith(result["base_prefix"] + "/lib/"), entry


def test_function_sees_its_environment_and_never_the_host_environment(package, emulator,
                                                                      monkeypatch):
    monkeypatch.setenv("HOST_ONLY_MARKER", "leaked")
    spec = probe_spec(package(probe=PROBE), environment={"TOPIC_NAME": "events", "LOG_LEVEL":
                                                         "DEBUG"}, timeout_s=12)
    environ = emulator(spec, extra_env={"AWS_REGION": "eu-west-1"}).invoke({})["environ"]

    assert environ["TOPIC_NAME"] == "events" and environ["LOG_LEVEL"] == "DEBUG"
    assert environ["AWS_REGION"] == "eu-west-1"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "probe"
    assert environ["AWS_LAMBDA_FUNCTION_TIMEOUT"] == "12"
    assert environ["_HANDLER"] == "probe.lambda_handler"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert environ["LAMBDA_TASK_ROOT"] == str(spec.package_dir.resolve())
    assert "HOST_ONLY_MARKER" not in environ
    assert "VIRTUAL_ENV" not in environ and "HOME" not in environ


def test_reserved_keys_in_the_function_environment_are_refused(package, toolchain, tmp_path):
    spec = probe_spec(package(probe=PROBE), environment={"AWS_REGION": "eu-west-1"})
    with pytest.raises(LambdaRuntimeError, match="probe: .*AWS_REGION, reserved by Lambda"):
        LambdaEmulator(spec, tmp_path / "x.log", toolchain=toolchain).start()


def test_module_missing_from_the_package_is_an_import_module_error(package, emulator):
    root = package(handler="import kafka_not_packaged\n\ndef lambda_handler(e, c):\n    pass\n")
    function = emulator(FunctionSpec("consumer", root, "handler.lambda_handler", {}))

    with pytest.raises(FunctionError) as failure:
        function.invoke({})

    assert failure.value.error_type == "Runtime.ImportModuleError"
    assert "kafka_not_packaged" in failure.value.error_message
    assert str(failure.value) == (
        "consumer: Runtime.ImportModuleError: Unable to import module 'handler': "
        "No module named 'kafka_not_packaged'")
    # Lambda retries init on the next invocation, and fails the same way.
    with pytest.raises(FunctionError, match="Runtime.ImportModuleError"):
        function.invoke({})


def test_renamed_handler_is_handler_not_found(package, emulator):
    function = emulator(probe_spec(package(probe=PROBE), handler="probe.renamed_handler"))

    with pytest.raises(FunctionError) as failure:
        function.invoke({})

    assert failure.value.error_type == "Runtime.HandlerNotFound"
    assert str(failure.value) == (
        "probe: Runtime.HandlerNotFound: Handler 'renamed_handler' missing on module 'probe'")


def test_handler_exception_is_a_function_error_and_the_runtime_stays_warm(package, emulator):
    function = emulator(probe_spec(package(probe=PROBE), handler="probe.boom"))

    for _ in range(2):
        with pytest.raises(FunctionError) as failure:
            function.invoke({})
        assert failure.value.error_type == "ValueError"
        assert failure.value.error_message == "boom"
        assert str(failure.value) == "probe: ValueError: boom"
        assert any("raise ValueError" in frame for frame in failure.value.stack_trace)


def test_a_result_shaped_like_an_error_is_still_a_result(package, emulator):
    # The RIE sends no X-Amz-Function-Error header: only the request id tells the two apart.
    root = package(lookalike="""
        def lambda_handler(event, context):
            return {"errorType": "Nope", "errorMessage": "just data", "requestId": "other"}
    """)
    result = emulator(probe_spec(root, handler="lookalike.lambda_handler")).invoke({})
    assert result == {"errorType": "Nope", "errorMessage": "just data", "requestId": "other"}


def test_timeout_is_sandbox_timedout_and_the_next_invocation_runs_again(package, emulator):
    root = package(slow="""
        import time

        def lambda_handler(event, context):
            time.sleep(event["seconds"])
            return "done"
    """)
    function = emulator(probe_spec(root, handler="slow.lambda_handler", timeout_s=1))

    with pytest.raises(FunctionError) as failure:
        function.invoke({"seconds": 5})

    assert failure.value.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in failure.value.error_message
    assert function.invoke({"seconds": 0}) == "done"


def test_stop_leaves_no_process_behind(package, emulator):
    function = emulator(probe_spec(package(probe=PROBE)))
    runtime_pid = function.invoke({})["pid"]
    rie_pid = function._process.pid
    assert alive(runtime_pid) and alive(rie_pid)

    function.stop()

    assert not alive(rie_pid)
    assert not alive(runtime_pid)
    assert session_members(rie_pid) == []
    function.stop()  # idempotent


def test_a_killed_emulator_is_reported_and_its_runtime_dies_with_it(package, emulator):
    function = emulator(probe_spec(package(probe=PROBE)))
    runtime_pid = function.invoke({})["pid"]
    rie_pid = function._process.pid
    os.kill(rie_pid, signal.SIGKILL)
    function._process.wait(5)
    # The runtime sits in its own process group, but dies with its RIE (PR_SET_PDEATHSIG, set by
    # the wrapper the RIE starts: local/processes.py).
    deadline = time.monotonic() + 5
    while alive(runtime_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(runtime_pid), "the runtime outlived its RIE"

    with pytest.raises(LambdaRuntimeError) as failure:
        function.invoke({})
    message = str(failure.value)
    assert message.startswith("probe: the emulator exited (code -9); last lines of ")
    assert str(function.log_path) in message and "\n" not in message

    function.stop()
    assert not alive(runtime_pid)
    assert session_members(rie_pid) == []


def test_cli_invoke_prints_the_result_and_fails_in_one_line(package, toolchain, tmp_path):
    root = package(probe=PROBE)
    event_file = tmp_path / "event.json"
    event_file.write_text('{"from": "file"}')

    ok = run_cli("invoke", "--package", str(root), "--handler", "probe.lambda_handler",
                 "--env", "TOPIC_NAME=events", "--event", f"@{event_file}")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert result["event"] == {"from": "file"}
    assert result["environ"]["TOPIC_NAME"] == "events"

    failed = run_cli("invoke", "--package", str(root), "--handler", "probe.boom")
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr == "local.lambda_runtime: package: ValueError: boom\n"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "local.lambda_runtime", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


def alive(pid: int) -> bool:
    """Running (a zombie only waits to be reaped: not alive)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


