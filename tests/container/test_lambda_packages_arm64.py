"""The Lambda packages on linux/arm64 with Python 3.13, as Lambda's arm64 python3.13 runtime runs
them: each package exactly as `pulumi up` builds it (manylinux2014_aarch64 wheels), inside a
Debian trixie arm64 tree under qemu, behind AWS's Runtime Interface Emulator built for arm64,
every call through the Invoke API (local/lambda_runtime/arm64.py).

On this x86_64 machine only this tier can load an aarch64 compiled wheel, and only it notices a
wheel built for the wrong platform. Nothing is skipped when a tool is missing: the module
fixture installs qemu, debootstrap and the rest, or fails with one line saying what to install
(root is needed, as for the API image tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from local.aws.server import FAKE_CREDENTIALS, REGION
from local.functions import localized
from local.lambda_runtime import (
    FunctionError,
    FunctionSpec,
    LambdaEmulator,
    LambdaRuntimeError,
    ensure_toolchain,
)
from local.lambda_runtime.arm64 import Arm64LambdaEmulator, guest_file
from local.lambda_runtime.arm64_toolchain import ensure_arm64_toolchain
from local.processes import session_members
from testing.deployables import LambdaDeployable, stack_deployables
from tests.fixtures.consumer import DeadLetterAws
from tests.fixtures.kafka import partitions

pytestmark = [
    pytest.mark.container,
    # A cold machine makes the Debian trixie arm64 tree with debootstrap (~5 min) first.
    pytest.mark.timeout(1800),
]

# What the execution role's credentials and Lambda's region variables stand for here.
ROLE = {**FAKE_CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
# A small wheel with a compiled part and a cp313 wheel per platform.
COMPILED_WHEEL = "markupsafe==3.0.3"
SPEEDUPS_HANDLER = """
import markupsafe._speedups  # the compiled module itself: no pure-Python fallback on this import


def lambda_handler(event, context):
    return markupsafe._speedups.__file__.rsplit("/", 1)[-1]
"""
PROBE_HANDLER = """
import os
import platform
import sys


def lambda_handler(event, context):
    writable = {}
    for folder in ("/var/task", "/tmp", "/"):
        try:
            with open(os.path.join(folder, "probe-write"), "w"):
                pass
            writable[folder] = True
        except OSError:
            writable[folder] = False
    return {
        "machine": platform.machine(),
        "version": list(sys.version_info[:2]),
        "cwd": os.getcwd(),
        "writable": writable,
        "dev_shm": os.path.exists("/dev/shm"),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "environ": dict(os.environ),
    }
"""


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timings(request):
    """(what, seconds) pairs, printed after the module's tests (also under -q)."""
    collected: list[tuple[str, float]] = []
    yield collected
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not collected:
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
        reporter.ensure_newline()
        for what, seconds in collected:
            reporter.write_line(f"[arm64 tier] {what}: {seconds:.2f} s")


@pytest.fixture(scope="module")
def arm64_tools(timings):
    started = time.monotonic()
    tools = ensure_arm64_toolchain()
    timings.append(("setup (ensure_arm64_toolchain)", time.monotonic() - started))
    return tools


@pytest.fixture(scope="module")
def dev_stack():
    return stack_deployables("dev")


@pytest.fixture
def arm64(tmp_path, arm64_tools):
    """Starts an Arm64LambdaEmulator for a spec; every one is stopped at teardown."""
    started: list[Arm64LambdaEmulator] = []

    def start(spec: FunctionSpec, extra_env: dict[str, str] | None = None,
              files: dict[str, Path] | None = None) -> Arm64LambdaEmulator:
        function = Arm64LambdaEmulator(spec, tmp_path / f"{spec.name}-{len(started)}.log",
                                       extra_env=extra_env, toolchain=arm64_tools, files=files)
        started.append(function)
        function.start()
        return function

    yield start
    for function in started:
        function.stop()


@pytest.fixture(scope="module")
def compiled_wheels(tmp_path_factory) -> dict[str, Path]:
    """COMPILED_WHEEL's cp313 wheel for each Lambda architecture, downloaded with pip as the
    machine configures it."""
    wheels = {}
    for platform in ("manylinux2014_aarch64", "manylinux2014_x86_64"):
        target = tmp_path_factory.mktemp(platform)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--implementation", "cp", "--python-version", "3.13",
             "--platform", platform, "--dest", str(target), COMPILED_WHEEL],
            check=True, capture_output=True, text=True, timeout=300)
        (wheels[platform],) = target.glob("*.whl")
    return wheels


