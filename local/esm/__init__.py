"""A local stand-in for Lambda's Amazon MSK event source mapping (`python -m local.esm`).

events.py: AWS's event and on-failure record shapes; poller.py: the mapping itself;
destinations.py: on-failure destinations; settings.py: flags and environment; __main__.py: CLI.
"""

from local.esm.events import LocalLambdaContext, build_msk_event, on_failure_record
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
