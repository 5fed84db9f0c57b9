"""``python -m numopt`` runs the ``numopt`` command."""

import sys

from .cli import main

sys.exit(main())