@pytest.fixture
def probe_package(tmp_path) -> Path:
    return write_package(tmp_path / "probe", {"probe.py": PROBE_HANDLER})


def write_package(root: Path, modules: dict[str, str], wheel: Path | None = None) -> Path:
    """A package folder: the wheel unpacked (as pip --target would) plus the given modules."""
    root.mkdir(parents=True)
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root)
    for name, source in modules.items():
        (root / name).write_text(textwrap.dedent(source))
    return root


def spec_of(function: LambdaDeployable, environment: dict[str, str] | None = None) -> FunctionSpec:
    """The function as the program defines it, with its freshly built package."""
    return FunctionSpec(
        name=function.resource_name, package_dir=function.build(), handler=function.handler,
        environment=dict(function.environment if environment is None else environment),
        timeout_s=function.timeout_s, memory_mb=function.memory_mb)


def timed_invoke(function: Arm64LambdaEmulator, event, timings, what: str):
    started = time.monotonic()
    try:
        return function.invoke(event)
    finally:
        timings.append((what, time.monotonic() - started))


# --- the tier itself --------------------------------------------------------------------------


def test_inside_it_is_aarch64_and_python_313_laid_out_as_lambda(probe_package, arm64,
                                                               monkeypatch):
    monkeypatch.setenv("HOST_ONLY_MARKER", "leaked")
    function = arm64(FunctionSpec("probe", probe_package, "probe.lambda_handler", {}),
                     extra_env=ROLE)

    result = function.invoke({})

    assert result["machine"] == "aarch64"
    assert result["version"] == [3, 13]
    assert result["cwd"] == "/var/task"
    # Lambda's file system: read-only but /tmp; and no /dev/shm.
    assert result["writable"] == {"/var/task": False, "/tmp": True, "/": False}
    assert result["dev_shm"] is False
    environ = result["environ"]
    assert environ["LAMBDA_TASK_ROOT"] == "/var/task"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert environ["PYTHONPATH"] == "/var/task:/var/runtime"
    assert environ["AWS_REGION"] == REGION
    assert "HOST_ONLY_MARKER" not in environ and "HOME" not in environ
    # Its own pid namespace: the RIE is pid 1, and no host process is visible.
    assert 1 in result["pids"] and len(result["pids"]) < 10, result["pids"]


def test_stop_leaves_no_process_and_no_mount_behind(probe_package, arm64, arm64_tools):
    function = arm64(FunctionSpec("probe", probe_package, "probe.lambda_handler", {}))
    function.invoke({})
    session = function._process.pid
    assert len(session_members(session)) >= 3  # unshare, the RIE, the runtime
    # The sandbox's mounts live in its own namespace: the host's never shows them.
    assert mounts_under(arm64_tools.rootfs) == []

    function.stop()

    assert session_members(session) == []
    assert mounts_under(arm64_tools.rootfs) == []
    function.stop()  # idempotent


def test_a_killed_sandbox_is_reported_and_leaves_nothing_behind(probe_package, arm64):
    function = arm64(FunctionSpec("probe", probe_package, "probe.lambda_handler", {}))
    function.invoke({})
    session = function._process.pid
    os.kill(session, signal.SIGKILL)  # unshare: the kernel then ends the whole namespace
    function._process.wait(5)

    with pytest.raises(LambdaRuntimeError, match=r"^probe: the emulator exited \(code -9\)"):
        function.invoke({})
    function.stop()
    assert session_members(session) == []


# --- compiled wheels: the reason for this tier ------------------------------------------------


def test_a_compiled_aarch64_wheel_loads(tmp_path, compiled_wheels, arm64):
    package = write_package(tmp_path / "package", {"handler.py": SPEEDUPS_HANDLER},
                            compiled_wheels["manylinux2014_aarch64"])
    function = arm64(FunctionSpec("speedups", package, "handler.lambda_handler", {}))

    assert function.invoke({}) == "_speedups.cpython-313-aarch64-linux-gnu.so"


def test_a_wheel_for_the_wrong_platform_fails_init_with_import_module_error(
        tmp_path, compiled_wheels, arm64):
    package = write_package(tmp_path / "package", {"handler.py": SPEEDUPS_HANDLER},
                            compiled_wheels["manylinux2014_x86_64"])
    function = arm64(FunctionSpec("speedups", package, "handler.lambda_handler", {}))

    with pytest.raises(FunctionError) as failure:
        function.invoke({})

    assert failure.value.error_type == "Runtime.ImportModuleError"
    assert "markupsafe._speedups" in failure.value.error_message


