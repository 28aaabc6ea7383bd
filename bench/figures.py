"""The benchmarks' figures file (bench/figures.json) that the cost estimate reads (tools/cost).

Each benchmark owns one section and replaces only that one, so the API's and the consumer's
figures can be measured in separate runs. Every section says when and on what it was measured.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bench._common import REPO_ROOT, machine

FIGURES_FILE = REPO_ROOT / "bench" / "figures.json"


def write_section(path: Path, name: str, figures: dict) -> None:
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[name] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "machine": machine(),
                  "load_average": [round(x, 2) for x in os.getloadavg()], **figures}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
