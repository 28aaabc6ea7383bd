"""The local Kafka broker: jars (jars.py), TLS material (tls.py), principals and the program's
IAM policies they hold (principals.py, policies.py), lifecycle (broker.py) and its command line
(cli.py)."""

from local.kafka.broker import REGION, LocalKafka
from local.kafka.jars import LocalKafkaError, ensure_jars
from local.kafka.policies import ADMIN, PROGRAM_ROLES
from local.kafka.principals import Principal

__all__ = ["ADMIN", "PROGRAM_ROLES", "REGION", "LocalKafka", "LocalKafkaError", "Principal",
           "ensure_jars"]
