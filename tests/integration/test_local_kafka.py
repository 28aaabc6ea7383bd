"""The local Kafka broker authenticates like MSK Serverless: real broker, real signer, real TLS.

Every client here uses kafka-python against the broker started by the `kafka_broker` fixture.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import botocore.auth
import botocore.session
import pytest
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider as signer
from botocore.credentials import CredentialProvider, Credentials
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import (
    KafkaTimeoutError,
    SaslAuthenticationFailedError,
    TopicAuthorizationFailedError,
    for_code,
)
from kafka.net.sasl.oauth import AbstractTokenProvider
from kafka.protocol.parser import KafkaProtocol
from kafka.protocol.sasl import SaslAuthenticateRequest, SaslHandshakeRequest
from msk_iam_client import MskIamTokenProvider, client_security_options

from local.kafka import ADMIN, PROGRAM_ROLES, LocalKafka, LocalKafkaError
from local.processes import die_with_parent

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
# A refused client retries until this runs out; long enough for several refused attempts.
REFUSED_BOOTSTRAP_MS = 2500


class StaticCredentials(CredentialProvider):
    METHOD = "test-static"

    def __init__(self, access_key_id: str, secret: str) -> None:
        super().__init__()
        self._credentials = Credentials(access_key_id, secret)

    def load(self) -> Credentials:
        return self._credentials


class FixedToken(AbstractTokenProvider):
    """Sends one pre-made token, whatever it is."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._token = token

    def token(self) -> str:
        return self._token


def sign(access_key_id: str, secret: str, region: str = "us-east-1") -> str:
    token, _expiry_ms = signer.generate_auth_token_from_credentials_provider(
        region, StaticCredentials(access_key_id, secret)
    )
    return token


