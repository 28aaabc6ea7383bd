"""Run a Lambda deployment package as Lambda's python3.13 runtime runs it, on this machine.

AWS's Runtime Interface Emulator + awslambdaric + Python 3.13, with nothing but the package and
awslambdaric on the import path; every invocation goes through the Lambda Invoke HTTP API.

    with LambdaEmulator(FunctionSpec("consumer", package_dir, "handler.lambda_handler", env),
                        log_path) as function:
        function.invoke(event)

`python -m local.lambda_runtime setup` installs the tools; `... invoke` runs one event.
"""

from __future__ import annotations

from local.lambda_runtime.emulator import FunctionError, FunctionSpec, LambdaEmulator
from local.lambda_runtime.toolchain import LambdaRuntimeError, Toolchain, ensure_toolchain

__all__ = [
    "FunctionError",
    "FunctionSpec",
    "LambdaEmulator",
    "LambdaRuntimeError",
    "Toolchain",
    "ensure_toolchain",
]
