"""The contract between the API (producer) and the consumer: the event's JSON Schema and the Kafka
naming rules. One home, installed into both deployables; nothing here is copied."""
