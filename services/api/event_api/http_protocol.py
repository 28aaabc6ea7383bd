"""uvicorn's HTTP/1.1 protocol with TCP_NODELAY on every accepted connection.

In multi-worker mode uvicorn binds the listening socket itself with protocol number 0, and asyncio
only turns Nagle's algorithm off for sockets whose protocol is IPPROTO_TCP. Responses are written
as two segments (head, then body), so on a kept-alive connection the body waits for the client's
delayed ACK: +40 ms on every request after the first (measured here, and gone with this class).
"""

from __future__ import annotations

import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
