"""Where the decision records are read from: a running local stack, or a deployed DecisionsTable."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage_gate.adapters.decisions_table import DynamoDecisionStore

LOCAL_STACK = "http://127.0.0.1:3000"


def unreachable(url: str | None, exc: Exception) -> str:
    """Why a command that needs a stack got no answer, and what to do: not a raw connection-pool trace."""
    import requests

    where = url or LOCAL_STACK
    if isinstance(exc, requests.ConnectionError):
        return f"no stack answers at {where}: start the local one first (`make local`), or pass --url to a running one"
    if isinstance(exc, requests.Timeout):
        return f"the stack at {where} did not answer in time ({exc.__class__.__name__}); is it overloaded?"
    return f"the stack at {where} did not answer: {exc}"


def decision_store(url: str | None, table: str | None) -> DynamoDecisionStore:
    """``table``: a deployed DecisionsTable (AWS credentials from the environment); else the local stack at
    ``url`` (default :data:`LOCAL_STACK`), found through its /healthz."""
    from triage_gate.adapters.aws import AwsClients
    from triage_gate.adapters.decisions_table import DynamoDecisionStore

    if table:
        return DynamoDecisionStore(table, AwsClients().client("dynamodb", read_timeout=30.0))
    from triage_local.review_cli import local_decision_store

    return local_decision_store(url or LOCAL_STACK)
