"""Shared pytest wiring: each fixture family lives in its own plugin module."""

pytest_plugins = [
    "pytester",  # tests/unit/test_test_tiers.py runs pytest on made-up test files
    "tests.fixtures.tiers",
    "tests.fixtures.gc_freeze",
    "tests.fixtures.container",
    "tests.fixtures.kafka",
    "tests.fixtures.pulumi_mocks",
    "tests.fixtures.api_server",
    "tests.fixtures.consumer",
]
