"""Read the stack settings from `pulumi.Config`, validate them, report every problem at once.

Each key is validated on its own against its declaration (settings/declarations.py), then the
rules between keys (settings/checks.py) run for the keys that were valid, so one typo gives
one message. All problems are raised together in one `pulumi.RunError` before any resource is
registered: a bad stack file never surfaces as a traceback from inside a component.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError

from settings import fields
from settings.checks import CHECKS
from settings.declarations import RETIRED_KEYS, SECTIONS, Settings

# Values in the example stack files that stand for the user's own (Pulumi.dev.yaml,
# Pulumi.prod.yaml); each refused with the command or place that gives the real value.
PLACEHOLDER_PREFIX = "REPLACE_WITH_"
PLACEHOLDER_HINTS = {
    "ipamPoolId": "run `pulumi -C bootstrap/ipam stack output poolId` (README \"Deploy to AWS\", "
                  "step 2), then `pulumi config set ipamPoolId <that id>`",
    "domainName": "set the API's DNS name, in a Route 53 public zone of this account "
                  "(`pulumi config set domainName api.<your domain>`), or use certificateArn",
    "hostedZoneId": "the id of domainName's Route 53 zone: `aws route53 list-hosted-zones-by-name "
                    "--dns-name <your domain> --query 'HostedZones[0].Id'`",
    "alarmEmail": "the address that receives the alarms (`pulumi config set alarmEmail ...`)",
}


class Reader:
    """Validated values by config key, which keys were set, and the problems found."""

    def __init__(self, config: pulumi.Config, region: str | None) -> None:
        self.config = config
        self.region = region
        self.values: dict[str, Any] = {}
        self.problems: list[str] = []
        self._set: set[str] = set()
        self._bad: set[str] = set()

    def problem(self, key: str, value: Any, allowed: str) -> None:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)  # a number as the user wrote it, not its quoted text
        self.problems.append(f"{self.config.full_key(key)} = {value!r}: {allowed}")
        self._bad.add(key)

    def ok(self, *keys: str) -> bool:
        """True if none of `keys` had a problem: rules between keys run only then."""
        return not self._bad.intersection(keys)

    def was_set(self, key: str) -> bool:
        return key in self._set

    def raw(self, key: str) -> str | None:
        value = self.config.get(key)
        return None if value is None or value == "" else value

    def placeholder(self, key: str, raw: str) -> bool:
        """The example stack files ship account-specific values as placeholders that no AWS
        value looks like, so a stack copied without the setup step stops here, not in AWS after
        the image build."""
        if not raw.startswith(PLACEHOLDER_PREFIX):
            return False
        hint = PLACEHOLDER_HINTS.get(key, "set it to your own value")
        self.problems.append(f"{self.config.full_key(key)} = {raw!r} is the example's "
                             f"placeholder: {hint}")
        self._bad.add(key)
        return True

    def read(self, model: type[BaseModel]) -> dict[str, Any]:
        """The model's fields by name: validated values, defaults for unset keys."""
        section: dict[str, Any] = {}
        for name, field in model.model_fields.items():
            key = field.alias or name
            raw = self.raw(key)
            if raw is None:
                if field.is_required():
                    self.problems.append(f"{self.config.full_key(key)} is not set: "
                                         f"{field.description}")
                    self._bad.add(key)
                value = field.default if not field.is_required() else None
            elif self.placeholder(key, raw):
                value = field.default if not field.is_required() else None
            else:
                self._set.add(key)
                try:
                    value = fields.adapter(field).validate_python(raw)
                except ValidationError as error:
                    self.problem(key, raw, fields.message(field, error.errors()[0]))
                    value = field.default if not field.is_required() else None
            self.values[key] = value
            section[name] = value
        return section


def load_settings(config: pulumi.Config, *, region: str | None) -> Settings:
    """Read and validate every stack setting; raise one `pulumi.RunError` listing all problems."""
    reader = Reader(config, region)
    if not region:
        reader.problems.append("aws:region is not set: run `pulumi config set aws:region <region>`")
    for key, replacement in RETIRED_KEYS.items():
        if reader.raw(key) is not None:
            reader.problems.append(f"{config.full_key(key)} {replacement}")
    sections = {name: reader.read(model) for name, model in SECTIONS.items()}
    for check in CHECKS:
        check(reader)
    if reader.problems:
        listed = "\n".join(f"  - {problem}" for problem in reader.problems)
        raise pulumi.RunError(
            f"Invalid stack configuration ({len(reader.problems)} problem(s)):\n{listed}")
    return Settings(region=region or "", **{
        name: SECTIONS[name].model_validate(values) for name, values in sections.items()})
