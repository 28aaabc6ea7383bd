"""uvicorn's httptools HTTP/1.1 protocol with the limits a worker facing the network needs.

- TCP_NODELAY on every accepted socket. In multi-worker mode uvicorn binds the listening socket
  with protocol number 0, and asyncio only turns Nagle's algorithm off for sockets whose protocol
  is IPPROTO_TCP; responses are written as head then body, so on a kept-alive connection the
  body waited for the client's delayed ACK: +40 ms per request after the first.
- A read timeout: a request must arrive whole (headers, and a body if it has one) within
  `request_read_timeout_s` of its first byte, or of the connection's opening for the first
  request; a slower client gets 408 and is disconnected. uvicorn itself never times out a
  connection that sends nothing or drips bytes (each byte resets its keep-alive timer), so a
  slowloris could hold every descriptor.
- A cap on open connections per worker: over `max_connections`, a new connection is answered
  503 and closed at once, so the descriptors in use stay bounded whatever clients do.
- Malformed requests (including Content-Length together with Transfer-Encoding, which llhttp
  refuses: a request-smuggling vector) get a problem+json 400, logged like any request.
- One write per response: uvicorn writes the head and the body separately (two syscalls and two
  TCP segments); `_OneWritePerResponse` holds the head until the body follows.

The limits come from `ServerConfig` (event_api/server.py); idle kept-alive connections are
closed after uvicorn's `timeout_keep_alive`.
"""

from __future__ import annotations

import logging
import socket
import sys
import time

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from event_api.access_log import log_request
from event_api.problems import raw_problem

log = logging.getLogger(__name__)

DEFAULT_REQUEST_READ_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 1000
REFUSAL_LOG_INTERVAL_S = 10.0
RETRY_AFTER_S = "2"


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    _refusals_logged_at = 0.0  # per worker process: refusals are logged at most every 10 s
    _refusals_unlogged = 0

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._read_timeout_s = getattr(config, "request_read_timeout_s",
                                       DEFAULT_REQUEST_READ_TIMEOUT_S)
        self._max_connections = getattr(config, "max_connections", DEFAULT_MAX_CONNECTIONS)
        self._read_timer = None
        self._request_started = 0.0
        self._refused = False

    # --- connection lifecycle --------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if len(self.server_state.connections) >= self._max_connections:
            self._refuse(transport)
            return
        super().connection_made(transport)
        self._request_started = time.perf_counter()
        self._arm_read_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_read_timer()
        if not self._refused:
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    # --- parser callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._read_timer is None:  # a later request on a kept-alive connection
            self._request_started = time.perf_counter()
            self._arm_read_timer()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # its task has not run yet
            cycle.transport = _OneWritePerResponse(self.transport)

    def on_message_complete(self) -> None:
        self._cancel_read_timer()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        transport = self.cycle.transport if self.cycle is not None else None
        if isinstance(transport, _OneWritePerResponse):
            transport.flush()  # a HEAD answer has a head and no body
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this from its `except httptools.HttpParserError` block, so the
        # exception being handled is the parser's own reason (a fixed llhttp message).
        reason = sys.exception()
        detail = f"Malformed HTTP request: {reason}" if reason is not None else msg
        self._cancel_read_timer()
        log_request(_method(self), _path(self), 400, self._request_started, error=detail)
        self.transport.write(raw_problem(400, detail))
        self.transport.close()

    # --- limits ----------------------------------------------------------------------

    def _arm_read_timer(self) -> None:
        self._read_timer = self.loop.call_later(self._read_timeout_s, self._on_read_timeout)

    def _cancel_read_timer(self) -> None:
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None

    def _on_read_timeout(self) -> None:
        self._read_timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and cycle.scope is self.scope and cycle.response_started
        if not answering:  # tell the client why it is cut off, unless an answer is under way
            detail = (f"The request did not arrive within {self._read_timeout_s:g} s "
                      "of its first byte")
            self.transport.write(raw_problem(408, detail))
            log_request(_method(self), _path(self), 408, self._request_started, error=detail)
        self.transport.close()

    def _refuse(self, transport) -> None:
        self._refused = True
        transport.write(raw_problem(
            503, "Too many open connections to this server; retry shortly",
            {"retry-after": RETRY_AFTER_S}))
        transport.close()
        cls = GuardedHttpToolsProtocol
        cls._refusals_unlogged += 1
        now = time.monotonic()
        if now - cls._refusals_logged_at >= REFUSAL_LOG_INTERVAL_S:
            log.warning("refused connections over the cap",
                        extra={"fields": {"refused": cls._refusals_unlogged,
                                          "max_connections": self._max_connections}})
            cls._refusals_logged_at, cls._refusals_unlogged = now, 0


class _OneWritePerResponse:
    """The transport as one response's cycle sees it: the head (the first write, unless an
    interim 1xx) is held and sent together with the body, or on close/flush."""

    __slots__ = ("_transport", "_head")

    def __init__(self, transport) -> None:
        self._transport = transport
        self._head: bytes | None = b""  # b"": nothing written yet; None: head already sent

    def write(self, data: bytes) -> None:
        head = self._head
        if head == b"" and not data.startswith(b"HTTP/1.1 1"):
            self._head = data
            return
        self._head = None
        self._transport.write(head + data if head else data)

    def flush(self) -> None:
        if self._head:
            self._transport.write(self._head)
        self._head = None

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str):
        return getattr(self._transport, name)


def _method(protocol: HttpToolsProtocol) -> str:
    scope = protocol.scope
    return scope.get("method", "-") if scope else "-"


def _path(protocol: HttpToolsProtocol) -> str:
    scope = protocol.scope
    return scope.get("path", "-") if scope else "-"
