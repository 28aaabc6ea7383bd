"""Lambda consumer: MSK batches in, events processed, poison records dead-lettered."""
