"""Issue 15 point 3 (consumer side): at LOG_LEVEL=DEBUG the handler, the replay tool and the local
event source mapping write no secret key, session token, request signature or MSK IAM token.

Each runs as a real process at DEBUG, doing real signed work (SQS and S3 calls on the local
server; MSK IAM authentication on the local broker). A small prelude records every signature and
token the process produces - to a side file, never to the log - so the test knows exactly which
strings must not appear in what it wrote.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.fixtures.consumer import produce, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "DebugRunSecretAccessKey0123456789abcdefXY"
SESSION_TOKEN = "DebugRunSessionToken/FwoGZXIvYXdzEXAMPLEtokenBODY+0123456789"

# Records what must never be logged, then runs the real entry point.
PRELUDE = r"""
import json, sys
_side, _mode, *_rest = sys.argv[1:]
_found = []
def _remember(value):
    _found.append(value)
    with open(_side, "w") as fh:
        json.dump(_found, fh)
import botocore.auth
_add_auth = botocore.auth.SigV4Auth.add_auth
def _recording_add_auth(self, request):
    _add_auth(self, request)
    header = request.headers.get("Authorization")
    if header:
        _remember(header.decode() if isinstance(header, bytes) else header)
botocore.auth.SigV4Auth.add_auth = _recording_add_auth
import msk_iam_client.token_provider as _tp
_new_token = _tp.MskIamTokenProvider._new_token
def _recording_new_token(self):
    token, expiry = _new_token(self)
    _remember(token)
    return token, expiry
_tp.MskIamTokenProvider._new_token = _recording_new_token
if _mode == "module":
    import runpy
    sys.argv = [_rest[0], *_rest[1:]]
    runpy.run_module(_rest[0], run_name="__main__", alter_sys=True)
else:  # the handler, invoked as the Lambda runtime does: root handler first, then the import
    import logging
    logging.basicConfig(level=logging.DEBUG)
    from event_consumer.handler import lambda_handler
    from local.esm import LocalLambdaContext
    event = json.loads(open(_rest[0]).read())
    context = LocalLambdaContext("f", "arn:aws:lambda:x:0:function:f")
    print(json.dumps(lambda_handler(event, context)))
"""


def secret_parts(side_file: Path) -> set[str]:
    """Every secret string the run produced: signatures, whole tokens and their signatures."""
    parts = {SECRET_KEY, SESSION_TOKEN}
    for value in json.loads(side_file.read_text()):
        if value.startswith("AWS4-HMAC-SHA256"):
            parts.add(value.rsplit("Signature=", 1)[1])
            continue
        parts.add(value)  # an MSK IAM token: base64url of a presigned URL
        url = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        query = parse_qs(urlsplit(url).query)
        parts.add(query["X-Amz-Signature"][0])
        parts.update(query.get("X-Amz-Security-Token", []))
    return parts


def assert_no_secret(log: str, side_file: Path, expect: tuple[str, ...]) -> None:
    leaked = [p[:12] + "..." for p in secret_parts(side_file) if p in log]
    assert not leaked, f"secrets in the DEBUG log: {leaked}"
    for marker in expect:  # the run really logged at DEBUG what it signs
        assert marker in log, f"{marker!r} not in the DEBUG output: the test would prove nothing"


def run_recorded(args: list[str], env: dict, side: Path, log: Path, **popen) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-c", PRELUDE, str(side), *args], cwd=REPO_ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, **popen)


def test_handler_at_debug_writes_no_secret(dead_letter_aws, tmp_path):
    poison = {"topic": "events", "partition": 0, "offset": 1, "timestamp": 1, "headers": [],
              "value": base64.b64encode(b"\xff" * 300_000).decode()}  # to S3 too
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"eventSource": "aws:kafka", "records": {"events-0": [
        poison, poison | {"offset": 2, "value": "AA=="}]}}))
    env = {"PATH": os.environ["PATH"], **dead_letter_aws.env(), "LOG_LEVEL": "DEBUG",
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN}
    side, log = tmp_path / "secrets.json", tmp_path / "handler.log"

    process = run_recorded(["handler", str(event)], env, side, log)

    assert process.wait(timeout=120) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert '"dead_lettered": 2' in text
    assert_no_secret(text, side, expect=("botocore", "[REDACTED]", "SendMessageBatch",
                                         "PutObject"))


def test_replay_at_debug_writes_no_secret(kafka_broker, kafka_topic, dead_letter_aws, tmp_path):
    from dead_letter_format import record_id

    value = base64.b64encode(b"replayed at debug").decode()
    letter = {"letter_id": record_id(kafka_topic, 0, 0, 1, None, value, []), "reason": "r",
              "topic": kafka_topic, "partition": 0, "offset": 0, "timestamp": 1, "key": None,
              "headers": [], "value": value}  # replay recomputes the id: it must be the real one
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                     MessageBody=json.dumps(letter))
    env = {**os.environ, **kafka_broker.client_env("admin"), **dead_letter_aws.aws.client_env(),
           "LOG_LEVEL": "DEBUG", "KAFKA_TOPIC": kafka_topic}
    side, log = tmp_path / "secrets.json", tmp_path / "replay.log"

    process = run_recorded(["module", "event_replay", "--from", f"sqs:{dead_letter_aws.queue_url}",
                            "--ledger", str(tmp_path / "ledger.sqlite")], env, side, log)

    assert process.wait(timeout=180) == 0, log.read_text()[-3000:]
    text = log.read_text()
    assert '"replayed": 1' in text
    assert_no_secret(text, side,
                     expect=("botocore", "kafka", "[REDACTED]"))
    assert kafka_broker.client_env("admin")["AWS_SECRET_ACCESS_KEY"] not in text


def test_local_mapping_at_debug_writes_no_secret(kafka_broker, kafka_topic, dead_letter_aws,
                                                 tmp_path):
    produce(kafka_broker, kafka_topic, [{"value": b"\xfe poison", "partition": 0}])
    kafka_broker.grant(kafka_topic, "debug-run")
    consumer = kafka_broker.client_env("consumer")
    env = {**os.environ, **consumer, **dead_letter_aws.env(),
           "AWS_ACCESS_KEY_ID": consumer["AWS_ACCESS_KEY_ID"],
           "AWS_SECRET_ACCESS_KEY": consumer["AWS_SECRET_ACCESS_KEY"],
           "KAFKA_TOPIC": kafka_topic, "ESM_CONSUMER_GROUP_ID": "debug-run", "LOG_LEVEL": "DEBUG",
           "ESM_BATCHING_WINDOW_S": "0.1", "PYTHONUNBUFFERED": "1"}
    side, log = tmp_path / "secrets.json", tmp_path / "esm.log"

    process = run_recorded(["module", "local.esm"], env, side, log, start_new_session=True)
    try:
        wait_until(lambda: '"dead_lettered":1' in log.read_text().replace(" ", ""), 90,
                   "the poison record dead-lettered to SQS")
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = log.read_text()
    assert_no_secret(text, side, expect=("botocore", "kafka", "[REDACTED]"))
    assert consumer["AWS_SECRET_ACCESS_KEY"] not in text