def test_the_x86_64_tier_cannot_see_that_wrong_platform(tmp_path, compiled_wheels):
    # Why this tier exists: the host's emulator loads the x86_64 build without complaint.
    package = write_package(tmp_path / "package", {"handler.py": SPEEDUPS_HANDLER},
                            compiled_wheels["manylinux2014_x86_64"])
    spec = FunctionSpec("speedups", package, "handler.lambda_handler", {})
    with LambdaEmulator(spec, tmp_path / "x86_64.log", toolchain=ensure_toolchain()) as function:
        assert function.invoke({}) == "_speedups.cpython-313-x86_64-linux-gnu.so"


# --- the dev stack's packages -----------------------------------------------------------------


def test_every_function_of_the_dev_stack_is_run_here(dev_stack):
    # Each test below starts one of them and gets an answer from its handler, which proves the
    # init: every module and every wheel of the package loads on aarch64 under Python 3.13. A
    # function the program adds needs its own test here.
    assert set(dev_stack.functions) == {"consumer", "topic_admin"}


def test_the_consumer_dead_letters_the_aws_example_msk_event_to_sqs(
        dev_stack, local_aws, aws_msk_event, arm64, timings):
    function = dev_stack.function("consumer")
    dead_letters = DeadLetterAws(local_aws, f"arm64-dl-{uuid.uuid4().hex[:12]}")
    environment = localized(function.environment, {
        "DEAD_LETTER_QUEUE_URL": dead_letters.queue_url,
        "DEAD_LETTER_BUCKET": dead_letters.bucket})
    emulator = arm64(spec_of(function, environment),
                     extra_env={**ROLE, **local_aws.client_env()})

    cold = timed_invoke(emulator, aws_msk_event, timings, "consumer: cold init + MSK event")
    warm = timed_invoke(emulator, aws_msk_event, timings, "consumer: warm invoke, MSK event")

    # AWS's example value ("Hello, this is a test.") is not JSON: poison by the contract.
    assert cold == warm == {"processed": 0, "dead_lettered": 1}
    letters = dead_letters.drain()
    assert len(letters) == 2, letters  # one per invocation, in the local queue
    raw = aws_msk_event["records"]["mytopic-0"][0]
    for letter in letters:
        assert (letter["topic"], letter["partition"], letter["offset"]) == ("mytopic", 0, 15)
        assert letter["reason"].startswith("value is not JSON")
        assert letter["value"] == raw["value"]
    log = emulator.log_path.read_text()
    assert log.count("REPORT RequestId") == 2 and "Init Duration" in log


def test_the_topic_provisioner_refuses_a_bad_request(dev_stack, arm64, timings):
    emulator = arm64(spec_of(dev_stack.function("topic_admin")), extra_env=ROLE)

    with pytest.raises(FunctionError) as failure:
        timed_invoke(emulator, {"topic": "", "partitions": 0}, timings,
                     "topic provisioner: cold init + bad request")

    assert failure.value.error_type == "ProvisioningFailed"
    message = failure.value.error_message
    assert message.startswith("InvalidRequest: topic '': "), message
    assert "partitions 0: must be a whole number of at least 1" in message


def test_the_topic_provisioner_creates_a_topic_on_the_local_broker(dev_stack, kafka_broker,
                                                                   arm64, timings):
    # As the topic-admin principal over SASL_SSL with MSK IAM tokens signed under qemu.
    function = dev_stack.function("topic_admin")
    topic = f"arm64-{uuid.uuid4().hex[:12]}"
    kafka_broker.grant(topic)  # the program's policies rendered for this topic name
    client_env = {**kafka_broker.client_env("topic-admin"),
                  "KAFKA_CA_FILE": guest_file("kafka-ca.pem")}
    program = {k: v for k, v in client_env.items() if k in function.environment}
    role = {k: v for k, v in client_env.items() if k not in function.environment}
    emulator = arm64(spec_of(function, localized(function.environment, program)),
                     extra_env=role, files={"kafka-ca.pem": Path(kafka_broker.ca_file)})
    request = {"topic": topic, "partitions": 2}

    first = timed_invoke(emulator, request, timings, "topic provisioner: cold init + create")
    second = timed_invoke(emulator, request, timings, "topic provisioner: warm, unchanged")

    assert first == {"topic": topic, "partitions": 2, "action": "created"}
    assert second == {**first, "action": "unchanged"}
    assert partitions(kafka_broker, topic) == 2


# --- helpers ----------------------------------------------------------------------------------



def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    with open("/proc/self/mountinfo") as mountinfo:
        points = [line.split()[4] for line in mountinfo]
    return [point for point in points if point == prefix or point.startswith(prefix + "/")]


