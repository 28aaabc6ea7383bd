"""Command line of the local Lambda runtime.

    python -m local.lambda_runtime setup
    python -m local.lambda_runtime arm64-setup
    python -m local.lambda_runtime invoke --package DIR --handler MODULE.FUNCTION
        [--env KEY=VALUE ...] [--runtime-env KEY=VALUE ...] [--event JSON|@FILE]
        [--name NAME] [--timeout S] [--memory MB] [--log FILE]

`arm64-setup` (as root) prepares the linux/arm64 tier once: a Debian trixie arm64 tree, the RIE
for arm64 and awslambdaric for aarch64 (local/lambda_runtime/arm64_toolchain.py).
`invoke` prints the handler's result as JSON. `--env` is the function's configured environment
(Lambda's reserved keys refused, as a deployment would); `--runtime-env` adds what Lambda itself
would set, e.g. AWS_REGION or credentials. Any failure, the function's included, exits 2 with one
line `local.lambda_runtime: <message>`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from local.lambda_runtime.arm64_toolchain import ensure_arm64_toolchain
from local.lambda_runtime.emulator import FunctionSpec, LambdaEmulator
from local.lambda_runtime.toolchain import LambdaRuntimeError, ensure_toolchain

PROG = "local.lambda_runtime"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "setup":
            tools = ensure_toolchain()
            print(json.dumps({key: str(value) for key, value in vars(tools).items()}))
        elif args.command == "arm64-setup":
            tools = ensure_arm64_toolchain()
            print(json.dumps({key: str(value) for key, value in vars(tools).items()}))
        else:
            print(json.dumps(_invoke(args)))
    except (LambdaRuntimeError, OSError, ValueError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    return 0


def _invoke(args: argparse.Namespace):
    package = Path(args.package)
    spec = FunctionSpec(
        name=args.name or package.resolve().name, package_dir=package, handler=args.handler,
        environment=_pairs(args.env, "--env"), timeout_s=args.timeout, memory_mb=args.memory,
    )
    event = _event(args.event)
    extra_env = _pairs(args.runtime_env, "--runtime-env")
    if args.log:
        with LambdaEmulator(spec, Path(args.log), extra_env=extra_env) as function:
            return function.invoke(event)
    log_path = _temporary_log()
    keep_log = False
    try:
        with LambdaEmulator(spec, log_path, extra_env=extra_env) as function:
            return function.invoke(event)
    except LambdaRuntimeError as exc:
        keep_log = str(log_path) in str(exc)  # the message points at the log
        raise
    finally:
        if not keep_log:
            log_path.unlink(missing_ok=True)


def _event(text: str):
    source = "--event"
    if text.startswith("@"):
        source = text[1:]
        text = Path(source).read_text()
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{source} is not JSON: {exc}") from None


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{option} takes KEY=VALUE, not {item!r}")
        pairs[key] = value
    return pairs


def _temporary_log() -> Path:
    descriptor, name = tempfile.mkstemp(prefix="lambda-rie-", suffix=".log")
    os.close(descriptor)
    return Path(name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="install Python 3.13's venv, awslambdaric and the RIE")
    commands.add_parser("arm64-setup", help="as root: prepare the linux/arm64 tier (qemu, a "
                        "Debian trixie arm64 tree, the RIE and awslambdaric for arm64)")
    invoke = commands.add_parser("invoke", help="run one event through the package's handler")
    invoke.add_argument("--package", required=True, help="the unzipped deployment package")
    invoke.add_argument("--handler", required=True, help="MODULE.FUNCTION, as Lambda's handler")
    invoke.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="the function's configured environment (repeatable)")
    invoke.add_argument("--runtime-env", action="append", default=[], metavar="KEY=VALUE",
                        help="a variable Lambda itself sets, e.g. AWS_REGION (repeatable)")
    invoke.add_argument("--event", default="{}", help="the event as JSON, or @FILE")
    invoke.add_argument("--name", help="the function's name (default: the package folder's)")
    invoke.add_argument("--timeout", type=int, default=30, help="function timeout, seconds")
    invoke.add_argument("--memory", type=int, default=128, help="memory size, MB")
    invoke.add_argument("--log", help="write the emulator's log here (default: a temp file)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
