"""tests/fixtures/gc_freeze.py: what collection imported is out of the collector's scans."""

import gc


def test_the_session_froze_what_collection_imported():
    # Even collecting this file alone imports pytest, pulumi and the harness (the fixtures'
    # plugins): ~150,000 objects; without the plugin nothing is frozen.
    assert gc.get_freeze_count() > 100_000
