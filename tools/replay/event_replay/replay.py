"""Re-publish dead-lettered records to Kafka, deleting each only after Kafka acknowledged it.

    python -m event_replay --from sqlite:PATH|sqs:QUEUE_URL [--dry-run] [--limit N]

Kafka settings come from the environment, like the API: KAFKA_BOOTSTRAP_SERVERS,
KAFKA_SECURITY_PROTOCOL (SASL_SSL|PLAINTEXT), KAFKA_CA_FILE, AWS_REGION, and KAFKA_TOPIC (optional:
defaults to each record's original topic). Key, value and headers are re-published byte for byte.
An operator tool (package `event-replay`), never shipped in the Lambda's package.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from event_consumer.sqlite_sink import SqliteDeadLetterSink

ACK_TIMEOUT_S = 30.0
SQS_WAIT_S = 1  # long-poll briefly; an empty receive ends the replay
SQS_VISIBILITY_S = 120  # a message being replayed stays hidden while Kafka acknowledges it


class ReplayError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Letter:
    handle: Any  # SQLite row id or SQS receipt handle
    body: dict[str, Any]


class LetterSource(Protocol):
    def batches(self, limit: int | None) -> Iterator[list[Letter]]: ...

    def delete(self, letters: list[Letter]) -> None: ...


class SqliteSource:
    def __init__(self, path: str) -> None:
        if not os.path.isfile(path):
            raise ReplayError([f"--from sqlite:{path}: no such file"])
        self.store = SqliteDeadLetterSink(path)

    def batches(self, limit: int | None) -> Iterator[list[Letter]]:
        # Read once: letters that fail again are not re-read in the same run.
        rows = self.store.read(limit)
        for i in range(0, len(rows), 500):
            yield [Letter(row_id, body) for row_id, body in rows[i : i + 500]]

    def delete(self, letters: list[Letter]) -> None:
        self.store.delete(letter.handle for letter in letters)


class SqsSource:
    """Not exercised by the test suite (no AWS here); same contract as SqliteSource."""

    def __init__(self, queue_url: str) -> None:
        import boto3
        from botocore.config import Config

        self.queue_url = queue_url
        self.client = boto3.client(
            "sqs",
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 3}),
        )

    def batches(self, limit: int | None) -> Iterator[list[Letter]]:
        seen = 0
        while limit is None or seen < limit:
            want = 10 if limit is None else min(10, limit - seen)
            response = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=want,
                WaitTimeSeconds=SQS_WAIT_S,
                VisibilityTimeout=SQS_VISIBILITY_S,
            )
            messages = response.get("Messages") or []
            if not messages:
                return
            seen += len(messages)
            yield [Letter(m["ReceiptHandle"], json.loads(m["Body"])) for m in messages]

    def delete(self, letters: list[Letter]) -> None:
        for i in range(0, len(letters), 10):
            chunk = letters[i : i + 10]
            self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": x.handle} for n, x in enumerate(chunk)],
            )


def open_source(spec: str) -> LetterSource:
    scheme, sep, target = spec.partition(":")
    if sep and scheme == "sqlite" and target:
        return SqliteSource(target)
    if sep and scheme == "sqs" and target.startswith("https://"):
        return SqsSource(target)
    raise ReplayError([f"--from must be sqlite:PATH or sqs:https://QUEUE_URL, got {spec!r}"])


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text, validate=True)


def kafka_message(
    body: dict[str, Any],
) -> tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]:
    """The original key, value and headers of a dead letter, as bytes."""
    headers = [(name, bytes(v)) for entry in body.get("headers") or [] for name, v in entry.items()]
    return _unb64(body.get("key")), _unb64(body.get("value")), headers


def kafka_settings(env: Mapping[str, str]) -> dict[str, Any]:
    problems = []
    bootstrap = env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if not bootstrap:
        problems.append("KAFKA_BOOTSTRAP_SERVERS is required")
    protocol = env.get("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    if protocol not in ("SASL_SSL", "PLAINTEXT"):
        problems.append(f"KAFKA_SECURITY_PROTOCOL must be SASL_SSL or PLAINTEXT, got {protocol!r}")
    region = env.get("AWS_REGION", "").strip()
    if protocol == "SASL_SSL" and not region:
        problems.append("AWS_REGION is required for SASL_SSL (MSK IAM tokens)")
    ca_file = env.get("KAFKA_CA_FILE", "").strip()
    if ca_file and not os.path.isfile(ca_file):
        problems.append(f"KAFKA_CA_FILE {ca_file!r} is not a file")
    if problems:
        raise ReplayError(problems)
    return {
        "bootstrap": bootstrap.split(","),
        "protocol": protocol,
        "region": region or None,
        "ca_file": ca_file or None,
        "topic": env.get("KAFKA_TOPIC", "").strip() or None,
    }


def _producer(cfg: dict[str, Any]) -> Any:
    from kafka import KafkaProducer
    from msk_iam_client import client_security_options

    return KafkaProducer(
        bootstrap_servers=cfg["bootstrap"],
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=15_000,
        max_block_ms=15_000,
        **client_security_options(cfg["protocol"], cfg["region"], cfg["ca_file"]),
    )


def replay(
    source: LetterSource,
    env: Mapping[str, str],
    *,
    dry_run: bool = False,
    limit: int | None = None,
    out: Any = sys.stdout,
) -> dict[str, int]:
    """Replay up to `limit` letters; returns counts of replayed / failed / skipped letters."""
    counts = {"replayed": 0, "failed": 0, "skipped": 0}
    cfg = None if dry_run else kafka_settings(env)
    producer = None if dry_run else _producer(cfg)
    try:
        for letters in source.batches(limit):
            sent: list[tuple[Letter, Any]] = []
            for letter in letters:
                try:
                    key, value, headers = kafka_message(letter.body)
                except (binascii.Error, ValueError, TypeError, KeyError) as err:
                    # Kept in the store: a letter whose bytes cannot be rebuilt is not replayable.
                    counts["skipped"] += 1
                    _say(out, "skipped", letter, reason=f"cannot rebuild payload: {err}")
                    continue
                topic = (cfg and cfg["topic"]) or letter.body["topic"]
                if dry_run:
                    _say(out, "would-replay", letter, to=topic)
                    counts["replayed"] += 1
                    continue
                sent.append((letter, producer.send(topic, key=key, value=value, headers=headers)))
            if not sent:
                continue
            producer.flush(timeout=ACK_TIMEOUT_S)
            acked = []
            for letter, future in sent:
                try:
                    future.get(timeout=ACK_TIMEOUT_S)
                except Exception as err:  # noqa: BLE001 - any send error leaves the letter stored
                    counts["failed"] += 1
                    _say(out, "failed", letter, reason=str(err))
                else:
                    acked.append(letter)
            # Delete only what Kafka acknowledged (acks=all): a crash here replays twice, not zero.
            source.delete(acked)
            counts["replayed"] += len(acked)
            for letter in acked:
                _say(out, "replayed", letter)
    finally:
        if producer is not None:
            producer.close(timeout=ACK_TIMEOUT_S)
    return counts


def _say(out: Any, action: str, letter: Letter, **extra: Any) -> None:
    b = letter.body
    line = {"action": action, "topic": b.get("topic"), "partition": b.get("partition")}
    line |= {"offset": b.get("offset"), "reason": b.get("reason")} | extra
    print(json.dumps(line), file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m event_replay", description=__doc__)
    parser.add_argument("--from", dest="source", required=True, help="sqlite:PATH or sqs:QUEUE_URL")
    parser.add_argument("--dry-run", action="store_true", help="list, publish nothing")
    parser.add_argument("--limit", type=int, default=None, help="replay at most N dead letters")
    args = parser.parse_args(argv)
    try:
        if args.limit is not None and args.limit < 1:
            raise ReplayError([f"--limit must be a positive integer, got {args.limit}"])
        counts = replay(
            open_source(args.source), os.environ, dry_run=args.dry_run, limit=args.limit
        )
    except ReplayError as err:
        for problem in err.problems:
            print(f"replay: {problem}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - e.g. no broker, no credentials: say it, no traceback
        print(f"replay: stopped: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"summary": counts, "dry_run": args.dry_run}))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
