"""The linux/arm64 API image, run for real: what Fargate will start is proven here, not assumed.

One container (module scope) serves a handful of requests: under qemu every request is slow, and
throughput is measured natively elsewhere. The stop test runs last and stops that container.
"""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaConsumer
from msk_iam_client import client_security_options

from tests.fixtures.container import (
    docker,
    docker_exec_argv,
    ecs_health_check_command,
    ecs_stop_timeout_s,
)

pytestmark = [
    pytest.mark.container,
    pytest.mark.integration,
    # A cold machine builds the base with debootstrap (~5 min) before the first test runs.
    pytest.mark.timeout(1800),
]


def test_healthcheck_answers_200(api_container):
    status, body = api_container.get("/healthcheck")
    assert status == 200, body


def test_ecs_health_check_command_passes_inside_the_container(api_container):
    command = ecs_health_check_command()
    result = api_container.exec(*docker_exec_argv(command))
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_healthcheck_is_the_ecs_command(api_container):
    configured = json.loads(api_container.inspect("{{json .Config.Healthcheck.Test}}"))
    assert configured == ecs_health_check_command()


def test_current_time_event_is_read_back_by_an_independent_consumer(
    api_container, kafka_broker, monkeypatch
):
    status, body = api_container.get("/current_time?name=Graviton")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["message"] == "Hello, Graviton!"
    assert abs(answer["timestamp"] - time.time()) < 300

    for name, value in kafka_broker.client_env("consumer").items():
        monkeypatch.setenv(name, value)  # the consumer's token provider signs with these
    consumer = KafkaConsumer(
        api_container.topic,
        bootstrap_servers=kafka_broker.sasl_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **client_security_options("SASL_SSL", kafka_broker.region, kafka_broker.ca_file),
    )
    try:
        records = read_until(consumer, count=1, timeout_s=60)
        records += read_until(consumer, count=1, timeout_s=2)  # a duplicate would show here
    finally:
        consumer.close()
    assert len(records) == 1, f"expected the one event, read {len(records)}"
    record = records[0]
    assert record.key == b"Graviton"
    event = json.loads(record.value)
    assert event["message"] == answer["message"]
    assert event["timestamp"] == answer["timestamp"]
    assert dict(record.headers)["event_id"].decode() == event["event_id"]


def read_until(consumer: KafkaConsumer, count: int, timeout_s: float) -> list:
    records: list = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records


def test_runs_as_non_root_on_aarch64(api_container):
    uid = api_container.exec("id", "-u")
    assert uid.returncode == 0 and uid.stdout.strip() != "0", uid
    machine = api_container.exec("uname", "-m")
    assert machine.stdout.strip() == "aarch64", machine
    main_process_user = api_container.inspect("{{.Config.User}}")
    assert main_process_user and main_process_user.split(":")[0] not in ("0", "root")


def test_no_pip_and_no_compiler_in_the_image(api_container):
    for tool in ("pip", "pip3", "gcc", "cc", "c++", "make"):
        found = api_container.exec("/bin/sh", "-c", f"command -v {tool}")
        assert found.returncode != 0, f"{tool} is in the image at {found.stdout.strip()}"
    for module in ("pip", "ensurepip"):
        result = api_container.exec("python", "-m", module, "--version")
        assert result.returncode != 0, f"python -m {module} works: {result.stdout}"
        assert f"No module named {module}" in result.stderr
    wheels = api_container.exec(
        "/bin/sh", "-c", "find / -xdev \\( -name 'pip-*.whl' -o -name 'pip' -type d \\) -print"
    )
    assert wheels.stdout.strip() == "", f"pip left in the image: {wheels.stdout}"


def test_root_filesystem_is_read_only_and_tmp_is_writable(api_container):
    assert api_container.exec("/bin/sh", "-c", "touch /app/x").returncode != 0
    assert api_container.exec("/bin/sh", "-c", "touch /tmp/x").returncode == 0


def test_dockerfile_builds_unchanged_with_docker_buildkit(buildkit_image):
    config = json.loads(docker("image", "inspect", "--format",
                               "{{json .}}", buildkit_image).stdout)
    assert config["Architecture"] == "arm64"
    assert config["Config"]["User"] == "10001:10001"
    assert config["Config"]["Healthcheck"]["Test"] == ecs_health_check_command()
    probe = docker(
        "run", "--rm", "--platform", "linux/arm64", "--network", "none", "--read-only",
        "--entrypoint", "/bin/sh", buildkit_image, "-c",
        "python -c 'import event_api.app' && ! python -m pip --version 2>/dev/null "
        "&& test ! -e /run/secrets/ca.pem && uname -m",
        check=False,
    )
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.strip() == "aarch64"


def test_sigterm_stops_the_service_with_exit_code_0_within_the_stop_timeout(api_container):
    # Last in this module: it stops the shared container.
    stop_timeout = ecs_stop_timeout_s()
    started = time.monotonic()
    stopped = docker(
        "stop", "--time", str(stop_timeout), api_container.name, timeout=stop_timeout + 60
    )
    elapsed = time.monotonic() - started
    assert stopped.returncode == 0, stopped.stderr
    state = json.loads(api_container.inspect("{{json .State}}"))
    assert state["Running"] is False
    assert state["ExitCode"] == 0, f"exit code {state['ExitCode']}:\n{api_container.logs()}"
    # Docker sends SIGKILL at the timeout, which would give 137; also check we left before it.
    assert elapsed < stop_timeout, f"took {elapsed:.1f}s, stop timeout is {stop_timeout}s"
