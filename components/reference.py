"""The reference pages, docs/reference/<component>.md, generated from the code: each component's
inputs (its Args dataclass: type, default, the string under each field), outputs (its class's
public annotations: type, the string under each), the AWS limits its args are held to
(components/limits.py, with the page each cites) and what it creates (its module's docstring and
the AWS resource types it and the helpers it calls declare). `python -m components.reference`
rewrites the pages; tests/unit/test_reference_docs.py fails while they differ from the code, while
an input or output has no description, or while a page's types differ from the mocks graph.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components import limits
from components.source_trees import class_node, module_tree

PAGES_DIR = Path(__file__).resolve().parent.parent / "docs" / "reference"


@dataclass(frozen=True)
class Page:
    module: str
    component: str
    args: str
    limits: tuple[str, ...] = ()
    """Names in components/limits.py that the args are checked against."""
    also: tuple[str, ...] = ()
    """More input classes of the module to document on the page."""
    helpers: tuple[str, ...] = ()
    """Modules of components/ whose functions the component calls to create more of its
    children (their resource types join its own under "What it creates")."""


PAGES = (
    Page("network", "Network", "NetworkArgs",
         ("VPC_PREFIX", "ALB_MAX_SUBNET_PREFIX", "ALB_MIN_AZS")),
    Page("kafka", "KafkaCluster", "KafkaClusterArgs"),
    Page("topic", "KafkaTopic", "KafkaTopicArgs", ("MSK_SERVERLESS_MAX_PARTITIONS",),
         helpers=("vpc_function", "access_rules")),
    Page("api_service", "ApiService", "ApiServiceArgs",
         ("FARGATE_MEMORY_BY_CPU", "CAPACITY_PROVIDER_BASE", "CAPACITY_PROVIDER_WEIGHT",
          "CLOUDWATCH_RETENTION_DAYS", "ACM_DOMAIN_NAME_MAX", "S3_EXPIRATION_MIN_DAYS",
          "ECR_LIFECYCLE_MIN_COUNT"),
         helpers=("alb_access_logs", "certificate", "alarms")),
    Page("consumer", "Consumer", "ConsumerArgs",
         ("MSK_MAPPING_BATCH_SIZE", "MAPPING_BATCHING_WINDOW_S", "MAPPING_MINIMUM_POLLERS",
          "KAFKA_MAPPING_RETRY_ATTEMPTS", "LAMBDA_MEMORY_MB", "MSK_MAPPED_FUNCTION_MAX_TIMEOUT_S",
          "CLOUDWATCH_RETENTION_DAYS"),
         helpers=("vpc_function", "access_rules", "alarms")),
    Page("alarm_topic", "AlarmTopic", "AlarmTopicArgs"),
    Page("dashboard", "PipelineDashboard", "PipelineDashboardArgs"),
    Page("existing", "ExistingVpc", "ExistingVpc", also=("ExistingKafkaCluster", "ExistingTopic")),
)


def attribute_docs(cls: type) -> dict[str, str]:
    """The string literal under each annotated attribute of `cls` (its field docs)."""
    body = class_node(cls).body
    docs = {}
    for node, following in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type_text(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(
        annotation, "__name__", str(annotation))
    text = str(text).replace("pulumi.Input[", "Input[").replace("pulumi.Output[", "Output[")
    return re.sub(r"typing\.|collections\.abc\.", "", text)


def _default_text(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        return f"`{field.default!r}`"
    if field.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f"`{field.default_factory()!r}`"  # type: ignore[misc]
    return "required"


def _limit_lines(names: tuple[str, ...]) -> list[str]:
    """Each limit with the comment above it in components/limits.py (the page it cites)."""
    source = inspect.getsource(limits).splitlines()
    lines = []
    for name in names:
        index = next(i for i, line in enumerate(source) if re.match(rf"{name}\b.*=", line))
        # Constants declared together share the comment above the first of them.
        above = source[:index]
        while above and re.match(r"[A-Z_]+\b.*=", above[-1]):
            above = above[:-1]
        comment = []
        for line in reversed(above):
            if not line.startswith("#"):
                break
            comment.insert(0, line.lstrip("# ").strip())
        value = getattr(limits, name)
        lines.append(f"- `{name}` = `{value!r}`: {' '.join(comment)}")
    return lines


def created_types(module: object) -> dict[str, type]:
    """The AWS and docker-build resource classes the module itself constructs, by the name its
    code calls them (aws.x.Y(...), docker_build.Y(...)). Calls of their argument classes
    (aws.x.YArgs) match the same pattern: only subclasses of pulumi.CustomResource count."""
    found = {}
    for node in ast.walk(module_tree(inspect.getsourcefile(module))):  # type: ignore[arg-type]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            text = ast.unparse(node.func)
            if re.fullmatch(r"(aws\.[a-z0-9_]+|docker_build)\.[A-Z][A-Za-z0-9]+", text):
                cls = module
                for part in text.split("."):
                    cls = getattr(cls, part)
                if isinstance(cls, type) and issubclass(cls, pulumi.CustomResource):
                    found[text] = cls
    return dict(sorted(found.items()))


def _created_lines(page: Page, module: object) -> list[str]:
    own = created_types(module)
    lines = [f"- `{name}`" for name in own]
    for helper in page.helpers:
        lines += [f"- `{name}` (components/{helper}.py)" for name in
                  created_types(importlib.import_module(f"components.{helper}")) if name not in own]
    return lines


def outputs(component: type) -> dict[str, object]:
    """A component's outputs: its class's public annotations (the attributes `__init__` sets)."""
    return {name: kind for name, kind in inspect.get_annotations(component).items()
            if not name.startswith("_")}


def _input_table(args: type) -> list[str]:
    docs = attribute_docs(args)
    rows = ["| Input | Type | Default | Description |", "| - | - | - | - |"]
    rows += [f"| `{field.name}` | `{_cell(_type_text(field.type))}` | "
             f"{_cell(_default_text(field))} | {_cell(docs.get(field.name, ''))} |"
             for field in dataclasses.fields(args)]
    return rows


def render_page(page: Page) -> str:
    module = importlib.import_module(f"components.{page.module}")
    component, args = getattr(module, page.component), getattr(module, page.args)
    out = [f"# {page.component}", "",
           f"<!-- Generated by `python -m components.reference` from components/{page.module}.py;"
           " do not edit. -->", "",
           f"`from components import {page.component}, {page.args}`", "",
           (inspect.getdoc(module) or "").strip(), "", "## Inputs", "",
           f"`{page.args}` (a dataclass; checked when it is made, with one message naming every "
           "problem).", "", *_input_table(args)]
    for extra in page.also:
        out += ["", f"`{extra}`:", "", *_input_table(getattr(module, extra))]
    if issubclass(component, pulumi.ComponentResource):
        docs = attribute_docs(component)
        out += ["", "## Outputs", "", "| Output | Type | Description |", "| - | - | - |"]
        out += [f"| `{name}` | `{_cell(_type_text(kind))}` | {_cell(docs.get(name, ''))} |"
                for name, kind in outputs(component).items()]
    if page.limits:
        out += ["", "## AWS limits", "", "What AWS accepts for these inputs, each with the page "
                "that states it (components/limits.py):", "", *_limit_lines(page.limits)]
    created = _created_lines(page, module)
    if created:
        out += ["", "## What it creates", "",
                "The resource types of its children: those its module declares, then those of "
                "the helpers it calls (each with the module that declares it):", "", *created]
    return "\n".join(out).rstrip() + "\n"


def pages() -> dict[str, str]:
    return {f"{page.module}.md": render_page(page) for page in PAGES}


if __name__ == "__main__":
    PAGES_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in pages().items():
        (PAGES_DIR / name).write_text(text)
    print(f"wrote {len(PAGES)} pages to {PAGES_DIR}")
