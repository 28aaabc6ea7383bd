"""Which queue addresses hold letters: the consumer writes to one, replay and the local event
source mapping's on-failure destination name one."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

QUEUE_URL_ENV = "DEAD_LETTER_QUEUE_URL"


def queue_url_problem(url: str) -> str | None:
    """https:// (SQS), or http:// to a loopback SQS-compatible server (the local pipeline)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = parts.hostname == "localhost" or ipaddress.ip_address(
                parts.hostname).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return None
    return (f"{QUEUE_URL_ENV} must be an https:// SQS queue URL (or http:// on loopback for a "
            f"local server), got {url!r}")
