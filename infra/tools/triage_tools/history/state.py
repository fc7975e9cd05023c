"""DIR/pull-state.json: where a pull resumes. Written atomically after every page; removed when it completes.

It names the pull (source, workflow, window, policy) so a different command cannot continue it by mistake,
the export's resume point (Zendesk's cursor; HubSpot's search window and ``after``), and how many bytes of
the staging file belong to saved pages: on resume the staging file is cut back to that length, so a page
written but not yet recorded is fetched again instead of counted twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from triage_tools.history.files import STATE_FILE

STATE_VERSION = 1
IDENTITY = ("source", "workflow", "since", "until", "policy_sha256")


class StateError(ValueError):
    """The state file cannot be used for this command (unreadable, or another pull's)."""


@dataclass
class PullState:
    source: str
    workflow: str
    since: str
    until: str
    policy_sha256: str
    position: dict[str, Any] | None = None
    pages: int = 0
    fetched: int = 0  # ticket versions received so far (a ticket updated during the pull counts twice)
    progress: float = 0.0  # how far through the time range the export had moved
    staged_bytes: int = 0
    complete: bool = False  # every page is staged: only the final pass remains
    started_at: str = ""
    version: int = STATE_VERSION

    def differences(self, other: PullState) -> list[str]:
        """What differs between this pull and ``other`` (another command's), as ``name: was → now``."""
        labels = {"source": "--source", "workflow": "--workflow", "since": "--since", "until": "--until",
                  "policy_sha256": "the policy file"}  # fmt: skip
        return [
            f"{labels[name]}: {getattr(self, name)} → {getattr(other, name)}"
            for name in IDENTITY
            if getattr(self, name) != getattr(other, name)
        ]


def state_path(directory: Path) -> Path:
    return directory / STATE_FILE


def load_state(directory: Path) -> PullState | None:
    path = state_path(directory)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise StateError(f"{path}: not a version-{STATE_VERSION} pull state")
        return PullState(**data)
    except (ValueError, TypeError) as exc:
        raise StateError(f"{path} is unreadable ({exc}); delete it to start the pull over") from exc


def save_state(directory: Path, state: PullState) -> None:
    """Write the whole file next to its final name, flush it to disk, then rename over the old one."""
    path = state_path(directory)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(asdict(state), handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def remove_state(directory: Path) -> None:
    state_path(directory).unlink(missing_ok=True)
