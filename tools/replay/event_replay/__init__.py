"""Operator tool: re-publish dead letters to Kafka (`python -m event_replay`)."""
