"""`python -m local.kafka start|build`: the one command line of the local broker (cli.py)."""

import sys

from local.kafka.cli import main

sys.exit(main())
