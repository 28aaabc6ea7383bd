"""Shared pytest wiring: each fixture family lives in its own plugin module."""

pytest_plugins = [
    "tests.fixtures.kafka",
]
