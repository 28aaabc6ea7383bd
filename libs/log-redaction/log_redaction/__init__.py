"""Keep credentials, request signatures and MSK IAM tokens out of every log, at every level.

botocore logs the canonical request, the string to sign and the signature at DEBUG, kafka-python
logs the SASL exchange, and the MSK IAM token is a presigned URL carrying a signature: from any of
them a working token can be rebuilt and used until it expires (15 minutes). Redaction happens
where text leaves the process, on each handler's *formatted* output, so it also covers
structured fields (`extra`), exception messages and tracebacks, whatever logger wrote them:

- records that are signing steps (CanonicalRequest / StringToSign / Signature) are dropped;
- SigV4 signatures, session tokens, Authorization headers and MSK IAM tokens are replaced by
  patterns;
- exact secrets are replaced wherever they appear: the AWS_SECRET_ACCESS_KEY and
  AWS_SESSION_TOKEN of the environment, and every value passed to `remember_secret` (the MSK IAM
  client registers the keys it signs with, from any credential source, and each token it makes).

`install()` applies this to the handlers that exist (root, every configured logger, logging's
last-resort handler); call it again after adding handlers. It is idempotent and cheap.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import deque
from urllib.parse import quote

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 8
_REMEMBERED_MAX = 64  # credentials rotate and tokens are re-signed; keep the recent ones

# A record whose whole purpose is signing material is dropped, not redacted.
_SIGNING_STEPS = re.compile(r"^(CanonicalRequest|StringToSign|Signature):", re.MULTILINE)
_PATTERNS = (
    # Query-string and header forms of SigV4 signatures, credentials and session tokens.
    re.compile(r"(?i)(X-Amz-Signature=)[^&\s'\"\\]+"),
    re.compile(r"(?i)(X-Amz-Security-Token=)[^&\s'\"\\]+"),
    re.compile(r"(?i)(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}\\]+"),
    re.compile(r"(?i)(Signature=)[0-9a-f]{16,}"),
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)[^'\"}\\]+"),
    # An MSK IAM token: base64url of "https://kafka.<region>.amazonaws.com/?Action=...", alone or
    # after "Bearer " / "auth=Bearer " in the SASL exchange.
    re.compile(r"()aHR0cHM6Ly9rYWZrYS[A-Za-z0-9_\-]+=*"),
    # Its decoded form (a presigned kafka-cluster:Connect URL): everything after the "?".
    re.compile(r"(https://kafka\.[a-z0-9-]+\.amazonaws\.com/\?)[^\s'\"\\]+"),
)
# Every pattern above needs one of these words: a line without any of them (nearly all lines,
# e.g. the access log) is checked with a few substring searches instead of seven regexes.
_MARKERS = ("x-amz-", "signature=", "authorization", "ahr0chm6ly9rywzrys", "https://kafka.")

_remembered: deque[str] = deque(maxlen=_REMEMBERED_MAX)
_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Redact `value` (and its URL-encoded form) from every log line from now on."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    global _sorted_secrets
    with _lock:
        for form in {value, quote(value, safe="")}:
            if form not in _remembered:
                _remembered.append(form)
        _sorted_secrets = sorted(_remembered, key=len, reverse=True)


_sorted_secrets: list[str] = []  # the remembered ones, longest first, rebuilt on change


def _secrets() -> list[str]:
    # Read per line (os.environ may change, e.g. in tests), but cheaply: two dict lookups.
    found = [os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_SESSION_TOKEN")]
    env = [s for s in found if s and len(s) >= MIN_SECRET_LENGTH]
    if not env:
        return _sorted_secrets
    # Longest first: a secret that contains another is replaced whole.
    return sorted({*env, *_sorted_secrets}, key=len, reverse=True)


def redact(text: str) -> str:
    lowered = text.lower()
    if any(marker in lowered for marker in _MARKERS):
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


# The libraries that log signing material at DEBUG (botocore 1.44, urllib3 2.8, kafka-python
# 3.0, aws-msk-iam-sasl-signer-python 1.0). Their records are cleaned as they are made, so even
# a handler added after install() never sees the material.
LEAKY_LOGGERS = ("botocore", "urllib3", "kafka", "aws_msk_iam_sasl_signer")


class SigningStepFilter(logging.Filter):
    """Drops the records that are nothing but signing material. On a leaky logger it also
    redacts the message of every other record in place."""

    def __init__(self, rewrite: bool = False) -> None:
        super().__init__()
        self.rewrite = rewrite

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is logging's problem, not ours
            return True
        if ("Request:" in message or "Sign" in message) and _SIGNING_STEPS.search(message):
            return False
        if self.rewrite:
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = SigningStepFilter()
_SOURCE_FILTER = SigningStepFilter(rewrite=True)
_PROTECTED = "_log_redaction_protected"


def protect(handler: logging.Handler) -> logging.Handler:
    """Make one handler safe: drop signing steps, redact everything it writes. Idempotent.

    The handler's `format` is wrapped, not its formatter: libraries that talk to their own
    formatter through the handler (Powertools' Logger calls `handler.formatter.append_keys`)
    keep working, and a formatter set later is still redacted."""
    if not getattr(handler, _PROTECTED, False):
        unredacted = handler.format

        def format_and_redact(record: logging.LogRecord) -> str:
            return redact(unredacted(record))

        handler.format = format_and_redact  # type: ignore[method-assign]
        setattr(handler, _PROTECTED, True)
    if _FILTER not in handler.filters:
        handler.addFilter(_FILTER)
    return handler


def install(*handlers: logging.Handler) -> None:
    """Protect `handlers`, the root logger's, every existing logger's and the last resort's,
    and clean the records of the leaky libraries where they are made."""
    # A logger's filters do not apply to its children's records: every existing logger of a
    # leaky library gets the filter (their modules create them at import).
    names = [*LEAKY_LOGGERS, *logging.Logger.manager.loggerDict]
    for name in names:
        if name.split(".", 1)[0] in LEAKY_LOGGERS:
            logger = logging.getLogger(name)
            if _SOURCE_FILTER not in logger.filters:
                logger.addFilter(_SOURCE_FILTER)
    targets = [*handlers, *logging.getLogger().handlers]
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            targets += logger.handlers
    if logging.lastResort is not None:
        targets.append(logging.lastResort)
    for handler in targets:
        protect(handler)
