"""The package's Pulumi schema, inferred from the hosted components' annotations, exactly as the
provider host serves it. `python -m components.provider.schema` rewrites the committed
schema.json; tests/unit/test_component_package.py fails while the two differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

from components import __version__
from components.provider.hosted import COMPONENTS, PACKAGE

SCHEMA_FILE = Path(__file__).with_name("schema.json")


def package_schema() -> dict[str, Any]:
    """What the provider host answers to GetSchema (same analyzer, same arguments)."""
    return json.loads(ComponentProvider(COMPONENTS, PACKAGE, version=__version__).schema)


def render() -> str:
    return json.dumps(package_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render())
    print(f"wrote {SCHEMA_FILE}")
