"""The chaos run's five faults. Each breaks one real part of the running pipeline and brings it
back; it returns when the part is back (`Fault.ended`), and the run then measures how long the
whole pipeline took to recover (bench/chaos.py). All run on the main thread (restarts must:
bench/_chaos_pipeline.py)."""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bench._chaos_letters import LetterCollector
from bench._chaos_pipeline import ChaosPipeline, wait_for

SQS_OUTAGE_S = 10.0
POISON_PER_OUTAGE = 3
# Past the producer's send timeout (KAFKA_SEND_TIMEOUT_MS): the API's sends time out and it must
# answer 503 with Retry-After, then recover by itself once the broker runs again.
PAUSE_BEYOND_SEND_TIMEOUT_S = 3.0


@dataclass
class Fault:
    kind: str
    started: float  # perf_counter()
    ended: float  # the part is back
    detail: str
    poison: tuple[bytes, ...] = ()  # poison records written during this fault
    recovery_s: float | None = None  # set by the run: None = not recovered in its bound


class Faults:
    KINDS = ("broker-sigkill-restart", "api-worker-sigkill", "consumer-killed-mid-batch",
             "sqs-s3-down-with-poison", "broker-sigstop-past-send-timeout")

    def __init__(self, pipeline: ChaosPipeline, collector: LetterCollector, rng: random.Random,
                 log: Callable[[str], None]) -> None:
        self.p = pipeline
        self.collector = collector
        self.rng = rng
        self.log = log
        self.poison: set[bytes] = set()
        self._producer = None

    def inject(self, kind: str) -> Fault:
        action = {
            "broker-sigkill-restart": self._broker_kill,
            "api-worker-sigkill": self._api_worker_kill,
            "consumer-killed-mid-batch": self._consumer_kill,
            "sqs-s3-down-with-poison": self._sqs_down,
            "broker-sigstop-past-send-timeout": self._broker_pause,
        }[kind]
        started = time.perf_counter()
        poison_before = set(self.poison)
        self.log(f"FAULT {kind}: injecting")
        detail = action()
        fault = Fault(kind, started, time.perf_counter(), detail,
                      tuple(self.poison - poison_before))
        self.log(f"FAULT {kind}: part back after {fault.ended - started:.1f} s ({detail})")
        return fault

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)

    # -- the faults

    def _broker_kill(self) -> str:
        pid = self.p.broker.pid
        self.p.kill_broker()
        killed = time.perf_counter()
        self.p.broker.start()
        return f"JVM {pid} SIGKILLed, restarted in {time.perf_counter() - killed:.1f} s"

    def _api_worker_kill(self) -> str:
        workers = self.p.api_workers()
        if not workers:
            raise RuntimeError("the API supervisor has no worker to kill")
        victim = self.rng.choice(workers)
        os.kill(victim, signal.SIGKILL)
        replaced = wait_for(lambda: len(set(self.p.api_workers()) - {victim}) >= len(workers),
                            30)
        return (f"worker {victim} of {len(workers)} SIGKILLed; "
                f"{'replaced by the supervisor' if replaced else 'NOT replaced within 30 s'}")

    def _consumer_kill(self) -> str:
        # Mid-batch: wait for an invocation in flight (the load keeps them coming).
        hit = self.p.handler.in_flight.wait(20)
        records = self.p.handler.records_in_flight
        self.p.kill_consumer()
        self.p.restart_consumer()
        where = (f"during an invocation of {records} records" if hit
                 else "with NO invocation in flight (none within 20 s)")
        return f"the function's emulator session SIGKILLed {where}, restarted"

    def _sqs_down(self) -> str:
        # Everything already in the queue is read out first: moto forgets it with the process.
        with self.collector.held_empty():
            self.p.kill_aws()
        down = time.perf_counter()
        for _ in range(POISON_PER_OUTAGE):
            self._produce_poison()
            time.sleep(1.0)
        time.sleep(max(0.0, down + SQS_OUTAGE_S - time.perf_counter()))
        self.p.restart_aws()
        return (f"moto SIGKILLed for {time.perf_counter() - down:.1f} s while "
                f"{POISON_PER_OUTAGE} poison records arrived; restarted on the same port")

    def _broker_pause(self) -> str:
        pid = self.p.broker.pid
        pause_s = self.p.send_timeout_ms / 1000 + PAUSE_BEYOND_SEND_TIMEOUT_S
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(pause_s)
        finally:
            os.kill(pid, signal.SIGCONT)
        return (f"JVM {pid} SIGSTOPped {pause_s:.0f} s (the API's send timeout is "
                f"{self.p.send_timeout_ms} ms), then SIGCONT")

    def _produce_poison(self) -> None:
        """A record no consumer can decode (not JSON), written as a broken producer with the
        API's write access would."""
        from kafka import KafkaProducer

        from components.kafka_access import API_PRODUCER_IDEMPOTENT

        if self._producer is None:
            # As the API produces (its role holds no WriteDataIdempotently unless it uses it).
            self._producer = KafkaProducer(
                acks="all", request_timeout_ms=15_000, max_block_ms=15_000,
                enable_idempotence=API_PRODUCER_IDEMPOTENT,
                max_in_flight_requests_per_connection=1, **self.p.broker.client_options("api"))
        value = f"chaos poison {uuid.uuid4()} is not JSON".encode()
        self._producer.send(self.p.topic, value=value).get(timeout=30)
        self.poison.add(value)
