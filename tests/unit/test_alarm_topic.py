"""The alarm topic (components/alarm_topic.py) and the alarm table (components/alarms.py)."""

from __future__ import annotations

import json

import pytest

from components.alarm_topic import AlarmTopic, AlarmTopicArgs
from components.alarms import AlarmSpec, create_alarms
from testing.pulumi_harness import ACCOUNT_ID, REGION, PulumiRun, run_program

TOPIC = "aws:sns/topic:Topic"
KEY = "aws:kms/key:Key"


def deploy(**kwargs) -> PulumiRun:
    return run_program(lambda: AlarmTopic("alarms", AlarmTopicArgs(**kwargs)))


@pytest.fixture(scope="module")
def run() -> PulumiRun:
    return deploy(alarm_email="oncall@example.com")


def test_the_topic_is_encrypted_with_its_own_rotating_key(run):
    key, topic = run.one(KEY), run.one(TOPIC)
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True


def test_cloudwatch_of_this_account_may_use_the_key_and_publish(run):
    statements = json.loads(run.one(KEY).inputs["policy"])["Statement"]
    cloudwatch = next(s for s in statements if s["Sid"] == "CloudWatchAlarmsPublishEncrypted")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    topic_arn = run.one(TOPIC).outputs["arn"]
    policy = json.loads(run.one("aws:sns/topicPolicy:TopicPolicy").inputs["policy"])
    allow, deny = policy["Statement"]
    assert (allow["Action"], allow["Resource"]) == ("sns:Publish", topic_arn)
    assert allow["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:*"}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}


def test_the_email_subscription_is_optional(run):
    subscription = run.one("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs["protocol"] == "email"
    assert subscription.inputs["endpoint"] == "oncall@example.com"
    assert subscription.inputs["topic"] == run.one(TOPIC).outputs["arn"]
    assert not deploy().of_type("aws:sns/topicSubscription:TopicSubscription")


def test_a_malformed_email_is_refused():
    with pytest.raises(ValueError, match="alarm_email 'oncall' is not an email address"):
        AlarmTopicArgs(alarm_email="oncall")


def test_an_alarm_that_notifies_nobody_cannot_be_declared():
    spec = AlarmSpec("errors", "queue", "x", "AWS/SQS", "NumberOfMessagesSent", "Sum", 0)
    with pytest.raises(ValueError, match="alarms need at least one action"):
        create_alarms(None, "consumer", [spec], {"queue": {}}, actions=[])  # type: ignore[arg-type]
