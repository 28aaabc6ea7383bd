"""Per-event work measured by the benchmarks (bench/figures.json), as the estimate uses it.

bench/ingest.py --figures writes the API's CPU per event and log bytes per event;
bench/consumer_throughput.py --figures the consumer's time per invocation and per record.
Nothing here is typed in: a missing figure is an error that names the command to run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIGURES_FILE = Path(__file__).resolve().parents[2] / "bench" / "figures.json"


class FiguresError(ValueError):
    """The figures file is missing or lacks a figure; the message names the benchmark."""


@dataclass(frozen=True)
class Figures:
    # At the highest concurrency measured: a task near its scaling target serves many requests
    # at once (at concurrency 1 the worker's idle polling is charged to few events).
    api_cpu_us_per_event: float
    api_cpu_concurrency: str  # the concurrency that figure was measured at
    api_log_bytes_per_event: float
    consumer_fixed_ms: float  # per invocation, whatever its size (the intercept of a line fit)
    consumer_ms_per_record: float
    api_measured: str  # "when, on what": shown beside the estimate
    consumer_measured: str

    def consumer_ms(self, records: float) -> float:
        return self.consumer_fixed_ms + self.consumer_ms_per_record * records


def _line_fit(points: dict[int, float]) -> tuple[float, float]:
    """Least-squares intercept and slope of duration (ms) over batch size."""
    xs, ys = list(points), list(points.values())
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return max(0.0, mean_y - slope * mean_x), slope


def _section(data: dict, name: str, command: str) -> dict:
    section = data.get(name)
    if not isinstance(section, dict):
        raise FiguresError(f"{FIGURES_FILE.name} has no {name!r} figures: run `{command}`")
    return section


def load_figures(path: Path = FIGURES_FILE) -> Figures:
    if not path.is_file():
        raise FiguresError(f"no {path} : run `python -m bench.ingest --cpu --figures {path}` "
                           f"and `python -m bench.consumer_throughput --figures {path}`")
    try:
        data = json.loads(path.read_text())
        api = _section(data, "api", f"python -m bench.ingest --cpu --figures {path}")
        consumer = _section(data, "consumer",
                            f"python -m bench.consumer_throughput --figures {path}")
        per_concurrency = {key: row["cpu_us_per_event"]["api_workers"]
                           for key, row in api["concurrency"].items()}
        loaded = max(per_concurrency, key=int)
        timings = {int(n): float(ms) for n, ms in consumer["ms_per_invoke"].items()}
        if len(timings) < 2:
            raise FiguresError("the consumer figures need at least two batch sizes")
        fixed, per_record = _line_fit(timings)
        return Figures(
            api_cpu_us_per_event=float(per_concurrency[loaded]), api_cpu_concurrency=loaded,
            api_log_bytes_per_event=float(api["log_bytes_per_event"]),
            consumer_fixed_ms=fixed, consumer_ms_per_record=per_record,
            api_measured=f"{api['measured_at']}, {api['machine']}",
            consumer_measured=f"{consumer['measured_at']}, {consumer['machine']}, "
                              f"{consumer['via']}")
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, FiguresError):
            raise
        raise FiguresError(f"{path.name} is malformed ({error!r}): rerun the benchmarks") from None
