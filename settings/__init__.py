"""Stack settings: declared once (declarations.py), read and validated (loader.py), rendered
into docs/configuration.md (table.py). `default("apiCpu")` is the component arg's own default:
the declarations read it from components/, whose args own their defaults and AWS limits."""

from __future__ import annotations

from typing import Any

from settings.declarations import RETIRED_KEYS, SECTIONS, Settings
from settings.loader import load_settings
from settings.table import render_settings_table

__all__ = ["RETIRED_KEYS", "SECTIONS", "Settings", "declared_keys", "default",
           "load_settings", "render_settings_table"]


def declared_keys() -> list[str]:
    """Every stack config key, in declaration order."""
    return [f.alias for model in SECTIONS.values() for f in model.model_fields.values()]


def default(key: str) -> Any:
    """The declared default of stack setting `key` (component args use it as theirs)."""
    for model in SECTIONS.values():
        for field in model.model_fields.values():
            if field.alias == key:
                return field.default
    raise KeyError(f"no stack setting {key!r}")
