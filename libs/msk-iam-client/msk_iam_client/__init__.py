"""MSK IAM authentication for kafka-python clients (SASL_SSL + OAUTHBEARER)."""

from msk_iam_client.token_provider import (
    SUPPORTED_SECURITY_PROTOCOLS,
    MissingAwsCredentials,
    MskIamTokenProvider,
    client_security_options,
)

__all__ = [
    "SUPPORTED_SECURITY_PROTOCOLS",
    "MissingAwsCredentials",
    "MskIamTokenProvider",
    "client_security_options",
]
