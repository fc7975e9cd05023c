"""Review messages on ExceptionQueue besides DecisionMessage, and what a reviewer did."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["approve", "correct", "escalate"]

# Why a reviewer corrected the model (reported and counted; feeds calibration and training).
CORRECTION_REASONS = {
    "wrong_category": "the category was wrong",
    "wrong_priority": "the priority was wrong",
    "missing_context": "the model lacked context the ticket needed",
    "ambiguous_ticket": "the ticket fits more than one label",
    "policy_exception": "a policy exception applies",
    "other": "something else",
}


class ReviewJob(BaseModel):
    """Enqueued by SlackActionsFunction inside Slack's 3-second ack; done by ReviewNotifyFunction."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["review_outcome", "notice"]
    decision_id: str
    verdict: Verdict | None = None
    user_id: str
    user_name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)  # corrected labels (correct)
    reason: str | None = None
    force: bool = False  # "apply anyway" after the stale-ticket warning
    channel: str | None = None
    ts: str | None = None
    notice: str | None = None
    requested_at: datetime
