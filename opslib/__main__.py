"""``python -m opslib``: the ``opslib`` command."""

import sys

from opslib.cli import main

sys.exit(main())
