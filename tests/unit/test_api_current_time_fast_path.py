"""The thin path for GET /current_time (event_api/current_time_fast_path.py): it answers only what
FastAPI would accept, and its answers are the route's own."""

from __future__ import annotations

import json
import warnings

import pytest
from event_api.current_time_fast_path import CurrentTimeFastPath, valid_input
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fixtures.api_server import PublisherDouble


def _scope(query: bytes, headers: list[tuple[bytes, bytes]] = ()) -> dict:
    return {"type": "http", "method": "GET", "path": "/current_time", "query_string": query,
            "headers": list(headers)}


def _client(publisher, *, fast_path: bool):
    from event_api.app import build_app

    app = build_app(publisher)
    assert isinstance(app.fast_path, CurrentTimeFastPath)
    if not fast_path:
        app.fast_path = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("query, headers, expected", [
    (b"name=Ada", [], ("Ada", None)),
    (b"name=" + b"a" * 64, [], ("a" * 64, None)),
    (b"name=Ada", [(b"idempotency-key", b"me:12345678")], ("Ada", "me:12345678")),
])
def test_valid_requests_take_the_fast_path(query, headers, expected):
    assert valid_input(_scope(query, headers)) == expected


@pytest.mark.parametrize("query, headers", [
    (b"", []),  # missing name
    (b"name=", []),
    (b"name=" + b"a" * 65, []),
    (b"name=9abc", []),
    (b"name=a.b", []),  # allowed by the decoding check, refused by the name rules
    (b"name=A%64a", []),  # percent-encoded: FastAPI decodes it
    (b"name=a+b", []),
    (b"name=Ada&x=1", []),  # unknown parameter
    (b"name=Ada&name=Bob", []),  # repeated
    (b"name=Ada;x", []),
    (b"x=1&name=Ada", []),
    (b"name=Ada", [(b"idempotency-key", b"bad key")]),
    (b"name=Ada", [(b"idempotency-key", b"me:12345678")] * 2),  # repeated header
])
def test_anything_in_doubt_is_left_to_fastapi(query, headers):
    assert valid_input(_scope(query, headers)) is None


_QUERY_BYTES = st.sampled_from([b"name=", b"a", b"Z", b"9", b"-", b"_", b".", b"~", b"%", b"+",
                                b"&", b"=", b";", b"%41", b"\xc3\xa9", b"\n", b" ", b"x"])


accepted: list[bytes] = []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.one_of(
    st.from_regex(rb"name=[-A-Za-z0-9._~%+&=;]{0,70}", fullmatch=True),
    st.builds(b"".join, st.lists(_QUERY_BYTES, max_size=8))))
def _fast_path_never_accepts_what_fastapi_refuses(query):
    if valid_input(_scope(query)) is None:
        return
    accepted.append(query)
    publisher = PublisherDouble()
    with _client(publisher, fast_path=False) as client:
        response = client.get("/current_time?" + query.decode("latin-1"))
    assert response.status_code == 200, (query, response.text)
    assert publisher.records[0].key == query.removeprefix(b"name=")


@pytest.mark.parametrize("idempotency_key", [None, "me:12345678"])
def test_the_fast_answer_is_the_routes_answer(idempotency_key):
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    answers = []
    for fast_path, query in ((True, "name=Ada"), (False, "name=A%64a")):  # both decode to Ada
        publisher = PublisherDouble()
        with _client(publisher, fast_path=fast_path) as client:
            response = client.get(f"/current_time?{query}", headers=headers)
        record = json.loads(publisher.records[0].value)
        assert response.headers["x-event-id"] == record["event_id"]
        answers.append((response.status_code, list(response.headers.keys()),
                        response.headers["content-type"], sorted(response.json()),
                        response.json()["message"], publisher.records[0].key,
                        publisher.records[0].headers[1:]))
        if idempotency_key:
            answers[-1] += (record["event_id"],)
    assert answers[0] == answers[1]


def test_failures_on_the_fast_path_are_the_routes_problems(caplog):
    from event_api.publisher_protocol import TIMEOUT, PublishError

    class Broken(PublisherDouble):
        async def publish(self, record):
            raise RuntimeError("a bug")

    timing_out = PublisherDouble()
    timing_out.failure = PublishError(TIMEOUT, "too slow")
    for publisher, status in ((timing_out, 503), (Broken(), 500)):
        answers = []
        for fast_path, query in ((True, "name=Ada"), (False, "name=A%64a")):
            with _client(publisher, fast_path=fast_path) as client:
                response = client.get(f"/current_time?{query}")
            answers.append((response.status_code, response.headers["content-type"],
                            response.headers.get("retry-after"), response.json()))
        assert answers[0] == answers[1]
        assert answers[0][0] == status
        assert answers[0][1] == "application/problem+json"
    assert any(r.getMessage() == "unhandled error" for r in caplog.records)


def test_the_fast_path_skips_fastapi(monkeypatch):
    """It is taken: the router never sees a valid request (so the layer can be measured)."""
    from fastapi.routing import APIRouter

    routed = []
    original = APIRouter.__call__

    async def spy(self, scope, receive, send):
        routed.append(scope.get("path"))
        await original(self, scope, receive, send)

    monkeypatch.setattr(APIRouter, "__call__", spy)
    with _client(PublisherDouble(), fast_path=True) as client:
        assert client.get("/current_time?name=Ada").status_code == 200
        assert client.get("/current_time?name=A%64a").status_code == 200
    assert [path for path in routed if path] == ["/current_time"]  # the percent-encoded one


def test_the_fast_path_never_accepts_what_fastapi_refuses():
    accepted.clear()
    _fast_path_never_accepts_what_fastapi_refuses()
    assert len(accepted) > 20  # the property was not vacuous


@pytest.mark.parametrize("failure", [None, "timeout"])
def test_the_fast_path_logs_the_same_access_line(caplog, failure):
    import logging

    from event_api.publisher_protocol import TIMEOUT, PublishError

    lines = []
    for fast_path, query in ((True, "name=Ada"), (False, "name=A%64a")):
        publisher = PublisherDouble()
        if failure:
            publisher.failure = PublishError(TIMEOUT, "too slow")
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="event_api.access"):
            with _client(publisher, fast_path=fast_path) as client:
                client.get(f"/current_time?{query}")
        [line] = [r.fields for r in caplog.records if r.name == "event_api.access"]
        assert line.pop("latency_ms") >= 0
        assert len(line.pop("event_id")) == 36
        lines.append(line)
    assert lines[0] == lines[1] == {"method": "GET", "path": "/current_time",
                                    "status": 503 if failure else 200}
