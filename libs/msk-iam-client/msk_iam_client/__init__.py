"""MSK IAM authentication for kafka-python clients (SASL_SSL + OAUTHBEARER).

The names below load token_provider (botocore, kafka-python) on first use (PEP 562), so
`msk_iam_client.connection` checks a configuration without them.
"""

from __future__ import annotations

import importlib
from typing import Any

from msk_iam_client.protocols import SUPPORTED_SECURITY_PROTOCOLS

__all__ = [
    "SUPPORTED_SECURITY_PROTOCOLS",
    "MissingAwsCredentials",
    "MskIamTokenProvider",
    "client_security_options",
]
_FROM_TOKEN_PROVIDER = {"MissingAwsCredentials", "MskIamTokenProvider", "client_security_options"}


def __getattr__(name: str) -> Any:
    if name in _FROM_TOKEN_PROVIDER:
        return getattr(importlib.import_module("msk_iam_client.token_provider"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
