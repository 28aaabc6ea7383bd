"""Container health check: exit 0 iff GET http://127.0.0.1:$PORT/healthcheck answers 200 in 3 s.

Stdlib only: the image has no curl. The ECS task definition runs
["CMD", "python", "-m", "event_api.healthcheck"].
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_S = 3.0


def check(port: int, timeout_s: float = TIMEOUT_S) -> bool:
    url = f"http://127.0.0.1:{port}/healthcheck"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - fixed http URL
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    raw = os.environ.get("PORT", "8000").strip() or "8000"
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        print(f"healthcheck: PORT={raw!r} is not a TCP port", file=sys.stderr)
        return 1
    return 0 if check(int(raw)) else 1


if __name__ == "__main__":
    sys.exit(main())
