"""Kafka for the replay tool: its settings (from the environment, like the API's), the producer that
re-publishes, and the reader that re-reads the offsets an on-failure record names."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from event_replay.sources import ReplayError

ACK_TIMEOUT_S = 30.0
READ_TIMEOUT_S = 30.0


class OffsetsExpired(Exception):
    """Some offsets of the range are no longer in the topic (retention or compaction took them)."""

    def __init__(self, first: int, last: int, log_start: int) -> None:
        super().__init__(f"offsets {first}..{min(last, log_start - 1)} are no longer in the topic "
                         f"(it now starts at {log_start}: retention)")
        self.log_start = log_start


def kafka_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The Kafka connection (msk_iam_client's one declaration of it) and the optional topic."""
    from msk_iam_client.connection import connection_from_env

    connection, problems = connection_from_env(env)
    if problems:
        raise ReplayError(problems)
    return {
        "bootstrap": list(connection.bootstrap_servers),
        "protocol": connection.security_protocol,
        "region": connection.region,
        "ca_file": connection.ca_file,
        "topic": env.get("KAFKA_TOPIC", "").strip() or None,
    }


def _security(cfg: dict[str, Any]) -> dict[str, Any]:
    from msk_iam_client import client_security_options

    return client_security_options(cfg["protocol"], cfg["region"], cfg["ca_file"])


def producer(cfg: dict[str, Any]) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(bootstrap_servers=cfg["bootstrap"], acks="all", enable_idempotence=True,
                         request_timeout_ms=15_000, max_block_ms=15_000, **_security(cfg))


class OffsetReader:
    """Reads exact offset ranges of a partition (no consumer group: nothing is committed)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        from kafka import KafkaConsumer

        self.consumer = KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=None,
                                      enable_auto_commit=False, request_timeout_ms=15_000,
                                      **_security(cfg))

    def read(self, topic: str, partition: int, first: int,
             last: int) -> tuple[list[Any], str | None]:
        """The records at offsets first..last that still exist, and what is missing (or None)."""
        from kafka import TopicPartition

        tp = TopicPartition(topic, partition)
        self.consumer.assign([tp])
        log_start = self.consumer.beginning_offsets([tp])[tp]
        log_end = self.consumer.end_offsets([tp])[tp]
        missing = None
        if first < log_start:
            missing = str(OffsetsExpired(first, last, log_start))
            first = log_start
        if last >= log_end:
            missing = (f"{missing}; " if missing else "") + \
                f"offsets up to {last} named, but the partition ends at {log_end - 1}"
            last = log_end - 1
        records: list[Any] = []
        if first > last:
            return records, missing
        self.consumer.seek(tp, first)
        deadline = time.monotonic() + READ_TIMEOUT_S
        while self.consumer.position(tp) <= last:
            if time.monotonic() > deadline:
                raise TimeoutError(f"re-reading {topic}-{partition} {first}..{last} took longer "
                                   f"than {READ_TIMEOUT_S:.0f} s")
            for batch in self.consumer.poll(timeout_ms=500).values():
                records.extend(r for r in batch if first <= r.offset <= last)
        return records, missing

    def close(self) -> None:
        self.consumer.close(autocommit=False)
