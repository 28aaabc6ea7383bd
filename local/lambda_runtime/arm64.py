"""Run a deployment package as Lambda's arm64 python3.13 runtime runs it: on linux/arm64 under
qemu, behind AWS's Runtime Interface Emulator (RIE), invoked through the Lambda Invoke API.

The x86_64 emulator (emulator.py) loads only pure-Python wheels of a package built for manylinux
aarch64; a compiled aarch64 wheel (or one built for the wrong platform) shows itself only on
aarch64. Here the arm64 RIE runs `python3.13 -m awslambdaric <handler>` inside a Debian trixie
arm64 tree (arm64_toolchain.py), laid out as Lambda lays out its execution environment: the
package read-only at /var/task, the runtime's libraries at /var/runtime, the rest read-only but
/tmp ("Testing Lambda container images locally", https://docs.aws.amazon.com/lambda/latest/dg/
images-test.html; "Deploy Python Lambda functions with container images",
https://docs.aws.amazon.com/lambda/latest/dg/python-image.html).

The sandbox (arm64_sandbox.sh) runs in fresh mount and pid namespaces made by `unshare`, on the
host's network (the RIE listens on loopback only). Its mounts exist only in its namespace and its
processes only below the namespace's pid 1, so stopping it, or it dying, leaves neither mounts
nor processes behind. invoke(), the error semantics and the session sweep of stop() are
LambdaEmulator's.

    with Arm64LambdaEmulator(spec, log_path, extra_env={...}) as function:
        function.invoke(event)
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

import httpx

from local.lambda_runtime.arm64_toolchain import (
    GUEST_FILES_DIR,
    GUEST_PYTHON,
    GUEST_RIE_DIR,
    GUEST_RUNTIME_DIR,
    GUEST_TASK_ROOT,
    Arm64Toolchain,
    ensure_arm64_toolchain,
)
from local.lambda_runtime.emulator import (
    EXECUTION_ENV,
    STOP_TIMEOUT_S,
    FunctionSpec,
    LambdaEmulator,
    _signal,
)
from local.lambda_runtime.toolchain import LambdaRuntimeError
from local.ports import free_loopback_port
from local.processes import die_with_parent

SANDBOX_SCRIPT = Path(__file__).with_name("arm64_sandbox.sh")
# The RIE listens at once, but it is an arm64 Go binary starting under qemu.
READY_TIMEOUT_S = 60.0
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Lambda's own values ("Defined runtime environment variables", https://docs.aws.amazon.com/
# lambda/latest/dg/configuration-envvars.html); /var/lang and /opt are absent here, harmlessly.
GUEST_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
GUEST_LD_LIBRARY_PATH = ("/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
                         "/var/task:/var/task/lib:/opt/lib")


def guest_file(name: str) -> str:
    """Where a file given as `files={name: host_path}` is, inside the sandbox."""
    return f"{GUEST_FILES_DIR}/{name}"


class Arm64LambdaEmulator(LambdaEmulator):
    """One function behind one arm64 RIE under qemu on a free loopback port; a context manager.

    `files` (name -> host file) are exposed read-only at guest_file(name), for what a function
    must read that Lambda would not have in its package, e.g. a local broker's CA.
    """

    def __init__(self, spec: FunctionSpec, log_path: Path,
                 extra_env: Mapping[str, str] | None = None,
                 toolchain: Arm64Toolchain | None = None,
                 files: Mapping[str, Path] | None = None) -> None:
        super().__init__(spec, log_path, extra_env=extra_env)
        self._arm64 = toolchain
        self.files = {name: Path(path) for name, path in (files or {}).items()}

    def start(self) -> None:
        if self._process is not None:
            raise LambdaRuntimeError(f"{self.spec.name}: the emulator is already running")
        self._check_spec()
        self._check_files()
        tools = self._arm64 or ensure_arm64_toolchain()
        unshare = shutil.which("unshare")
        if unshare is None:
            raise LambdaRuntimeError("unshare is missing: install util-linux (apt-get install "
                                     "util-linux)")
        self.port = free_loopback_port()
        # Not the RIE's fixed default 127.0.0.1:9001: two emulators would collide there.
        runtime_api = f"127.0.0.1:{free_loopback_port()}"
        command = [
            # --kill-child: if unshare dies, however, the kernel kills the namespace's pid 1 and
            # with it every process in the namespace (unshare itself ignores SIGTERM).
            unshare, "--mount", "--propagation", "private", "--pid", "--kill-child", "--",
            "/bin/sh", str(SANDBOX_SCRIPT),
            str(tools.rootfs), str(Path(self.spec.package_dir).resolve()), str(tools.ric_dir),
            str(tools.rie.parent),
            *(f"{name}={path.resolve()}" for name, path in self.files.items()),
            "--",
            f"{GUEST_RIE_DIR}/{tools.rie.name}",
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
            "--runtime-api-address", runtime_api,
            GUEST_PYTHON, "-m", "awslambdaric", self.spec.handler,
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Its own session, so stop() finds every process of it (LambdaEmulator's sweep).
            # The host tools of the sandbox script run with the guest's environment too: it is
            # only paths and the function's variables, and the chroot'd RIE must get exactly it.
            self._process = subprocess.Popen(
                command, cwd="/", env=self._guest_environment(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                # Dies with us even on SIGKILL; its pid namespace (--kill-child) takes the RIE
                # and the runtime with it (local/processes.py).
                start_new_session=True, preexec_fn=die_with_parent(),
            )
        # trust_env=False: a proxy from the environment must never carry loopback traffic.
        self._client = httpx.Client(trust_env=False)
        try:
            self.wait_ready(READY_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """SIGKILL unshare: --kill-child makes the kernel kill the namespace's pid 1 (the RIE),
        which ends every process in the namespace and drops its mounts; then LambdaEmulator's
        sweep of the session. Bounded, and idempotent."""
        process = self._process
        if process is not None and process.poll() is None:
            _signal(process.pid, signal.SIGKILL)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                pass  # the sweep below reports what outlives SIGKILL
        super().stop(timeout_s)

    # --- environment ---------------------------------------------------------------------

    def _check_files(self) -> None:
        for name, path in self.files.items():
            if not FILE_NAME.fullmatch(name):
                raise LambdaRuntimeError(
                    f"{self.spec.name}: file name {name!r} must be a plain name ([A-Za-z0-9._-])")
            if not path.is_file():
                raise LambdaRuntimeError(f"{self.spec.name}: file {path} (for {name}) missing")

    def _guest_environment(self) -> dict[str, str]:
        """Built from scratch, as emulator.py builds it, with the guest's paths."""
        spec = self.spec
        env = {
            "PATH": GUEST_PATH,
            "LD_LIBRARY_PATH": GUEST_LD_LIBRARY_PATH,
            # Lambda sets en_US.UTF-8; Debian's minbase has only C.UTF-8: the same encoding.
            "LANG": "C.UTF-8",
            # The package first, then the runtime's libraries; no site-packages ("Dependency
            # search path and runtime-included libraries", https://docs.aws.amazon.com/lambda/
            # latest/dg/python-package.html).
            "PYTHONPATH": f"{GUEST_TASK_ROOT}:{GUEST_RUNTIME_DIR}",
            "LAMBDA_TASK_ROOT": GUEST_TASK_ROOT,
            "LAMBDA_RUNTIME_DIR": GUEST_RUNTIME_DIR,
            "AWS_EXECUTION_ENV": EXECUTION_ENV,
            "TZ": ":UTC",
            # Read by the RIE itself: the timeout it enforces, the memory in REPORT lines and in
            # the context, the function's name (see emulator.py).
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "_HANDLER": spec.handler,
        }
        env.update(spec.environment)
        env.update(self.extra_env)
        return env
