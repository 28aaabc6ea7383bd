"""The provider host: Pulumi runs this folder (PulumiPlugin.yaml) when a program in any language
uses the package. The `components` package and the Kafka name rules it uses come from the
checkout this folder sits in, so they are put on the import path first."""

import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
for folder in (CHECKOUT, CHECKOUT / "libs" / "event-contract"):
    if folder.is_dir():
        sys.path.insert(0, str(folder))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components import __version__  # noqa: E402
from components.provider.hosted import COMPONENTS, PACKAGE  # noqa: E402

if __name__ == "__main__":
    component_provider_host(COMPONENTS, PACKAGE, version=__version__)
