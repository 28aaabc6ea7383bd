"""Where the repository's pieces live, and making the two services importable from local tools.

The API and the consumer are separate deployables (`services/api`, `services/consumer`), each
imported by its runtime from its own folder; local tools and benchmarks that run them in-process
put those folders on `sys.path` the same way pytest's `pythonpath` setting does.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIRS = (REPO_ROOT / "services" / "api", REPO_ROOT / "services" / "consumer")


def add_service_paths() -> None:
    for path in SERVICE_DIRS:
        if str(path) not in sys.path:
            sys.path.append(str(path))


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (tests and local runs never use fixed ports)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
