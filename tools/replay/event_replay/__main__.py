import sys

from event_replay.replay import main

sys.exit(main())