def b64url_decode(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()


def b64url_encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def client_env(kafka_broker, monkeypatch):
    """The environment a service process gets (LocalKafka.client_env), and no other AWS config."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    env = kafka_broker.client_env(ADMIN)  # produces and reads without a program role's limits
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def admin_keys(kafka: LocalKafka) -> tuple[str, str]:
    principal = kafka.principal(ADMIN)
    return principal.access_key_id, principal.secret_access_key


def sasl_options(env: dict[str, str]) -> dict:
    return client_security_options(
        env["KAFKA_SECURITY_PROTOCOL"], env["AWS_REGION"], env["KAFKA_CA_FILE"]
    )


def produce(bootstrap: str, topic: str, messages: list[bytes], **options) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=15000,
                             bootstrap_timeout_ms=20000, **options)
    try:
        for message in messages:
            producer.send(topic, message).get(timeout=15)
    finally:
        producer.close(timeout=10)


def consume(bootstrap: str, topic: str, count: int, **options) -> list[bytes]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, request_timeout_ms=15000,
                             bootstrap_timeout_ms=20000, **options)
    received: list[bytes] = []
    deadline = time.monotonic() + 20
    try:
        while len(received) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received.extend(record.value for record in records)
    finally:
        consumer.close()
    return received


class BrokerLog:
    """Reads only what the broker logged after this object was made."""

    def __init__(self, kafka) -> None:
        self._path = kafka.log_file
        self._offset = self._path.stat().st_size

    def wait_for(self, pattern: str, timeout_s: float = 5) -> str:
        deadline = time.monotonic() + timeout_s
        while True:
            with self._path.open("rb") as f:
                f.seek(self._offset)
                new = f.read().decode("utf-8", errors="replace")
            match = re.search(pattern, new)
            if match:
                return match.group(0)
            if time.monotonic() >= deadline:
                raise AssertionError(f"broker log has no line matching {pattern!r}:\n{new}")
            time.sleep(0.1)

    def new_text(self) -> str:
        with self._path.open("rb") as f:
            f.seek(self._offset)
            return f.read().decode("utf-8", errors="replace")


def attempt_sasl_bootstrap(kafka, provider, caplog, ca_file: str | None) -> str:
    """Bootstraps a kafka-python admin client over SASL_SSL, expecting failure; returns its log."""
    caplog.clear()
    options = {"ssl_cafile": ca_file} if ca_file else {}
    with caplog.at_level(logging.WARNING, logger="kafka"):
        with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
            KafkaAdminClient(
                bootstrap_servers=kafka.sasl_bootstrap, security_protocol="SASL_SSL",
                sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=provider,
                bootstrap_timeout_ms=REFUSED_BOOTSTRAP_MS, request_timeout_ms=5000, **options,
            )
    return "\n".join(record.getMessage() for record in caplog.records)


def oauthbearer_exchange(kafka, token: str) -> tuple[bytes, object]:
    """One SASL/OAUTHBEARER exchange on the wire, encoded with kafka-python's protocol codec.

    Returns (server challenge, final SaslAuthenticate response). kafka-python's own clients drop
    the broker's failure response when the broker's close arrives in the same read, so the
    refusal itself is observed here, byte for byte, over the same TLS listener.
    """
    host, port = kafka.sasl_bootstrap.split(":")
    context = ssl.create_default_context(cafile=kafka.ca_file)
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        protocol = KafkaProtocol(client_id="msk-iam-probe")

        def call(request):
            request.API_VERSION = 1
            protocol.send_request(request)
            tls.sendall(protocol.send_bytes())
            while True:
                data = tls.recv(65536)
                if not data:
                    raise ConnectionError("broker closed the connection before answering")
                responses = protocol.receive_bytes(data)
                if responses:
                    return responses[0][1]

        handshake = call(SaslHandshakeRequest(mechanism="OAUTHBEARER"))
        assert handshake.error_code == 0 and handshake.mechanisms == ["OAUTHBEARER"]
        response = call(SaslAuthenticateRequest(f"n,,\x01auth=Bearer {token}\x01\x01".encode()))
        challenge = response.auth_bytes
        if response.error_code == 0 and challenge:
            # RFC 7628: the server's error challenge is answered with a lone 0x01.
            response = call(SaslAuthenticateRequest(b"\x01"))
        return challenge, response


# --- accepted ---------------------------------------------------------------------------------


def test_round_trip_over_sasl_ssl_with_signer_tokens(kafka_broker, kafka_topic, client_env):
    log = BrokerLog(kafka_broker)
    sent = [f"event-{i}-{uuid.uuid4()}".encode() for i in range(20)]

    produce(client_env["KAFKA_BOOTSTRAP_SERVERS"], kafka_topic, sent, **sasl_options(client_env))
    received = consume(client_env["KAFKA_BOOTSTRAP_SERVERS"], kafka_topic, len(sent),
                       **sasl_options(client_env))

    assert sorted(received) == sorted(sent)
    assert client_env["KAFKA_BOOTSTRAP_SERVERS"] == kafka_broker.sasl_bootstrap
    log.wait_for(rf"MSK IAM authentication accepted for principal {admin_keys(kafka_broker)[0]}")


def test_plaintext_listener_still_works(kafka_broker, kafka_topic):
    sent = [f"plain-{i}".encode() for i in range(5)]
    options = client_security_options("PLAINTEXT", None, None)

    produce(kafka_broker.plaintext_bootstrap, kafka_topic, sent, **options)

    assert sorted(consume(kafka_broker.plaintext_bootstrap, kafka_topic, 5, **options)) == sent


def test_control_a_correct_token_passes_the_wire_probe(kafka_broker):
    # The probe used for refusals below must be able to succeed, or refusals would prove nothing.
    token = sign(*admin_keys(kafka_broker))

    challenge, response = oauthbearer_exchange(kafka_broker, token)

    assert challenge == b""
    assert response.error_code == 0
    # The session is bounded by the token's lifetime (900 s), as on MSK.
    assert 0 < response.session_lifetime_ms <= 900_000


# --- refused ----------------------------------------------------------------------------------


def token_with_wrong_secret(kafka):
    return sign(admin_keys(kafka)[0], "not-" + admin_keys(kafka)[1])


def expired_token(kafka):
    an_hour_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=an_hour_ago):
        token = sign(*admin_keys(kafka))
    assert "X-Amz-Date=" + an_hour_ago.strftime("%Y%m%dT%H") in b64url_decode(token)
    return token


def token_dated_in_the_future(kafka):
    in_an_hour = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=in_an_hour):
        return sign(*admin_keys(kafka))


def token_for_another_host(kafka):
    with mock.patch.object(signer, "ENDPOINT_URL_TEMPLATE", "https://kafka.{}.example.com/"):
        return sign(*admin_keys(kafka))


def token_for_another_action(kafka):
    with mock.patch.object(signer, "ACTION_NAME", "kafka-cluster:AlterCluster"):
        return sign(*admin_keys(kafka))


def token_for_another_region(kafka):
    return sign(*admin_keys(kafka), region="eu-west-1")


def token_of_unknown_key(kafka):
    return sign("AKIAUNKNOWNKEY000000", admin_keys(kafka)[1])


def token_with_extended_expiry(kafka):
    url = b64url_decode(sign(*admin_keys(kafka)))
    assert "X-Amz-Expires=900" in url
    return b64url_encode(url.replace("X-Amz-Expires=900", "X-Amz-Expires=86400"))


def garbage_token(kafka):
    return "definitely.not-a~token"


def base64_of_not_a_url(kafka):
    return b64url_encode("hello, broker")


def plain_http_url(kafka):
    url = b64url_decode(sign(*admin_keys(kafka)))
    return b64url_encode(url.replace("https://", "http://", 1))


REFUSALS = [
    (token_with_wrong_secret, r"signature does not match for access key id"),
    (expired_token, r"token expired at"),
    (token_dated_in_the_future, r"minutes in the future"),
    (token_for_another_host, r"URL host 'kafka.us-east-1.example.com' is not"),
    (token_for_another_action, r"action 'kafka-cluster:AlterCluster' is not kafka-cluster:Connect"),
    (token_for_another_region, r"credential scope region 'eu-west-1' is not this cluster's region"),
    (token_of_unknown_key, r"unknown access key id 'AKIAUNKNOWNKEY000000'"),
    (token_with_extended_expiry, r"signature does not match"),
    (garbage_token, r"token is not base64url"),
    (base64_of_not_a_url, r"decoded token is not a URL"),
    (plain_http_url, r"token is not an https presigned URL"),
]


@pytest.mark.parametrize(("make_token", "reason"), REFUSALS, ids=[f.__name__ for f, _ in REFUSALS])
def test_bad_tokens_are_refused_with_a_logged_reason(kafka_broker, make_token, reason):
    token = make_token(kafka_broker)
    log = BrokerLog(kafka_broker)

    challenge, response = oauthbearer_exchange(kafka_broker, token)

    assert challenge == b'{"status":"invalid_token"}'
    assert for_code(response.error_code) is SaslAuthenticationFailedError
    line = log.wait_for(r"WARN MSK IAM authentication rejected: [^\n]*")
    assert re.search(reason, line), line
    # The log names the reason, never the secret or the token.
    new_log = log.new_text()
    assert all(p.secret_access_key not in new_log for p in kafka_broker.principals.values())
    assert token not in new_log
    assert "accepted for principal" not in new_log


def test_kafka_python_client_with_a_wrong_secret_cannot_connect(kafka_broker, caplog):
    log = BrokerLog(kafka_broker)
    provider = FixedToken(token_with_wrong_secret(kafka_broker))

    attempt_sasl_bootstrap(kafka_broker, provider, caplog, kafka_broker.ca_file)

    log.wait_for(r"MSK IAM authentication rejected: signature does not match")
    assert "accepted for principal" not in log.new_text()


def test_tls_is_verified_so_an_untrusted_broker_certificate_is_refused(kafka_broker, caplog):
    # Without the throwaway CA the client must not trust the broker (no silent TLS bypass).
    token = sign(*admin_keys(kafka_broker))
    log = BrokerLog(kafka_broker)

    client_saw = attempt_sasl_bootstrap(kafka_broker, FixedToken(token), caplog, ca_file=None)

    assert "CERTIFICATE_VERIFY_FAILED" in client_saw
    assert "MSK IAM authentication" not in log.new_text()


# --- restart ----------------------------------------------------------------------------------


def test_stop_then_start_keeps_ports_data_and_credentials(kafka_broker, kafka_topic, client_env):
    before = (kafka_broker.sasl_bootstrap, kafka_broker.plaintext_bootstrap, kafka_broker.ca_file)
    bootstrap = kafka_broker.sasl_bootstrap
    produce(bootstrap, kafka_topic, [b"before-restart"], **sasl_options(client_env))

    kafka_broker.stop()
    host, port = kafka_broker.plaintext_bootstrap.split(":")
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()
    kafka_broker.start()

    assert (kafka_broker.sasl_bootstrap, kafka_broker.plaintext_bootstrap,
            kafka_broker.ca_file) == before
    assert kafka_broker.client_env(ADMIN) == client_env
    produce(bootstrap, kafka_topic, [b"after-restart"], **sasl_options(client_env))
    received = consume(bootstrap, kafka_topic, 2, **sasl_options(client_env))
    assert sorted(received) == [b"after-restart", b"before-restart"]


def test_a_broker_that_cannot_start_fails_fast_with_its_log(tmp_path):
    # The usual real-world cause: the port was taken while the broker was stopped.
    broker = LocalKafka(tmp_path / "broker")
    broker._prepare_once()  # pick the ports without starting, so one can be taken first
    # The controller listener binds first, so taking its port makes the broker fail soonest.
    port = broker._ports["controller"]
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        started = time.monotonic()
        with pytest.raises(LocalKafkaError, match="exited during start-up") as failure:
            broker.start(timeout_s=60)
    assert time.monotonic() - started < 45
    assert "Address already in use" in str(failure.value)
    assert not broker.is_running()


# --- command line -----------------------------------------------------------------------------


def _options_from_env_json(info: dict, role: str) -> dict:
    """kafka-python options built from nothing but the --env-json file, as another process would."""
    session = botocore.session.Session()
    keys = info["principals"][role]
    session.set_credentials(keys["access_key_id"], keys["secret_access_key"])
    return {"security_protocol": "SASL_SSL",
            "sasl_mechanism": "OAUTHBEARER", "ssl_cafile": info["ca_file"],
            "sasl_oauth_token_provider": MskIamTokenProvider(info["region"],
                                                             botocore_session=session)}


def test_cli_env_json_lets_other_processes_connect_as_each_principal(tmp_path):
    env_json = tmp_path / "kafka-env.json"
    out = (tmp_path / "cli.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "local.kafka", "start", "--work-dir", str(tmp_path / "b"),
         "--topic", "orders", "--env-json", str(env_json)],
        cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent())  # never outlives the test run
    try:
        deadline = time.monotonic() + 180
        while not env_json.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert env_json.exists(), (tmp_path / "cli.log").read_text()
        info = json.loads(env_json.read_text())
        assert stat.S_IMODE(env_json.stat().st_mode) == 0o600  # it holds secrets
        assert {"bootstrap", "ca_file", "region", "cluster_arn", "principals"} <= set(info)
        assert set(info["principals"]) == {"admin", *PROGRAM_ROLES}
        keys = {p["access_key_id"] for p in info["principals"].values()}
        assert len(keys) == len(info["principals"])  # one access key per principal
        assert re.fullmatch(r"arn:aws:kafka:us-east-1:\d{12}:cluster/local/[0-9a-f-]+-s1",
                            info["cluster_arn"])

        # --topic granted the program's roles on "orders": the API's principal writes it ...
        produce(info["bootstrap"], "orders", [b"via-env-json"], enable_idempotence=False,
                **_options_from_env_json(info, "api"))
        # ... the consumer's reads it (no group: ReadData and DescribeTopic suffice) ...
        assert consume(info["bootstrap"], "orders", 1,
                       **_options_from_env_json(info, "consumer")) == [b"via-env-json"]
        # ... and may not write it, as its role may not.
        with pytest.raises(TopicAuthorizationFailedError):
            produce(info["bootstrap"], "orders", [b"refused"], enable_idempotence=False,
                    **_options_from_env_json(info, "consumer"))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        out.close()
    assert process.returncode == 0, (tmp_path / "cli.log").read_text()
    assert not env_json.exists(), "stale connection details are removed at stop"
