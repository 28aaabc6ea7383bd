"""`python -m local.aws [--work-dir DIR]`: run the local SQS/S3 server with a dead-letter queue
and bucket, print the environment for the consumer and the replay tool, wait for Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from local.aws.server import FAKE_CREDENTIALS, REGION, LocalAws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.aws", description=__doc__)
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="local-aws-"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalAws(work) as aws:
        env = {**aws.client_env(), "AWS_REGION": REGION, **FAKE_CREDENTIALS,
               "DEAD_LETTER_QUEUE_URL": aws.create_queue("event-dead-letters"),
               "DEAD_LETTER_BUCKET": aws.create_bucket("event-dead-letters")}
        for name, value in env.items():
            print(f"export {name}={value}")
        print(f"# local SQS/S3 at {aws.endpoint}; log {aws.log_path}; Ctrl-C stops it",
              file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
