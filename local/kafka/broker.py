"""A real single-node Apache Kafka broker on loopback that authenticates and authorizes like MSK
Serverless.

Listeners: PLAINTEXT (operator/debug, not authorized) and SASL_SSL with OAUTHBEARER, where the
broker validates MSK IAM tokens (aws-msk-iam-sasl-signer-python) with local/msk-iam-validator and
authorizes every request against the IAM policies of the caller's access key (MskIamAuthorizer).
Each principal (`api`, `consumer`, every other role of the program, and `admin`) has its own
throwaway access key; its policies are the program's own (local/kafka/policies.py), rendered for
this broker's cluster ARN and for every topic and consumer group the broker is told about
(`grant`, `create_topic`). TLS uses a throwaway CA generated at first start.
"""

from __future__ import annotations

import atexit
import base64
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from local.kafka.jars import LIB_DIR, LOG4J_CONFIG, VALIDATOR_JAR, LocalKafkaError, ensure_jars
from local.kafka.policies import (
    ADMIN,
    PROGRAM_ROLES,
    PolicyDocument,
    RenderPolicy,
    default_consumer_group,
)
from local.kafka.principals import (
    Principal,
    admin_principal,
    credentials_text,
    local_cluster_arn,
    policies_text,
    write_atomically,
)
from local.kafka.tls import LOOPBACK, write_certificates
from local.ports import free_loopback_port
from local.processes import die_with_parent

log = logging.getLogger("local.kafka")

VALIDATOR_CLASS = "eventpipeline.mskiam.MskIamValidatorCallbackHandler"
AUTHORIZER_CLASS = "eventpipeline.mskiam.MskIamAuthorizer"
REGION = "us-east-1"
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 30.0
# Kafka 4 needs little heap for tests; a small cap keeps the shared 2-core machine responsive.
JVM_OPTIONS = ("-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true")
# The one-shot storage formatter starts faster without the optimising JIT.
TOOL_JVM_OPTIONS = ("-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")

__all__ = ["ADMIN", "REGION", "LocalKafka", "LocalKafkaError"]



