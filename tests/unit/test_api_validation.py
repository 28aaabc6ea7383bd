"""The `name` rules and query-string strictness over HTTP (the rules are the event schema's,
applied by FastAPI from the typed query model)."""

import pytest


@pytest.mark.parametrize(
    "name",
    ["A", "z", "a" * 64, "Ada", "ada-lovelace", "Ada_Lovelace", "x9", "a-", "Z_-9"],
)
def test_valid_names_are_accepted(api_client, name):
    assert api_client.get("/current_time", params={"name": name}).status_code == 200


@pytest.mark.parametrize(
    "name, why",
    [
        ("", "length 0"),
        ("a" * 65, "length 65"),
        ("9abc", "starts with a digit"),
        ("-abc", "starts with a dash"),
        ("_abc", "starts with an underscore"),
        ("a b", "space"),
        ("a.b", "dot"),
        ("abc\n", "trailing newline must not slip past a `$` anchor"),
        ("Émile", "non-ASCII letter"),
        ("a\u00e9", "non-ASCII after the first letter"),
        ("a\u0661", "Arabic-Indic digit (unicode \\d)"),
        ("\ufffd", "replacement char from bad UTF-8"),
        ("a/b", "slash"),
    ],
)
def test_invalid_names_are_rejected(api_client, publisher_double, name, why):
    response = api_client.get("/current_time", params={"name": name})
    assert response.status_code == 400, why
    assert publisher_double.records == []


def test_missing_name_is_rejected(api_client):
    response = api_client.get("/current_time")
    assert response.status_code == 400 and "required" in response.json()["detail"]


def test_repeated_name_is_rejected_even_if_both_are_valid(api_client):
    response = api_client.get("/current_time?name=Ada&name=Bob")
    assert response.status_code == 400 and "once" in response.json()["detail"]


def test_unknown_parameter_is_rejected_and_named(api_client):
    response = api_client.get("/current_time?name=Ada&debug=1")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"parameter": "debug", "problem": "unknown parameter"}]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "name=",
        "name=" + "a" * 65,
        "name=1a",
        "name=Ada&name=Bob",
        "name=Ada&extra=1",
        "name=%C3%89mile",
        "name=%FF%FE",  # invalid UTF-8
        "name=%00",
        "name=a%0A",
        "NAME=Ada",  # parameter names are case-sensitive
    ],
)
def test_bad_queries_get_400_problem_json_never_5xx(api_client, query):
    response = api_client.get("/current_time?" + query)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["detail"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("query", ["name=A", "name=" + "b" * 64, "name=Ada-Lovelace_1"])
def test_boundary_names_are_accepted_over_http(api_client, query):
    assert api_client.get("/current_time?" + query).status_code == 200
