"""The checked-in OpenAPI document matches what the app actually serves and enforces."""

import json
from pathlib import Path

import pytest
from event_api import validation
from event_api.app import build_app
from event_api.publisher_protocol import DisabledPublisher
from starlette.routing import Route

DOC_PATH = Path(__file__).resolve().parents[2] / "services/api/event_api/openapi.json"
DOC = json.loads(DOC_PATH.read_text())


def _app_routes():
    app = build_app(DisabledPublisher())
    return {r.path: r.methods - {"HEAD"} for r in app.routes if isinstance(r, Route)}


def test_served_document_is_the_checked_in_file(api_client):
    response = api_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOC


def test_paths_and_methods_match_the_routes():
    documented = {path: {m.upper() for m in item} for path, item in DOC["paths"].items()}
    assert documented == _app_routes()


def test_name_parameter_constraints_match_the_validator():
    [param] = DOC["paths"]["/current_time"]["get"]["parameters"]
    assert param["name"] == "name" and param["in"] == "query" and param["required"] is True
    schema = param["schema"]
    assert schema["minLength"] == validation.NAME_MIN_LENGTH
    assert schema["maxLength"] == validation.NAME_MAX_LENGTH
    assert schema["pattern"] == validation.NAME_PATTERN


def test_other_operations_take_no_parameters():
    for path, item in DOC["paths"].items():
        if path != "/current_time":
            assert "parameters" not in item["get"], path


@pytest.mark.parametrize(
    "path, codes",
    [
        ("/healthcheck", {"200", "400"}),
        ("/readyz", {"200", "400", "503"}),
        ("/hello", {"200", "400"}),
        ("/current_time", {"200", "400", "503"}),
        ("/openapi.json", {"200", "400"}),
    ],
)
def test_every_status_the_app_can_answer_is_documented(path, codes):
    assert set(DOC["paths"][path]["get"]["responses"]) == codes


def _resolve(schema):
    ref = schema.get("$ref")
    return DOC["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def _assert_matches(schema, body):
    """Minimal structural check for the closed object schemas we use."""
    schema = _resolve(schema)
    assert isinstance(body, dict)
    assert set(schema["required"]) <= set(body)
    if schema.get("additionalProperties") is False:
        assert set(body) <= set(schema["properties"])


def test_actual_responses_match_their_documented_schemas(api_client, publisher_double):
    cases = [
        ("/healthcheck", "200"), ("/readyz", "200"), ("/hello", "200"),
        ("/current_time?name=Ada", "200"), ("/current_time", "400"), ("/hello?x=1", "400"),
    ]
    for url, code in cases:
        response = api_client.get(url)
        assert str(response.status_code) == code, url
        path = url.split("?")[0]
        documented = DOC["paths"][path]["get"]["responses"][code]
        [(media, content)] = documented["content"].items()
        assert response.headers["content-type"] == media
        _assert_matches(content["schema"], response.json())
    from event_api.publisher_protocol import TIMEOUT, PublishError

    publisher_double.failure = PublishError(TIMEOUT, "x")
    publisher_double.ready = (False, "x")
    for path in ("/current_time?name=Ada", "/readyz"):
        response = api_client.get(path)
        documented = DOC["paths"][path.split("?")[0]]["get"]["responses"]["503"]
        assert "Retry-After" in documented["headers"]
        assert response.headers["content-type"] == "application/problem+json"
        _assert_matches(documented["content"]["application/problem+json"]["schema"],
                        response.json())
