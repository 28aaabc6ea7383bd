"""The HTTP contract as types: FastAPI validates requests with them and generates the OpenAPI
document from them, so the document and the behaviour cannot drift apart.

The `name` rules are the event schema's (libs/event-contract), the one source for both the API
and the consumer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from event_contract.schema import EVENT_SCHEMA
from pydantic import BaseModel, ConfigDict, Field

# The `name` query parameter's rules (minLength, maxLength, pattern), declared on the route.
NAME_RULES = EVENT_SCHEMA["properties"]["name"]


class Status(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "ready"]
    detail: str | None = None


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str


class CurrentTime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timestamp: Annotated[int, Field(ge=0, description="Epoch seconds.")]
    message: Annotated[str, Field(examples=["Hello, Ada!"])]


class ProblemItem(BaseModel):
    parameter: str
    problem: str


class Problem(BaseModel):
    """RFC 9457 problem details; every error response of this API is application/problem+json."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
