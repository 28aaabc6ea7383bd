"""Program benchmark: wall time of the whole Pulumi program under mocks for a stack.

    .venv/bin/python -m bench.program [--stack dev] [--runs 5]

This is the program's own share of `pulumi preview`/`up` (settings, components, policy documents,
resource registration), without the engine and providers, which cannot run here.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench._common import machine
from testing.pulumi_harness import run_main, stack_config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    config = stack_config(args.stack)
    times = []
    resources = 0
    for _ in range(args.runs):
        started = time.perf_counter()
        run = run_main(config)
        times.append(time.perf_counter() - started)
        resources = len(run.resources)
    print(f"machine: {machine()}")
    print(f"stack {args.stack}: {resources} resources registered; wall time over {args.runs} runs: "
          f"median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
          f"first {times[0] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
