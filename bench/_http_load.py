"""A minimal closed-loop HTTP/1.1 load generator on asyncio streams.

httpx's async connection pool costs more CPU per request than the server under test on a
2-core machine (its throughput fell as concurrency rose even for /hello), so the benchmarks
use this: one kept-alive connection per simulated client, one request at a time each. It speaks
plain HTTP or HTTPS (a deployed ALB), and keeps the X-Event-Id of every 2xx answer so the
benchmark can check the topic afterwards.
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


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", 0))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def run_load(target: Target, concurrency: int, seconds: float,
                   path_for: Callable[[int, int], str],
                   request_timeout_s: float = 15.0) -> LoadResult:
    """Each of `concurrency` clients sends GET path_for(client, n) until `seconds` have passed;
    2xx answers count as successes (with their latency), everything else by status."""
    result = LoadResult()
    deadline = time.perf_counter() + seconds
    context = ssl.create_default_context() if target.tls else None

    async def client(client_id: int) -> None:
        reader = writer = None
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(
                        target.host, target.port, ssl=context), request_timeout_s)
                request = (f"GET {target.prefix}{path_for(client_id, n)} HTTP/1.1\r\n"
                           f"Host: {target.host}\r\n\r\n")
                writer.write(request.encode())
                status, headers, _ = await asyncio.wait_for(_read_response(reader),
                                                            request_timeout_s)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)  # a refused connection must not become a busy loop
                continue
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                result.latencies_s.append(time.perf_counter() - started)
                if "x-event-id" in headers:
                    result.event_ids.append(headers["x-event-id"])
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    return result
