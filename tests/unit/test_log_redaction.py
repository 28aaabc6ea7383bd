"""log_redaction: no handler writes credentials, signatures or MSK IAM tokens, at any level
(issue 15.3). The real signer runs with botocore at DEBUG; an unprotected handler beside the
protected one shows the material is really there to leak."""

from __future__ import annotations

import base64
import io
import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from log_redaction import REDACTED, install, protect, redact, remember_secret

from tests.fixtures.aws_credentials import use_only_static_credentials

ACCESS_KEY_ID = "AKIAREDACTIONTEST001"
SECRET = "redaction-test-secret-key-0123456789abcdef"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEtestSessionToken/with+slashes=="


@pytest.fixture
def aws_env(monkeypatch):
    use_only_static_credentials(monkeypatch, ACCESS_KEY_ID, SECRET, SESSION_TOKEN)


@pytest.fixture
def captured():
    """(raw, protected) text streams fed by two root handlers at DEBUG."""
    raw, safe = io.StringIO(), io.StringIO()
    raw_handler, safe_handler = logging.StreamHandler(raw), logging.StreamHandler(safe)
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(raw_handler)
    root.addHandler(protect(safe_handler))
    yield raw, safe
    root.removeHandler(raw_handler)
    root.removeHandler(safe_handler)
    root.setLevel(old_level)


def _secret_parts(token: str) -> list[str]:
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    query = parse_qs(urlsplit(url).query)
    return [SECRET, SESSION_TOKEN, token, url, query["X-Amz-Signature"][0],
            query["X-Amz-Security-Token"][0]]


def test_a_real_signing_at_debug_leaks_through_a_raw_handler_but_not_a_protected_one(
    aws_env, captured
):
    from msk_iam_client import MskIamTokenProvider

    raw, safe = captured
    token = MskIamTokenProvider("eu-west-1").token()
    # What kafka-python's SASL exchange and an error message would carry.
    logging.getLogger("kafka.net.sasl").debug("Sending auth_bytes=%r",
                                              f"n,,\x01auth=Bearer {token}")
    logging.getLogger("app").error("connect failed for %s", token)
    parts = _secret_parts(token)
    assert any(part in raw.getvalue() for part in parts)  # the leak the filter stops
    leaked = [part for part in parts if part in safe.getvalue()]
    assert leaked == []
    assert REDACTED in safe.getvalue()


def test_extra_fields_exceptions_and_tracebacks_are_redacted_too(captured):
    from event_api.logging_setup import JsonFormatter

    raw, safe = captured
    secret = "container-role-secret-0123456789"  # from the ECS endpoint: never in os.environ
    remember_secret(secret)
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    install(handler)
    log = logging.getLogger("event_api.test")
    log.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"signing with {secret} failed")
        except RuntimeError:
            log.exception("failed", extra={"fields": {"error": f"key={secret}"}})
    finally:
        log.removeHandler(handler)
    written = handler.stream.getvalue()
    assert secret not in written and secret not in safe.getvalue()
    line = json.loads(written.splitlines()[0])
    assert line["error"] == f"key={REDACTED}" and REDACTED in line["exception"]


def test_signing_step_records_are_dropped(captured):
    raw, safe = captured
    signer = logging.getLogger("a.third.party.signer")  # not a known leaky library
    signer.debug("CanonicalRequest:\nGET\n/\nAction=kafka-cluster")
    signer.debug("StringToSign:\nAWS4-HMAC-SHA256\n2026")
    signer.debug("Signature:\n" + "ab" * 32)
    assert "CanonicalRequest" in raw.getvalue()
    assert "CanonicalRequest" not in safe.getvalue() and "ab" * 32 not in safe.getvalue()


def test_handlers_that_existed_before_install_are_protected():
    stream = io.StringIO()
    lambda_logger = logging.getLogger("a.powertools.like.service")
    handler = logging.StreamHandler(stream)
    lambda_logger.addHandler(handler)
    try:
        install()
        wrapped = handler.format
        install()  # idempotent: wrapped once
        assert handler.format is wrapped
        lambda_logger.warning("X-Amz-Signature=%s", "0" * 64)
    finally:
        lambda_logger.removeHandler(handler)
    assert "0" * 64 not in stream.getvalue()


@pytest.mark.parametrize("text, secrets, kept", [
    ("GET /?Action=kafka-cluster%3AConnect&X-Amz-Security-Token=IQo%2Fabc&X-Amz-Signature=ab12",
     ["IQo%2Fabc", "ab12"], "Action=kafka-cluster%3AConnect"),
    ("{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=0123456789abcdef0123'}",
     ["0123456789abcdef0123", "AWS4-HMAC-SHA256"], "{'Authorization"),
    ("token aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9u and more",
     ["aHR0cHM6Ly9rYWZrYS51cy1lYXN0"], "and more"),
    ("https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Date=1 end",
     ["X-Amz-Date=1"], " end"),
])
def test_patterns_redact_the_secret_part_and_keep_the_rest(text, secrets, kept):
    cleaned = redact(text)
    assert REDACTED in cleaned and kept in cleaned
    assert [s for s in secrets if s in cleaned] == []


def test_plain_lines_are_untouched():
    line = '{"level": "INFO", "logger": "event_api.access", "path": "/current_time"}'
    assert redact(line) == line


def test_remembered_secrets_are_redacted_url_encoded_too():
    secret = "abc/def+ghi=jkl-0123"
    remember_secret(secret)
    assert secret not in redact(f"x={secret}")
    assert "abc%2Fdef%2Bghi%3Djkl-0123" not in redact("x=abc%2Fdef%2Bghi%3Djkl-0123")
    remember_secret("short")  # too short to be a secret: never blanket-replaced
    assert redact("a short line") == "a short line"


def test_a_powertools_handler_keeps_its_own_formatter_and_is_redacted():
    """The consumer installs redaction on Powertools' handler; Powertools then calls its
    formatter through `handler.formatter` (append_keys, ...), which must stay its own."""
    from aws_lambda_powertools import Logger

    stream = io.StringIO()
    logger = Logger(service="redaction-test", logger_handler=logging.StreamHandler(stream))
    formatter = logger.registered_handler.formatter
    install(logger.registered_handler)
    assert logger.registered_handler.formatter is formatter
    logger.append_keys(request="r-1")  # goes to Powertools' formatter
    logger.info("token aHR0cHM6Ly9rYWZrYS51cy1lYXN0LTEuYW1hem9uYXdzLmNvbS8")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request"] == "r-1" and "aHR0cHM6Ly9rYWZrYS" not in line["message"]


def test_a_handler_added_after_install_gets_clean_records_from_the_leaky_libraries():
    import botocore.auth  # noqa: F401 - creates its logger, as an import in the service does

    install()
    stream = io.StringIO()
    late = logging.StreamHandler(stream)  # never protected
    logger = logging.getLogger("botocore.auth")
    logger.addHandler(late)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("StringToSign:\nAWS4-HMAC-SHA256\n20261129T000000Z")
        logger.debug("presigned https://kafka.eu-west-1.amazonaws.com/?X-Amz-Signature=%s",
                     "ab" * 32)
    finally:
        logger.removeHandler(late)
        logger.setLevel(old_level)
    assert "StringToSign" not in stream.getvalue()
    assert "ab" * 32 not in stream.getvalue() and REDACTED in stream.getvalue()