def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home, "bin", "java") if java_home else None
    if candidate and candidate.is_file():
        return str(candidate)
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError("Java 17+ is not installed (no java on PATH or in JAVA_HOME)")
    return java


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (Kafka's Uuid form).
    Like Kafka's own Uuid.randomUuid, never one that starts with '-': the storage tool's argument
    parser would take "-t -abc..." for two options (1 start in 64 failed to format)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class LocalKafka:
    """One KRaft node (broker + controller) on loopback; stop() then start() resumes it as is."""

    def __init__(
        self, work_dir: str | Path | None = None, extra_properties: dict[str, str] | None = None,
        *, authorize: bool = True,
    ) -> None:
        """`extra_properties` are added to (or override) server.properties, e.g. for fault tests.
        `authorize=False` turns the MSK IAM authorizer off (every authenticated client may do
        anything), only to measure what authorization costs (bench/authz_cost.py)."""
        self.extra_properties = dict(extra_properties or {})
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="local-kafka-"))
        self.region = REGION
        self.authorize = authorize
        self.cluster_arn = local_cluster_arn(REGION)
        self.credentials_file = self.work_dir / "credentials.properties"
        self.policies_file = self.work_dir / "msk-iam-policies.json"
        self._principals: dict[str, Principal] = {ADMIN: admin_principal()}
        for role, policy in PROGRAM_ROLES.items():
            self._principals[role] = Principal(role, policy)
        self._grants: list[tuple[str, str]] = []  # (topic, consumer group), in order
        self._iam_lock = threading.Lock()
        self.cluster_id = new_cluster_id()
        self.log_file = self.work_dir / "broker.log"
        self.ca_file: str | None = None
        self.sasl_bootstrap: str | None = None
        self.plaintext_bootstrap: str | None = None
        self._ports: dict[str, int] | None = None
        self._keystore: Path | None = None
        self._process: subprocess.Popen | None = None
        self._start_offset = 0
        self._atexit_registered = False

    # -- lifecycle --

    def start(self, timeout_s: float = START_TIMEOUT_S) -> LocalKafka:
        if self.is_running():
            raise LocalKafkaError("local Kafka is already running")
        ensure_jars()
        self._prepare_once()
        with self.log_file.open("ab") as log_out:
            self._start_offset = log_out.tell()
            log_out.write(f"--- starting broker at {time.strftime('%H:%M:%S')} ---\n".encode())
            log_out.flush()
            self._process = subprocess.Popen(
                self._java_command("kafka.Kafka", str(self._properties_file)),
                stdin=subprocess.DEVNULL, stdout=log_out, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the broker in order
                preexec_fn=die_with_parent(),  # and it dies with us, even on SIGKILL
            )
        if not self._atexit_registered:
            atexit.register(self.stop)
            self._atexit_registered = True
        try:
            self._wait_until_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # lets Kafka flush and close its logs cleanly
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("local Kafka did not stop within %.0fs; killing it", timeout_s)
            process.kill()
            process.wait(timeout=10)

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The broker JVM's process id while it runs (benchmarks read its CPU time)."""
        return self._process.pid if self.is_running() else None

    def __enter__(self) -> LocalKafka:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- principals and their policies --

    @property
    def principals(self) -> dict[str, Principal]:
        """Role name -> its identity (access key, secret, policy)."""
        with self._iam_lock:
            return dict(self._principals)

    def principal(self, name: str) -> Principal:
        with self._iam_lock:
            found = self._principals.get(name)
        if found is None:
            raise LocalKafkaError(
                f"no principal {name!r} on this broker (known: {', '.join(self.principals)})"
            )
        return found

    def add_principal(self, name: str, policy: RenderPolicy | None = None, *,
                      documents: Iterable[PolicyDocument] = ()) -> Principal:
        """A further principal with its own access key, holding the fixed IAM policy `documents`
        and `policy` rendered like a program role's for every grant (e.g. the consumer's policy
        with one action removed, to see what MSK would refuse). In force at once."""
        with self._iam_lock:
            if name in self._principals:
                raise LocalKafkaError(f"principal {name!r} already exists")
            principal = Principal(name, policy, tuple(documents))
            self._principals[name] = principal
            self._write_iam_files()
        return principal

    def grant(self, topic: str, group: str | None = None) -> None:
        """Render every role's policy for `topic` and consumer `group` (default: the program's
        consumer group), as `pulumi up` would for a stack with these names; in force for the
        broker's next request. Topics and groups not granted stay denied to all but `admin`."""
        group = group or default_consumer_group()
        with self._iam_lock:
            if (topic, group) in self._grants:
                return
            self._grants.append((topic, group))
            self._write_iam_files()

    @property
    def grants(self) -> list[tuple[str, str]]:
        with self._iam_lock:
            return list(self._grants)

    # -- client helpers --

    def client_env(self, principal: str) -> dict[str, str]:
        """Environment for a client process that reaches this broker as `principal`, like it
        reaches MSK with that role's credentials."""
        self._require_started()
        identity = self.principal(principal)
        return {
            "AWS_ACCESS_KEY_ID": identity.access_key_id,
            "AWS_SECRET_ACCESS_KEY": identity.secret_access_key,
            "AWS_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "KAFKA_BOOTSTRAP_SERVERS": self.sasl_bootstrap,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_CA_FILE": self.ca_file,
        }

    def client_options(self, principal: str) -> dict[str, Any]:
        """kafka-python keyword arguments for an in-process client signing as `principal`: the
        credentials are bound to the token provider, not read from os.environ, so clients of
        several principals can share one process."""
        import botocore.session
        from msk_iam_client import MskIamTokenProvider

        self._require_started()
        identity = self.principal(principal)
        session = botocore.session.Session()
        session.set_credentials(identity.access_key_id, identity.secret_access_key)
        return {
            "bootstrap_servers": self.sasl_bootstrap,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "OAUTHBEARER",
            "sasl_oauth_token_provider": MskIamTokenProvider(self.region,
                                                             botocore_session=session),
            "ssl_cafile": self.ca_file,
        }

    def connection_info(self) -> dict[str, Any]:
        """What another process needs to connect as any principal (`start --env-json`)."""
        self._require_started()
        return {
            "bootstrap": self.sasl_bootstrap,
            "ca_file": self.ca_file,
            "region": self.region,
            "cluster_arn": self.cluster_arn,
            "principals": {
                name: {"access_key_id": p.access_key_id,
                       "secret_access_key": p.secret_access_key}
                for name, p in self.principals.items()
            },
            "plaintext_bootstrap": self.plaintext_bootstrap,
            "authorization": "on" if self.authorize else "off",
            "policies_file": str(self.policies_file),
            "broker_log": str(self.log_file),
        }

    def write_connection_info(self, path: str | Path) -> None:
        """`connection_info()` as JSON, owner-only (it holds the principals' secrets)."""
        path = Path(path).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(self.connection_info(), indent=2) + "\n")

    def create_topic(self, name: str, partitions: int = 3, group: str | None = None) -> None:
        """Create a topic as `admin` (no-op if it exists), wait until every partition has a
        leader, and `grant` the program's roles on it (with consumer `group`)."""
        from kafka import KafkaAdminClient
        from kafka.errors import TopicAlreadyExistsError

        self._require_started()
        self.grant(name, group)
        admin = KafkaAdminClient(
            request_timeout_ms=15000, bootstrap_timeout_ms=15000, client_id="local-kafka-admin",
            **self.client_options(ADMIN),
        )
        try:
            try:
                admin.create_topics(
                    {name: {"num_partitions": partitions, "replication_factor": 1}},
                    timeout_ms=15000,
                )
            except TopicAlreadyExistsError:
                pass
            admin.wait_for_topics([name], timeout_ms=15000)
        finally:
            admin.close()

    def startup_report(self, tail_lines: int = 20) -> str:
        """The broker's ERROR lines (with their exception message) since start, then the tail.

        Kafka logs pages of shutdown chatter after a fatal error, so the tail alone hides why.
        """
        if not self.log_file.is_file():
            return "(no broker log yet)"
        with self.log_file.open("rb") as f:
            f.seek(self._start_offset)
            lines = f.read().decode("utf-8", errors="replace").splitlines()
        errors: list[str] = []
        for i, line in enumerate(lines):
            if (" ERROR " in line or " FATAL " in line) and len(errors) < 16:
                errors.append(line[:500])
                follow = lines[i + 1] if i + 1 < len(lines) else ""
                if follow and not follow.startswith(("[", "\t")):
                    errors.append("    " + follow[:500])  # the exception and its message
        parts = []
        if errors:
            parts.append("errors:\n" + "\n".join(errors))
        parts.append(f"last {tail_lines} lines:\n" + "\n".join(lines[-tail_lines:]))
        return "\n".join(parts)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.is_file():
            return "(no broker log yet)"
        with self.log_file.open(encoding="utf-8", errors="replace") as f:
            return "".join(deque(f, maxlen=lines))

    # -- internals --

    def _require_started(self) -> None:
        if self._ports is None:
            raise LocalKafkaError("local Kafka has not been started")

    @property
    def _data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def _properties_file(self) -> Path:
        return self.work_dir / "server.properties"

    def _prepare_once(self) -> None:
        """First start only: ports, certificates, credentials, config, formatted storage."""
        if self._ports is not None:
            return
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._data_dir.exists() and any(self._data_dir.iterdir()):
            # Its cluster id and credentials belong to another LocalKafka instance.
            raise LocalKafkaError(
                f"{self._data_dir} already holds a broker's data: use a new work dir"
            )
        ports = {"plaintext": free_loopback_port(), "sasl_ssl": free_loopback_port(),
                 "controller": free_loopback_port()}
        if len(set(ports.values())) != 3:
            raise LocalKafkaError(f"could not pick three distinct free ports: {ports}")
        ca_file, self._keystore = write_certificates(self.work_dir / "certs")
        with self._iam_lock:
            self._write_iam_files()
        self._properties_file.write_text(self._server_properties(ports))
        self._format_storage()
        self._ports = ports
        self.ca_file = str(ca_file)
        self.plaintext_bootstrap = f"{LOOPBACK}:{ports['plaintext']}"
        self.sasl_bootstrap = f"{LOOPBACK}:{ports['sasl_ssl']}"

    def _write_iam_files(self) -> None:
        """Both files from the current principals and grants (caller holds _iam_lock); before
        the first start there is nowhere to write yet, and _prepare_once writes them."""
        if not self.work_dir.is_dir():
            return
        principals = list(self._principals.values())
        # Credentials first: a principal's policies never name a key the broker cannot know.
        write_atomically(self.credentials_file, credentials_text(principals))
        write_atomically(self.policies_file,
                         policies_text(self.cluster_arn, principals, self._grants))

    def _server_properties(self, ports: dict[str, int]) -> str:
        p, s, c = ports["plaintext"], ports["sasl_ssl"], ports["controller"]
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{LOOPBACK}:{c}",
            "listeners": f"PLAINTEXT://{LOOPBACK}:{p},SASL_SSL://{LOOPBACK}:{s},"
            f"CONTROLLER://{LOOPBACK}:{c}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{p},SASL_SSL://{LOOPBACK}:{s}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,"
            "CONTROLLER:PLAINTEXT",
            "log.dirs": str(self._data_dir),
            "num.partitions": "3",
            # MSK Serverless refuses auto-creation; topics are made explicitly here too.
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "3",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # SASL_SSL: TLS with the throwaway CA's certificate, MSK IAM tokens over OAUTHBEARER.
            "sasl.enabled.mechanisms": "OAUTHBEARER",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "OAUTHBEARER",
            "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config":
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
            "listener.name.sasl_ssl.oauthbearer.sasl.server.callback.handler.class":
                VALIDATOR_CLASS,
            "msk.iam.region": self.region,
            "msk.iam.credentials.file": str(self.credentials_file),
            "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
            "listener.name.sasl_ssl.ssl.keystore.location": str(self._keystore),
            "listener.name.sasl_ssl.ssl.client.auth": "none",
        }
        if self.authorize:
            # Every SASL_SSL request is authorized against the principals' IAM policies, read
            # again whenever the file changes (grant, add_principal).
            settings["authorizer.class.name"] = AUTHORIZER_CLASS
            settings["msk.iam.policies.file"] = str(self.policies_file)
        settings.update(self.extra_properties)
        return "".join(f"{key}={_escape_property(value)}\n" for key, value in settings.items())

    def _java_command(
        self, main_class: str, *args: str, jvm_options: tuple[str, ...] = JVM_OPTIONS
    ) -> list[str]:
        classpath = f"{LIB_DIR}/*{os.pathsep}{VALIDATOR_JAR}"
        return [
            _java(), *jvm_options, f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
            "-cp", classpath, main_class, *args,
        ]

    def _format_storage(self) -> None:
        command = self._java_command(
            "kafka.tools.StorageTool", "format", "-t", self.cluster_id,
            "-c", str(self._properties_file), jvm_options=TOOL_JVM_OPTIONS,
        )
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=120, check=False,
                preexec_fn=die_with_parent(),
            )
        except subprocess.TimeoutExpired as exc:
            raise LocalKafkaError("formatting Kafka storage took over 120s") from exc
        if done.returncode != 0:
            raise LocalKafkaError(
                f"formatting Kafka storage failed (exit {done.returncode}):\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )

    def _wait_until_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last_problem = "not tried yet"
        while True:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise LocalKafkaError(
                    f"local Kafka exited during start-up (exit {code}); broker log "
                    f"{self.log_file}\n{self.startup_report()}"
                )
            problem = self._readiness_problem()
            if problem is None:
                return
            last_problem = problem
            if time.monotonic() >= deadline:
                raise LocalKafkaError(
                    f"local Kafka not ready after {timeout_s:.0f}s ({last_problem}); broker log "
                    f"{self.log_file}\n{self.startup_report()}"
                )
            time.sleep(0.5)

    def _readiness_problem(self) -> str | None:
        """None when the broker serves metadata on PLAINTEXT and completes TLS on SASL_SSL."""
        assert self._ports is not None
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            with socket.create_connection((LOOPBACK, self._ports["sasl_ssl"]), timeout=3) as raw:
                with context.wrap_socket(raw, server_hostname=LOOPBACK):
                    pass
        except (OSError, ssl.SSLError) as exc:
            return f"SASL_SSL listener: {exc}"
        try:
            with socket.create_connection((LOOPBACK, self._ports["plaintext"]), timeout=3):
                pass
        except OSError as exc:
            return f"PLAINTEXT listener: {exc}"
        from kafka import KafkaAdminClient

        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.plaintext_bootstrap, request_timeout_ms=5000,
                bootstrap_timeout_ms=5000,
            )
            try:
                brokers = admin.describe_cluster().get("brokers", [])
            finally:
                admin.close()
        except Exception as exc:  # noqa: BLE001 - any client failure just means "not ready yet"
            return f"metadata over PLAINTEXT: {exc!r}"
        return None if brokers else "metadata lists no broker yet"


def _escape_property(value: str) -> str:
    # java.util.Properties treats backslashes as escapes; paths and values here have none
    # on POSIX, but keep the file correct if one appears.
    return value.replace("\\", "\\\\")
