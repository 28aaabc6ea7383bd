"""uvicorn's httptools HTTP/1.1 protocol with the limits a worker facing the network needs.

- TCP_NODELAY on every accepted socket. In multi-worker mode uvicorn binds the listening socket
  with protocol number 0, and asyncio only turns Nagle's algorithm off for sockets whose protocol
  is IPPROTO_TCP; responses are written as head then body, so on a kept-alive connection the
  body waited for the client's delayed ACK: +40 ms per request after the first.
- A read timeout: a request must arrive whole (headers, and a body if it has one) within
  `request_read_timeout_s` of its first byte, or of the connection's opening for the first
  request; a slower client gets 408 and is disconnected. uvicorn itself never times out a
  connection that sends nothing or drips bytes (each byte resets its keep-alive timer), so a
  slowloris could hold every descriptor. The rule (issue 27.2): the read timer starts at the
  first byte received after a response, *whatever that byte is*, and only a complete request
  stops it. Bytes that are not a request (the blank lines llhttp skips before a request line)
  therefore cannot hold a kept-alive connection: each one cancels uvicorn's keep-alive timer,
  but the read timer is already running.
- Bounded request heads (issue 27.1): the request line and header fields of one request may
  take at most `max_request_head_bytes` bytes and `max_request_headers` fields; past either the
  client gets 431 (RFC 6585) and is disconnected. Without it a client could make a worker buffer
  headers until it is killed (1.2 GB in 3.3 s): the read timeout bounds time, not memory. The
  bytes are counted as they arrive, before the parser sees them, so a header value that never
  ends is cut off too (httptools accumulates a field's value until it ends). A request
  pipelined behind another in the same read is counted from that read's end (bounded, at most
  twice the limit); bodies are not counted (uvicorn's flow control bounds them).
- HTTP/1.x only (issue 27.3): a request line without a version (HTTP/0.9 style) is a 400, and
  HTTP/2.0 (which llhttp parses) a 505; neither reaches the application.
- Header values lose their trailing whitespace (RFC 9110 section 5.5: a field value excludes
  leading and trailing whitespace; llhttp strips only the leading one).
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
DEFAULT_MAX_REQUEST_HEAD_BYTES = 96 * 1024  # event_api/settings.py says why
DEFAULT_MAX_REQUEST_HEADERS = 100
_OWS = b" \t"  # optional whitespace around a field value (RFC 9110 section 5.6.3)
_HTTP_1 = ("1.1", "1.0")
REFUSAL_LOG_INTERVAL_S = 10.0
RETRY_AFTER_S = "2"


class _Refusal(Exception):  # noqa: N818 - not an error of ours: the answer to a request
    """Raised from a parser callback to stop parsing; the request is answered `status`.
    httptools turns it into an HttpParserCallbackError (with this as its __context__), which
    uvicorn hands to `send_400_response`."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    _refusals_logged_at = 0.0  # per worker process: refusals are logged at most every 10 s
    _refusals_unlogged = 0

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._read_timeout_s = getattr(config, "request_read_timeout_s",
                                       DEFAULT_REQUEST_READ_TIMEOUT_S)
        self._max_connections = getattr(config, "max_connections", DEFAULT_MAX_CONNECTIONS)
        self._max_head_bytes = getattr(config, "max_request_head_bytes",
                                       DEFAULT_MAX_REQUEST_HEAD_BYTES)
        self._max_headers = getattr(config, "max_request_headers", DEFAULT_MAX_REQUEST_HEADERS)
        # Bytes the current request's head may still take; None while a body is read.
        self._head_bytes_left: int | None = self._max_head_bytes
        self._header_count = 0
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
        if self._refused:
            return
        if self._read_timer is None:
            # The first byte after a response, whatever it is: a request must now arrive
            # whole within the read timeout. Blank lines are not a request (issue 27.2).
            self._request_started = time.perf_counter()
            self._arm_read_timer()
        left = self._head_bytes_left
        if left is None or len(data) <= left:
            if left is not None:
                self._head_bytes_left = left - len(data)
            super().data_received(data)
            return
        # This read goes past the head's budget: feed what fits; unless the head ended in it
        # (the budget was reset by on_headers_complete/on_message_complete), it is too large.
        self._head_bytes_left = 0
        super().data_received(data[:left])
        if self.transport.is_closing():
            return
        if self._head_bytes_left == 0:
            self._answer_and_close(431, "The request's head (request line and header fields) "
                                        f"exceeds {self._max_head_bytes} bytes")
            return
        self.data_received(data[left:])

    # --- parser callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0
        if self._read_timer is None:  # a later request on a kept-alive connection
            self._request_started = time.perf_counter()
            self._arm_read_timer()

    def on_header(self, name: bytes, value: bytes) -> None:
        # uvicorn's on_header, with the count limit and the trailing whitespace removed
        # (bytes.rstrip returns the same object when there is none: no copy).
        count = self._header_count = self._header_count + 1
        if count > self._max_headers:
            raise _Refusal(431, f"The request has more than {self._max_headers} header fields")
        name = name.lower()
        value = value.rstrip(_OWS)
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        version = self.parser.get_http_version()
        if version not in _HTTP_1:
            self.scope["method"] = self.parser.get_method().decode("ascii", "replace")
            if version == "0.9":  # what llhttp reports for a request line without a version
                raise _Refusal(400, "Malformed HTTP request: the request line has no "
                                    "HTTP/1.x version")
            raise _Refusal(505, f"HTTP/{version} is not supported here: use HTTP/1.1")
        self._head_bytes_left = None  # the head is complete; a body is not counted
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope:  # its task has not run yet
            cycle.transport = _OneWritePerResponse(self.transport)

    def on_message_complete(self) -> None:
        self._cancel_read_timer()
        self._head_bytes_left = self._max_head_bytes  # the next request's budget
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
        refusal = reason.__context__ if reason is not None else None
        if isinstance(refusal, _Refusal):  # raised by one of our callbacks
            self._answer_and_close(refusal.status, refusal.detail)
            return
        detail = f"Malformed HTTP request: {reason}" if reason is not None else msg
        self._answer_and_close(400, detail)

    # --- limits ----------------------------------------------------------------------

    def _answer_and_close(self, status: int, detail: str) -> None:
        """Answer a request the application never sees, log it, and close the connection."""
        self._cancel_read_timer()
        log_request(_method(self), _path(self), status, self._request_started, error=detail)
        self.transport.write(raw_problem(status, detail))
        self.transport.close()

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
        current = (cycle is not None and cycle.scope is self.scope
                   and not cycle.response_complete)
        if current and not cycle.more_body:
            # The request being answered arrived whole and nothing that is a request followed
            # it: let it have its answer, then close instead of keeping the connection alive.
            cycle.keep_alive = False
            return
        answering = current and cycle.response_started
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
