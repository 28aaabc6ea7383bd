"""Standard mocked runs of the program, each run once per process: `cached_main`.

A standard run is this repository's unmodified program (`run_main`) with a stack's config on a
fresh bootstrapped account, with nothing patched and no mocks extended. Many test files ask for
the same one (the dev config alone ~20 times in a `./dev test --unit`); each is a full mocked
run (~0.4 s CPU). The cache is opt-in: a test that patches anything the program reads, extends
the mocks, deploys into a given account or compares two independent runs calls `run_main`.

Every caller gets its own copy, so what one test changes in its run no other test sees: a run is
stored pickled (bytes, which the garbage collector does not scan) and unpickled for each caller
(~1.5 ms for the dev stack; `copy.deepcopy` took ~6).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from testing.pulumi_runner import PROJECT_ROOT, PulumiRun, full_config, project_name, run_main


class RunCache:
    """Runs by key, each computed once; `get` hands out a new copy of the stored run."""

    def __init__(self) -> None:
        self._runs: dict[Hashable, bytes] = {}

    def get(self, key: Hashable, run: Callable[[], PulumiRun]) -> PulumiRun:
        if key not in self._runs:
            # A run that raises is not stored: the next call runs it again and re-raises.
            self._runs[key] = pickle.dumps(run(), pickle.HIGHEST_PROTOCOL)
        return pickle.loads(self._runs[key])  # noqa: S301 - bytes this process pickled

    def __len__(self) -> int:
        return len(self._runs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._runs


def main_key(config: Mapping[str, Any] | None, stack: str) -> Hashable:
    """What makes two `run_main` calls the same run: the project, the stack name and the config
    as the CLI passes it (so `{"kafkaEnabled": False}` and `{"event-pipeline:kafkaEnabled":
    "false"}` are one key)."""
    return (str(PROJECT_ROOT), stack, frozenset(full_config(config, project_name()).items()))


RUNS = RunCache()


def cached_main(config: Mapping[str, Any] | None = None, *, stack: str = "test",
                cache: RunCache = RUNS) -> PulumiRun:
    """`run_main(config, stack=stack)` on a fresh account, run once per process for each
    `main_key`: a copy of that run (`cache`: another store, for the cache's own tests)."""
    return cache.get(main_key(config, stack), lambda: run_main(config, stack=stack))
