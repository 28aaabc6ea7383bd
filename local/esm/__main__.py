"""A local stand-in for Lambda's Amazon MSK event source mapping, run against the local broker.

    python -m local.esm --topic events [--on-failure sqs:QUEUE_URL]

It behaves like the AWS poller where it matters to the handler and to operators:
- joins a consumer group over SASL_SSL + OAUTHBEARER (MSK IAM tokens), like the real mapping;
- builds events in exactly AWS's shape (`eventSource` aws:kafka, a local cluster ARN,
  `bootstrapServers`, records grouped as "<topic>-<partition>" and ordered by offset, base64
  key/value, headers as lists of byte values);
- honours the batch size, the batching window (how long to wait to fill a batch) and the 6 MB
  invocation payload limit;
- invokes the handler in-process (through a JSON round trip, like the Lambda invoke boundary)
  and commits offsets only after the handler succeeded;
- retries a failed batch up to `max_retry_attempts` (-1 = forever, AWS's default), or with
  ReportBatchItemFailures only the records the partial batch response names, and then writes
  AWS's on-failure record where the deployed mapping does (the SQS dead-letter queue,
  DEAD_LETTER_QUEUE_URL's by default; locally on `python -m local.aws`) and moves on;
- processes one batch at a time, so per-partition order holds;
- on SIGINT/SIGTERM finishes the in-flight invocation, commits if it succeeded, and closes.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from local.esm.poller import LocalEventSourceMapping, logger
from local.esm.settings import SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = load_settings(argv)
    except SettingsError as err:
        for problem in err.problems:
            print(f"local.esm: configuration error: {problem}", file=sys.stderr)
        return 2
    from event_consumer.deadletter import sink_from_env
    from event_consumer.errors import ConfigError
    from event_consumer.handler import build_handler, report_failures_from_env

    if settings.region:
        # The in-process handler sees what Lambda defines for a function: AWS_DEFAULT_REGION
        # beside AWS_REGION ("Defined runtime environment variables", https://docs.aws.amazon.com/
        # lambda/latest/dg/configuration-envvars.html); its SQS/S3 clients read the former.
        os.environ.setdefault("AWS_DEFAULT_REGION", settings.region)

    try:
        # The handler's own configuration is checked now, not at the first invocation.
        sink = sink_from_env()
        report = report_failures_from_env()
    except ConfigError as err:
        for problem in err.problems:
            print(f"local.esm: handler configuration error: {problem}", file=sys.stderr)
        return 2
    _configure_logging()
    esm = LocalEventSourceMapping(settings, handler=build_handler(sink=sink,
                                                                  report_failures=report))

    def _graceful(signum: int, _frame: Any) -> None:
        logger.info("signal received; finishing the in-flight batch", extra={"signal": signum})
        esm.request_stop()

    signal.signal(signal.SIGINT, _graceful)
    signal.signal(signal.SIGTERM, _graceful)
    logger.info(
        "local event source mapping starting",
        extra={
            "topics": settings.topics,
            "group_id": settings.group_id,
            "batch_size": settings.batch_size,
            "batching_window_s": settings.batching_window_s,
            "max_retry_attempts": settings.max_retry_attempts,
            "on_failure": settings.on_failure,
        },
    )
    from kafka.errors import KafkaError
    from msk_iam_client import MissingAwsCredentials

    try:
        esm.run()
    except (MissingAwsCredentials, KafkaError, OSError) as err:
        print(f"local.esm: stopped: {err}", file=sys.stderr)
        return 1
    return 0


def _configure_logging() -> None:
    """Third-party loggers (kafka-python, botocore) at LOG_LEVEL on stderr; whatever the level,
    no credential, signature or MSK token is written (log_redaction)."""
    import logging
    import os

    import log_redaction

    level = getattr(logging, os.environ.get("LOG_LEVEL", "WARNING").upper(), logging.WARNING)
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log_redaction.install()


if __name__ == "__main__":
    sys.exit(main())
