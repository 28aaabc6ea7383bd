"""The OpenAPI document: FastAPI's, generated from the routes and models, with this API's two
error conventions applied."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from event_api.problems import PROBLEM_MEDIA_TYPE

_JSON = "application/json"


def openapi_document(app: FastAPI) -> dict:
    """FastAPI's generated document with this API's two error conventions applied: bad input is
    400 (FastAPI documents 422), and every error body is application/problem+json."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description,
                      routes=app.routes)
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            responses = operation["responses"]
            responses.pop("422", None)
            for code, response in responses.items():
                content = response.get("content", {})
                if int(code) >= 400 and _JSON in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content[_JSON]}
    for name in ("HTTPValidationError", "ValidationError"):
        doc.get("components", {}).get("schemas", {}).pop(name, None)
    return doc
