"""Re-publish dead letters to Kafka exactly once per record.

    python -m event_replay --from sqs:QUEUE_URL --ledger PATH [--dry-run] [--limit N]

Kafka settings come from the environment, like the API: KAFKA_BOOTSTRAP_SERVERS,
KAFKA_SECURITY_PROTOCOL (SASL_SSL|PLAINTEXT), KAFKA_CA_FILE, AWS_REGION, and KAFKA_TOPIC (optional:
defaults to each record's original topic). Key, value and headers are re-published byte for byte.

The rules (docs/operating.md, "Dead letters and replay"):
- never publish a null record: a tombstone letter is reported and kept;
- never republish a record it already replayed: the durable ledger (ledger.py) is consulted before
  publishing, across retries and re-runs, and duplicates inside one run (SQS redelivering a
  message whose visibility timeout passed, the same record in two messages) are published once;
- never delete a message it did not replay: a message leaves its source only when it stands for
  at least one record and every one of them is `done` in the ledger (replayed now, or recorded as
  replayed by an earlier run); anything else keeps it, with one line saying which and why;
- trust nothing in a message: record ids are recomputed from the bytes (expand.py), and one
  message that cannot be read is kept and reported while the run goes on with the others;
- never publish without recording: a ledger that cannot be written stops the run before the next
  publish, and the messages in hand are made visible again.
Exit code: 0 when every message read was replayed (or there was nothing to do), 1 when anything
was kept, failed or left in doubt, or the run stopped; 2 for bad arguments.
An operator tool (package `event-replay`), never shipped in the Lambda's package.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from dead_letter_format import letter_kind

from event_replay.expand import Item, expand
from event_replay.kafka_io import ACK_TIMEOUT_S, OffsetReader, kafka_settings, producer
from event_replay.ledger import DONE, PENDING, Ledger, LedgerError
from event_replay.sources import LetterSource, ReplayError, StoredMessage, open_source

COUNTS = ("replayed", "already_replayed", "in_doubt", "failed", "deleted", "kept")


class Replay:
    def __init__(self, source: LetterSource, ledger: Ledger, env: Mapping[str, str], *,
                 dry_run: bool = False, retry_in_doubt: bool = False, out: Any = sys.stdout):
        self.source, self.ledger, self.out = source, ledger, out
        self.dry_run, self.retry_in_doubt = dry_run, retry_in_doubt
        self.cfg = None if dry_run else kafka_settings(env)
        self.counts = dict.fromkeys(COUNTS, 0)
        self._producer = self._reader = self._s3 = None
        # Messages the source hides while they are handled (SQS: the visibility timeout) and that
        # must be visible again when the run ends: kept ones, those a dry run only listed, and
        # the batch in hand if the run stops.
        self._to_release: list[StoredMessage] = []
        self._in_hand: list[StoredMessage] = []

    # lazily built clients: a replay of plain letters never opens a Kafka consumer or S3
    def s3(self) -> Any:
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client("s3")
        return self._s3

    def reader(self) -> Any:
        if self.dry_run:
            return _DryReader()
        if self._reader is None:
            self._reader = OffsetReader(self.cfg)
        return self._reader

    def run(self, limit: int | None) -> dict[str, int]:
        try:
            for messages in self.source.batches(limit):
                self._in_hand = messages
                self._batch(messages)
                self._in_hand = []
        finally:
            self._release()
            if self._producer is not None:
                self._producer.close(timeout=ACK_TIMEOUT_S)
            if self._reader is not None:
                self._reader.close()
        return self.counts

    def _release(self) -> None:
        listed = {id(m) for m in self._to_release}
        back = self._to_release + [m for m in self._in_hand if id(m) not in listed]
        if back:
            self.source.release(back)

    def _expand(self, message: StoredMessage) -> list[Item]:
        try:
            items = expand(message, self.s3, self.reader)
        except Exception as err:  # noqa: BLE001 - one unreadable message must not stop the others
            message.kept.append(f"cannot read it: {type(err).__name__}: {err}"[:300])
            return []
        if not items and not message.kept:  # nothing replayed is never a reason to delete
            message.kept.append("it stands for no record to replay")
        return items

    def _batch(self, messages: list[StoredMessage]) -> None:
        planned = [(m, self._expand(m)) for m in messages]
        states = self.ledger.states(i.record_id for _, items in planned for i in items)
        queued: dict[str, Item] = {}
        for message, items in planned:
            for item in items:
                state = states.get(item.record_id)
                if state == DONE:
                    self._say("already-replayed", item)
                    self.counts["already_replayed"] += 1
                elif state == PENDING and not self.retry_in_doubt:
                    message.kept.append(f"{item.origin}: in doubt (a previous run stopped after "
                                        "publishing may have started; check the topic, then "
                                        "--retry-in-doubt)")
                    self.counts["in_doubt"] += 1
                elif item.record_id not in queued:  # a duplicate inside this run goes once
                    queued[item.record_id] = item
        if self.dry_run:
            for item in queued.values():
                self._say("would-replay", item)
                self.counts["replayed"] += 1
            for message, _ in planned:
                if message.kept:
                    self._keep(message)
                else:  # only listed: visible again for the real run
                    self._to_release.append(message)
            return
        self._publish(list(queued.values()))
        self._settle(planned)

    def _publish(self, items: list[Item]) -> None:
        if not items:
            return
        if self._producer is None:
            self._producer = producer(self.cfg)
        # Pending BEFORE anything can reach Kafka: a crash from here on leaves "in doubt", never
        # "not replayed" (which would publish it again). A ledger that cannot take the marks
        # raises LedgerError here, before anything of this batch is sent: the run stops.
        self.ledger.mark_pending([i.record_id for i in items])
        sent = []
        for item in items:
            try:
                future = self._producer.send(self._topic(item), key=item.key, value=item.value,
                                             headers=item.headers)
            except Exception as err:  # noqa: BLE001 - refused before sending: nothing written
                self.ledger.clear_pending([item.record_id])
                self._say("failed", item, reason=str(err))
                self.counts["failed"] += 1
                continue
            sent.append((item, future))
        self._producer.flush(timeout=ACK_TIMEOUT_S)
        acked = []
        for item, future in sent:
            try:
                future.get(timeout=ACK_TIMEOUT_S)
            except Exception as err:  # noqa: BLE001 - may or may not be written: stays pending
                self._say("in-doubt", item, reason=f"no acknowledgement: {err}")
                self.counts["in_doubt"] += 1
            else:
                acked.append(item)
        try:
            self.ledger.mark_done([i.record_id for i in acked])  # acks=all: durable in the topic
        except LedgerError as err:
            raise LedgerError(f"{err} ({len(acked)} records published stay pending: in doubt, "
                              "check the topic, then --retry-in-doubt)") from None
        for item in acked:
            self._say("replayed", item, to=self._topic(item))
        self.counts["replayed"] += len(acked)

    def _topic(self, item: Item) -> str:
        return self.cfg["topic"] or item.topic

    def _settle(self, planned: list[tuple[StoredMessage, list[Item]]]) -> None:
        """Delete each message whose records are all done; keep (and say why) the others."""
        states = self.ledger.states(i.record_id for _, items in planned for i in items)
        deletable = []
        for message, items in planned:
            not_done = [i.origin for i in items if states.get(i.record_id) != DONE]
            if not_done and not message.kept:
                message.kept.append(f"not replayed: {', '.join(not_done[:5])}")
            if message.kept:
                self._keep(message)
            else:
                deletable.append(message)
        problems = self.source.delete(deletable) if deletable else []
        for problem in problems:
            print(json.dumps({"action": "delete-failed", "reason": problem}), file=self.out)
        self.counts["deleted"] += len(deletable) - len(problems)
        for message in deletable:
            self._delete_s3_payload(message)

    def _delete_s3_payload(self, message: StoredMessage) -> None:
        if letter_kind(message.body) != "pointer":  # a letter's own "s3" field names nothing
            return
        where = message.body["s3"]
        try:  # replayed and recorded: the payload is no longer needed
            self.s3().delete_object(Bucket=where["bucket"], Key=where["key"])
        except Exception as err:  # noqa: BLE001 - the bucket's lifecycle rule removes it later
            print(json.dumps({"action": "s3-delete-failed", "key": where.get("key"),
                              "reason": str(err)}), file=self.out)

    def _keep(self, message: StoredMessage) -> None:
        self.counts["kept"] += 1
        self._to_release.append(message)
        print(json.dumps({"action": "kept", "message": message.message_id,
                          "reasons": message.kept}), file=self.out)

    def _say(self, action: str, item: Item, **extra: Any) -> None:
        print(json.dumps({"action": action, "record": item.origin, "id": item.record_id[:16]}
                         | extra), file=self.out)


class _DryReader:
    """A dry run names the offsets it would re-read without connecting to Kafka."""

    def read(self, topic: str, partition: int, first: int, last: int):
        raise RuntimeError(f"dry run: would re-read {topic}-{partition} offsets {first}..{last}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m event_replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, help="sqs:QUEUE_URL")
    parser.add_argument("--ledger", default=None,
                        help="durable ledger of replayed records (an SQLite file); keep it "
                        "for the next runs")
    parser.add_argument("--dry-run", action="store_true", help="list, publish and delete nothing")
    parser.add_argument("--limit", type=int, default=None, help="read at most N messages")
    parser.add_argument("--retry-in-doubt", action="store_true",
                        help="publish records a stopped run left in doubt (check the topic first)")
    args = parser.parse_args(argv)
    _configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    try:
        if args.limit is not None and args.limit < 1:
            raise ReplayError([f"--limit must be a positive integer, got {args.limit}"])
        source = open_source(args.source)
        if not args.ledger:
            raise ReplayError(["--ledger PATH is required (the durable record of what was "
                               "replayed; keep it for the next runs)"])
        ledger = Ledger(args.ledger)
        try:
            counts = Replay(source, ledger, os.environ, dry_run=args.dry_run,
                            retry_in_doubt=args.retry_in_doubt).run(args.limit)
        finally:
            ledger.close()
    except ReplayError as err:
        for problem in err.problems:
            print(f"replay: {problem}", file=sys.stderr)
        return 2
    except LedgerError as err:  # never publish without recording: stop, messages visible again
        print(f"replay: stopped: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - e.g. no broker, no credentials: say it, no traceback
        print(f"replay: stopped: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(json.dumps({"summary": counts, "dry_run": args.dry_run}))
    if args.dry_run:  # a listing; "kept" there only says what a real run could not replay
        return 0
    return 1 if counts["failed"] or counts["in_doubt"] or counts["kept"] else 0


def _configure_logging(level: str) -> None:
    import log_redaction

    logging.basicConfig(level=getattr(logging, level.upper(), logging.WARNING),
                        stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Whatever the level: no credentials, signatures or MSK tokens in the output.
    log_redaction.install()


if __name__ == "__main__":
    sys.exit(main())
