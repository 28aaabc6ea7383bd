"""Hostile input against the guarded protocol in-process (issue 27): the real parser and the real
app (around the publisher double) on a loopback socket, so a test can see both what the client
gets and whether an event was written.

- request heads are bounded in bytes and in header fields: 431 and close (27.1);
- bytes that are not a request cannot hold a kept-alive connection past the read timeout (27.2);
- header values lose trailing whitespace, a repeated Idempotency-Key is a 400, HTTP/0.9-style
  and HTTP/2.0 request lines are refused without an event (27.3);
- Idempotency-Key as clients send it: plain, scoped, or the draft's quoted string (27.4).
The same limits against the real server process: tests/integration/test_api_hostile_input.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import warnings

import pytest
import uvicorn
from event_api.app import build_app
from event_api.http_protocol import GuardedHttpToolsProtocol
from event_api.idempotency import derived_event_id
from uvicorn.server import ServerState

from tests.fixtures.api_server import PublisherDouble

HEAD_LIMIT = 4096
HEADER_LIMIT = 20
READ_TIMEOUT_S = 0.5
KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def _exchange(raw: bytes | list[bytes], publisher: PublisherDouble | None = None, *,
              pause_s: float = 0.0, wait_s: float = 2.0, responses: int | None = None,
              **limits) -> tuple[bytes, bool, float]:
    """Send `raw` (or its parts, `pause_s` apart) to a fresh server; return everything it wrote
    until it closed (or `wait_s` passed, or `responses` complete responses came on a connection
    kept alive), whether it closed, and when (s after connecting)."""
    return asyncio.run(_exchange_async(raw, publisher or PublisherDouble(), pause_s, wait_s,
                                       responses, limits))


def _complete_responses(data: bytes) -> int:
    """How many whole responses (head and Content-Length body) `data` holds."""
    count = 0
    while True:
        head, blank, rest = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:[ \t]*(\d+)", head)
        if not blank or len(rest) < (int(length.group(1)) if length else 0):
            return count
        count += 1
        data = rest[int(length.group(1)) if length else 0:]


async def _exchange_async(raw, publisher, pause_s, wait_s, responses, limits):
    config = uvicorn.Config(app=build_app(publisher), http=GuardedHttpToolsProtocol,
                            lifespan="off", log_config=None, access_log=False,
                            timeout_keep_alive=75)
    config.load()
    config.request_read_timeout_s = limits.get("read_timeout_s", READ_TIMEOUT_S)
    config.max_connections = 10
    config.max_request_head_bytes = limits.get("head_bytes", HEAD_LIMIT)
    config.max_request_headers = limits.get("headers", HEADER_LIMIT)
    state = ServerState()
    loop = asyncio.get_running_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server = await loop.create_server(
        lambda: GuardedHttpToolsProtocol(config=config, server_state=state, app_state={}),
        sock=listener)
    reader, writer = await asyncio.open_connection(*listener.getsockname())
    started = loop.time()
    received = bytearray()
    closed_at = None
    answered = asyncio.Event()

    async def read_all():
        nonlocal closed_at
        try:
            while chunk := await reader.read(65536):
                received.extend(chunk)
                if responses and _complete_responses(bytes(received)) >= responses:
                    answered.set()
        except ConnectionError:
            pass
        closed_at = loop.time() - started

    reading = asyncio.ensure_future(read_all())
    try:
        for part in [raw] if isinstance(raw, bytes) else raw:
            if reading.done():
                break
            writer.write(part)
            await writer.drain()
            if pause_s:
                await asyncio.sleep(pause_s)
    except ConnectionError:
        pass
    waiting = asyncio.ensure_future(answered.wait())
    await asyncio.wait([reading, waiting], timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    reading.cancel()
    writer.close()
    for protocol in list(state.connections):
        protocol.transport.close()
    await asyncio.gather(*state.tasks, return_exceptions=True)
    server.close()
    return bytes(received), closed_at is not None, closed_at


def _responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = (line.partition(":") for line in lines[1:])
        headers = {k.strip().lower(): v.strip() for k, _, v in fields}
        length = int(headers.get("content-length", 0))
        answers.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return answers


def _get(target: str = "/current_time?name=Ada", headers: list[tuple[str, str]] = (),
         version: str = " HTTP/1.1") -> bytes:
    lines = [f"GET {target}{version}", "Host: api.example",
             *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# --- 27.1: bounded request heads ----------------------------------------------------------


def _head_of_size(size: int) -> bytes:
    """A GET /hello whose head (request line through the blank line) is exactly `size` bytes."""
    base = b"GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n"
    return base.replace(b"X-Pad: ", b"X-Pad: " + b"p" * (size - len(base)))


def test_a_head_at_the_byte_limit_is_served_and_one_byte_more_is_431():
    [(status, _, _)] = _responses(_exchange(_head_of_size(HEAD_LIMIT), wait_s=0.3,
                                                responses=1)[0])
    assert status == 200
    data, closed, _ = _exchange(_head_of_size(HEAD_LIMIT + 1))
    [(status, headers, body)] = _responses(data)
    assert (status, headers["content-type"], headers["connection"]) == (
        431, "application/problem+json", "close")
    assert json.loads(body)["status"] == 431
    assert closed


@pytest.mark.parametrize("shape", ["one huge header", "many tiny headers", "huge request line"])
def test_an_endless_head_is_cut_off_with_431_not_buffered(shape):
    """27.1: 1.2 GB of headers were buffered in 3.3 s. Now the server answers 431 and closes
    once the limit is passed, before the client has sent much more than the limit."""
    start = {"one huge header": b"GET /hello HTTP/1.1\r\nX-Big: ",
             "many tiny headers": b"GET /hello HTTP/1.1\r\n",
             "huge request line": b"GET /hello?"}[shape]
    filler = {"one huge header": b"b" * 16384, "many tiny headers": b"a:b\r\n" * 3000,
              "huge request line": b"x" * 16384}[shape]
    data, closed, _ = _exchange([start] + [filler] * 64)  # about 1 MB, never a complete head
    [(status, _, body)] = _responses(data)
    assert status == 431 and closed
    assert "Request Header Fields Too Large" in json.loads(body)["title"]


def test_too_many_header_fields_is_431_even_when_small():
    request = _get("/hello", [(f"x-{i}", "1") for i in range(HEADER_LIMIT - 1)])  # + Host
    assert _responses(_exchange(request, wait_s=0.3, responses=1)[0])[0][0] == 200
    request = _get("/hello", [(f"x-{i}", "1") for i in range(HEADER_LIMIT)])
    data, closed, _ = _exchange(request)
    assert _responses(data)[0][0] == 431 and closed


def test_pipelined_requests_are_each_measured_on_their_own():
    """Many small requests in one write exceed the limit together, not one by one: all served."""
    one = _get("/hello")
    count = 3 * HEAD_LIMIT // len(one) + 1
    data, _, _ = _exchange(one * count, wait_s=1.0, responses=count)
    assert [status for status, _, _ in _responses(data)] == [200] * count


# --- 27.2: bytes that are not a request cannot hold a connection --------------------------


def test_dripping_blank_lines_after_a_response_does_not_hold_the_connection():
    """27.2: after a complete request, a drip of CRLF never armed the read timer and each byte
    cancelled the keep-alive timer (75 s here): the connection was held for ever."""
    parts = [_get("/hello")] + [b"\r\n"] * 40  # 40 x 0.1 s = 4 s, 8 read timeouts
    data, closed, closed_at = _exchange(parts, pause_s=0.1, wait_s=2.0)
    statuses = [status for status, _, _ in _responses(data)]
    assert statuses == [200, 408]
    assert closed and closed_at < READ_TIMEOUT_S + 0.5


def test_a_request_after_a_blank_line_still_has_the_whole_read_timeout():
    data, closed, _ = _exchange([_get("/hello"), b"\r\n", _get("/hello")], pause_s=0.1,
                                wait_s=0.5, responses=2)
    assert [status for status, _, _ in _responses(data)] == [200, 200]


# --- 27.3: header values, repeated key, HTTP versions -------------------------------------


@pytest.mark.parametrize("version, status", [("", 400), (" HTTP/0.9", 400), (" HTTP/2.0", 505)])
def test_request_lines_without_http_1_are_refused_and_write_nothing(version, status):
    publisher = PublisherDouble()
    data, closed, _ = _exchange(_get(version=version), publisher)
    [(answered, headers, body)] = _responses(data)
    assert (answered, headers["content-type"]) == (status, "application/problem+json")
    assert json.loads(body)["status"] == status and closed
    assert publisher.records == []


def test_http_1_0_is_still_served():
    publisher = PublisherDouble()
    data, _, _ = _exchange(_get(version=" HTTP/1.0"), publisher, wait_s=0.3,
                           responses=1)
    assert _responses(data)[0][0] == 200 and len(publisher.records) == 1


@pytest.mark.parametrize("value", [f"{KEY} ", f"{KEY}\t", f"  {KEY} \t ", f'"{KEY}" '])
def test_whitespace_around_a_header_value_is_not_part_of_it(value):
    """RFC 9110 5.5: a field value excludes leading and trailing whitespace."""
    publisher = PublisherDouble()
    data, _, _ = _exchange(_get(headers=[("Idempotency-Key", value)]), publisher, wait_s=0.3,
                           responses=1)
    [(status, headers, _)] = _responses(data)
    assert status == 200
    assert headers["x-event-id"] == str(derived_event_id(KEY, "Ada"))


@pytest.mark.parametrize("copies", [[f"me:{KEY}"] * 2, [f"me:{KEY}", "me:other-key-1"],
                                    [f"me:{KEY}", "bad"]])
def test_a_repeated_idempotency_key_is_a_400_problem_and_writes_nothing(copies):
    publisher = PublisherDouble()
    data, _, _ = _exchange(_get(headers=[("Idempotency-Key", c) for c in copies]), publisher,
                           wait_s=0.3, responses=1)
    [(status, headers, body)] = _responses(data)
    assert (status, headers["content-type"]) == (400, "application/problem+json")
    assert "Idempotency-Key" in json.loads(body)["detail"]
    assert publisher.records == []


# --- 27.4: Idempotency-Key as clients send it ---------------------------------------------


def _client(publisher, *, fast_path: bool = True):
    app = build_app(publisher)
    if not fast_path:
        app.fast_path = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("key", [KEY, f'"{KEY}"', f"billing:{KEY}", f'"billing:{KEY}"',
                                 "k" * 8, "k" * 128, f'"{"k" * 128}"'])
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "FastAPI"])
def test_plain_scoped_and_quoted_keys_are_accepted(key, fast_path):
    publisher = PublisherDouble()
    with _client(publisher, fast_path=fast_path) as client:
        response = client.get("/current_time?name=Ada", headers={"Idempotency-Key": key})
    assert response.status_code == 200, response.text
    assert response.headers["x-event-id"] == str(derived_event_id(key.strip('"'), "Ada"))


def test_the_quoted_form_is_the_same_key_as_the_plain_form():
    assert derived_event_id(f'"{KEY}"', "Ada") == derived_event_id(KEY, "Ada")
    assert derived_event_id(f'"a:{KEY}"', "Ada") == derived_event_id(f"a:{KEY}", "Ada")
    # A scope is part of the key: scoped and unscoped keys never share an id.
    assert derived_event_id(f"a:{KEY}", "Ada") != derived_event_id(KEY, "Ada")


@pytest.mark.parametrize("key", ['"' + KEY, KEY + '"', f'""{KEY}""', f'"{KEY}";p=1',
                                 '"short"', "short", "k" * 129, f'"{"k" * 129}"',
                                 f'"a b{KEY}"', f"a:b:{KEY}", f":{KEY}", '""'])
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast path", "FastAPI"])
def test_other_key_shapes_are_a_400_on_both_paths(key, fast_path):
    publisher = PublisherDouble()
    with _client(publisher, fast_path=fast_path) as client:
        response = client.get("/current_time?name=Ada", headers={"Idempotency-Key": key})
    assert response.status_code == 400, key
    assert response.headers["content-type"] == "application/problem+json"
    assert publisher.records == []


@pytest.mark.parametrize("key", [KEY, f'"{KEY}"', f'"me:{KEY}"'])
def test_the_fast_answer_is_the_routes_answer_for_every_key_form(key):
    answers = []
    for fast_path, query in ((True, "name=Ada"), (False, "name=A%64a")):
        publisher = PublisherDouble()
        with _client(publisher, fast_path=fast_path) as client:
            response = client.get(f"/current_time?{query}", headers={"Idempotency-Key": key})
        answers.append((response.status_code, response.headers["x-event-id"],
                        json.loads(publisher.records[0].value)["event_id"]))
    assert answers[0] == answers[1]


def test_repeated_keys_are_a_400_on_both_paths():
    for fast_path in (True, False):
        publisher = PublisherDouble()
        with _client(publisher, fast_path=fast_path) as client:
            response = client.get("/current_time?name=Ada",
                                  headers=[("Idempotency-Key", f"me:{KEY}")] * 2)
        assert response.status_code == 400 and publisher.records == []
