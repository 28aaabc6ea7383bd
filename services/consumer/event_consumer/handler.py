"""Lambda entry point for batches from the MSK event source mapping.

Per invocation: decode every record; dead-letter the poison ones (any decode or validation
failure, with their full payload) in one durable write; then process the good ones in delivery
order. A poison record therefore never blocks its partition, and nothing is dropped silently.

A transient failure (`RetryableError` from `process`) is handled in one of two ways:
- `REPORT_BATCH_ITEM_FAILURES=true` (provisioned mode, where the mapping has
  `FunctionResponseTypes=["ReportBatchItemFailures"]`): the handler returns
  `{"batchItemFailures": [{"itemIdentifier": {"partition": "<topic>-<partition>",
  "offset": <offset>}}]}` naming, per partition, the first record that failed; the mapping
  resumes that partition from that offset (it and every later record of the partition come again)
  and the other partitions move on. So the handler stops processing a partition at its first
  failure: the later records would be delivered twice otherwise. Lambda guide, "Configuring error
  handling controls for Kafka event sources" (partial batch response),
  https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html; the identifier
  shape is the one Powertools' batch processor sends for `EventType.Kafka`
  (https://docs.aws.amazon.com/powertools/python/latest/utilities/batch/).
- otherwise the invocation fails (the exception propagates) and the mapping retries the batch.
Any other exception from `process`, and a dead-letter store failure, fail the invocation in both
modes: the mapping retries, and a bug never looks like success.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from dead_letter_format import MskRecord, dead_letter, decode_headers

from event_consumer import process as process_module
from event_consumer.deadletter import DeadLetterSink, sink_from_env
from event_consumer.errors import ConfigError, PoisonRecordError, RetryableError
from event_consumer.records import decode_event, iter_records
from event_consumer.telemetry import install_log_redaction, logger, metrics

ProcessFn = Callable[[dict[str, Any], process_module.RecordMeta], None]
Decode = Callable[[MskRecord], dict[str, Any]]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
REPORT_FAILURES_ENV = "REPORT_BATCH_ITEM_FAILURES"
POISON_EXAMPLES_LOGGED = 10


def report_failures_from_env(env: Mapping[str, str] = os.environ) -> bool:
    text = env.get(REPORT_FAILURES_ENV, "").strip().lower()
    if text in ("", "false"):
        return False
    if text == "true":
        return True
    raise ConfigError([f"{REPORT_FAILURES_ENV} must be true or false, got {text!r}"])


def _decode_all(
    event: dict[str, Any], decode: Decode
) -> tuple[list[tuple[dict[str, Any], MskRecord, list]], list[dict[str, Any]]]:
    good: list[tuple[dict[str, Any], MskRecord, list]] = []
    letters: list[dict[str, Any]] = []
    for record in iter_records(event):
        try:
            decoded = decode(record)
            headers = decode_headers(record.raw.get("headers"))
            key = record.raw.get("key")
            if key is not None and not isinstance(key, str):
                raise PoisonRecordError(f"key must be base64 text, got {type(key).__name__}")
        except PoisonRecordError as poison:
            letters.append(dead_letter(record, poison.reason))
        except Exception as err:  # noqa: BLE001 - ANY failure to decode one record is poison
            letters.append(dead_letter(record, f"undecodable: {type(err).__name__}: {err}"))
        else:
            good.append((decoded, record, headers))
    return good, letters


def handle_batch(
    event: dict[str, Any],
    sink: DeadLetterSink,
    process_fn: ProcessFn,
    decode: Decode = decode_event,
    report_failures: bool = False,
) -> dict[str, Any]:
    """Core logic without Powertools decorators (so tests and the bench call it directly too)."""
    if not isinstance(event, dict) or not event.get("records"):
        keys = sorted(event) if isinstance(event, dict) else type(event).__name__
        logger.info("no records in event; nothing to do", extra={"event_keys": keys})
        return {"batchItemFailures": []} if report_failures else {"processed": 0,
                                                                  "dead_lettered": 0}
    good, letters = _decode_all(event, decode)

    # Dead letters first: if the store fails we raise before any side effect of processing.
    sink.send(letters)
    if letters:
        metrics.add_metric(name="RecordsDeadLettered", unit=MetricUnit.Count, value=len(letters))
        logger.warning("poison records dead-lettered", extra={
            "count": len(letters),
            "examples": [{"topic": x["topic"], "partition": x["partition"],
                          "offset": x["offset"], "reason": x["reason"]}
                         for x in letters[:POISON_EXAMPLES_LOGGED]],
        })

    RecordMeta = process_module.RecordMeta
    failed: dict[str, dict[str, Any]] = {}  # "<topic>-<partition>" -> first failed record
    processed = 0
    oldest_event_s: int | None = None
    try:
        for decoded, record, headers in good:
            if failed and record.group in failed:
                continue  # redelivered from the failed offset on: processing it now duplicates
            raw = record.raw
            meta = RecordMeta(record.topic, record.partition, record.offset, raw.get("timestamp"),
                              raw.get("timestampType", "CREATE_TIME"), raw.get("key"), headers)
            try:
                process_fn(decoded, meta)
            except RetryableError as err:
                if not report_failures:
                    raise
                failed[record.group] = record.item_identifier
                logger.warning("retryable failure; the mapping resumes this partition here",
                               extra={"coordinates": record.coordinates, "error": str(err)})
                continue
            processed += 1
            created = decoded.get("timestamp")
            if type(created) is int and (oldest_event_s is None or created < oldest_event_s):
                oldest_event_s = created
    except RetryableError:
        logger.exception(
            "retryable failure; failing the invocation so the batch is retried",
            extra={"processed_before_failure": processed},
        )
        raise
    finally:
        if processed:
            metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=processed)
        if oldest_event_s is not None:
            # One value per batch, not per record: the oldest event's end-to-end lag.
            metrics.add_metric(name="EndToEndLagMs", unit=MetricUnit.Milliseconds,
                               value=process_module.lag_ms({"timestamp": oldest_event_s}))
    if report_failures:
        return {"batchItemFailures": [{"itemIdentifier": item} for item in failed.values()]}
    return {"processed": processed, "dead_lettered": len(letters)}


def build_handler(
    sink: DeadLetterSink | None = None,
    process_fn: ProcessFn | None = None,
    decode: Decode = decode_event,
    report_failures: bool | None = None,
) -> Handler:
    """A Lambda handler; the sink and the failure-reporting mode default to what the environment
    says (read once, at the first invocation)."""
    install_log_redaction()
    state: dict[str, Any] = {}
    if sink is not None:
        state["sink"] = sink
    if report_failures is not None:
        state["report"] = report_failures

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if "sink" not in state or "report" not in state:
            try:
                if "report" not in state:
                    state["report"] = report_failures_from_env()
                if "sink" not in state:
                    state["sink"] = sink_from_env()
            except ConfigError as err:
                for problem in err.problems:
                    logger.error("invalid configuration", extra={"problem": problem})
                raise
        started = time.perf_counter()
        result = handle_batch(event, state["sink"], process_fn or process_module.process,
                              decode=decode, report_failures=state["report"])
        logger.info("batch done", extra={
            **result, "duration_ms": round((time.perf_counter() - started) * 1000, 2)})
        return result

    return handler


lambda_handler = build_handler()
