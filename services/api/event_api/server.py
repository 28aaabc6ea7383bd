"""The production server: uvicorn's multi-process supervisor around the guarded protocol.

Process model: uvicorn's own supervisor (WEB_CONCURRENCY workers) rather than gunicorn +
UvicornWorker: uvicorn deprecated its gunicorn worker class, and one server package keeps the
image small. The supervisor restarts a crashed worker, and on SIGTERM forwards it to every
worker, which stops accepting, lets in-flight requests finish, runs the lifespan shutdown
(flushes the Kafka producer) and exits; the parent then exits 0.

Shutdown budget: ECS sends SIGKILL 30 s after SIGTERM by default (API StopTask: "a SIGTERM
value and a default 30-second timeout, after which the SIGKILL value is sent",
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html; and the container
definition's stopTimeout: on Fargate "if the parameter is not specified, the default value of
30 seconds is used", AWS SDK for Kotlin, ECS ContainerDefinition.stopTimeout). A
request waits at most KAFKA_SEND_TIMEOUT_MS (<= 20 s), so the graceful period is that plus 1 s:
every in-flight request gets its real answer (200 or 503, never a cancelled 500), then the
producer flush (<= 5 s) still fits before the kill.

Signals: uvicorn installs its SIGINT/SIGTERM handlers with signal.signal in the supervisor and in
each worker, so the server stops on SIGINT even when started with SIGINT ignored (as a shell
starts a background job). A worker dies with its supervisor, even a SIGKILLed one: otherwise it
would keep serving on the shared socket with nobody left to stop it (`die_with_supervisor`).
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import resource
import signal
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from event_api.http_protocol import GuardedHttpToolsProtocol
from event_api.settings import Settings, SettingsError

# Descriptors a worker needs besides client connections: Kafka sockets, the event loop's own,
# log and pipe handles (a generous margin). On Fargate "the default nofile soft limit is 65535
# and the default hard limit is 65535" (Ulimit, Amazon ECS API reference,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Ulimit.html), so the default cap
# (1000 per worker) always fits; elsewhere ensure_descriptor_budget raises the soft limit.
RESERVED_DESCRIPTORS = 64


class ServerConfig(uvicorn.Config):
    """uvicorn's Config plus the guarded protocol's limits. The supervisor pickles the config
    into each worker process, so the limits travel with it."""

    def __init__(self, *args, request_read_timeout_s: float, max_connections: int,
                 max_request_head_bytes: int, max_request_headers: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_read_timeout_s = request_read_timeout_s
        self.max_connections = max_connections
        self.max_request_head_bytes = max_request_head_bytes
        self.max_request_headers = max_request_headers

    def load(self) -> None:
        """Runs in each worker before it imports the app (the supervisor never loads)."""
        die_with_supervisor()
        super().load()


def die_with_supervisor() -> None:
    """In a worker (a multiprocessing child of the supervisor): SIGKILL when the supervisor dies.

    prctl(2) PR_SET_PDEATHSIG, Linux only; it follows the supervisor thread that started the
    worker, its main thread, which lives until the supervisor exits. A supervisor that died before
    the prctl is no longer the parent: the worker then goes at once."""
    parent = multiprocessing.parent_process()
    if parent is None or sys.platform != "linux":
        return
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG, <linux/prctl.h>
    if os.getppid() != parent.pid:
        os.kill(os.getpid(), signal.SIGKILL)


def server_config(settings: Settings) -> ServerConfig:
    return ServerConfig(
        "event_api.app:create_app",
        factory=True,
        host=settings.bind_host,
        port=settings.port,
        workers=settings.web_concurrency,
        loop="uvloop",
        http=GuardedHttpToolsProtocol,
        ws="none",
        lifespan="on",
        log_config=None,  # our JSON logging, configured in each worker by create_app
        access_log=False,  # event_api.access_log writes the one line per request
        server_header=False,
        proxy_headers=False,  # nothing here uses the client address
        timeout_keep_alive=settings.keepalive_timeout_s,
        timeout_graceful_shutdown=graceful_shutdown_s(settings),
        request_read_timeout_s=settings.request_read_timeout_s,
        max_connections=settings.max_connections,
        max_request_head_bytes=settings.max_request_head_bytes,
        max_request_headers=settings.max_request_headers,
    )


def graceful_shutdown_s(settings: Settings) -> int:
    return math.ceil(settings.send_timeout_ms / 1000) + 1


def ensure_descriptor_budget(max_connections: int) -> None:
    """Raise the soft RLIMIT_NOFILE to fit the connection cap (up to the hard limit), so a worker
    at its cap still has descriptors for Kafka; SettingsError if the hard limit is too low."""
    needed = max_connections + RESERVED_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SettingsError([
                f"HTTP_MAX_CONNECTIONS={max_connections} needs {needed} open files per worker "
                f"but the hard limit (ulimit -Hn) is {hard}: lower it or raise the limit"])
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def serve(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT. Always under the supervisor, even with one worker: a crashed
    worker is restarted, and the process exits 0 after a graceful stop (a lone uvicorn server
    re-raises the signal and dies of it)."""
    config = server_config(settings)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
