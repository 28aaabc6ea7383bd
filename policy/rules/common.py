"""What several rules need: IAM documents as data, resources by type, the project of a URN."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

# The project whose stacks may create the account's IPAM (bootstrap/ipam/Pulumi.yaml).
BOOTSTRAP_PROJECT = "event-pipeline-ipam"
# The tag with which a stack says it serves plain HTTP on purpose (the allowPlainHttp setting).
PLAIN_HTTP_TAG = "AllowPlainHttp"


def project_of(urn: str) -> str:
    """`urn:pulumi:<stack>::<project>::<type>::<name>` -> project."""
    return urn.split("::")[1]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def document(value: Any) -> Mapping[str, Any]:
    """An IAM policy document given as JSON text or as data."""
    if isinstance(value, str):
        return json.loads(value) if value.strip() else {}
    return value or {}


def statements(value: Any) -> Iterator[Mapping[str, Any]]:
    yield from as_list(document(value).get("Statement"))


def of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def tags(props: Mapping[str, Any]) -> Mapping[str, str]:
    return props.get("tags") or {}
