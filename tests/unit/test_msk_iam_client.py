"""MSK IAM token provider and client options: caching, expiry arithmetic, errors (no network)."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from urllib.parse import parse_qs, urlsplit

import botocore.session
import pytest
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer
from botocore.credentials import CredentialProvider, RefreshableCredentials
from msk_iam_client import (
    MissingAwsCredentials,
    MskIamTokenProvider,
    client_security_options,
    token_provider,
)

from tests.fixtures.aws_credentials import use_only_static_credentials

ACCESS_KEY_ID = "AKIAUNITTEST0000001"
SECRET = "unit-test-secret-not-a-real-one"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Static test credentials in the environment and nothing else the chain could find."""
    use_only_static_credentials(monkeypatch, ACCESS_KEY_ID, SECRET)


@pytest.fixture
def signer_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Counts calls to the real signer and records what it returned (token, expiry ms)."""
    real = signer.generate_auth_token_from_credentials_provider
    calls: list[tuple[str, int]] = []

    def spy(region, provider):
        result = real(region, provider)
        calls.append(result)
        return result

    monkeypatch.setattr(signer, "generate_auth_token_from_credentials_provider", spy)
    return calls


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def decode_token(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def signing_key(token: str) -> str:
    return parse_qs(urlsplit(decode_token(token)).query)["X-Amz-Credential"][0].split("/")[0]


def test_token_is_a_presigned_kafka_cluster_connect_url(aws_env):
    url = urlsplit(decode_token(MskIamTokenProvider("us-east-1").token()))
    query = parse_qs(url.query)

    assert url.scheme == "https"
    assert url.netloc == "kafka.us-east-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    key, _date, region, service, terminator = query["X-Amz-Credential"][0].split("/")
    assert (key, region, service, terminator) == (
        ACCESS_KEY_ID, "us-east-1", "kafka-cluster", "aws4_request")
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert len(query["X-Amz-Signature"][0]) == 64


def test_token_is_cached_between_calls(aws_env, signer_calls):
    provider = MskIamTokenProvider("us-east-1")

    first = provider.token()
    second = provider.token()

    assert first == second
    assert len(signer_calls) == 1


def test_expiry_is_read_as_milliseconds_and_refreshed_before_it(aws_env, signer_calls):
    clock = FakeClock(time.time())
    provider = MskIamTokenProvider("us-east-1", refresh_margin_s=60, clock=clock)

    provider.token()
    expiry_s = signer_calls[0][1] / 1000
    # The signer's tokens live 900 s; reading ms as s would put expiry ~50,000 years out.
    assert provider.valid_until == pytest.approx(expiry_s)
    assert abs(expiry_s - (clock.now + 900)) < 5

    clock.now = expiry_s - 61
    provider.token()
    assert len(signer_calls) == 1, "still outside the refresh margin: must reuse the token"

    clock.now = expiry_s - 60
    provider.token()
    assert len(signer_calls) == 2, "inside the refresh margin: must sign a new token"


def test_refresh_margin_is_configurable(aws_env, signer_calls):
    clock = FakeClock(time.time())
    provider = MskIamTokenProvider("us-east-1", refresh_margin_s=300, clock=clock)
    provider.token()
    expiry_s = signer_calls[0][1] / 1000

    clock.now = expiry_s - 301
    provider.token()
    clock.now = expiry_s - 300
    provider.token()

    assert len(signer_calls) == 2


class RotatingCredentials(CredentialProvider):
    """Task-role style credentials that expire `lifetime_s` after each rotation."""

    METHOD = "unit-test-rotating"

    def __init__(self, lifetime_s: float) -> None:
        super().__init__()
        self.lifetime_s = lifetime_s
        self.rotations = 0

    def _metadata(self) -> dict[str, str]:
        self.rotations += 1
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.lifetime_s)
        return {
            "access_key": f"ASIAROTATION{self.rotations:07d}",
            "secret_key": f"secret-{self.rotations}",
            "token": f"session-token-{self.rotations}",
            "expiry_time": expiry.isoformat(),
        }

    def load(self):
        return RefreshableCredentials.create_from_metadata(
            self._metadata(), refresh_using=self._metadata, method=self.METHOD
        )


def session_with(provider: CredentialProvider) -> botocore.session.Session:
    session = botocore.session.Session()
    session.get_component("credential_provider").insert_before("env", provider)
    return session


def test_token_is_never_used_past_credential_expiry(aws_env, signer_calls):
    # Credentials that expire in 700 s, before the 900 s token: the credentials bound the token.
    rotating = RotatingCredentials(lifetime_s=700)
    clock = FakeClock(time.time())
    provider = MskIamTokenProvider(
        "us-east-1", refresh_margin_s=60, clock=clock, botocore_session=session_with(rotating)
    )

    first = provider.token()
    token_expiry_s = signer_calls[0][1] / 1000
    assert provider.valid_until < token_expiry_s - 150
    assert abs(provider.valid_until - (clock.now + 700)) < 5

    clock.now = provider.valid_until - 61
    assert provider.token() == first

    clock.now = provider.valid_until - 60
    second = provider.token()
    assert len(signer_calls) == 2
    # botocore rotated the near-expiry credentials; the new token is signed by the new key.
    assert signing_key(second) != signing_key(first)
    assert signing_key(second).startswith("ASIAROTATION")
    assert parse_qs(urlsplit(decode_token(second)).query)["X-Amz-Security-Token"]


def test_one_credential_chain_for_the_provider_lifetime(aws_env, signer_calls, monkeypatch):
    session = botocore.session.Session()
    resolutions = []
    real_get_credentials = session.get_credentials

    def counting_get_credentials():
        resolutions.append(1)
        return real_get_credentials()

    monkeypatch.setattr(session, "get_credentials", counting_get_credentials)
    clock = FakeClock(time.time())
    provider = MskIamTokenProvider("us-east-1", clock=clock, botocore_session=session)

    for step in range(3):
        clock.now += 1000 * step
        provider.token()

    assert len(signer_calls) == 3
    assert len(resolutions) == 1


def test_missing_credentials_give_a_clear_error(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(MissingAwsCredentials, match="AWS_ACCESS_KEY_ID"):
        MskIamTokenProvider("us-east-1").token()


def test_concurrent_callers_share_one_signing(aws_env, signer_calls):
    provider = MskIamTokenProvider("us-east-1")
    start = threading.Barrier(8)
    tokens: list[str] = []

    def worker():
        start.wait()
        tokens.append(provider.token())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    assert len(tokens) == 8
    assert len(set(tokens)) == 1
    assert len(signer_calls) == 1


def test_sasl_ssl_options_use_oauthbearer_with_the_msk_provider():
    options = client_security_options("SASL_SSL", "eu-west-1", "/tmp/ca.pem")

    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    assert isinstance(options["sasl_oauth_token_provider"], MskIamTokenProvider)
    assert options["ssl_cafile"] == "/tmp/ca.pem"


def test_sasl_ssl_without_ca_file_uses_the_system_trust_store():
    options = client_security_options("SASL_SSL", "eu-west-1", None)

    assert "ssl_cafile" not in options


def test_plaintext_options_carry_no_auth():
    assert client_security_options("PLAINTEXT", None, None) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize("protocol", ["SSL", "SASL_PLAINTEXT", "sasl_ssl", ""])
def test_unsupported_protocol_is_a_clear_error(protocol):
    with pytest.raises(ValueError, match="Unsupported Kafka security protocol"):
        client_security_options(protocol, "us-east-1", None)


def test_sasl_ssl_needs_a_region():
    with pytest.raises(ValueError, match="region"):
        client_security_options("SASL_SSL", None, None)


def test_module_exports_the_provider_kafka_python_expects():
    from kafka.net.sasl.oauth import AbstractTokenProvider

    assert issubclass(token_provider.MskIamTokenProvider, AbstractTokenProvider)
