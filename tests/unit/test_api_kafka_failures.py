"""Why the API could not connect, named from kafka-python's own log records."""

from __future__ import annotations

import logging

from event_api.kafka_failures import ConnectionFailureWatcher, describe_connect_failure
from kafka import errors as kafka_errors


def _log(logger: str, error: BaseException) -> None:
    logging.getLogger(logger).warning("Bootstrap connection to %s failed: %s", "b-0", error)


def test_a_rejected_token_stays_the_reason_while_later_attempts_only_see_a_closed_socket():
    watcher = ConnectionFailureWatcher().install()
    try:
        _log("kafka.net.manager",
             kafka_errors.SaslAuthenticationFailedError('{"status":"invalid_token"}'))
        _log("kafka.net.connection", kafka_errors.KafkaConnectionError("socket disconnected"))
        timeout = kafka_errors.KafkaTimeoutError("Unable to bootstrap from ['b-0:9098']")
        reason = describe_connect_failure(timeout, watcher)
        assert reason.startswith("Kafka rejected the authentication"), reason
        assert "invalid_token" in reason and "Unable to bootstrap" not in reason
        watcher.reset()  # a connection succeeded: the old rejection is no longer the reason
        assert describe_connect_failure(timeout, watcher).startswith(
            "cannot connect to Kafka (KafkaTimeoutError")
    finally:
        watcher.uninstall()
