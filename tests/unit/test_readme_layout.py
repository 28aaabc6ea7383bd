"""The README stays short (issue 25: read in five minutes) and its layout table stays the repo's:
every top-level folder is named, nothing named is missing, and the folders marked as shipped to
AWS are exactly those whose code goes into the API image and the Lambda packages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from components.project_sources import project_sources
from tests.fixtures.docs import ROOT, page, section

README_MAX_LINES = 200
SHIPS = "**AWS**"  # the "Where it runs" value of a folder whose code runs on AWS
SERVICES = ROOT / "services"
FIRST_PARTY_ROOTS = (ROOT / "libs",)  # as __main__.py builds the packages


def layout_rows() -> list[tuple[list[str], str]]:
    """(the names in the first column, the "Where it runs" column) of each layout table row."""
    rows = []
    for line in section(page("README.md"), "Project layout").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) != 3:
            continue
        rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[2]))
    return rows


def top_level_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return {f.split("/")[0] for f in files if "/" in f}


def shipped_projects() -> set[Path]:
    """The project folders whose sources a deployed package holds (services and their libs)."""
    found = set()
    for service in sorted(p for p in SERVICES.iterdir() if (p / "pyproject.toml").exists()):
        sources = project_sources(service, FIRST_PARTY_ROOTS)
        found |= {package.parent.resolve() for package in sources.import_packages}
    return found


def test_the_readme_is_at_most_200_lines():
    lines = len(page("README.md").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move detail to docs/"


def test_the_layout_table_names_every_top_level_folder_and_nothing_else():
    named = [name for names, _ in layout_rows() for name in names]
    missing = [name for name in named if not list(ROOT.glob(name.rstrip("/")))]
    assert missing == [], f"named in the layout table but not in the repository: {missing}"
    folders = {name.split("/")[0] for name in named if name.endswith("/") or "/" in name}
    assert top_level_folders() - folders == set(), "folders the layout table does not name"
    assert folders - top_level_folders() == set(), "folders the layout table names, not in git"


def test_the_folders_marked_as_shipped_are_the_ones_in_the_packages():
    rows = [([ROOT / n.rstrip("/") for n in names], where) for names, where in layout_rows()]
    assert rows, "the README has no layout table"
    shipped = shipped_projects()
    assert shipped, "no service package found"

    def holds(folders: list[Path], project: Path) -> bool:
        return any(project == f.resolve() or f.resolve() in project.parents for f in folders)

    marked = [folders for folders, where in rows if SHIPS in where]
    not_marked = [folders for folders, where in rows if SHIPS not in where]
    unmarked = sorted(str(p.relative_to(ROOT)) for p in shipped
                      if not any(holds(folders, p) for folders in marked))
    assert unmarked == [], f"shipped to AWS but not marked {SHIPS} in the layout table"
    wrongly = [[str(f.relative_to(ROOT)) for f in folders] for folders in marked
               if not any(holds(folders, p) for p in shipped)]
    assert wrongly == [], f"marked {SHIPS} but nothing of theirs is in a package"
    hidden = [[str(f.relative_to(ROOT)) for f in folders] for folders in not_marked
              if any(holds(folders, p) for p in shipped)]
    assert hidden == [], f"rows holding shipped code not marked {SHIPS}"
