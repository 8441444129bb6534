"""``python -m simulator`` runs the ``geosim`` command line."""

import sys

from simulator.cli.main import main

sys.exit(main())
