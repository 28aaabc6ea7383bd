"""Consumer fuzz test (issue 15): batches built from hostile values go through the real handler and
the real AWS dead-letter path (SQS + S3 on the local moto server); every record must come out
either processed or dead-lettered with its payload exactly as delivered - never lost, never
failing the invocation."""

from __future__ import annotations

import base64
import json

from dead_letter_format import letter_kind
from event_api.events import build_event, to_record
from event_consumer.handler import build_handler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.esm import LocalLambdaContext


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def valid_value(name: str) -> bytes:
    return to_record(build_event(name)).value


hostile_bytes = st.one_of(
    st.integers(500, 3000).map(lambda d: b"[" * d + b"]" * d),  # RecursionError
    st.integers(500, 3000).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
    st.integers(4301, 9000).map(lambda n: b'{"timestamp": ' + b"9" * n + b"}"),  # int limit
    st.binary(min_size=0, max_size=64),  # mostly invalid UTF-8 / not JSON
    st.integers(300_000, 400_000).map(lambda n: b'{"pad": "' + b"x" * n + b'"}'),  # > 256 KiB
    st.integers(300_000, 350_000).map(lambda n: bytes(range(256)) * (n // 256)),  # big binary
    st.sampled_from([b"{}", b"null", b"[]", b'"s"', b'{"event_id": "x"}']),  # schema
    st.text(alphabet="abcXYZ", min_size=1, max_size=20).map(valid_value),  # good ones too
)
values = st.one_of(
    hostile_bytes.map(b64),
    st.just("*** not base64 ***"),
    st.none(),
    st.integers(),
    st.lists(st.integers(0, 300), max_size=3),
)
header_values = st.one_of(st.binary(max_size=8).map(list), st.just([256]), st.just([-1]),
                          st.just("text"), st.just([0.5]))
headers = st.one_of(
    st.lists(st.dictionaries(st.text(min_size=1, max_size=8), header_values, min_size=1,
                             max_size=2), max_size=3),
    st.just({"not": "a list"}),
    st.just([["a", [1]]]),
    st.just([]),
)
keys = st.one_of(st.none(), st.binary(max_size=16).map(b64), st.integers(), st.just("%%%"))


@st.composite
def batches(draw) -> list[dict]:
    records = []
    for offset in range(draw(st.integers(1, 5))):
        record = {"topic": "events", "partition": 0, "offset": offset,
                  "timestamp": 1_700_000_000_000, "timestampType": "CREATE_TIME",
                  "key": draw(keys), "value": draw(values), "headers": draw(headers)}
        if draw(st.integers(0, 9)) == 0:  # sometimes the envelope itself is broken
            record[draw(st.sampled_from(["partition", "offset", "topic"]))] = draw(
                st.one_of(st.none(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
        records.append(record)
    return records


def payload_of(body: dict, dead_letter_aws) -> dict:
    """The full letter: inline, or fetched from S3 through the pointer."""
    if letter_kind(body) == "pointer":
        return json.loads(dead_letter_aws.object(body["s3"]["key"]))
    return body


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(records=batches())
def test_every_hostile_record_is_processed_or_dead_lettered_with_its_payload(
    records, dead_letter_aws
):
    processed = []
    handler = build_handler(process_fn=lambda event, meta: processed.append(meta.offset),
                            report_failures=False)
    event = {"eventSource": "aws:kafka", "records": {"events-0": records}}

    result = handler(event, LocalLambdaContext("fuzz", "arn:aws:lambda:us-east-1:0:function:f"))

    letters = [payload_of(body, dead_letter_aws) for body in dead_letter_aws.drain()]
    assert result == {"processed": len(processed), "dead_lettered": len(letters)}
    assert len(processed) + len(letters) == len(records)
    unprocessed = [r for r in records if r["offset"] not in processed]
    assert len(unprocessed) == len(letters)
    for record in unprocessed:
        matches = [x for x in letters if all(x[f] == record[f] for f in
                                             ("topic", "partition", "offset", "key", "value",
                                              "headers", "timestamp"))]
        assert matches, f"record not dead-lettered with its payload: {str(record)[:300]}"
    for offset in processed:  # only genuinely valid events are processed
        raw = next(r for r in records if r["offset"] == offset)
        event_doc = json.loads(base64.b64decode(raw["value"]))
        assert set(event_doc) == {"event_id", "timestamp", "message", "name"}
