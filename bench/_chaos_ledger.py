"""The chaos run's accounting: for every event the API acknowledged (and every poison record the
run wrote), processed by the handler, dead-lettered with its payload, or LOST.

Dead-lettered means one of the two things the deployed stack's queue holds:
- a handler letter (event_consumer/deadletter.py) whose `value` is the record's bytes;
- the mapping's on-failure record (KafkaBatchInfo: topic-partition and offset range only); its
  payload is the topic's record at those offsets, read back here as the replay tool reads it.
  (To an SQS destination AWS sends only "a JSON document containing metadata about the failed
  invocation"; only S3 destinations also get "the entire invocation record": Lambda guide,
  "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources",
  https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html.)
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field

from bench._chaos_letters import Letter


@dataclass
class Accounting:
    acknowledged: int = 0
    processed: int = 0  # at least once by the handler
    dead_lettered: int = 0  # never processed, but in the queue with its payload
    lost: list[str] = field(default_factory=list)
    lost_not_in_topic: int = 0  # of the lost: not even in the broker's log
    duplicates: int = 0  # events the handler finished more than once
    extra_deliveries: int = 0  # finishes beyond the first, summed
    processed_and_dead_lettered: int = 0
    poison_sent: int = 0
    poison_dead_lettered: int = 0
    letters: Counter = field(default_factory=Counter)  # queue messages by kind


def read_topic(bootstrap: str, topic: str) -> dict[tuple[int, int], bytes | None]:
    """Every record of `topic` by (partition, offset), from the PLAINTEXT listener (an
    observer's view, outside the program's principals)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             request_timeout_ms=30_000, consumer_timeout_ms=5_000)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        log: dict[tuple[int, int], bytes | None] = {}
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for records in consumer.poll(timeout_ms=2_000, max_records=5_000).values():
                for record in records:
                    log[(record.partition, record.offset)] = record.value
        return log
    finally:
        consumer.close()


def _event_id(value: bytes | None) -> str | None:
    try:
        doc = json.loads(value or b"")
    except ValueError:
        return None
    return doc.get("event_id") if isinstance(doc, dict) else None


def dead_lettered_values(letters: list[Letter], topic: str,
                         log: dict[tuple[int, int], bytes | None]) -> list[bytes]:
    """The payload of every record the queue holds, from letters or from the log."""
    values: list[bytes] = []
    for letter in letters:
        if letter.kind == "letter":
            value = letter.body.get("value")
            if isinstance(value, str):
                values.append(base64.b64decode(value))
        elif letter.kind == "batch-info":
            info = letter.body["KafkaBatchInfo"]["recordsInfo"]
            for group, span in info.items():
                name, _, partition = group.rpartition("-")
                if name != topic:
                    continue
                for offset in range(int(span["firstRecordOffset"]),
                                    int(span["lastRecordOffset"]) + 1):
                    if (value := log.get((int(partition), offset))) is not None:
                        values.append(value)
    return values


def account(acked: set[str], poison: set[bytes], processed: Counter,
            letters: list[Letter], topic: str,
            log: dict[tuple[int, int], bytes | None]) -> Accounting:
    result = Accounting(acknowledged=len(acked), poison_sent=len(poison))
    result.letters = Counter(letter.kind for letter in letters)
    dead_values = dead_lettered_values(letters, topic, log)
    dead_ids = {i for v in dead_values if (i := _event_id(v)) is not None}
    in_topic = {i for v in log.values() if (i := _event_id(v)) is not None}
    for event_id in sorted(acked):
        count = processed.get(event_id, 0)
        if count:
            result.processed += 1
            result.duplicates += count > 1
            result.extra_deliveries += count - 1
            result.processed_and_dead_lettered += event_id in dead_ids
        elif event_id in dead_ids:
            result.dead_lettered += 1
        else:
            result.lost.append(event_id)
            result.lost_not_in_topic += event_id not in in_topic
    dead_set = set(dead_values)
    result.poison_dead_lettered = len(poison & dead_set)
    return result

