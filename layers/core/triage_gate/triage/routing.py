"""Which model path each task takes: the policy's route, or the first route rule the input matches."""

from __future__ import annotations

from triage_gate.policy import Task


def choose_route(
    task: Task,
    *,
    chars: int,
    customer_tier: str | None,
    language: str,
    local_languages: frozenset[str] | None = None,
) -> str:
    """``language``: the ticket's (triage_gate.triage.language); ``local_languages``: those the task's local
    model knows (None: the task has no local model, so no ticket is outside it)."""
    for rule in task.route_rules:
        if rule.min_chars is not None and chars < rule.min_chars:
            continue
        if rule.customer_tiers is not None and (customer_tier or "").lower() not in rule.customer_tiers:
            continue
        if rule.languages is not None and language not in rule.languages:
            continue
        if rule.outside_local_languages and (local_languages is None or language in local_languages):
            continue
        return rule.route
    return task.route
