"""The stack trace a resource registration carries, built without reading any source file.

For every resource, the Pulumi SDK sends the engine the Python frames that created it
(`pulumi.runtime.resource._get_stack_trace`: the frames outside the concrete resource's
`__init__`, innermost first, each a file URI and a line number). It gets them from
`traceback.extract_stack()`, which also reads every frame's source line through linecache, and
turns each file name into a URI with pathlib, frame by frame. The request holds neither the line
text nor anything a per-file cache would change, yet under pytest (~60 frames per registration)
those two steps were about a fifth of a mocked run's CPU. `registration_stack_trace` builds the
same message from the frames themselves, with each file's URI computed once;
tests/unit/test_stack_trace.py holds it equal to the SDK's for every registration of the dev
stack. `install` puts it in the SDK's place for this process (mocked runs only: testing/ ships
nowhere).
"""

from __future__ import annotations

import functools
import pathlib
import sys

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

# The SDK's walk stops at the third `__init__` from the innermost frame: Resource's, then
# CustomResource's or ComponentResource's, then the concrete resource's.
_INITS_TO_SKIP = 3


@functools.cache
def _file_uri(filename: str) -> str | None:
    """file:// URI of a frame's file, or None where the SDK gives no position (no absolute
    path: `<frozen runpy>`, `<string>`, "")."""
    if not filename:
        return None
    try:
        return pathlib.Path(filename).as_uri()
    except ValueError:
        return None


@functools.cache
def _stack_frame(filename: str, lineno: int | None) -> source_pb2.StackFrame:
    # One message per position: StackTrace(frames=...) copies each frame into the trace, so the
    # cached ones are never shared (~5x faster than building ~60 new frames per registration).
    uri = _file_uri(filename)
    if uri is None or lineno is None:
        return source_pb2.StackFrame()
    return source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=lineno))


def registration_stack_trace() -> source_pb2.StackTrace:
    """What the SDK's `_get_stack_trace` returns when called from the same place."""
    frame = sys._getframe(1)
    inits = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            inits += 1
            if inits == _INITS_TO_SKIP:
                break
        frame = frame.f_back
    if frame is None:
        return source_pb2.StackTrace()
    frames = []
    caller = frame.f_back
    while caller is not None:
        frames.append(_stack_frame(caller.f_code.co_filename, caller.f_lineno))
        caller = caller.f_back
    return source_pb2.StackTrace(frames=frames)


SDK_STACK_TRACE = sdk_resource._get_stack_trace


def install() -> None:
    """Register resources with `registration_stack_trace` in this process (idempotent)."""
    sdk_resource._get_stack_trace = registration_stack_trace
