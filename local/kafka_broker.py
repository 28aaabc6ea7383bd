"""Alias of `python -m local.kafka`, kept only while `./dev` still calls this name.

Delete this file once `dev` runs `python -m local.kafka build`; nothing else uses it.
"""

import sys

from local.kafka.cli import main

if __name__ == "__main__":
    sys.exit(main())
