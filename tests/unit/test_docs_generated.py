"""docs/ says what the code does: each table generated from a declaration is the generated one,
the example error is the loader's own, and the pipeline's stop bounds are the code's."""

from __future__ import annotations

import re

import pytest

import settings
from tests.fixtures.docs import between, flat, page, section

CONFIGURATION = page("configuration.md")


def test_the_stack_settings_table_is_the_generated_one():
    table = between(section(CONFIGURATION, "Stack settings"), "settings-table")
    assert table.strip() == settings.render_settings_table().strip()


def test_the_local_mappings_options_table_is_the_generated_one():
    from local.esm.settings import markdown_table

    options = section(CONFIGURATION, "The local event source mapping's options")
    assert between(options, "esm-options").strip() == markdown_table().strip()


def test_the_configuration_example_error_is_what_the_loader_says():
    import pulumi

    example = re.search(r"```text\n(Invalid stack configuration.*?)```", CONFIGURATION, re.S)
    assert example, "configuration.md lacks the example error"
    pulumi.runtime.set_all_config({
        "event-pipeline:ipamPoolId": "ipam-pool-0a1b2c3d4e5f60718",
        "event-pipeline:allowPlainHttp": "true",
        "event-pipeline:consumerLagAlarmThreshold": "5000",
        "event-pipeline:consumerTimeoutSeconds": "900",
    })
    with pytest.raises(pulumi.RunError) as error:
        settings.load_settings(pulumi.Config("event-pipeline"), region="us-east-1")
    assert str(error.value).strip() == example.group(1).strip()


def test_the_pipelines_stop_bounds_are_the_codes():
    # tests/integration/test_signals_and_orphans.py holds ./dev pipeline to these bounds.
    from local.pipeline import HURRIED_BOUND_S, SHUTDOWN_BOUND_S

    text = flat(section(page("local-development.md"), "The pipeline on this machine"))
    assert f"stops everything **within {SHUTDOWN_BOUND_S:.0f} s**" in text
    assert f"everything is stopped **within {HURRIED_BOUND_S:.0f} s** of it" in text
