"""The shapes AWS gives a Kafka consumer function: the MSK event, the on-failure record, the
context object; built from kafka-python's ConsumerRecords exactly as Lambda builds them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.esm.settings import EsmSettings

# Lambda's synchronous invocation payload limit.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _msk_record(rec: Any) -> dict[str, Any]:
    """One kafka-python ConsumerRecord in the shape Lambda delivers it."""
    out: dict[str, Any] = {
        "topic": rec.topic,
        "partition": rec.partition,
        "offset": rec.offset,
        "timestamp": rec.timestamp,
        "timestampType": "LOG_APPEND_TIME" if rec.timestamp_type == 1 else "CREATE_TIME",
    }
    # Lambda leaves out a null key (its documented examples have records without one).
    if rec.key is not None:
        out["key"] = _b64(rec.key)
    if rec.value is not None:
        out["value"] = _b64(rec.value)
    out["headers"] = [{name: list(value or b"")} for name, value in (rec.headers or [])]
    return out


def build_msk_event(
    records: Sequence[Any], event_source_arn: str, bootstrap_servers: str
) -> dict[str, Any]:
    """The event Lambda sends for these records: grouped by topic-partition, offset order."""
    grouped: dict[str, list[Any]] = {}
    for rec in records:
        grouped.setdefault(f"{rec.topic}-{rec.partition}", []).append(rec)
    return {
        "eventSource": "aws:kafka",
        "eventSourceArn": event_source_arn,
        "bootstrapServers": bootstrap_servers,
        "records": {
            key: [_msk_record(r) for r in sorted(recs, key=lambda r: r.offset)]
            for key, recs in grouped.items()
        },
    }


def _iso_ms(epoch_ms: float) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def on_failure_record(
    records: Sequence[Any],
    settings: EsmSettings,
    invoke_count: int,
    payload_size: int,
    condition: str = "RetryAttemptsExhausted",
) -> dict[str, Any]:
    """AWS's on-failure (SQS/SNS) invocation record for a Kafka batch it gave up on."""
    info: dict[str, dict[str, str]] = {}
    for rec in sorted(records, key=lambda r: (r.topic, r.partition, r.offset)):
        key = f"{rec.topic}-{rec.partition}"
        entry = info.setdefault(
            key,
            {"firstRecordOffset": str(rec.offset), "firstRecordTimestamp": _iso_ms(rec.timestamp)},
        )
        entry["lastRecordOffset"] = str(rec.offset)
        entry["lastRecordTimestamp"] = _iso_ms(rec.timestamp)
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": settings.function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": (
            None
            if condition == "MaximumPayloadSizeExceeded"
            else {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
        ),
        "version": "1.0",
        "timestamp": _iso_ms(time.time() * 1000),
        "KafkaBatchInfo": {
            "batchSize": len(records),
            "eventSourceArn": settings.event_source_arn,
            "bootstrapServers": settings.bootstrap_servers,
            "payloadSize": payload_size,
            "recordsInfo": info,
        },
    }


@dataclass
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    timeout_s: float = 30.0
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
