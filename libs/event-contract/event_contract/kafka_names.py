"""Kafka name rules, in one place: topic names and consumer group ids.

Used by the stack settings, the API's and the local tools' environment settings, and the IAM
policy builders (a group id or topic name with `*` or `?` would turn an exact ARN into a wildcard).
"""

from __future__ import annotations

import re

# Kafka's own rule for topic names (org.apache.kafka.common.internals.Topic): legal characters,
# at most 249 of them, and not "." or "..". fullmatch with \Z: "$" would accept "events\n".
TOPIC_NAME_MAX = 249
_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}\Z")
TOPIC_RULE = ("1-249 characters of letters, digits, '.', '_' and '-', and not '.' or '..'")

# Kafka allows more in group ids, but IAM wildcards must not appear in a group ARN, and the Lambda
# event source mapping caps the id at 200 characters (AmazonManagedKafkaEventSourceConfig).
GROUP_ID_MAX = 200
_GROUP_ID = re.compile(r"[A-Za-z0-9._-]{1,200}\Z")
GROUP_ID_RULE = "1-200 characters of letters, digits, '.', '_' and '-'"


def topic_name_problem(name: object) -> str | None:
    """None if `name` is a legal topic name, else what is wrong with it."""
    if isinstance(name, str) and _TOPIC.fullmatch(name) and name not in (".", ".."):
        return None
    return f"Kafka topic names are {TOPIC_RULE}"


def group_id_problem(group: object) -> str | None:
    """None if `group` is a legal consumer group id here, else what is wrong with it."""
    if isinstance(group, str) and _GROUP_ID.fullmatch(group):
        return None
    return f"consumer group ids are {GROUP_ID_RULE}"
