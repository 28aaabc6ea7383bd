"""The replay tool talks to the queue at the URL it was given (`--from sqs:URL`), whatever
endpoint botocore's settings would choose, and a dry run leaves every message where it was.
Real parts: the local SQS/S3 server and `python -m event_replay` as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dead_letter_format import MskRecord, dead_letter
from event_replay.sources import SqsSource

from local.ports import free_loopback_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def a_letter() -> dict:
    raw = {"topic": "events", "partition": 0, "offset": 7, "timestamp": 1_700_000_000_000,
           "key": "Qm9i", "value": "e30=", "headers": []}
    return dead_letter(MskRecord(raw, "events-0"), "schema: test")


def dry_run(queue_url: str, ledger: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "event_replay", "--from", f"sqs:{queue_url}", "--ledger",
         str(ledger), "--dry-run"],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_replay_reads_the_queue_at_its_url_not_at_the_configured_endpoint(dead_letter_aws,
                                                                           tmp_path):
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                     MessageBody=json.dumps(a_letter()))
    nowhere = f"http://127.0.0.1:{free_loopback_port()}"  # nothing listens there

    result = dry_run(dead_letter_aws.queue_url, tmp_path / "l.sqlite",
                     AWS_ENDPOINT_URL_SQS=nowhere)

    assert result.returncode == 0, result.stderr
    actions = [json.loads(x).get("action") for x in result.stdout.splitlines()]
    assert actions.count("would-replay") == 1


def test_a_dry_run_leaves_every_message_visible(dead_letter_aws, tmp_path):
    dead_letter_aws.sqs.send_message(QueueUrl=dead_letter_aws.queue_url,
                                     MessageBody=json.dumps(a_letter()))

    result = dry_run(dead_letter_aws.queue_url, tmp_path / "l.sqlite")

    assert result.returncode == 0, result.stderr
    assert len(dead_letter_aws.drain()) == 1  # not hidden for the visibility timeout


class Sent(Exception):
    """Raised by the before-send hook: the request is looked at, never sent."""


@pytest.mark.parametrize(("queue_url", "host", "region"), [
    ("https://sqs.eu-west-1.amazonaws.com/123456789012/dl", "sqs.eu-west-1.amazonaws.com",
     "eu-west-1"),
    ("https://sqs-fips.us-gov-west-1.amazonaws.com/123456789012/dl",
     "sqs-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1"),
    ("https://ap-south-1.queue.amazonaws.com/123456789012/dl", "ap-south-1.queue.amazonaws.com",
     "ap-south-1"),
    ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/dl", "sqs.cn-north-1.amazonaws.com.cn",
     "cn-north-1"),
    ("https://vpce-0a1b2c3d-abcdefgh.sqs.eu-central-1.vpce.amazonaws.com/123456789012/dl",
     "vpce-0a1b2c3d-abcdefgh.sqs.eu-central-1.vpce.amazonaws.com", "eu-central-1"),
])
def test_an_aws_queue_url_names_the_endpoint_and_the_signing_region(monkeypatch, queue_url,
                                                                     host, region):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEONLY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-only")
    source = SqsSource(queue_url)
    seen = []

    def look(request, **_):
        seen.append(request)
        raise Sent

    source.client.meta.events.register("before-send.sqs", look)
    with pytest.raises(Sent):
        next(source.batches(1))

    [request] = seen
    assert request.url == f"https://{host}/"
    assert f"/{region}/sqs/aws4_request" in request.headers["Authorization"].decode()


def test_a_local_queue_url_keeps_the_configured_region(monkeypatch, dead_letter_aws):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    source = SqsSource(dead_letter_aws.queue_url)
    assert source.client.meta.endpoint_url == dead_letter_aws.aws.endpoint
    assert source.client.meta.region_name == "eu-north-1"
