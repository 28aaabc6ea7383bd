"""The broker's jars: Apache Kafka from Maven Central into local/kafka/lib, and the MSK IAM plugin.

Each step records a digest of its inputs, so a second run does not start Maven at all.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from local.processes import die_with_parent

log = logging.getLogger("local.kafka")

LOCAL_DIR = Path(__file__).resolve().parents[1]
KAFKA_DIR = LOCAL_DIR / "kafka"
LIB_DIR = KAFKA_DIR / "lib"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"
VALIDATOR_DIR = LOCAL_DIR / "msk-iam-validator"
VALIDATOR_JAR = VALIDATOR_DIR / "target" / "msk-iam-validator.jar"
MAVEN_TIMEOUT_S = 900.0


class LocalKafkaError(RuntimeError):
    """The local broker could not be built, started or stopped."""

def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(LOCAL_DIR)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _run_maven(args: list[str], cwd: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError("Maven (mvn) is not installed: e.g. apt-get install maven")
    log.info("running mvn %s in %s", " ".join(args), cwd)
    try:
        done = subprocess.run(
            [mvn, "-q", "-B", *args], cwd=cwd, capture_output=True, text=True,
            timeout=MAVEN_TIMEOUT_S, check=False, preexec_fn=die_with_parent(),
        )
    except subprocess.TimeoutExpired as exc:
        raise LocalKafkaError(f"mvn {' '.join(args)} took over {MAVEN_TIMEOUT_S:.0f}s") from exc
    if done.returncode != 0:
        raise LocalKafkaError(
            f"mvn {' '.join(args)} failed in {cwd} (exit {done.returncode}):\n"
            f"{done.stdout[-4000:]}{done.stderr[-4000:]}"
        )


def ensure_jars() -> None:
    """Fetch the broker jars into local/kafka/lib and build the validator jar, unless current.

    Each step records a digest of its inputs, so a second run does not start Maven at all.
    A lock keeps concurrent callers (parallel test sessions) from building over each other.
    """
    lock_path = Path(tempfile.gettempdir()) / (
        "local-kafka-build-" + hashlib.sha256(str(LOCAL_DIR).encode()).hexdigest()[:12] + ".lock"
    )
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _ensure_jars_locked()


def _ensure_jars_locked() -> None:
    lib_stamp = LIB_DIR / ".complete"
    lib_digest = _digest([KAFKA_DIR / "pom.xml"])
    if not lib_stamp.is_file() or lib_stamp.read_text() != lib_digest:
        if LIB_DIR.exists():
            shutil.rmtree(LIB_DIR)  # a changed pom must not leave jars of other versions behind
        _run_maven(["dependency:copy-dependencies"], KAFKA_DIR)
        lib_stamp.write_text(lib_digest)

    sources = [VALIDATOR_DIR / "pom.xml", *(VALIDATOR_DIR / "src").rglob("*.java")]
    jar_stamp = VALIDATOR_JAR.parent / ".build-digest"
    jar_digest = _digest(sources)
    jar_current = VALIDATOR_JAR.is_file() and jar_stamp.is_file()
    if not jar_current or jar_stamp.read_text() != jar_digest:
        _run_maven(["package"], VALIDATOR_DIR)
        jar_stamp.write_text(jar_digest)
