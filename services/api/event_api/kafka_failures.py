"""Why kafka-python could not connect, in words an operator can act on.

kafka-python 3.0 retries a failed connection until its bootstrap timeout and then raises a bare
KafkaTimeoutError("Unable to bootstrap ..."); the real cause (e.g. the broker rejecting the MSK
IAM token with SaslAuthenticationFailedError) appears only as the argument of its log calls
("Bootstrap connection to %s failed: %s", "Connection lost: %s"). `ConnectionFailureWatcher`
reads those arguments as the records pass, so /readyz can name an authentication failure.
"""

from __future__ import annotations

import logging

from kafka import errors as kafka_errors
from msk_iam_client import MissingAwsCredentials

# The kafka-python loggers whose records carry the connection failure as an argument
# (checked against kafka-python 3.0.12).
WATCHED_LOGGERS = ("kafka.net.manager", "kafka.net.connection", "kafka.net.transport")
AUTHENTICATION_ERRORS = (kafka_errors.SaslAuthenticationFailedError, MissingAwsCredentials)


class ConnectionFailureWatcher(logging.Filter):
    """Remembers the most telling connection failure seen in kafka-python's log records since the
    last successful connection (kafka-python reports a rejected token on one attempt and often
    only a closed socket on the next: the rejection stays the reason until it is fixed).

    Installed as a filter on the watched loggers, whose level it sets to WARNING so it sees the
    failures whatever LOG_LEVEL is; records below `emit_level` are then dropped here, so the
    output still follows LOG_LEVEL."""

    def __init__(self, emit_level: int = logging.WARNING) -> None:
        super().__init__()
        self.emit_level = emit_level
        self.authentication_failure: BaseException | None = None

    def install(self) -> ConnectionFailureWatcher:
        for name in WATCHED_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(min(logging.WARNING, self.emit_level))
            if self not in logger.filters:
                logger.addFilter(self)
        return self

    def uninstall(self) -> None:
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).removeFilter(self)

    def reset(self) -> None:
        self.authentication_failure = None

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        for arg in args:
            if isinstance(arg, AUTHENTICATION_ERRORS):
                self.authentication_failure = arg
        return record.levelno >= self.emit_level


def describe_connect_failure(exc: BaseException, watcher: ConnectionFailureWatcher) -> str:
    """One line for /readyz and the log: the authentication failure if one was seen."""
    failure = exc if isinstance(exc, AUTHENTICATION_ERRORS) else watcher.authentication_failure
    if isinstance(failure, MissingAwsCredentials):
        return str(failure)
    if failure is not None:
        return ("Kafka rejected the authentication (SaslAuthenticationFailedError: "
                f"{_broker_message(failure)}): check the AWS credentials, the region, and the "
                "role's kafka-cluster:Connect grant")
    return f"cannot connect to Kafka ({type(exc).__name__}: {exc})"


def _broker_message(error: BaseException) -> str:
    text = str(error)
    # kafka-python repeats the class name: "SaslAuthenticationFailedError: {...}".
    return text.rsplit("SaslAuthenticationFailedError: ", 1)[-1]
