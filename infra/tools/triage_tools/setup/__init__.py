"""``triage setup …`` and ``triage doctor``: the admin's path from a deployed stack to a connected one, each step
one idempotent command (see :mod:`triage_tools.setup.cli`)."""
