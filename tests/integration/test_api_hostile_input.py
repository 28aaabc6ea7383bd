"""Issue 27 against the real server process (`python -m event_api`, Kafka disabled): a stream of
headers is cut off with 431, blank-line drips cannot hold every connection slot, and request
lines that are not HTTP/1.x never reach the application. In-process details (boundaries, no
event written, Idempotency-Key forms): tests/unit/test_api_hostile_input.py."""

from __future__ import annotations

import json
import select
import socket
import time

import pytest

from tests.integration.test_api_server_limits import (
    _access_lines,
    _closed_by_server,
    _read_response,
)

READ_TIMEOUT_S = 2
MAX_CONNECTIONS = 10
GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: api.example\r\n\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from local.api_server import launch_api_server

    started = launch_api_server(
        {"KAFKA_DISABLED": "true", "HTTP_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
         "HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS)},
        tmp_path_factory.mktemp("hostile"), workers=1)
    yield started
    started.stop()


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


@pytest.mark.parametrize("filler", [b"X-Big: " + b"b" * 65536, b"a:b\r\n" * 13000],
                         ids=["one endless header", "tiny headers"])
def test_a_stream_of_headers_is_cut_off_with_431(server, filler):
    """27.1: one connection sent 1.2 GB of headers in 3.3 s and the worker buffered them all."""
    with _connect(server) as sock:
        sock.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
        sent = 0
        try:
            while sent < 64 * 1024 * 1024:  # the server must stop us long before 64 MB
                sock.sendall(filler)
                sent += len(filler)
                if select.select([sock], [], [], 0)[0]:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        status, headers, body = _read_response(sock)
        assert (status, headers["content-type"]) == (431, "application/problem+json")
        assert json.loads(body)["status"] == 431
        assert sent < 8 * 1024 * 1024
        assert _closed_by_server(sock)


def test_blank_line_drips_cannot_hold_every_connection_slot(server):
    """27.2: after one request, a drip of CRLF cancelled the keep-alive timer byte by byte and
    never armed the read timer: MAX_CONNECTIONS such clients held every slot for ever."""
    drips = [_connect(server) for _ in range(MAX_CONNECTIONS)]
    for sock in drips:
        sock.sendall(GET_HELLO)
        assert _read_response(sock)[0] == 200
    started = time.monotonic()
    open_ = set(drips)
    while open_ and time.monotonic() - started < READ_TIMEOUT_S + 3:
        for sock in list(open_):
            try:
                sock.sendall(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                open_.discard(sock)
        for sock in select.select(list(open_), [], [], 0.2)[0]:
            try:
                if not sock.recv(65536):
                    open_.discard(sock)
            except ConnectionResetError:
                open_.discard(sock)
    assert not open_, f"{len(open_)} dripping connections still open"
    assert time.monotonic() - started < READ_TIMEOUT_S + 3
    for sock in drips:
        sock.close()
    with _connect(server) as sock:
        sock.sendall(GET_HELLO)
        assert _read_response(sock)[0] == 200


@pytest.mark.parametrize("line, status", [(b"GET /current_time?name=Ada", 400),
                                          (b"GET /current_time?name=Ada HTTP/0.9", 400),
                                          (b"GET /current_time?name=Ada HTTP/2.0", 505)])
def test_request_lines_that_are_not_http_1_are_refused_before_the_app(server, line, status):
    before = len(_access_lines(server))
    with _connect(server) as sock:
        sock.sendall(line + b"\r\nHost: x\r\n\r\n")
        answered, headers, _ = _read_response(sock)
        assert (answered, headers["content-type"]) == (status, "application/problem+json")
        assert _closed_by_server(sock)
    time.sleep(0.2)
    statuses = [line["status"] for line in _access_lines(server)[before:]]
    assert status in statuses and 503 not in statuses  # never the app's 503 (no Kafka)
