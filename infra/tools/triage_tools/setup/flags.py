"""The rollout flags a stack's functions read: a deployed stack's AppConfig profile (its outputs name it), or the
local flags file (``--flags``, ``$FLAGS_FILE``, else ``infra/local/flags.json``, as ``triage rollout`` finds it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from triage_tools.setup.stack import Stack

DEFAULT_FLAGS_FILE = "infra/local/flags.json"
APPCONFIG_OUTPUTS = ("RolloutApplicationId", "RolloutEnvironmentId", "RolloutProfileId")


def read_flags(stack: Stack | None, path: Path | None = None) -> tuple[dict[str, Any], str]:
    """(the flags document, where it was read). Raises ``FlagsError`` when it cannot be read."""
    from triage_tools.rollout.flags import AppConfigFlags, FileFlags, FlagsError

    if stack is not None and not stack.local and path is None:
        ids = [stack.outputs.get(key) for key in APPCONFIG_OUTPUTS]
        if not all(ids):
            missing = [key for key, value in zip(APPCONFIG_OUTPUTS, ids, strict=True) if not value]
            raise FlagsError(f"{stack.label} has no output {', '.join(missing)} (deploy the current template)")
        application, environment, profile = (str(value) for value in ids)
        target = AppConfigFlags(stack.client("appconfig"), application, environment, profile)
        return target.read(), target.where
    file = FileFlags(path or Path(os.environ.get("FLAGS_FILE") or DEFAULT_FLAGS_FILE))
    return file.read(), file.where
