"""Keep credentials, request signatures and MSK IAM tokens out of every log, at every level.

botocore logs the canonical request, the string to sign, the signature and the signed headers
(including the session token) at DEBUG, and the MSK IAM token is a presigned URL carrying a
signature: from either, a working token can be rebuilt and used until it expires. `install()`
puts a filter on the loggers known to write such material and on the root logger's handlers,
so a process run with LOG_LEVEL=DEBUG still never writes a secret.
"""

from __future__ import annotations

import logging
import os
import re

# Loggers that format signing material at DEBUG (checked against botocore 1.44, urllib3 2.8,
# kafka-python 3.0, aws-msk-iam-sasl-signer-python 1.0).
LEAKY_LOGGERS = (
    "botocore.auth",
    "botocore.endpoint",
    "botocore.httpsession",
    "botocore.hooks",
    "botocore.retryhandler",
    "botocore.parsers",
    "urllib3.connectionpool",
    "aws_msk_iam_sasl_signer",
    "kafka",
    "kafka.conn",
    "kafka.net",
)
REDACTED = "[REDACTED]"

# A record whose whole purpose is signing material is dropped, not redacted.
_SIGNING_STEPS = re.compile(r"^(CanonicalRequest|StringToSign|Signature):", re.MULTILINE)
_PATTERNS = (
    # Query-string and header forms of SigV4 signatures and session tokens.
    re.compile(r"(?i)(X-Amz-Signature=)[^&\s'\"]+"),
    re.compile(r"(?i)(X-Amz-Security-Token=)[^&\s'\"]+"),
    re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}]+"),
    re.compile(r"(?i)(Signature=)[0-9a-f]{16,}"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"}]+"),
    # An MSK IAM token: base64url of "https://kafka.<region>.amazonaws.com/?Action=...".
    re.compile(r"()aHR0cHM6Ly9rYWZrYS[A-Za-z0-9_\-]+=*"),
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        secret = os.environ.get(name)
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Drops signing-step records and redacts secrets from every other record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        if _SIGNING_STEPS.search(message):
            return False
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install(*handlers: logging.Handler) -> None:
    """Attach the filter to the leaky loggers, the root logger's handlers and `handlers`.
    Idempotent: call it again after adding a handler."""
    for name in LEAKY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    for handler in (*logging.getLogger().handlers, *handlers):
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
