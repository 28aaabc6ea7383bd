"""One Powertools Logger and Metrics for the whole function (JSON logs, CloudWatch EMF metrics)."""

import os

from aws_lambda_powertools import Logger, Metrics

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "event-consumer")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "EventPipeline")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
