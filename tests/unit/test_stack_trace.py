"""The harness's registration stack trace (testing/stack_trace.py) is the SDK's, message for
message, for every resource the dev stack registers."""

from __future__ import annotations

import pytest
from pulumi.runtime import resource as sdk_resource

from testing import stack_trace
from testing.pulumi_harness import run_main, stack_config


@pytest.fixture
def both_traces(monkeypatch) -> list[tuple[object, object]]:
    """Every registration's (SDK trace, harness trace), both taken from the same frame."""
    pairs: list[tuple[object, object]] = []

    def compare():
        # Both skip this frame: it is inside the resource's __init__ frames.
        pairs.append((stack_trace.SDK_STACK_TRACE(), stack_trace.registration_stack_trace()))
        return pairs[-1][1]

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", compare)
    monkeypatch.setattr(stack_trace, "install", lambda: None)  # the run keeps `compare`
    return pairs


def test_every_registration_carries_the_sdks_stack_trace(both_traces):
    run = run_main(stack_config("dev"))

    assert len(both_traces) == len(run.resources) + 1  # and the Stack's own registration
    for sdk, harness in both_traces:
        assert harness == sdk
    # Real positions, not empty messages that would be equal anyway: a file of this repository
    # (the program or a component), and this test itself further out.
    uris = [{frame.pc.uri for frame in sdk.frames} for sdk, _ in both_traces[1:]]
    assert all(any("/components/" in u or u.endswith("/__main__.py") for u in found)
               for found in uris)
    assert all(any(u.endswith("/test_stack_trace.py") for u in found) for found in uris)


def test_a_file_without_an_absolute_path_has_no_position():
    assert stack_trace._stack_frame("<frozen runpy>", 3) == stack_trace._stack_frame("", 3)
    assert not stack_trace._stack_frame("<string>", 1).HasField("pc")
    assert stack_trace._stack_frame("/x/y.py", 7).pc.uri == "file:///x/y.py"


class _Inner:
    def __init__(self):
        self.trace = stack_trace.registration_stack_trace()


class _Middle:
    def __init__(self):
        self.trace = _Inner().trace


class _Resource:  # the third __init__ out: the trace starts at its caller, as for a resource
    def __init__(self):
        self.trace = _Middle().trace


def _trace():
    return _Resource().trace


def test_changing_one_trace_changes_no_later_one():
    # Frames are cached per position; a trace must hold copies, never the cached messages.
    first = _trace()
    line = first.frames[0].pc.line
    assert line and first.frames[0].pc.uri.endswith("/test_stack_trace.py")
    first.frames[0].pc.line = 0
    assert _trace().frames[0].pc.line == line
