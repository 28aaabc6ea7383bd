"""Reusable Pulumi components of the event pipeline; one ComponentResource per module.

`from components import Network, NetworkArgs` works for every public name below. They are
imported on first use (PEP 562), so a light module such as components.docker_context does not
pull in the AWS provider SDK.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "components.alarm_topic": ("AlarmTopic", "AlarmTopicArgs"),
    "components.api_service": ("ApiService", "ApiServiceArgs"),
    "components.consumer": ("Consumer", "ConsumerArgs"),
    "components.dashboard": ("PipelineDashboard", "PipelineDashboardArgs"),
    "components.existing": ("ExistingKafkaCluster", "ExistingTopic", "ExistingVpc"),
    "components.kafka": ("KafkaCluster", "KafkaClusterArgs"),
    "components.kafka_access": ("API_PRODUCER_IDEMPOTENT",),
    "components.network": ("FARGATE_ENDPOINTS", "KAFKA_ENDPOINTS", "Network", "NetworkArgs"),
    "components.topic": ("KafkaTopic", "KafkaTopicArgs"),
}
_MODULE_OF = {name: module for module, names in _PUBLIC.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
