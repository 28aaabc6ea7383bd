"""A stack's Lambda functions, run here as Lambda runs them.

Each function is the package the program builds for it (`LambdaDeployable.build()`, the same
build/ folder `pulumi up` uploads), behind AWS's Runtime Interface Emulator with Python 3.13
(local/lambda_runtime), started with the handler string, memory, timeout and environment the
program gives it. Only the values that name AWS resources change: they name their local
stand-ins (the broker, the SQS/S3 server); every key stays the program's, so a variable the
program stops setting is missing here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from local.lambda_runtime import FunctionSpec, LambdaEmulator, LambdaRuntimeError
from local.lambda_runtime.toolchain import Toolchain
from testing.deployables import LambdaDeployable

EMULATED_PYTHON = "3.13"  # what local/lambda_runtime runs: Lambda's python3.13 runtime


def localized(environment: Mapping[str, str], local_values: Mapping[str, str]) -> dict[str, str]:
    """The program's variables, with the ones that name AWS resources pointing here. Only keys the
    program sets are replaced: nothing is added behind its back."""
    return {key: local_values.get(key, value) for key, value in environment.items()}


def split_principal_env(client_env: Mapping[str, str],
                        program_env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A local principal's connection variables as (the values of keys the program sets: they
    replace the program's AWS addresses; the rest: what Lambda or the task's role provides on
    AWS, and the local broker's CA)."""
    return ({k: v for k, v in client_env.items() if k in program_env},
            {k: v for k, v in client_env.items() if k not in program_env})


def emulated(function: LambdaDeployable, log_dir: Path, *, toolchain: Toolchain,
             local_values: Mapping[str, str], runtime_env: Mapping[str, str]) -> LambdaEmulator:
    """An emulator (not started) for `function`'s built package.

    `runtime_env` is what Lambda itself provides on AWS and this machine must stand in for: the
    region, the execution role's credentials (here a local principal's key), and local-only
    settings such as the broker's CA or the SQS/S3 endpoint.
    """
    if function.python_version != EMULATED_PYTHON:
        raise LambdaRuntimeError(
            f"{function.resource_name}: the program sets runtime {function.runtime}, but the "
            f"emulator runs Python {EMULATED_PYTHON}")
    package = function.build()
    spec = FunctionSpec(
        name=function.resource_name, package_dir=package, handler=function.handler,
        environment=localized(function.environment, local_values),
        timeout_s=function.timeout_s, memory_mb=function.memory_mb)
    return LambdaEmulator(spec, log_dir / f"{function.service}.log", extra_env=runtime_env,
                          toolchain=toolchain)
