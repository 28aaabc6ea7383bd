"""The dead-letter format: a contract between the consumer (writes letters) and the replay tool
(reads them), so it lives here and neither imports the other.

A letter (SQS message body or S3 object alike):
  {"letter_id", "reason", "topic", "partition", "offset", "timestamp", "key", "value", "headers",
   "dead_lettered_at"}
`key`/`value`/`headers` are exactly what the event source mapping delivered (base64 strings and
{name: [byte, ...]} lists, or whatever a broken producer sent), so replay can re-publish the
original bytes even when they never decoded. `letter_id` is the record's content address
(`record_id`): a redelivered record gets the same id, a different record a different one.

A letter larger than one SQS message travels as a pointer to the whole letter in S3:
  {"letter_id", "reason", "topic", "partition", "offset", "dead_lettered_at",
   "s3": {"bucket", "key", "bytes", "sha256"}}

The same queue also receives the event source mapping's own on-failure records, which carry
only metadata (`KafkaBatchInfo`); `letter_kind` tells the three kinds apart.
"""

from dead_letter_format.letters import (
    REASON_MAX_CHARS,
    S3_PREFIX,
    dead_letter,
    letter_kind,
    pointer,
    s3_key,
)
from dead_letter_format.queue_url import QUEUE_URL_ENV, queue_url_problem
from dead_letter_format.record import MskRecord, decode_headers, record_id

__all__ = ["QUEUE_URL_ENV", "REASON_MAX_CHARS", "S3_PREFIX", "MskRecord",
           "dead_letter", "decode_headers", "letter_kind", "pointer", "queue_url_problem",
           "record_id", "s3_key"]
