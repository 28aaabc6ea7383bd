"""Start-up configuration: defaults, every rule, and the exit-2 path without a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from event_api.settings import SettingsError, load_settings

from tests.fixtures.docs import page, section

API_DIR = Path(__file__).resolve().parents[2] / "services" / "api"
BASE = {"KAFKA_BOOTSTRAP_SERVERS": "b-1.example:9098", "AWS_REGION": "eu-west-1"}


def test_defaults():
    s = load_settings(BASE)
    assert s.bootstrap_servers == ("b-1.example:9098",)
    assert s.topic == "events"
    assert s.security_protocol == "SASL_SSL"
    assert s.region == "eu-west-1"
    assert s.ca_file is None
    assert s.enable_idempotence is False
    assert s.send_timeout_ms == 5000
    assert s.linger_ms == 0
    # Idle kept-alive connections outlive the ALB's default 60 s idle timeout (issue 15.4).
    assert s.keepalive_timeout_s > 60
    assert (s.request_read_timeout_s, s.max_connections) == (10, 1000)
    assert (s.port, s.bind_host, s.web_concurrency) == (8000, "0.0.0.0", 1)
    assert s.kafka_disabled is False


def test_overrides(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    s = load_settings({
        "KAFKA_BOOTSTRAP_SERVERS": "a:1, [::1]:9092,10.0.0.1:65535",
        "KAFKA_TOPIC": "my.topic_1-x",
        "KAFKA_SECURITY_PROTOCOL": "plaintext",
        "KAFKA_CA_FILE": str(ca),
        "KAFKA_ENABLE_IDEMPOTENCE": "true",
        "KAFKA_SEND_TIMEOUT_MS": "1500",
        "HTTP_KEEPALIVE_TIMEOUT_S": "35", "HTTP_REQUEST_READ_TIMEOUT_S": "3",
        "HTTP_MAX_CONNECTIONS": "50",
        "PORT": "9000", "BIND_HOST": "127.0.0.1", "WEB_CONCURRENCY": "4",
    })
    assert s.bootstrap_servers == ("a:1", "[::1]:9092", "10.0.0.1:65535")
    assert s.security_protocol == "PLAINTEXT" and s.region is None
    assert (s.topic, s.ca_file) == ("my.topic_1-x", str(ca))
    assert s.enable_idempotence is True and s.send_timeout_ms == 1500
    assert (s.keepalive_timeout_s, s.request_read_timeout_s, s.max_connections) == (35, 3, 50)
    assert (s.port, s.bind_host, s.web_concurrency) == (9000, "127.0.0.1", 4)


@pytest.mark.parametrize(
    "overrides, needle",
    [
        ({"KAFKA_BOOTSTRAP_SERVERS": ""}, "KAFKA_BOOTSTRAP_SERVERS is empty"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "broker"}, "not host:port (port 1..65535): 'broker'"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "broker:0"}, "not host:port (port 1..65535): 'broker:0'"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "broker:70000"}, "are not host:port"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "a:1,,b:2"}, "not host:port (port 1..65535): ''"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "bad host:1"}, "are not host:port"),
        ({"KAFKA_TOPIC": "has space"}, "KAFKA_TOPIC='has space' is not a legal"),
        ({"KAFKA_TOPIC": "a" * 250}, "KAFKA_TOPIC="),
        ({"KAFKA_TOPIC": ".."}, "is not a legal Kafka topic"),
        ({"KAFKA_TOPIC": "ünïcode"}, "is not a legal Kafka topic"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL"}, "KAFKA_SECURITY_PROTOCOL='SSL' is not one of"),
        ({"AWS_REGION": ""}, "AWS_REGION is required"),
        ({"KAFKA_CA_FILE": "/nonexistent/ca.pem"}, "KAFKA_CA_FILE='/nonexistent/ca.pem' does not"),
        ({"KAFKA_ENABLE_IDEMPOTENCE": "maybe"}, "IDEMPOTENCE='maybe' is not a boolean"),
        ({"HTTP_KEEPALIVE_TIMEOUT_S": "0"}, "HTTP_KEEPALIVE_TIMEOUT_S='0' is out of range"),
        ({"HTTP_REQUEST_READ_TIMEOUT_S": "soon"}, "READ_TIMEOUT_S='soon' is not an integer"),
        ({"HTTP_MAX_CONNECTIONS": "0"}, "HTTP_MAX_CONNECTIONS='0' is out of range"),
        ({"KAFKA_SEND_TIMEOUT_MS": "50"}, "KAFKA_SEND_TIMEOUT_MS='50' is out of range"),
        ({"KAFKA_SEND_TIMEOUT_MS": "20001"}, "KAFKA_SEND_TIMEOUT_MS='20001' is out of range"),
        ({"KAFKA_SEND_TIMEOUT_MS": "1e3"}, "is not an integer"),
        ({"KAFKA_LINGER_MS": "-1"}, "KAFKA_LINGER_MS='-1' is out of range"),
        ({"KAFKA_BATCH_SIZE": "10"}, "KAFKA_BATCH_SIZE='10' is out of range"),
        ({"PORT": "http"}, "PORT='http' is not an integer"),
        ({"PORT": "65536"}, "PORT='65536' is out of range"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY='0' is out of range"),
        ({"KAFKA_DISABLED": "perhaps"}, "KAFKA_DISABLED='perhaps' is not a boolean"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not one of"),
    ],
)
def test_each_bad_value_has_one_clear_message(overrides, needle):
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **overrides})
    assert len(caught.value.messages) == 1, caught.value.messages
    assert needle in caught.value.messages[0]


def test_all_problems_are_reported_together():
    with pytest.raises(SettingsError) as caught:
        load_settings({"KAFKA_TOPIC": "bad topic", "PORT": "x"})
    joined = "\n".join(caught.value.messages)
    assert "KAFKA_BOOTSTRAP_SERVERS" in joined and "KAFKA_TOPIC" in joined and "PORT" in joined
    assert "AWS_REGION" in joined
    assert len(caught.value.messages) == 4


def test_plaintext_needs_no_region():
    s = load_settings({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
                       "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"})
    assert s.region is None


def test_disabled_allows_empty_bootstrap_and_no_region():
    s = load_settings({"KAFKA_DISABLED": "true", "KAFKA_BOOTSTRAP_SERVERS": ""})
    assert s.kafka_disabled and s.bootstrap_servers == ()


def _run_main(env):
    clean = {"PATH": os.environ["PATH"], **env}
    return subprocess.run([sys.executable, "-m", "event_api"], env=clean, cwd=API_DIR,
                          capture_output=True, text=True, timeout=60)


def test_entry_point_exits_2_with_one_line_per_bad_value_and_no_traceback():
    result = _run_main({"KAFKA_TOPIC": "bad topic", "WEB_CONCURRENCY": "lots"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line]
    assert len(lines) == 4, lines  # bootstrap, topic, region, workers
    assert all(line.startswith("event_api: configuration error: ") for line in lines)


def test_entry_point_rejects_empty_bootstrap_unless_disabled():
    result = _run_main({"AWS_REGION": "eu-west-1"})
    assert result.returncode == 2
    assert "KAFKA_DISABLED=true" in result.stderr


def test_the_documented_table_is_generated_from_the_declarations():
    from event_api.settings import VARIABLES, markdown_table

    documented = section(page("configuration.md"), "The API's environment variables")
    assert markdown_table() in documented, \
        "docs/configuration.md's API variables table: paste markdown_table()"
    assert [v.name for v in VARIABLES] == [line.split("`")[1] for line in
                                           markdown_table().splitlines()[2:]]
