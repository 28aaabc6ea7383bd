"""What one invocation asks for: `{"topic": "events", "partitions": 3}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from event_contract.kafka_names import topic_name_problem


class InvalidRequest(ValueError):
    """The invocation's input is not a topic request; the message says what is wrong."""


@dataclass(frozen=True)
class TopicRequest:
    topic: str
    partitions: int


def parse_request(event: Any) -> TopicRequest:
    if not isinstance(event, dict):
        raise InvalidRequest('the input must be a JSON object like {"topic": "events", '
                             '"partitions": 3}')
    problems = []
    topic = event.get("topic")
    problem = topic_name_problem(topic)
    if problem is not None:
        problems.append(f"topic {topic!r}: {problem}")
    partitions = event.get("partitions")
    # bool is an int in Python; true/false is never a partition count.
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        problems.append(f"partitions {partitions!r}: must be a whole number of at least 1")
    if problems:
        raise InvalidRequest("; ".join(problems))
    return TopicRequest(topic, partitions)
