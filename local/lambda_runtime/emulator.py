"""Run one deployment package as Lambda's python3.13 runtime runs it, behind AWS's Runtime
Interface Emulator (RIE), and invoke it through the Lambda Invoke HTTP API.

The RIE starts `python3.13 -m awslambdaric <handler>` in the package directory on the first
invocation (the init phase) and keeps it warm for the next ones, the way Lambda does ("Testing
Lambda container images locally", https://docs.aws.amazon.com/lambda/latest/dg/images-test.html).
The RIE hands its own whole environment to the runtime (InitHandler in the RIE's
internal/lambda/rie/handlers.go), so it gets a built environment, never this process's: only what
Lambda defines for a function ("Using Lambda environment variables", section "Defined runtime
environment variables", https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html),
the function's configured environment, and what the caller adds on purpose (region, credentials).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from local.lambda_runtime.toolchain import LambdaRuntimeError, Toolchain, ensure_toolchain
from local.ports import free_loopback_port
from local.processes import die_with_parent, session_members

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# Lambda's python3.13 runtime identifier; awslambdaric switches to its threaded polling for it.
EXECUTION_ENV = "AWS_Lambda_python3.13"
# Keys Lambda reserves: a function's configuration cannot set them ("Defined runtime environment
# variables", configuration-envvars.html). The RIE also switches to its managed-instances mode
# when AWS_LAMBDA_MAX_CONCURRENCY is set (cmd/aws-lambda-rie/main.go).
RESERVED_KEYS = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
    "AWS_LAMBDA_MAX_CONCURRENCY",
})
# The RIE answers a function that ran past its timeout with HTTP 200 and this plain text; Lambda
# reports such an invocation as error type Sandbox.Timedout ("Troubleshoot invocation issues in
# Lambda", https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html).
TIMEOUT_BODY_PREFIX = "Task timed out after"
TIMEOUT_ERROR_TYPE = "Sandbox.Timedout"
# How the RIE starts the runtime so that it dies with the RIE: the RIE gets PR_SET_PDEATHSIG from
# us, but a fork()ed child does not inherit it (prctl(2)), so the runtime sets its own and then
# execs the real command, `python3.13 -m awslambdaric <handler>` with the same argv and
# environment (the setting survives execve). Its parent is the RIE, our session's leader (the
# runtime is in a process group of its own, same session); any other parent means the RIE died
# before the prctl. Caveat (prctl(2)): the signal follows the RIE *thread* that forked the
# runtime; Go keeps its OS threads for the life of the process.
DIE_WITH_RIE = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGKILL)\n"
    "if os.getppid() != os.getsid(0):\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # logical name, in every error message
    package_dir: Path  # the deployment package, unzipped: Lambda's /var/task
    handler: str  # module.function, e.g. topic_admin.handler.lambda_handler
    environment: Mapping[str, str] = field(default_factory=dict)  # as the program configures it
    timeout_s: int = 30
    memory_mb: int = 128


class FunctionError(LambdaRuntimeError):
    """The function failed: in init (Runtime.ImportModuleError, Runtime.HandlerNotFound, ...),
    in the handler (the exception's type), or by running past its timeout."""

    def __init__(self, name: str, error_type: str, error_message: str,
                 stack_trace: list[str] | None = None) -> None:
        super().__init__(f"{name}: {error_type}: {error_message}")
        self.error_type = error_type
        self.error_message = error_message
        self.stack_trace = list(stack_trace or [])


class LambdaEmulator:
    """One function behind one RIE on a free loopback port; a context manager.

    The RIE prints START/END/REPORT lines and the function's own output to `log_path`.
    """

    def __init__(self, spec: FunctionSpec, log_path: Path,
                 extra_env: Mapping[str, str] | None = None,
                 toolchain: Toolchain | None = None) -> None:
        self.spec = spec
        self.log_path = Path(log_path)
        self.extra_env = dict(extra_env or {})
        self._toolchain = toolchain
        self._process: subprocess.Popen | None = None
        self._client: httpx.Client | None = None
        self.port: int | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> LambdaEmulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The RIE's process id, also its session's id (`stop()` kills the session), while it
        runs: bench/chaos.py crashes the function mid-invocation by SIGKILLing that session."""
        return self._process.pid if self._process is not None else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{INVOKE_PATH}"

    def start(self) -> None:
        if self._process is not None:
            raise LambdaRuntimeError(f"{self.spec.name}: the emulator is already running")
        self._check_spec()
        tools = self._toolchain or ensure_toolchain()
        self.port = free_loopback_port()
        # The runtime API (what awslambdaric polls) defaults to the fixed 127.0.0.1:9001 in the
        # RIE; two emulators at once would collide there, so it gets a free port too.
        runtime_api = f"127.0.0.1:{free_loopback_port()}"
        command = [
            str(tools.rie),
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
            "--runtime-api-address", runtime_api,
            str(tools.python), "-I", "-S", "-c", DIE_WITH_RIE,
            # The RIE takes the last argument for the handler (getBootstrap, rie/run.go).
            str(tools.python), "-m", "awslambdaric", self.spec.handler,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Its own session: stop() finds every process of this emulator by session id, the
            # runtime included (the RIE puts the runtime in a process group of its own). It dies
            # with us, even on SIGKILL, and the runtime with it (DIE_WITH_RIE).
            self._process = subprocess.Popen(
                command, cwd=self.spec.package_dir, env=self._environment(tools),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent(),
            )
        # trust_env=False: a proxy from the environment must never carry loopback traffic.
        self._client = httpx.Client(trust_env=False)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until the RIE accepts connections (it listens at once; the runtime starts on the
        first invocation)."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise LambdaRuntimeError(
                    f"{self.spec.name}: the emulator did not listen on 127.0.0.1:{self.port} "
                    f"within {timeout_s:.0f} s; {self._log_summary()}")
            time.sleep(0.05)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM the RIE (it SIGKILLs its runtime), then SIGKILL whatever of its session is
        left; bounded, and idempotent."""
        process, self._process = self._process, None
        if self._client is not None:
            self._client.close()
            self._client = None
        if process is None:
            return
        session = process.pid
        if process.poll() is None:
            _signal(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                _signal(process.pid, signal.SIGKILL)
                process.wait(timeout_s)
        deadline = time.monotonic() + timeout_s
        while members := session_members(session):
            for pid in members:
                _signal(pid, signal.SIGKILL)
            if time.monotonic() >= deadline:
                raise LambdaRuntimeError(
                    f"{self.spec.name}: processes {members} of the emulator outlived SIGKILL")
            time.sleep(0.05)

    # --- invoking ------------------------------------------------------------------------

    def invoke(self, event: Any, timeout_s: float | None = None) -> Any:
        """The handler's result for `event`, through the RIE's Invoke API; FunctionError when the
        function fails, LambdaRuntimeError when the emulator does."""
        if self._process is None or self._client is None:
            raise LambdaRuntimeError(f"{self.spec.name}: the emulator is not started")
        self._check_alive()
        # The first invocation also runs init, which the RIE bounds by the function timeout too.
        limit = timeout_s if timeout_s is not None else 2 * self.spec.timeout_s + 5
        # Our own request id: the runtime copies it into the error document of a handler error,
        # which is how that error is told apart from a result (see _result).
        request_id = str(uuid.uuid4())
        try:
            response = self._client.post(
                self.url, content=json.dumps(event).encode(), timeout=limit,
                headers={"Content-Type": "application/json", "X-Amzn-RequestId": request_id},
            )
        except httpx.TimeoutException:
            raise LambdaRuntimeError(
                f"{self.spec.name}: no answer from the emulator within {limit:.0f} s "
                f"(function timeout {self.spec.timeout_s} s); {self._log_summary()}") from None
        except httpx.TransportError as exc:
            self._check_alive()
            raise LambdaRuntimeError(
                f"{self.spec.name}: the emulator on port {self.port} failed the request "
                f"({exc!r}); {self._log_summary()}") from None
        return self._result(response, request_id)

    def _result(self, response: httpx.Response, request_id: str) -> Any:
        # What the RIE answers (observed with this pinned RIE and awslambdaric 4.2.2):
        #   result           200, body = the handler's return value as JSON
        #   handler raised   200, body = {"errorMessage", "errorType", "requestId": <ours>,
        #                    "stackTrace"}; no X-Amz-Function-Error header (Lambda sends one)
        #   init failed      502, body = the same document, "requestId": ""
        #                    (Runtime.ImportModuleError, Runtime.HandlerNotFound, ...)
        #   runtime exited   502, body = {"errorType": "Runtime.ExitError", "errorMessage"}
        #   timed out        200, plain text "Task timed out after N.00 seconds"
        text = response.text
        try:
            body = json.loads(text)
        except ValueError:
            if response.status_code == 200 and text.startswith(TIMEOUT_BODY_PREFIX):
                raise FunctionError(self.spec.name, TIMEOUT_ERROR_TYPE, text) from None
            raise LambdaRuntimeError(
                f"{self.spec.name}: the emulator answered HTTP {response.status_code} with "
                f"{text[:300]!r}; {self._log_summary()}") from None
        is_error_document = (isinstance(body, dict) and "errorType" in body
                             and "errorMessage" in body)
        if response.status_code == 200:
            if is_error_document and body.get("requestId") == request_id:
                raise self._function_error(body)
            return body
        if response.status_code == 502 and is_error_document:
            raise self._function_error(body)
        raise LambdaRuntimeError(
            f"{self.spec.name}: the emulator answered HTTP {response.status_code} with "
            f"{text[:300]!r}; {self._log_summary()}")

    def _function_error(self, body: dict) -> FunctionError:
        return FunctionError(self.spec.name, str(body["errorType"]), str(body["errorMessage"]),
                             body.get("stackTrace"))

    # --- environment ---------------------------------------------------------------------

    def _check_spec(self) -> None:
        spec = self.spec
        if not Path(spec.package_dir).is_dir():
            raise LambdaRuntimeError(f"{spec.name}: package directory {spec.package_dir} missing")
        reserved = sorted(RESERVED_KEYS & set(spec.environment))
        if reserved:
            raise LambdaRuntimeError(
                f"{spec.name}: the function's environment sets {', '.join(reserved)}, reserved "
                "by Lambda (a deployment would fail); give what Lambda sets as extra_env")

    def _environment(self, tools: Toolchain) -> dict[str, str]:
        spec = self.spec
        package = str(Path(spec.package_dir).resolve())
        env = {
            # Lambda's PATH starts with its runtime's bin (/var/lang/bin); this venv's is that.
            "PATH": f"{tools.python.parent}:/usr/local/bin:/usr/bin:/bin",
            # The search path Lambda gives a python3.13 function: the package first, then the
            # runtime's own libraries; no site-packages ("Dependency search path and
            # runtime-included libraries", https://docs.aws.amazon.com/lambda/latest/dg/
            # python-package.html). awslambdaric stands for Lambda's /var/runtime.
            "PYTHONPATH": f"{package}:{tools.ric_dir}",
            "LAMBDA_TASK_ROOT": package,
            "AWS_EXECUTION_ENV": EXECUTION_ENV,
            "TZ": ":UTC",  # Lambda's: the host's zone must not leak into time computations
            # Lambda's /var/task is read-only: no byte code may be written into the package,
            # which is the very folder `pulumi up` zips and uploads (build/<service>/package).
            "PYTHONDONTWRITEBYTECODE": "1",
            # The RIE reads these itself (internal/lambda/rie/handlers.go): the timeout it
            # enforces (default 300 s), the memory size in REPORT lines and the context (default
            # 3008 MB), the function name in the context and its ARN.
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "_HANDLER": spec.handler,
        }
        env.update(spec.environment)
        env.update(self.extra_env)
        return env

    # --- diagnostics ---------------------------------------------------------------------

    def _check_alive(self) -> None:
        process = self._process
        if process is not None and process.poll() is not None:
            raise LambdaRuntimeError(
                f"{self.spec.name}: the emulator exited (code {process.returncode}); "
                f"{self._log_summary()}")

    def _log_summary(self, count: int = 5) -> str:
        try:
            lines = [line for line in self.log_path.read_text(errors="replace").splitlines()
                     if line.strip()]
        except OSError:
            return f"no log at {self.log_path}"
        # A Go panic ends in a goroutine dump; its cause is the RIE's [PANIC]/[FATAL] line.
        fatal = [line for line in lines if "[PANIC]" in line or "[FATAL]" in line]
        tail = fatal[-1:] if fatal else lines[-count:]
        return f"last lines of {self.log_path}: " + (" | ".join(tail) or "(empty)")


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
