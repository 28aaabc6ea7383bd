"""README.md's cost block is what `python -m tools.cost --write` gives now."""

from __future__ import annotations

import pytest

from tools.cost.readme import (
    BEGIN,
    END,
    README,
    ReadmeError,
    current_block,
    render_block,
    write_readme,
)
from tools.cost.records import api_record_bytes


def test_readme_cost_block_is_current():
    expected = render_block(api_record_bytes())
    assert current_block(README.read_text()) == expected, (
        "README.md's cost block is stale: run `python -m tools.cost --write`")


def test_write_replaces_only_the_block(tmp_path, monkeypatch):
    monkeypatch.setattr("tools.cost.readme.render_block", lambda record_bytes: "NEW")
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{BEGIN}\nOLD\nlines\n{END}\nafter\n")
    write_readme(200, readme)
    assert readme.read_text() == f"# title\n\nbefore\n{BEGIN}\nNEW\n{END}\nafter\n"
    readme.write_text("no markers\n")
    with pytest.raises(ReadmeError, match="must hold"):
        write_readme(200, readme)
