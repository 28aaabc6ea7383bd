"""The event pipeline's policy pack: `pulumi preview --policy-pack policy`.

Every rule is mandatory: a violation fails the preview (and `pulumi up`). The tests run the same
rules offline over every stack's mocked resources (testing/policy_run.py), so a rule that would
fail in CI fails in `./dev test` first.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import ALL_POLICIES

PolicyPack(
    name="event-pipeline",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
