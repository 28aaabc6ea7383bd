"""`python -m local.aws [--work-dir DIR]`: run the local SQS/S3 server with a dead-letter queue
and bucket, print the environment for the consumer and the replay tool, wait for Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from local.aws.server import FAKE_CREDENTIALS, REGION, LocalAws
from local.processes import Interrupted, StopSignals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.aws", description=__doc__)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="local-aws-"))
    # Explicit handlers (a shell's background job inherits SIGINT ignored): the first SIGINT or
    # SIGTERM interrupts whatever runs, starting included; the server is then stopped (<= 15 s).
    signals = StopSignals().install()
    aws = LocalAws(work)
    try:
        aws.start()
        env = {**aws.client_env(), "AWS_REGION": REGION, **FAKE_CREDENTIALS,
               "DEAD_LETTER_QUEUE_URL": aws.create_queue("event-dead-letters"),
               "DEAD_LETTER_BUCKET": aws.create_bucket("event-dead-letters")}
        for name, value in env.items():
            print(f"export {name}={value}")
        print(f"# local SQS/S3 at {aws.endpoint}; log {aws.log_path}; Ctrl-C stops it",
              file=sys.stderr, flush=True)
        while aws.process is not None and aws.process.poll() is None:
            time.sleep(0.5)
        print(f"# the local SQS/S3 server exited; see {aws.log_path}", file=sys.stderr)
        return 1
    except Interrupted:
        return 0
    finally:
        signals.shutting_down()
        aws.stop()


if __name__ == "__main__":
    sys.exit(main())
