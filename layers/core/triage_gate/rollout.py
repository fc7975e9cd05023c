"""Rollout modes at run time: off → shadow → assist → auto, per workflow and per segment.

Resolved with Powertools FeatureFlags from AppConfig (deployed) or from a local JSON file with the
same schema, so a flag change takes effect without a deploy, within the flags' cache time. One flag
per workflow, named ``mode.<workflow>``, with a non-boolean value:

    {"mode.zendesk-support": {
        "default": "shadow", "boolean_type": false,
        "rules": {
          "enterprise stays in shadow": {"when_match": "shadow",
              "conditions": [{"action": "EQUALS", "key": "tier", "value": "enterprise"}]},
          "20% of tickets on auto": {"when_match": "auto",
              "conditions": [{"action": "MODULO_RANGE", "key": "ticket_number",
                              "value": {"BASE": 100, "START": 0, "END": 19}}]}}}}

Context keys a rule can use: workflow, source, brand, group, tags (list), tier, ticket_number (int).
Without a flag (or if the store cannot be read) the policy file's mode applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from triage_gate.policy import Workflow
from triage_gate.triage.context import dotted

MODES = ("off", "shadow", "assist", "auto")


@dataclass(frozen=True)
class Segment:
    workflow: str
    source: str
    ticket_id: str
    brand: str | None = None
    group: str | None = None
    tier: str | None = None
    tags: list[str] = field(default_factory=list)

    def as_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"workflow": self.workflow, "source": self.source, "tags": list(self.tags)}
        for key in ("brand", "group", "tier"):
            if getattr(self, key) is not None:
                context[key] = getattr(self, key)
        # MODULO_RANGE needs an int: a string id would silently never match.
        digits = "".join(c for c in self.ticket_id if c.isdigit())
        context["ticket_number"] = int(digits) if digits else 0
        return context


def segment_of(workflow: str, source: str, ticket_id: str, documents: Mapping[str, Any], tier: str | None) -> Segment:
    ticket = documents.get("ticket") or {}
    brand = ticket.get("brand_id") or dotted(documents, "ticket.hs_pipeline")
    group = ticket.get("group_id") or dotted(documents, "ticket.hs_pipeline_stage")
    raw_tags = ticket.get("tags")
    tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
    return Segment(
        workflow=workflow,
        source=source,
        ticket_id=ticket_id,
        brand=str(brand) if brand is not None else None,
        group=str(group) if group is not None else None,
        tier=tier,
        tags=[str(t) for t in tags],
    )


class Rollout(Protocol):
    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str: ...


class PolicyRollout:
    """No flags: the policy file's mode for every segment."""

    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str:
        return workflow.mode


class FlagRollout:
    def __init__(self, store: Any) -> None:
        from aws_lambda_powertools.utilities.feature_flags import FeatureFlags

        self._flags = FeatureFlags(store=store)

    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str:
        value = self._flags.evaluate(name=f"mode.{workflow_name}", context=segment.as_context(), default=workflow.mode)
        return value if value in MODES else workflow.mode


def validate_flags(document: Any) -> list[str]:
    """Problems with a flags document (Powertools schema + our mode values); empty when valid."""
    from aws_lambda_powertools.utilities.feature_flags.exceptions import SchemaValidationError
    from aws_lambda_powertools.utilities.feature_flags.schema import SchemaValidator

    try:
        SchemaValidator(document).validate()
    except SchemaValidationError as exc:
        return [str(exc)]
    problems: list[str] = []
    for name, feature in document.items():
        if not name.startswith("mode."):
            continue
        values = [feature.get("default"), *(r.get("when_match") for r in (feature.get("rules") or {}).values())]
        problems.extend(f"{name}: {v!r} is not one of {MODES}" for v in values if v not in MODES)
    return problems
