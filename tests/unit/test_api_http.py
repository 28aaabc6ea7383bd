"""HTTP behaviour of the app around a publisher double: routes, errors, durability mapping."""

import json
import logging
import uuid

import pytest
from event_api.publisher_protocol import DISABLED, REJECTED, TIMEOUT, UNAVAILABLE, PublishError


def test_hello(api_client):
    response = api_client.get("/hello")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, World!"}


def test_healthcheck_is_200_even_when_kafka_is_not_ready(api_client, publisher_double):
    publisher_double.ready = (False, "cannot connect")
    assert api_client.get("/healthcheck").status_code == 200


def test_readyz_follows_the_publisher(api_client, publisher_double):
    assert api_client.get("/readyz").status_code == 200
    publisher_double.ready = (False, "cannot connect to Kafka yet")
    response = api_client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"].isdigit()
    assert "cannot connect" in response.json()["detail"]


def test_current_time_answers_only_after_publish_and_matches_the_event(api_client,
                                                                       publisher_double):
    response = api_client.get("/current_time?name=Ada")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"timestamp", "message"}
    assert body["message"] == "Hello, Ada!"
    assert isinstance(body["timestamp"], int)

    [record] = publisher_double.records
    event = json.loads(record.value)
    assert record.key == b"Ada"
    assert event["timestamp"] == body["timestamp"]
    assert event["message"] == body["message"]
    assert response.headers["x-event-id"] == event["event_id"]
    assert uuid.UUID(event["event_id"]).version == 7


@pytest.mark.parametrize("reason", [TIMEOUT, UNAVAILABLE, REJECTED, DISABLED])
def test_publish_failures_become_503_with_retry_after_and_no_success_claim(
    api_client, publisher_double, reason
):
    publisher_double.failure = PublishError(reason, f"simulated {reason}")
    response = api_client.get("/current_time?name=Ada")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["content-type"] == "application/problem+json"
    assert "x-event-id" not in response.headers
    body = response.json()
    assert "Hello, Ada!" not in response.text and "timestamp" not in body
    assert "not written" in body["detail"]
    assert publisher_double.records == []


def test_unknown_path_is_404_problem(api_client):
    response = api_client.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/hello", "/current_time", "/healthcheck", "/readyz"])
def test_wrong_method_is_405_with_allow(api_client, method, path):
    response = api_client.request(method, path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", ["/hello", "/healthcheck", "/readyz", "/openapi.json"])
def test_unknown_parameters_rejected_everywhere(api_client, path):
    assert api_client.get(path + "?surprise=1").status_code == 400


def test_one_json_access_log_line_per_request_with_event_id(api_client, caplog):
    caplog.set_level(logging.INFO, logger="event_api.access")
    response = api_client.get("/current_time?name=Ada")
    lines = [r for r in caplog.records if r.name == "event_api.access"]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["method"] == "GET" and fields["path"] == "/current_time"
    assert fields["status"] == 200 and fields["latency_ms"] >= 0
    assert fields["event_id"] == response.headers["x-event-id"]

    from event_api.logging_setup import JsonFormatter

    parsed = json.loads(JsonFormatter().format(lines[0]))
    assert parsed["event_id"] == fields["event_id"] and parsed["status"] == 200


def test_failed_write_is_logged_with_its_event_id(api_client, publisher_double, caplog):
    caplog.set_level(logging.INFO)
    publisher_double.failure = PublishError(TIMEOUT, "simulated")
    api_client.get("/current_time?name=Ada")
    [access] = [r for r in caplog.records if r.name == "event_api.access"]
    assert access.fields["status"] == 503
    assert uuid.UUID(access.fields["event_id"]).version == 7
    warning = [r for r in caplog.records if r.name == "event_api.app"]
    assert warning and warning[0].fields["reason"] == TIMEOUT


def test_lifespan_starts_and_closes_the_publisher(publisher_double):
    import warnings

    from event_api.app import build_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        with TestClient(build_app(publisher_double)):
            assert publisher_double.started and not publisher_double.closed
    assert publisher_double.closed


def test_disabled_mode_serves_hello_and_health_but_503_for_kafka_routes():
    import warnings

    from event_api.app import build_app, publisher_for
    from event_api.settings import load_settings

    settings = load_settings({"KAFKA_DISABLED": "true"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        with TestClient(build_app(publisher_for(settings))) as client:
            assert client.get("/hello").status_code == 200
            assert client.get("/healthcheck").status_code == 200
            for path in ("/readyz", "/current_time?name=Ada"):
                response = client.get(path)
                assert response.status_code == 503
                assert "disabled" in response.json()["detail"].lower()


@pytest.mark.parametrize("path", ["/current_time?name=Ada", "/hello", "/healthcheck", "/readyz"])
def test_head_is_405_and_writes_nothing(api_client, publisher_double, path):
    """Issue 15.7: HEAD /current_time used to run the GET handler and write an event."""
    response = api_client.head(path)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert publisher_double.records == []


@pytest.mark.parametrize("path", ["/hello/", "/current_time/?name=Ada", "/healthcheck/"])
def test_no_redirect_ever_echoes_the_host_header(api_client, publisher_double, path):
    """Issue 15.8: a trailing-slash redirect sent clients to http://<Host header>/..."""
    response = api_client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "evil.example" not in response.text
    assert publisher_double.records == []
