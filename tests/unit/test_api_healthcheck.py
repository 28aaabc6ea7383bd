"""`python -m event_api.healthcheck` against a stdlib HTTP server on loopback."""

import http.server
import threading

import pytest
from event_api import healthcheck


@pytest.fixture
def http_server():
    status = {"code": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - stdlib API
            self.send_response(status["code"] if self.path == "/healthcheck" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield server.server_address[1], status
    server.shutdown()
    server.server_close()


def test_200_means_healthy(http_server):
    port, _ = http_server
    assert healthcheck.check(port) is True


@pytest.mark.parametrize("code", [500, 503])
def test_non_200_means_unhealthy(http_server, code):
    port, status = http_server
    status["code"] = code
    assert healthcheck.check(port) is False


def test_main_reads_port_and_rejects_garbage(http_server, monkeypatch):
    port, _ = http_server
    monkeypatch.setenv("PORT", str(port))
    assert healthcheck.main() == 0
    monkeypatch.setenv("PORT", "eighty")
    assert healthcheck.main() == 1


def test_silent_server_times_out_within_the_bound():
    import socket
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP handshake but never answers
    try:
        started = time.monotonic()
        assert healthcheck.check(listener.getsockname()[1], timeout_s=0.5) is False
        assert time.monotonic() - started < 2
    finally:
        listener.close()
