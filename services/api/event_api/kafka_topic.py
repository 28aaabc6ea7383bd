"""Topic creation at service start-up, idempotently.

Decision: each API worker ensures the topic when it starts, not the Pulumi program at deploy
time. MSK Serverless is reachable only from inside the VPC with IAM auth, so a deploy-time step
would need an extra in-VPC Lambda and an `aws.lambda_.Invocation` that re-runs on every change
and still fails if the cluster is briefly unavailable. The service already holds the client,
the credentials and the retry loop; CreateTopics is idempotent (TopicAlreadyExists is success),
so N workers racing is harmless. It never happens on a request path: requests only ever wait
for their own acknowledgement. With KAFKA_CREATE_TOPIC=false the service only waits for the
topic to exist (for operators who manage topics elsewhere).
"""

from __future__ import annotations

import logging

from kafka import errors as kafka_errors

log = logging.getLogger(__name__)


def ensure_topic(admin, topic: str, partitions: int, create: bool, timeout_ms: int) -> bool:
    """Make sure `topic` exists and every partition has a leader. Returns True if we created it.

    Replication factor is left to the broker default (-1): MSK Serverless fixes it at 3 and a
    local single-node broker needs 1.
    """
    created = False
    if create:
        try:
            admin.create_topics({topic: {"num_partitions": partitions}}, timeout_ms=timeout_ms)
            created = True
            log.info("created Kafka topic", extra={"fields": {"topic": topic,
                                                              "partitions": partitions}})
        except kafka_errors.TopicAlreadyExistsError:
            log.info("Kafka topic already exists", extra={"fields": {"topic": topic}})
    admin.wait_for_topics([topic], timeout_ms=timeout_ms)
    return created
