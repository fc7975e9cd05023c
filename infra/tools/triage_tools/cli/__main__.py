"""``python -m triage_tools.cli``: the ``triage`` command."""

import sys

from triage_tools.cli import main

sys.exit(main())
