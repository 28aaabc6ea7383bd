"""`python -m local.kafka_broker start|build`: the documented name of the local broker's command
line (the code lives in local/kafka/; `python -m local.kafka` is the same command)."""

import sys

from local.kafka.cli import main

if __name__ == "__main__":
    sys.exit(main())
