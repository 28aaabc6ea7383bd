"""A local stand-in for Lambda's Amazon MSK event source mapping (`python -m local.esm`).

aws_shapes.py: the shapes AWS hands a Kafka consumer (MSK event, on-failure record, context);
poller.py: the mapping itself (batching, invoking, partial batch responses, retries, commits);
on_failure.py: the on-failure destination (the SQS dead-letter queue);
settings.py: flags and environment; __main__.py: the CLI.
"""

from local.esm.aws_shapes import LocalLambdaContext, build_msk_event, on_failure_record
from local.esm.poller import BatchOutcome, LocalEventSourceMapping
from local.esm.settings import EsmSettings, SettingsError, load_settings

__all__ = [
    "BatchOutcome",
    "EsmSettings",
    "LocalEventSourceMapping",
    "LocalLambdaContext",
    "SettingsError",
    "build_msk_event",
    "load_settings",
    "on_failure_record",
]
