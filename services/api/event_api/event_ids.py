"""UUIDv7 event ids (RFC 9562), strictly increasing within a process.

Written here rather than taken from a package: Python 3.11 has no uuid.uuid7, and the common
packages bump the millisecond clock on every collision, which drifts ahead of real time under
load. RFC 9562 method 1 (a 12-bit counter in rand_a) keeps the timestamp honest.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_COUNTER_MAX = 0xFFF


class UUID7Generator:
    def __init__(self, clock_ns=time.time_ns):
        self._clock_ns = clock_ns
        self._lock = threading.Lock()  # the Kafka sender thread and the event loop may both call
        self._last_ms = -1
        self._counter = 0

    def __call__(self) -> uuid.UUID:
        with self._lock:
            now_ms = self._clock_ns() // 1_000_000
            if now_ms > self._last_ms:
                self._last_ms = now_ms
                # Start low in the counter space so many ids fit in one millisecond.
                self._counter = secrets.randbits(11)
            else:
                self._counter += 1
                if self._counter > _COUNTER_MAX:
                    # Counter exhausted (>2048 ids in one ms): borrow the next millisecond.
                    self._last_ms += 1
                    self._counter = secrets.randbits(11)
            ms, counter = self._last_ms, self._counter
        value = (ms & 0xFFFF_FFFF_FFFF) << 80
        value |= 0x7 << 76  # version
        value |= counter << 64
        value |= 0b10 << 62  # RFC 9562 variant
        value |= secrets.randbits(62)
        return uuid.UUID(int=value)


new_event_id = UUID7Generator()
