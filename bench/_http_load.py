"""A minimal closed-loop HTTP/1.1 load generator.

httpx's async connection pool costs more CPU per request than the server under test on a
2-core machine (its throughput fell as concurrency rose even for /hello), so the benchmarks
use this: one kept-alive connection per simulated client, one request at a time each, as an
asyncio protocol on uvloop (against /hello: 24-27 µs of client CPU per request where asyncio
streams took 49-71 at concurrency 1 and 36 at 16). It speaks plain HTTP or HTTPS (a deployed
ALB), and keeps the X-Event-Id of every 2xx answer so the benchmark can check the topic
afterwards.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed_s: float = 0.0
    event_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return len(self.latencies_s)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def failed(self) -> int:
        return self.errors + sum(n for code, n in self.statuses.items() if not 200 <= code < 300)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    tls: bool
    prefix: str = ""  # a path prefix of the deployed base URL

    @classmethod
    def from_url(cls, url: str) -> Target:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        return cls(parts.hostname, parts.port or (443 if tls else 80), tls,
                   parts.path.rstrip("/"))


class _Connection(asyncio.Protocol):
    """One kept-alive client connection: a request goes out, the answer completes `waiter`.

    A protocol rather than asyncio streams: no reader/writer objects, no task per wait_for and
    one timer per request, so the client's own CPU and latency weigh less in the figures of
    the server it shares the cores with."""

    def __init__(self) -> None:
        self.transport = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            answer = _parse_response(self.buffer)
            if answer is not None:
                waiter.set_result(answer)

    def connection_lost(self, exc) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionResetError("connection closed before the answer"))

    async def exchange(self, request: bytes, timeout_s: float) -> tuple[int, dict[str, str]]:
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        self.transport.write(request)
        timer = loop.call_later(timeout_s, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()


def _expire(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("no answer in time"))


def _parse_response(buffer: bytearray) -> tuple[int, dict[str, str]] | None:
    """(status, headers) once one whole response is in `buffer` (which it then drops), else
    None. Raises ValueError for an answer that is not HTTP/1.1."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = buffer[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
    status = int(rest[:3])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    total = end + 4 + int(headers.get("content-length", 0))
    if len(buffer) < total:
        return None
    del buffer[:total]
    return status, headers


# (status or None for no answer, the answer's headers, sent at, answered at: perf_counter())
AnswerHook = Callable[[int | None, dict[str, str], float, float], None]


async def run_load(target: Target, concurrency: int, seconds: float,
                   path_for: Callable[[int, int], str],
                   request_timeout_s: float = 15.0, *, pause_s: float = 0.0,
                   stop: Callable[[], bool] | None = None,
                   on_answer: AnswerHook | None = None) -> LoadResult:
    """Each of `concurrency` clients sends GET path_for(client, n) until `seconds` have passed
    (or `stop()` says so); 2xx answers count as successes (with their latency), everything else
    by status. `pause_s` between a client's requests makes a steady load instead of a flood;
    `on_answer` sees every request's outcome (the chaos run keeps them all)."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    context = ssl.create_default_context() if target.tls else None
    loop = asyncio.get_running_loop()

    async def client(client_id: int) -> None:
        connection: _Connection | None = None
        n = 0
        while time.perf_counter() < deadline and not (stop is not None and stop()):
            n += 1
            started = time.perf_counter()
            try:
                if connection is None or connection.closed:
                    _, connection = await asyncio.wait_for(loop.create_connection(
                        _Connection, target.host, target.port, ssl=context), request_timeout_s)
                request = (f"GET {target.prefix}{path_for(client_id, n)} HTTP/1.1\r\n"
                           f"Host: {target.host}\r\n\r\n")
                status, headers = await connection.exchange(request.encode(), request_timeout_s)
            except (TimeoutError, OSError, ValueError):
                result.errors += 1
                if on_answer is not None:
                    on_answer(None, {}, started, time.perf_counter())
                if connection is not None:
                    connection.transport.close()
                connection = None
                await asyncio.sleep(0.05)  # a refused connection must not become a busy loop
                continue
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if on_answer is not None:
                on_answer(status, headers, started, time.perf_counter())
            if 200 <= status < 300:
                result.latencies_s.append(time.perf_counter() - started)
                if "x-event-id" in headers:
                    result.event_ids.append(headers["x-event-id"])
            if headers.get("connection", "").lower() == "close":
                connection.transport.close()
                connection = None
            if pause_s:
                await asyncio.sleep(pause_s)
        if connection is not None:
            connection.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result


def run_load_sync(*args, **kwargs) -> LoadResult:
    """run_load on its own event loop: uvloop (the API's own loop) when installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_load(*args, **kwargs))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run_load(*args, **kwargs))
