"""The local mapping's handler when the function runs in the Lambda emulator: every batch crosses
the Lambda Invoke HTTP API (local/lambda_runtime), as AWS's pollers invoke the function.

A function error (init failure, exception, timeout) raises `FunctionError`, which the poller
treats as a failed invocation: retried, then an on-failure record, like the deployed mapping.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from local.esm.settings import EsmSettings
from testing.deployables import MappingSettings

ResultHook = Callable[[dict[str, Any], Any], None]


class EmulatorHandler:
    """`handler(event, context)` for LocalEventSourceMapping that invokes an emulator."""

    def __init__(self, emulator: Any, on_result: ResultHook | None = None) -> None:
        self.emulator = emulator
        self.on_result = on_result

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        result = self.emulator.invoke(event)
        if self.on_result is not None:
            self.on_result(event, result)
        return result


def settings_from_mapping(mapping: MappingSettings, **connection: Any) -> EsmSettings:
    """The local mapping configured as the program configures the deployed one."""
    return EsmSettings(
        topics=mapping.topics, group_id=mapping.group_id, batch_size=mapping.batch_size,
        batching_window_s=mapping.batching_window_s,
        starting_position=mapping.starting_position,
        max_retry_attempts=mapping.max_retry_attempts,
        report_batch_item_failures=mapping.report_batch_item_failures,
        function_name=mapping.function_resource_name, **connection)


def succeeded_records(event: dict[str, Any], result: Any,
                      report_batch_item_failures: bool) -> list[dict[str, Any]]:
    """The batch's records the function finished, as the mapping reads its answer: all of them,
    or with ReportBatchItemFailures those before each named partition's resume offset (an
    answer the mapping would refuse counts as none finished)."""
    records = [r for group in (event.get("records") or {}).values() for r in group]
    if not report_batch_item_failures or not result:
        return records
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    resume: dict[str, int] = {}
    for failure in failures or []:
        item = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(item, dict):
            return []
        group, offset = item.get("partition"), item.get("offset")
        if isinstance(offset, int):
            resume[group] = min(resume.get(group, offset), offset)
    return [r for r in records
            if r["offset"] < resume.get(f"{r['topic']}-{r['partition']}", r["offset"] + 1)]


def event_id_of(record: dict[str, Any]) -> str | None:
    """The pipeline event's id in a delivered record, or None for a record that is not one."""
    try:
        value = json.loads(base64.b64decode(record.get("value") or ""))
    except ValueError:
        return None
    event_id = value.get("event_id") if isinstance(value, dict) else None
    return event_id if isinstance(event_id, str) else None
