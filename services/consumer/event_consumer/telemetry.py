"""One Powertools Logger and Metrics for the whole function (JSON logs, CloudWatch EMF metrics)."""

import os

import log_redaction
from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "event-consumer")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EventPipeline")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def install_log_redaction() -> None:
    """No log level may write credentials, signatures or tokens: botocore (the SQS/S3 dead-letter
    sink) logs signing material at DEBUG. Filters the leaky loggers, the root logger's handlers
    (the Lambda runtime's) and this function's Powertools handler."""
    log_redaction.install(logger.registered_handler)
