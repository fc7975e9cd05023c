"""Which model path each task takes: the policy's route, or the first route rule the input matches."""

from __future__ import annotations

from triage_gate.policy import Task


def choose_route(task: Task, *, chars: int, customer_tier: str | None, language: str | None) -> str:
    for rule in task.route_rules:
        if rule.min_chars is not None and chars < rule.min_chars:
            continue
        if rule.customer_tiers is not None and (customer_tier or "").lower() not in rule.customer_tiers:
            continue
        if rule.languages is not None and (language or "").lower()[:2] not in rule.languages:
            continue
        return rule.route
    return task.route
