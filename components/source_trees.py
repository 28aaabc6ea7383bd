"""Each Python source file parsed once per process: the reference pages (components/reference.py)
read the same modules' syntax trees many times over, and `inspect.getsource(cls)` parses the
class's whole module on every call. A tree is kept while its file's mtime and size hold, so an
edited file is read again. Callers only read the trees: they are shared."""

from __future__ import annotations

import ast
import functools
import inspect
import os
import textwrap


@functools.cache
def _parse(path: str, mtime_ns: int, size: int) -> ast.Module:
    with open(path, encoding="utf-8") as source:
        return ast.parse(source.read(), path)


def module_tree(path: str | os.PathLike[str]) -> ast.Module:
    """The syntax tree of the file at `path`."""
    stat = os.stat(path)
    return _parse(os.fspath(path), stat.st_mtime_ns, stat.st_size)


def class_node(cls: type) -> ast.ClassDef:
    """The `class` statement of `cls`, found by its qualified name in its module's tree."""
    node: ast.AST = module_tree(inspect.getsourcefile(cls) or "")
    for name in cls.__qualname__.split("."):
        found = [n for n in getattr(node, "body", ()) if isinstance(n, ast.ClassDef)
                 and n.name == name]
        if len(found) != 1:
            # Defined inside a function, or twice under one name: what inspect finds.
            parsed = ast.parse(textwrap.dedent(inspect.getsource(cls)))
            return parsed.body[0]  # type: ignore[return-value]
        node = found[0]
    return node  # type: ignore[return-value]
