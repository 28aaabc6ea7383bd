"""The OpenAPI document is generated from the code (FastAPI + the types in api_models.py): these
tests check the conventions the generator alone would get wrong, and that what the app answers
validates against what the document says (the fuzz suite does the same against the real server)."""

import fastjsonschema
import pytest
from event_api import idempotency
from event_api.app import build_app
from event_api.openapi_document import openapi_document
from event_api.publisher_protocol import TIMEOUT, DisabledPublisher, PublishError
from event_contract.schema import EVENT_SCHEMA

DOC = openapi_document(build_app(DisabledPublisher()))
OPERATIONS = {(path, method): op for path, item in DOC["paths"].items()
              for method, op in item.items()}


def test_served_document_is_the_generated_one(api_client):
    response = api_client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == DOC


def test_only_get_operations_exist_and_head_is_said_to_be_refused():
    assert {method for _, method in OPERATIONS} == {"get"}
    assert set(DOC["paths"]) == {"/healthcheck", "/readyz", "/hello", "/current_time",
                                 "/openapi.json"}
    assert "HEAD" in DOC["info"]["description"] and "405" in DOC["info"]["description"]
    assert "HEAD is 405" in OPERATIONS[("/current_time", "get")]["description"]


def test_bad_input_is_400_problem_json_and_no_422_is_documented():
    for (path, _), op in OPERATIONS.items():
        responses = op["responses"]
        assert "422" not in responses, path
        assert list(responses["400"]["content"]) == ["application/problem+json"], path
        for code, response in responses.items():
            if int(code) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (path, code)
    assert "HTTPValidationError" not in DOC["components"]["schemas"]


@pytest.mark.parametrize("path, codes", [
    ("/healthcheck", {"200", "400"}), ("/readyz", {"200", "400", "503"}),
    ("/hello", {"200", "400"}), ("/current_time", {"200", "400", "503"}),
    ("/openapi.json", {"200", "400"}),
])
def test_every_status_the_app_can_answer_is_documented(path, codes):
    assert set(OPERATIONS[(path, "get")]["responses"]) == codes


def test_the_name_rules_are_the_event_schemas():
    [name] = [p for p in OPERATIONS[("/current_time", "get")]["parameters"] if p["in"] == "query"]
    schema = name["schema"]
    assert name["name"] == "name" and name["required"] is True
    rules = EVENT_SCHEMA["properties"]["name"]
    assert (schema["minLength"], schema["maxLength"], schema["pattern"]) == (
        rules["minLength"], rules["maxLength"], rules["pattern"])


def test_idempotency_key_and_the_delivery_contract_are_documented():
    [header] = [p for p in OPERATIONS[("/current_time", "get")]["parameters"]
                if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and header["required"] is False
    assert header["schema"]["pattern"] == idempotency.PATTERN
    assert header["schema"]["type"] == "string"  # never JSON null
    assert "drop" in header["description"] and "event id" in header["description"]
    assert "at least once" in DOC["info"]["description"]
    responses = OPERATIONS[("/current_time", "get")]["responses"]
    assert "X-Event-Id" in responses["200"]["headers"]
    assert "Idempotency-Key" in responses["503"]["description"]


def _validator(path: str, code: str):
    media = OPERATIONS[(path, "get")]["responses"][code]["content"]
    [(media_type, content)] = media.items()
    # The component references resolve inside one schema document that carries them.
    schema = {**content["schema"], "components": DOC["components"]}
    return media_type, fastjsonschema.compile(schema)


def test_actual_responses_validate_against_their_documented_schemas(api_client,
                                                                    publisher_double):
    cases = [("/healthcheck", "200"), ("/readyz", "200"), ("/hello", "200"),
             ("/current_time?name=Ada", "200"), ("/current_time", "400"),
             ("/hello?x=1", "400"), ("/current_time?name=Ada&name=Bob", "400")]
    publisher_double.ready = (True, "connected")
    for url, code in cases:
        response = api_client.get(url)
        assert str(response.status_code) == code, url
        media_type, validate = _validator(url.split("?")[0], code)
        assert response.headers["content-type"] == media_type
        validate(response.json())
    publisher_double.failure = PublishError(TIMEOUT, "x")
    publisher_double.ready = (False, "x")
    for url in ("/current_time?name=Ada", "/readyz"):
        response = api_client.get(url)
        media_type, validate = _validator(url.split("?")[0], "503")
        assert response.headers["content-type"] == media_type and response.headers["retry-after"]
        validate(response.json())
