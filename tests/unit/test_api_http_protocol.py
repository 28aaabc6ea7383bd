"""The guarded protocol in-process: TCP_NODELAY on accepted sockets even when the listening socket
has protocol number 0 (how uvicorn binds in multi-worker mode), so kept-alive responses are not
held back by Nagle; and the production server is built with it and with the configured limits.
The limits themselves are exercised against the real server in
tests/integration/test_api_server_limits.py."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from event_api.http_protocol import GuardedHttpToolsProtocol
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


def test_guarded_protocol_sets_tcp_nodelay_on_accepted_sockets():
    assert asyncio.run(_accepted_nodelay(GuardedHttpToolsProtocol)) != 0


def test_plain_httptools_protocol_would_not_on_such_a_socket():
    # The reason for the setsockopt: without it the option stays off.
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert asyncio.run(_accepted_nodelay(HttpToolsProtocol)) == 0


def test_the_server_config_carries_the_limits_and_uses_the_guarded_protocol():
    import pickle

    from event_api.server import graceful_shutdown_s, server_config
    from event_api.settings import load_settings

    settings = load_settings({"KAFKA_DISABLED": "true", "HTTP_KEEPALIVE_TIMEOUT_S": "65",
                              "HTTP_REQUEST_READ_TIMEOUT_S": "7", "HTTP_MAX_CONNECTIONS": "123",
                              "KAFKA_SEND_TIMEOUT_MS": "12500"})
    config = server_config(settings)
    # The supervisor pickles the config into each worker: the limits must survive that.
    config = pickle.loads(pickle.dumps(config))  # noqa: S301 - our own bytes
    assert config.http is GuardedHttpToolsProtocol and config.loop == "uvloop"
    assert (config.timeout_keep_alive, config.request_read_timeout_s,
            config.max_connections) == (65, 7, 123)
    # In-flight requests get their real answer before the graceful period ends.
    assert config.timeout_graceful_shutdown == graceful_shutdown_s(settings) == 14


def test_a_connection_cap_beyond_the_hard_descriptor_limit_is_a_configuration_error():
    import resource

    import pytest
    from event_api.server import ensure_descriptor_budget
    from event_api.settings import SettingsError

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with pytest.raises(SettingsError, match="HTTP_MAX_CONNECTIONS"):
        ensure_descriptor_budget(hard)
    ensure_descriptor_budget(min(1000, hard - 64))
    assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= min(1000, hard - 64) + 64
