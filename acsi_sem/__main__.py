"""Run the acsi-sem command as ``python -m acsi_sem``."""

import sys

from acsi_sem.cli.main import main

sys.exit(main())
