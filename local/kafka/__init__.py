"""The local Kafka broker: jars (jars.py), TLS material (tls.py), lifecycle (broker.py) and its
command line (cli.py)."""

from local.kafka.broker import REGION, LocalKafka
from local.kafka.jars import LocalKafkaError, ensure_jars

__all__ = ["REGION", "LocalKafka", "LocalKafkaError", "ensure_jars"]
