"""The real server process (`python -m event_api`, Kafka disabled: no broker needed) against hostile
and slow clients on raw sockets: malformed and smuggling-shaped requests, slowloris, too many
connections, and kept-alive connections idle up to the load balancer's timeout (issue 15)."""

from __future__ import annotations

import json
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.api_server import ApiServer

READ_TIMEOUT_S = 2
MAX_CONNECTIONS = 20
ALB_DEFAULT_IDLE_TIMEOUT_S = 60
GET_HELLO = b"GET /hello HTTP/1.1\r\nHost: api.example\r\n\r\n"


def _connect(server: ApiServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a content-length body (all this server sends)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a full response head: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def _closed_by_server(sock: socket.socket) -> bool:
    """True if the server closed the connection (whatever it wrote before), within 5 s."""
    sock.settimeout(5)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _access_lines(server: ApiServer) -> list[dict]:
    return [json.loads(line) for line in server.log_text().splitlines()
            if line.startswith("{") and '"event_api.access"' in line]


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory):
    from local.api_server import launch_api_server

    server = launch_api_server(
        {"KAFKA_DISABLED": "true", "HTTP_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
         "HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS)},
        tmp_path_factory.mktemp("limits"), workers=1)
    yield server
    server.stop()


@pytest.mark.parametrize("request_bytes", [
    # Both framings at once: a proxy and this server could disagree on where the request ends.
    b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"0\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
    b"0\r\n\r\n",
    b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"GET /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /he llo HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS hello on plain HTTP
])
def test_malformed_and_ambiguous_requests_get_a_logged_problem_json_400(limited_server,
                                                                        request_bytes):
    before = len(_access_lines(limited_server))
    with _connect(limited_server) as sock:
        sock.sendall(request_bytes)
        status, headers, body = _read_response(sock)
        assert status == 400
        assert headers["content-type"] == "application/problem+json"
        problem = json.loads(body)
        assert problem["status"] == 400 and problem["detail"].startswith("Malformed HTTP")
        assert _closed_by_server(sock)
    time.sleep(0.2)
    logged = _access_lines(limited_server)[before:]
    assert any(line["status"] == 400 and "Malformed" in line["error"] for line in logged)


@pytest.mark.parametrize("partial", [b"", b"GET /hello HTTP/1.1\r\nHost: x\r\n"],
                         ids=["no bytes", "partial headers"])
def test_a_slow_client_is_answered_408_and_disconnected_after_the_read_timeout(limited_server,
                                                                               partial):
    with _connect(limited_server) as sock:
        started = time.monotonic()
        sock.sendall(partial)
        status, headers, body = _read_response(sock)
        waited = time.monotonic() - started
        assert status == 408 and headers["content-type"] == "application/problem+json"
        assert READ_TIMEOUT_S - 0.2 <= waited < READ_TIMEOUT_S + 2
        assert _closed_by_server(sock)


def test_dripping_bytes_does_not_extend_the_read_timeout(limited_server):
    """uvicorn resets its keep-alive timer on every byte; the read timeout must not."""
    request = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    with _connect(limited_server) as sock:
        started = time.monotonic()
        closed = False
        for byte in request:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            time.sleep(0.1)
            if time.monotonic() - started > READ_TIMEOUT_S + 3:
                break
        assert closed or _closed_by_server(sock)
        assert time.monotonic() - started < READ_TIMEOUT_S + 3


def test_a_slowloris_cannot_exhaust_descriptors_and_the_server_recovers(limited_server):
    worker = _worker_pid(limited_server)
    idle = [_connect(limited_server) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.3)
    # Over the cap: answered 503 and closed at once, not held.
    extra = []
    for _ in range(3 * MAX_CONNECTIONS):
        sock = _connect(limited_server)
        extra.append(sock)
    refused = 0
    for sock in extra:
        status, headers, _ = _read_response(sock)
        refused += status == 503 and headers.get("retry-after") is not None
        sock.close()
    assert refused == 3 * MAX_CONNECTIONS
    assert _open_descriptors(worker) < MAX_CONNECTIONS + 64
    # The idle ones are cut off by the read timeout, after which the server serves again.
    time.sleep(READ_TIMEOUT_S + 0.5)
    assert all(_closed_by_server(sock) for sock in idle)
    for sock in idle:
        sock.close()
    with _connect(limited_server) as sock:
        sock.sendall(GET_HELLO)
        assert _read_response(sock)[0] == 200


def test_kept_alive_connections_idle_just_under_the_alb_timeout_are_still_served(api_server):
    """Issue 15.4: the ALB reuses an idle backend connection for up to its idle timeout (60 s by
    default). uvicorn's default 5 s keep-alive closed such connections under the ALB's feet:
    the next request on them got no answer (a 502 at the ALB). Without HTTP_KEEPALIVE_TIMEOUT_S
    set, a connection idle for just under 60 s must still answer on the same socket."""
    server = api_server({"KAFKA_DISABLED": "true"}, workers=2)
    sockets = [_connect(server) for _ in range(20)]
    for sock in sockets:
        sock.sendall(GET_HELLO)
        assert _read_response(sock)[0] == 200
    time.sleep(ALB_DEFAULT_IDLE_TIMEOUT_S - 1)

    def reuse(sock: socket.socket) -> int:
        sock.sendall(GET_HELLO)
        return _read_response(sock)[0]

    with ThreadPoolExecutor(len(sockets)) as pool:
        statuses = list(pool.map(reuse, sockets))
    for sock in sockets:
        sock.close()
    assert statuses == [200] * len(sockets)


def test_the_keepalive_timeout_comes_from_the_environment(api_server):
    server = api_server({"KAFKA_DISABLED": "true", "HTTP_KEEPALIVE_TIMEOUT_S": "1"}, workers=1)
    with _connect(server) as sock:
        sock.sendall(GET_HELLO)
        assert _read_response(sock)[0] == 200
        time.sleep(2)
        assert _closed_by_server(sock)


def _worker_pid(server: ApiServer) -> int:
    """The process holding the client sockets: the server itself with one worker."""
    pid = server.process.pid
    children = [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    return max([pid, *children], key=_open_descriptors)


def _open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
