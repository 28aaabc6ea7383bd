"""tests/fixtures/gc_freeze.py: what collection imported, and what a test imports later, is out
of the collector's scans."""

import gc
import importlib
import sys


def test_the_session_froze_what_collection_imported():
    # Even collecting this file alone imports pytest, pulumi and the harness (the fixtures'
    # plugins): ~150,000 objects; without the plugin nothing is frozen.
    assert gc.get_freeze_count() > 100_000


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


def test_a_full_collection_after_no_import_freezes_nothing():
    # Cycles that die later stay collectable: nothing is frozen while no module is imported.
    gc.collect()
    cycle: list = []
    cycle.append(cycle)
    frozen = gc.get_freeze_count()

    gc.collect()

    assert gc.get_freeze_count() == frozen and _scanned(cycle)
