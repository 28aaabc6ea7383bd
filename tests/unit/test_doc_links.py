"""Every relative link in README.md and docs/*.md reaches a file of the repository, and its
#anchor a heading of that file (as GitHub renders them), so moving or renaming text breaks a test
instead of a reader's click. docs/README.md indexes every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.fixtures.docs import DOCS, ROOT

PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
_FENCE = re.compile(r"^```.*?^```", re.M | re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def links(text: str) -> list[str]:
    """Link targets of a page; code blocks and code spans hold no links."""
    # A span becomes a placeholder, not nothing, so a link whose text is code ([`x`](y)) stays.
    prose = _CODE_SPAN.sub("x", _FENCE.sub("", text))
    return _LINK.findall(prose)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _FENCE.sub("", text), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def broken_links(text: str, page: Path) -> list[str]:
    """The links of `text`, read as the page at `page`, that lead nowhere, with the reason."""
    problems = []
    for target in links(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: — not ours to check
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved.read_text()):
            problems.append(f"{target}: no heading with that anchor in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken_links(page.read_text(), page) == []


def test_the_checker_catches_a_missing_file_and_a_missing_anchor():
    text = ("[a](configuration.md#stack-settings) [b](nowhere.md) [c](design.md#no-such-heading)"
            " `[d](in-code.md)` [e](https://example.com/x.md)")
    assert links(text) == ["configuration.md#stack-settings", "nowhere.md",
                           "design.md#no-such-heading", "https://example.com/x.md"]
    assert broken_links(text, DOCS / "a-page.md") == [
        "nowhere.md: no such file",
        "design.md#no-such-heading: no heading with that anchor in design.md"]


def test_slugs_follow_github():
    assert slug("What `pulumi up` ships, run here") == "what-pulumi-up-ships-run-here"
    assert slug("The topic: a deploy-time Lambda, not `aws.msk.Topic`") == \
        "the-topic-a-deploy-time-lambda-not-awsmsktopic"
    assert anchors("# A\n## A\n") == {"a", "a-1"}


def test_the_index_links_every_page():
    index = set(links((DOCS / "README.md").read_text()))
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert pages - {target.partition("#")[0] for target in index} == set()
