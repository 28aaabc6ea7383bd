import sys

from local.kafka.cli import main

sys.exit(main())
