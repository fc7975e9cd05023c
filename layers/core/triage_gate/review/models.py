"""What a reviewer can say about a case (the ExceptionQueue messages are in triage_gate.messages)."""

from __future__ import annotations

# Why a reviewer corrected the model (reported and counted; feeds calibration and training).
CORRECTION_REASONS = {
    "wrong_category": "the category was wrong",
    "wrong_priority": "the priority was wrong",
    "missing_context": "the model lacked context the ticket needed",
    "ambiguous_ticket": "the ticket fits more than one label",
    "policy_exception": "a policy exception applies",
    "other": "something else",
}
