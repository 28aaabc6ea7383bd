"""bench/ingest.py's own logic: the exactly-once verdict and the --url target parsing."""

from collections import Counter

import pytest

from bench._http_load import Target
from bench.ingest import _check_exactly_once


def test_every_acknowledged_event_exactly_once_is_ok():
    verdict = _check_exactly_once(["a", "b"], Counter({"a": 1, "b": 1, "unacked": 1}))
    assert verdict["ok"] and verdict["in_topic_not_acknowledged"] == 1


@pytest.mark.parametrize("acked, seen, field", [
    (["a", "b"], Counter({"a": 1}), "missing"),
    (["a"], Counter({"a": 2}), "duplicated"),
])
def test_a_missing_or_duplicated_event_fails_the_check(acked, seen, field):
    verdict = _check_exactly_once(acked, seen)
    assert not verdict["ok"] and verdict[field] == 1


def test_the_same_id_acknowledged_twice_fails_the_check():
    assert not _check_exactly_once(["a", "a"], Counter({"a": 1}))["ok"]


def test_the_check_is_linear_for_a_long_run():
    ids = [str(i) for i in range(200_000)]
    assert _check_exactly_once(ids, Counter(ids))["ok"]  # quadratic would take minutes


@pytest.mark.parametrize("url, target", [
    ("https://api.example.com", Target("api.example.com", 443, True, "")),
    ("http://127.0.0.1:8000/", Target("127.0.0.1", 8000, False, "")),
    ("https://alb.example.com:8443/prefix/", Target("alb.example.com", 8443, True, "/prefix")),
])
def test_url_targets(url, target):
    assert Target.from_url(url) == target


def test_a_non_http_url_is_refused():
    with pytest.raises(ValueError):
        Target.from_url("ftp://example.com")


def test_the_load_generator_parses_whole_responses_only():
    from bench._http_load import _parse_response

    first = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nX-Event-Id: abc\r\n\r\nhello"
    second = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n"
    buffer = bytearray(first[:-1])
    assert _parse_response(buffer) is None  # the body is one byte short
    buffer += first[-1:] + second
    assert _parse_response(buffer) == (200, {"content-length": "5", "x-event-id": "abc"})
    assert _parse_response(buffer) == (503, {"connection": "close"})
    assert buffer == bytearray()
    with pytest.raises(ValueError):
        _parse_response(bytearray(b"garbage\r\n\r\n"))
