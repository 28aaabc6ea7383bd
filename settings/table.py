"""The settings table of docs/configuration.md, generated from the declarations
(tests/unit/test_docs_generated.py keeps the page equal to it)."""

from __future__ import annotations

from typing import Any

from settings import fields
from settings.declarations import SECTIONS


def _shown(default: Any, required: bool) -> str:
    if required:
        return "**required**"
    if default is None:
        return "_unset_"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def render_settings_table() -> str:
    rows = ["| Key | Default | Allowed | Description | Limit from |",
            "| --- | --- | --- | --- | --- |"]
    for model in SECTIONS.values():
        for field in model.model_fields.values():
            source = (field.json_schema_extra or {}).get("source") or ""
            rows.append(f"| `{field.alias}` | {_shown(field.default, field.is_required())} | "
                        f"{fields.allowed_text(field)} | {field.description} | {source} |")
    return "\n".join(rows) + "\n"
