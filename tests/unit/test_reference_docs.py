"""docs/reference/<component>.md are generated from the code (components/reference.py): the pages
on disk are exactly what it gives today, what they are generated from is complete (every input
and output described), and what each says the component creates is what it creates under the
Pulumi mocks."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re

import pulumi
import pulumi_aws
import pulumi_docker_build
import pytest

import components
from components.provider import hosted
from components.reference import PAGES, PAGES_DIR, attribute_docs, outputs, pages
from testing.pulumi_harness import PulumiRun, stack_config
from testing.run_cache import cached_main


def _component_classes() -> list[type]:
    """Every ComponentResource class defined in components/ (the library's and the package's)."""
    found = []
    for info in pkgutil.walk_packages(components.__path__, "components."):
        if info.name.endswith("__main__"):  # the provider host: running it serves gRPC
            continue
        module = importlib.import_module(info.name)
        found += [cls for cls in vars(module).values()
                  if isinstance(cls, type) and issubclass(cls, pulumi.ComponentResource)
                  and cls.__module__ == info.name]
    return found


COMPONENTS = _component_classes()


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


def test_every_component_class_is_found():
    # A walk that found nothing would let the output tests below pass vacuously.
    assert {f"{cls.__module__}.{cls.__name__}" for cls in COMPONENTS} >= {
        "components.consumer.Consumer", "components.provider.hosted.Consumer"}


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_output_is_described(component):
    docs = attribute_docs(component)
    undescribed = [name for name in outputs(component) if not docs.get(name)]
    assert not undescribed, (f"{component.__module__}.{component.__name__}: no description "
                             f"(a string under the annotation) for the outputs {undescribed}")


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_attribute_set_is_an_annotated_output(component):
    # The pages list the annotations: an attribute set but not annotated would be left out.
    tree = ast.parse(inspect.getsource(component))
    set_names = {node.attr for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                 and isinstance(node.value, ast.Name) and node.value.id == "self"
                 and not node.attr.startswith("_")}
    unannotated = sorted(set_names - set(outputs(component)))
    assert not unannotated, (f"{component.__module__}.{component.__name__} sets {unannotated} "
                             "without annotating them as outputs (so no page lists them)")


@pytest.mark.parametrize("name", [c.__name__ for c in COMPONENTS
                                  if c.__module__ == hosted.__name__])
def test_the_package_schema_describes_outputs_as_the_pages_do(name):
    package_docs = attribute_docs(getattr(hosted, name))
    library_docs = attribute_docs(getattr(components, name))
    differing = {output: (doc, library_docs.get(output)) for output, doc in package_docs.items()
                 if doc != library_docs.get(output)}
    assert not differing, f"components/provider/hosted.py {name} vs the library's: {differing}"


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


def _type_token(name: str) -> str:
    """`aws.ec2.SecurityGroup` -> `aws:ec2/securityGroup:SecurityGroup`, as the class registers."""
    cls = {"aws": pulumi_aws, "docker_build": pulumi_docker_build}[name.split(".")[0]]
    for part in name.split(".")[1:]:
        cls = getattr(cls, part)
    assert issubclass(cls, pulumi.CustomResource), f"{name} is not a resource (an input class?)"
    source = inspect.getsource(cls._internal_init)
    return re.search(r"__init__\(\s*'([a-z-]+:[^']+)'", source).group(1)


def _listed_types(page_text: str) -> set[str]:
    section = page_text.partition("## What it creates")[2].partition("\n## ")[0]
    return {_type_token(name) for name in re.findall(r"^- `([A-Za-z0-9_.]+)`", section, re.M)}


def _types_under(run: PulumiRun, component: str) -> set[str]:
    """Resource types of every descendant of every instance of `component` in the run."""
    inside = {r.urn for r in run.resources if not r.custom and r.type.endswith(f":{component}")}
    types: set[str] = set()
    grew = True
    while grew:
        children = [r for r in run.resources if r.parent in inside and r.urn not in inside]
        inside |= {r.urn for r in children}
        types |= {r.type for r in children if r.custom}
        grew = bool(children)
    return types


@pytest.fixture(scope="module")
def stacks() -> list[PulumiRun]:
    # dev and prod between them take both sides of the optional parts (certificate by domain).
    return [cached_main(stack_config(stack)) for stack in ("dev", "prod")]


@pytest.mark.parametrize("page", [p for p in PAGES if issubclass(
    getattr(importlib.import_module(f"components.{p.module}"), p.component),
    pulumi.ComponentResource)], ids=lambda page: page.module)
def test_what_it_creates_is_what_the_mocks_graph_holds(page, stacks):
    in_graph = set().union(*(_types_under(run, page.component) for run in stacks))
    assert in_graph, f"no {page.component} in the dev or prod stack under mocks"
    listed = _listed_types(pages()[f"{page.module}.md"])
    assert listed == in_graph, (f"{page.module}.md lists but the stacks lack "
                                f"{sorted(listed - in_graph)}; the stacks hold but it omits "
                                f"{sorted(in_graph - listed)}")
