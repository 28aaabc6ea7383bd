"""Kafka client authentication for MSK Serverless: IAM tokens over SASL_SSL/OAUTHBEARER.

The one home of the MSK IAM client code: the API, the topic provisioner, the replay tool and the
local event source mapping all connect through `client_security_options`. The same code path is
used against MSK and against the local broker (local/kafka), whose validator checks the token
exactly as MSK does.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import botocore.session
import log_redaction
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer
from botocore.credentials import CredentialProvider, Credentials
from kafka.net.sasl.oauth import AbstractTokenProvider

from msk_iam_client.protocols import SUPPORTED_SECURITY_PROTOCOLS


class MissingAwsCredentials(RuntimeError):
    """No AWS credentials could be found to sign an MSK IAM token."""


class _FixedCredentials(CredentialProvider):
    """Hands the signer one frozen snapshot, so a token never mixes two rotations' keys."""

    METHOD = "event-api-snapshot"

    def __init__(self, snapshot: Credentials) -> None:
        super().__init__()
        self._snapshot = snapshot

    def load(self) -> Credentials:
        return self._snapshot


class MskIamTokenProvider(AbstractTokenProvider):
    """OAUTHBEARER token provider for kafka-python that signs MSK IAM tokens and caches them.

    A token is reused until `refresh_margin_s` before the earlier of its own expiry and the
    expiry of the credentials that signed it (ECS task-role credentials rotate).
    """

    def __init__(
        self,
        region: str,
        *,
        refresh_margin_s: float = 60,
        clock: Callable[[], float] = time.time,
        botocore_session: botocore.session.Session | None = None,
    ) -> None:
        super().__init__()
        if not region:
            raise ValueError("MSK IAM token provider needs an AWS region (e.g. us-east-1)")
        self._region = region
        self._refresh_margin_s = refresh_margin_s
        self._clock = clock
        # One session for the provider's lifetime: the signer's default path builds a fresh
        # credential chain (env, files, container/instance metadata) on every token.
        self._session = botocore_session or botocore.session.Session()
        self._credentials: Credentials | None = None
        self._lock = threading.Lock()
        self._token: str | None = None
        self._valid_until = -math.inf

    @property
    def valid_until(self) -> float:
        """Epoch seconds after which the cached token must not be sent."""
        return self._valid_until

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._valid_until - self._refresh_margin_s:
                self._token, self._valid_until = self._new_token()
            return self._token

    def _new_token(self) -> tuple[str, float]:
        credentials = self._resolve_credentials()
        # get_frozen_credentials() refreshes rotating credentials when they are near expiry.
        frozen = credentials.get_frozen_credentials()
        if not frozen.access_key or not frozen.secret_key:
            raise MissingAwsCredentials(_MISSING_CREDENTIALS_MESSAGE)
        # Whatever the credential source (environment, ECS task role endpoint, profile), the
        # secret parts and the token itself are scrubbed from every log line of this process.
        log_redaction.remember_secret(frozen.secret_key)
        log_redaction.remember_secret(frozen.token)
        snapshot = Credentials(frozen.access_key, frozen.secret_key, frozen.token)
        token, expiry_ms = signer.generate_auth_token_from_credentials_provider(
            self._region, _FixedCredentials(snapshot)
        )
        log_redaction.remember_secret(token)
        token_expiry_s = expiry_ms / 1000  # the signer reports epoch MILLISECONDS
        return token, min(token_expiry_s, _credentials_expiry(credentials))

    def _resolve_credentials(self) -> Credentials:
        if self._credentials is None:
            credentials = self._session.get_credentials()
            if credentials is None:
                raise MissingAwsCredentials(_MISSING_CREDENTIALS_MESSAGE)
            self._credentials = credentials
        return self._credentials


_MISSING_CREDENTIALS_MESSAGE = (
    "No AWS credentials found to sign the MSK IAM token: set AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), or AWS_PROFILE, "
    "or run with an IAM role (ECS task role)"
)


def _credentials_expiry(credentials: Credentials) -> float:
    """Epoch seconds at which rotating credentials expire; +inf for static keys."""
    # botocore keeps the expiry of refreshable credentials only in this attribute.
    expiry = getattr(credentials, "_expiry_time", None)
    return expiry.timestamp() if expiry is not None else math.inf


def client_security_options(
    security_protocol: str, region: str | None, ca_file: str | None
) -> dict:
    """kafka-python keyword arguments (producer, consumer, admin) for the given protocol."""
    if security_protocol == "SASL_SSL":
        # Signing material must never reach a log, whatever the level (botocore logs it at DEBUG).
        log_redaction.install()
        if not region:
            raise ValueError("SASL_SSL with MSK IAM auth needs an AWS region (e.g. us-east-1)")
        options = {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "OAUTHBEARER",
            "sasl_oauth_token_provider": MskIamTokenProvider(region),
        }
        if ca_file:
            # Only the local broker needs this; MSK's certificates chain to the system trust store.
            options["ssl_cafile"] = ca_file
        return options
    if security_protocol == "PLAINTEXT":
        return {"security_protocol": "PLAINTEXT"}
    raise ValueError(
        f"Unsupported Kafka security protocol {security_protocol!r}: "
        f"use one of {', '.join(SUPPORTED_SECURITY_PROTOCOLS)}"
    )
