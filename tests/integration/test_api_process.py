"""The production entry point and the container health check, as real processes on loopback
(no broker needed: Kafka disabled, or pointed at a port where nothing listens)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.fixtures.api_server import free_port

API_DIR = Path(__file__).resolve().parents[2] / "services" / "api"


def run_healthcheck(port: int) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "PORT": str(port)}
    return subprocess.run([sys.executable, "-m", "event_api.healthcheck"], env=env,
                          capture_output=True, timeout=10)


def test_disabled_kafka_serves_hello_and_health_and_503_for_kafka_routes(api_server):
    server = api_server({"KAFKA_DISABLED": "true"})
    base = server.base_url
    assert httpx.get(base + "/hello", timeout=5).json() == {"message": "Hello, World!"}
    for path in ("/readyz", "/current_time?name=Ada"):
        response = httpx.get(base + path, timeout=5)
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert "disabled" in response.json()["detail"].lower()
    assert run_healthcheck(server.port).returncode == 0
    assert server.terminate() == 0


def test_healthcheck_fails_when_nothing_listens():
    assert run_healthcheck(free_port()).returncode == 1


def test_unreachable_kafka_at_startup_keeps_the_service_live_but_not_ready(api_server):
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_SEND_TIMEOUT_MS": "1000",
    }
    server = api_server(env)
    assert httpx.get(server.base_url + "/healthcheck", timeout=5).status_code == 200
    ready = httpx.get(server.base_url + "/readyz", timeout=5)
    assert ready.status_code == 503 and ready.headers["retry-after"]
    response = httpx.get(server.base_url + "/current_time?name=Ada", timeout=5)
    assert response.status_code == 503
    assert run_healthcheck(server.port).returncode == 0
    assert server.process.poll() is None  # no crash loop
    assert server.terminate() == 0


def test_openapi_document_is_served_by_the_real_server(api_server):
    server = api_server({"KAFKA_DISABLED": "true"}, workers=1)
    doc = httpx.get(server.base_url + "/openapi.json", timeout=5).json()
    assert doc["openapi"].startswith("3.")
    assert "/current_time" in doc["paths"]
