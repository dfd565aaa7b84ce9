"""Run the acsi-sem command as ``python -m acsi_sem``."""

import sys

from acsi_sem.cli import main

sys.exit(main())
