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
