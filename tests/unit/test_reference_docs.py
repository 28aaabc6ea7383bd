"""docs/reference/<component>.md are generated from the code (components/reference.py): the pages
on disk are exactly what it gives today, and what they are generated from is complete."""

from __future__ import annotations

import dataclasses
import importlib

import pulumi
import pytest

import components
from components.reference import PAGES, PAGES_DIR, attribute_docs, pages


def test_the_committed_pages_are_the_generated_ones():
    generated = pages()
    on_disk = {p.name: p.read_text() for p in PAGES_DIR.glob("*.md")}
    stale = sorted(name for name in generated.keys() | on_disk.keys()
                   if generated.get(name) != on_disk.get(name))
    assert not stale, (f"docs/reference/ differs from the code for {stale}: run "
                       "`python -m components.reference`")


def test_every_public_component_has_a_page():
    documented = {page.component for page in PAGES}
    public = {name for name in components.__all__
              if isinstance(getattr(components, name), type)
              and issubclass(getattr(components, name), pulumi.ComponentResource)}
    assert public <= documented


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.module)
def test_every_input_is_described(page):
    module = importlib.import_module(f"components.{page.module}")
    for args in (getattr(module, page.args), *(getattr(module, a) for a in page.also)):
        docs = attribute_docs(args)
        undescribed = [f.name for f in dataclasses.fields(args) if not docs.get(f.name)]
        assert not undescribed, f"{args.__name__}: no description under {undescribed}"


@pytest.mark.parametrize("page", [p for p in PAGES if p.limits], ids=lambda page: page.module)
def test_every_limit_shown_cites_its_page(page):
    text = pages()[f"{page.module}.md"]
    for name in page.limits:
        (line,) = [line for line in text.splitlines() if line.startswith(f"- `{name}`")]
        assert "guide" in line or "reference" in line, line


def test_a_changed_default_makes_the_page_stale(monkeypatch):
    from components.consumer import ConsumerArgs

    field = next(f for f in dataclasses.fields(ConsumerArgs) if f.name == "batch_size")
    monkeypatch.setattr(field, "default", 101)
    assert "| `batch_size` | `int` | `101` |" in pages()["consumer.md"]
    assert pages()["consumer.md"] != (PAGES_DIR / "consumer.md").read_text()
