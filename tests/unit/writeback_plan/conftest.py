"""What write-back writes for a decision (pure planning from the policy), and what the policy refuses to map:
the shipped policy (as data, to change one thing at a time) and the decision messages shared by this package."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from triage_gate.errors import ConfigurationError
from triage_gate.messages import DecisionMessage
from triage_gate.policy import DEFAULT_POLICY_PATH, Policy, Workflow, load_policy

DECISION_ID = "zendesk:90817263:3f6c1a52-7d0e-4b8a-9c21-5e4f7a0b9d13"
ZENDESK_CATEGORY_FIELD = 360011112222


# ---------------------------------------------------------------- helpers
def raw_policy() -> dict[str, Any]:
    """The shipped policy.yaml as plain data, to modify one thing at a time."""
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def validated(data: dict[str, Any]) -> Policy:
    return Policy.from_data({**data, "base_dir": str(DEFAULT_POLICY_PATH.parent)})


def workflow(name: str, change: Any = None) -> Workflow:
    """A workflow of the shipped policy, optionally after ``change(raw_workflow_dict)``."""
    data = raw_policy()
    if change is not None:
        change(data["workflows"][name])
    return validated(data).workflows[name]


def message(
    *,
    source: str = "zendesk",
    workflow: str = "zendesk-support",
    mode: str = "auto",
    labels: dict[str, str | None] | None = None,
    confidence: dict[str, float | None] | None = None,
    reason_codes: list[str] | None = None,
    decision_id: str = DECISION_ID,
) -> DecisionMessage:
    labels = labels if labels is not None else {"category": "bug", "priority": "high"}
    return DecisionMessage(
        decision_id=decision_id,
        correlation_id=f"{source}:40198",
        workflow=workflow,
        source=source,
        account_id="90817263",
        ticket_id="40198",
        action="apply",
        mode=mode,  # type: ignore[arg-type]
        labels=labels,
        confidence=confidence if confidence is not None else dict.fromkeys(labels, 0.91),
        reason_codes=reason_codes or [],
        policy_version="2026-11-27.1",
        decided_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
    )


def rejected(tmp_path: Path, data: dict[str, Any]) -> str:
    """load_policy on a modified copy of the YAML: the ConfigurationError's text."""
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigurationError) as raised:
        load_policy(file)
    return str(raised.value)
