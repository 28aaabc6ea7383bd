"""components/source_trees.py: a file is parsed once while it is unchanged, again once edited;
a class's node is the one `inspect` would find."""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from components import source_trees
from components.source_trees import class_node, module_tree


@pytest.fixture
def counted_parses(monkeypatch) -> list[str]:
    parsed: list[str] = []
    real = ast.parse

    def parse(source, filename="<unknown>", *args, **kwargs):
        parsed.append(str(filename))
        return real(source, filename, *args, **kwargs)

    monkeypatch.setattr(source_trees.ast, "parse", parse)
    return parsed


def test_an_unchanged_file_is_parsed_once(tmp_path, counted_parses):
    path = tmp_path / "one.py"
    path.write_text("X = 1\n")
    assert module_tree(path) is module_tree(path)
    assert counted_parses == [str(path)]


def test_an_edited_file_is_parsed_again(tmp_path, counted_parses):
    path = tmp_path / "edited.py"
    path.write_text("X = 1\n")
    module_tree(path)
    path.write_text("X = 1\nY = 2\n")
    os.utime(path, ns=(1, 1))  # same size or not, a new mtime alone must be enough
    names = [node.targets[0].id for node in module_tree(path).body]  # type: ignore[attr-defined]
    assert names == ["X", "Y"]
    assert counted_parses == [str(path), str(path)]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_class_node_finds_nested_and_local_classes(tmp_path, monkeypatch):
    path = tmp_path / "shapes.py"
    path.write_text("class Outer:\n    class Inner:\n        a: int\n        'the a'\n\n"
                    "def make():\n    class Local:\n        b: int\n    return Local\n")
    monkeypatch.delitem(sys.modules, "shapes_for_source_trees", raising=False)
    module = _load(path, "shapes_for_source_trees")
    inner = class_node(module.Outer.Inner)
    assert inner.name == "Inner" and inner.lineno == 2
    assert inner is class_node(module.Outer.Inner)  # from the one cached tree
    local = class_node(module.make())
    assert local.name == "Local" and [n.target.id for n in local.body] == ["b"]  # type: ignore[attr-defined]
