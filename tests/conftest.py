"""Shared pytest wiring: each fixture family lives in its own plugin module."""

pytest_plugins = [
    "tests.fixtures.container",
    "tests.fixtures.kafka",
    "tests.fixtures.pulumi_mocks",
    "tests.fixtures.api_server",
    "tests.fixtures.consumer",
]
