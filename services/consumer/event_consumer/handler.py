"""Lambda entry point for batches from the MSK event source mapping.

Per invocation: decode every record; dead-letter the poison ones (with their full payload) in one
durable write; then process the good ones in delivery order. A poison record therefore never
blocks its partition, while a retryable processing failure or a dead-letter store failure fails
the invocation so the mapping retries the batch: nothing is dropped silently.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from event_consumer import process as process_module
from event_consumer.deadletter import DeadLetterSink, dead_letter, sink_from_env
from event_consumer.errors import ConfigError, PoisonRecordError, RetryableError
from event_consumer.records import KafkaRecord, decode_event, decode_headers, iter_records
from event_consumer.telemetry import logger, metrics

ProcessFn = Callable[[dict[str, Any], process_module.RecordMeta], None]
Handler = Callable[[dict[str, Any], Any], dict[str, int]]


def _meta(record: KafkaRecord) -> process_module.RecordMeta:
    return process_module.RecordMeta(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp=record.timestamp,
        timestamp_type=record.timestamp_type,
        key=record.key,
        headers=decode_headers(record.headers),
    )


def handle_batch(
    event: dict[str, Any],
    sink: DeadLetterSink,
    process_fn: ProcessFn,
    decode: Callable[[KafkaRecord], dict[str, Any]] = decode_event,
) -> dict[str, int]:
    """Core logic without Powertools decorators (so tests and the bench call it directly too)."""
    if not event.get("records"):
        logger.info("no records in event; nothing to do", extra={"event_keys": sorted(event)})
        return {"processed": 0, "dead_lettered": 0}

    good: list[tuple[dict[str, Any], KafkaRecord]] = []
    letters: list[dict[str, Any]] = []
    for record in iter_records(event):
        try:
            good.append((decode(record), record))
        except PoisonRecordError as poison:
            letters.append(dead_letter(record, poison.reason))
            logger.warning(
                "poison record dead-lettered",
                extra={"coordinates": record.coordinates, "reason": poison.reason},
            )

    # Dead letters first: if the store fails we raise before any side effect of processing.
    sink.send(letters)
    if letters:
        metrics.add_metric(name="RecordsDeadLettered", unit=MetricUnit.Count, value=len(letters))

    processed = 0
    try:
        for decoded, record in good:
            process_fn(decoded, _meta(record))
            processed += 1
            metrics.add_metric(
                name="EndToEndLagMs",
                unit=MetricUnit.Milliseconds,
                value=process_module.lag_ms(decoded),
            )
    except RetryableError:
        logger.exception(
            "retryable failure; failing the invocation so the batch is retried",
            extra={"processed_before_failure": processed},
        )
        raise
    finally:
        if processed:
            metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=processed)
    return {"processed": processed, "dead_lettered": len(letters)}


def build_handler(
    sink: DeadLetterSink | None = None,
    process_fn: ProcessFn | None = None,
    decode: Callable[[KafkaRecord], dict[str, Any]] = decode_event,
) -> Handler:
    """A Lambda handler; the sink defaults to the one the environment selects (checked once)."""
    state: dict[str, DeadLetterSink] = {}
    if sink is not None:
        state["sink"] = sink

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
        if "sink" not in state:
            try:
                state["sink"] = sink_from_env()
            except ConfigError as err:
                for problem in err.problems:
                    logger.error("invalid configuration", extra={"problem": problem})
                raise
        started = time.perf_counter()
        result = handle_batch(
            event, state["sink"], process_fn or process_module.process, decode=decode
        )
        logger.info(
            "batch done",
            extra={**result, "duration_ms": round((time.perf_counter() - started) * 1000, 2)},
        )
        return result

    return handler


lambda_handler = build_handler()
