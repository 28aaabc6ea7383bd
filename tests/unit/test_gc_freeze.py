"""tests/fixtures/gc_freeze.py: what collection imported, and what a test imports later, is out
of the collector's scans."""

import gc
import importlib
import sys

from tests.fixtures import gc_freeze


def test_the_session_froze_what_collection_imported():
    # Even collecting this file alone imports pytest, pulumi and the harness (the fixtures'
    # plugins): ~150,000 objects; without the plugin nothing is frozen.
    assert gc.get_freeze_count() > 100_000


def test_the_collector_is_on_once_collection_is_done():
    assert gc.isenabled()


def _scanned(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_a_module_imported_mid_test_is_frozen_by_the_next_full_collection(tmp_path, monkeypatch):
    # As pulumi_aws loads a service's modules when a mocked run first touches it.
    (tmp_path / "imported_by_a_test.py").write_text("TABLE = {'rows': [[1], [2]]}\n")
    monkeypatch.syspath_prepend(tmp_path)
    try:
        module = importlib.import_module("imported_by_a_test")
        assert _scanned(module.TABLE)

        gc.collect()

        assert not _scanned(module.TABLE)
    finally:
        sys.modules.pop("imported_by_a_test", None)


def test_a_full_collection_after_no_import_freezes_nothing(monkeypatch):
    # Cycles that die later stay collectable: nothing is frozen while no module is imported.
    # (Called directly: under xdist another thread may import between two gc.collect() calls.)
    monkeypatch.setattr(gc_freeze, "_modules_when_frozen", len(sys.modules))
    cycle: list = []
    cycle.append(cycle)
    frozen = gc.get_freeze_count()

    gc_freeze.after_a_full_collection("stop", {"generation": 2, "collected": 0,
                                               "uncollectable": 0})

    assert gc.get_freeze_count() == frozen and _scanned(cycle)
    # The same call with a module imported since the last freeze does freeze.
    monkeypatch.setattr(gc_freeze, "_modules_when_frozen", len(sys.modules) - 1)
    gc_freeze.after_a_full_collection("stop", {"generation": 2, "collected": 0,
                                               "uncollectable": 0})
    assert not _scanned(cycle)
