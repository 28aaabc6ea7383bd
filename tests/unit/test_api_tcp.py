"""Accepted connections get TCP_NODELAY even when the listening socket has protocol number 0
(how uvicorn binds in multi-worker mode), so kept-alive responses are not held back by Nagle."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from event_api.http_protocol import NoDelayH11Protocol
from uvicorn.server import ServerState


async def _app(scope, receive, send):  # pragma: no cover - never called: no request is sent
    raise AssertionError


async def _accepted_nodelay(protocol_class) -> int:
    config = uvicorn.Config(app=_app, http=protocol_class, lifespan="off", log_config=None)
    config.load()
    state = ServerState()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # proto 0, like uvicorn
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: protocol_class(config=config, server_state=state, app_state={}), sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    for _ in range(100):
        if state.connections:
            break
        await asyncio.sleep(0.01)
    (protocol,) = state.connections
    value = protocol.transport.get_extra_info("socket").getsockopt(
        socket.IPPROTO_TCP, socket.TCP_NODELAY)
    writer.close()
    server.close()
    return value


def test_no_delay_protocol_sets_tcp_nodelay_on_accepted_sockets():
    assert asyncio.run(_accepted_nodelay(NoDelayH11Protocol)) != 0


def test_plain_h11_protocol_would_not_on_such_a_socket():
    # The reason the subclass exists: without it the option stays off.
    from uvicorn.protocols.http.h11_impl import H11Protocol

    assert asyncio.run(_accepted_nodelay(H11Protocol)) == 0


def test_the_server_entry_point_uses_it():
    import inspect

    import event_api.__main__ as entry

    assert "http=NoDelayH11Protocol" in inspect.getsource(entry.main)
