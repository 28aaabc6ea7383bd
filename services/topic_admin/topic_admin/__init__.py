"""Deploy-time Kafka topic provisioning: the Lambda `aws.lambda_.Invocation` runs on every change
of the topic's settings or of this code (components/topic.py). It creates the topic if missing,
grows its partitions when the setting grows, refuses to shrink it, and never deletes anything."""
