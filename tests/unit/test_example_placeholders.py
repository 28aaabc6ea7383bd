"""The example stack files carry placeholders for what only the user's account knows (the IPAM
pool, the domain and its zone, the alarm address): a stack copied without the setup step stops
at the settings with the command that gives the real value, before anything is built."""

from __future__ import annotations

import pulumi
import pytest

import settings
from testing.pulumi_harness import EXAMPLE_VALUES, PROJECT_ROOT, stack_config


def _load(config: dict) -> settings.Settings:
    region = config.pop("aws:region", "us-east-1")
    pulumi.runtime.set_all_config({k if ":" in k else f"event-pipeline:{k}": str(v)
                                   for k, v in config.items()})
    return settings.load_settings(pulumi.Config("event-pipeline"), region=region)


@pytest.mark.parametrize("stack, keys", [
    ("dev", {"ipamPoolId"}),
    ("prod", {"ipamPoolId", "domainName", "hostedZoneId", "alarmEmail"}),
])
def test_an_example_file_as_shipped_is_refused_with_the_way_to_the_real_value(stack, keys):
    with pytest.raises(pulumi.RunError) as error:
        _load(stack_config(stack, placeholders=True))
    message = str(error.value)
    for key in keys:
        assert f"event-pipeline:{key} = 'REPLACE_WITH_" in message, key
    assert "pulumi -C bootstrap/ipam stack output poolId" in message
    assert message.count("is the example's placeholder") == len(keys)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_with_the_accounts_values_the_example_is_valid(stack):
    loaded = _load(stack_config(stack))
    assert loaded.network.ipam_pool_id == EXAMPLE_VALUES["REPLACE_WITH_POOL_ID"]


def test_every_placeholder_in_the_examples_has_a_test_value():
    text = "".join((PROJECT_ROOT / f"Pulumi.{s}.yaml").read_text() for s in ("dev", "prod"))
    import re
    assert set(re.findall(r"REPLACE_WITH_[A-Z_]+", text)) <= set(EXAMPLE_VALUES)
