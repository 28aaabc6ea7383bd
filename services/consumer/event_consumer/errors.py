"""The two failure kinds the handler distinguishes: never-going-to-work vs. try-again."""


class PoisonRecordError(Exception):
    """A record that can never succeed (bad envelope or headers, bad base64, not UTF-8, unusable
    JSON, fails the schema). The handler dead-letters any other decode exception the same way."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableError(Exception):
    """A transient failure: the whole invocation fails so the event source mapping retries."""


class DeadLetterError(Exception):
    """The dead-letter sink did not durably accept a record; the batch must be retried."""


class ConfigError(Exception):
    """Bad environment configuration; `problems` holds one clear message per bad value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
