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
Without a flag for the workflow the policy file's mode applies.

Which segment decided is said too (:class:`RolloutChoice`, kept on every decision as ``rollout_rule``): the
name of the rule that matched, ``"default"`` when none did (the flag's default), ``None`` when the policy's
mode applied (no flag for the workflow). ``triage rollout status`` measures each segment by it. The rule is
found by Powertools itself, on a copy of the flag whose outcomes are the rules' names.

Fail closed: when the ticket's context could not be fetched, the segment is read from the event's own
fields (the webhook's ticket snapshot); a key neither gives is *unknown*, and a rule that reads an
unknown key cannot be evaluated, so its outcome is taken if it is safer (off < shadow < assist < auto).
If the flags cannot be read at all, the workflow is off for that ticket (it stays undecided, so a later
event can still decide it) and `FlagsUnavailable` is counted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec
from aws_lambda_powertools.utilities.feature_flags import FeatureFlags
from aws_lambda_powertools.utilities.feature_flags.base import StoreProvider
from aws_lambda_powertools.utilities.feature_flags.exceptions import ConfigurationStoreError, SchemaValidationError
from aws_lambda_powertools.utilities.feature_flags.schema import SchemaValidator
from msgspec import field

from triage_gate.policy import Workflow
from triage_gate.triage.context import dotted

MODES = ("off", "shadow", "assist", "auto")  # safest first
SEGMENT_KEYS = ("brand", "group", "tier", "tags")
DEFAULT_RULE = "default"  # the segment of tickets no rule matched: the flag's default mode
_NO_RULE_MATCHED = "\x00no rule matched"  # the labelled copy's default (a rule may not be named like this)


def flag_name(workflow_name: str) -> str:
    return f"mode.{workflow_name}"


def safest(*modes: str) -> str:
    return min(modes, key=lambda mode: MODES.index(mode) if mode in MODES else 0)


class FlagsUnavailable(Exception):
    """The rollout flags could not be read: the caller fails closed."""


class Segment(msgspec.Struct, frozen=True):
    workflow: str
    source: str
    ticket_id: str
    brand: str | None = None
    group: str | None = None
    tier: str | None = None
    tags: list[str] = field(default_factory=list)
    # Keys neither the fetched context nor the event could tell (rules reading them fail closed).
    unknown: frozenset[str] = frozenset()

    def as_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {"workflow": self.workflow, "source": self.source}
        if "tags" not in self.unknown:
            context["tags"] = list(self.tags)
        for key in ("brand", "group", "tier"):
            if getattr(self, key) is not None:
                context[key] = getattr(self, key)
        # MODULO_RANGE needs an int: a string id would silently never match.
        digits = "".join(c for c in self.ticket_id if c.isdigit())
        context["ticket_number"] = int(digits) if digits else 0
        return context


def segment_of(
    workflow: str,
    source: str,
    ticket_id: str,
    documents: Mapping[str, Any],
    tier: str | None,
    event_fields: Mapping[str, Any] | None = None,
) -> Segment:
    """The ticket's segment from the fetched context, or from the event's own fields when there is none."""
    if documents.get("ticket"):
        return _segment(workflow, source, ticket_id, documents["ticket"], documents, tier, frozenset())
    fields = dict(event_fields or {})
    unknown = {key for key, names in _EVENT_FIELDS.items() if not any(fields.get(n) is not None for n in names)}
    unknown.add("tier")  # only the context says the customer's tier
    return _segment(workflow, source, ticket_id, fields, {"ticket": fields}, None, frozenset(unknown))


# Where the event's own fields (intake's TicketEvent.fields) carry each segment key.
_EVENT_FIELDS = {"brand": ("brand_id", "brand", "hs_pipeline"), "group": ("group_id", "hs_pipeline_stage"),
                 "tags": ("tags",)}  # fmt: skip


def _segment(
    workflow: str,
    source: str,
    ticket_id: str,
    ticket: Mapping[str, Any],
    documents: Mapping[str, Any],
    tier: str | None,
    unknown: frozenset[str],
) -> Segment:
    brand = ticket.get("brand_id") or ticket.get("brand") or dotted(documents, "ticket.hs_pipeline")
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
        unknown=unknown,
    )


class RolloutChoice(msgspec.Struct, frozen=True):
    mode: str
    # The flag rule that decided the mode: a rule's name, DEFAULT_RULE, or None when the policy's mode applied.
    rule: str | None = None


class Rollout(Protocol):
    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str: ...


@runtime_checkable
class SegmentedRollout(Protocol):
    """A rollout that also says which flag rule decided (every rollout here; a fixed-mode stand-in may not)."""

    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str: ...

    def choose(self, workflow_name: str, workflow: Workflow, segment: Segment) -> RolloutChoice: ...


def choose(rollout: Rollout, workflow_name: str, workflow: Workflow, segment: Segment) -> RolloutChoice:
    """The mode and the rule that decided it; a rollout that only says the mode (e.g. the evaluation's fixed
    auto mode) names no rule."""
    if isinstance(rollout, SegmentedRollout):
        return rollout.choose(workflow_name, workflow, segment)
    return RolloutChoice(rollout.mode_for(workflow_name, workflow, segment), None)


class PolicyRollout:
    """No flags: the policy file's mode for every segment."""

    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str:
        return workflow.mode

    def choose(self, workflow_name: str, workflow: Workflow, segment: Segment) -> RolloutChoice:
        return RolloutChoice(workflow.mode, None)


class FlagRollout:
    def __init__(self, store: Any) -> None:
        self._flags = FeatureFlags(store=store)
        self._labelled: dict[str, tuple[Mapping[str, Any], FeatureFlags]] = {}

    def mode_for(self, workflow_name: str, workflow: Workflow, segment: Segment) -> str:
        return self.choose(workflow_name, workflow, segment).mode

    def choose(self, workflow_name: str, workflow: Workflow, segment: Segment) -> RolloutChoice:
        name = flag_name(workflow_name)
        try:
            feature = self._flags.get_configuration().get(name)
        except ConfigurationStoreError as exc:
            raise FlagsUnavailable(str(exc)) from exc
        if not isinstance(feature, dict):
            return RolloutChoice(workflow.mode, None)
        context = segment.as_context()
        value = self._flags.evaluate(name=name, context=context, default=workflow.mode)
        # Not a mode (e.g. a boolean flag): the policy's mode, decided by no rule.
        candidates: list[tuple[str, str | None]] = [
            (str(value), self._matched_rule(name, feature, context)) if value in MODES else (workflow.mode, None)
        ]
        # Fail closed: a rule we cannot evaluate could have matched, so its outcome is taken when it is safer.
        candidates += [(str(r.get("when_match")), n) for n, r in _unevaluable_rules(feature, segment.unknown)]
        mode = safest(*(m for m, _ in candidates))
        return RolloutChoice(mode, next(rule for m, rule in candidates if m == mode))

    def _matched_rule(self, name: str, feature: Mapping[str, Any], context: dict[str, Any]) -> str:
        """The first rule whose conditions hold (Powertools' own matching, on a copy whose outcomes are the
        rules' names), or DEFAULT_RULE."""
        if not feature.get("rules"):
            return DEFAULT_RULE
        cached = self._labelled.get(name)
        if cached is None or cached[0] is not feature:  # the store serves the same document until it changes
            cached = (feature, FeatureFlags(store=_StaticStore({name: _labelled(feature)})))
            self._labelled[name] = cached
        matched = cached[1].evaluate(name=name, context=context, default=_NO_RULE_MATCHED)
        return DEFAULT_RULE if matched == _NO_RULE_MATCHED else str(matched)


def _labelled(feature: Mapping[str, Any]) -> dict[str, Any]:
    rules = feature.get("rules") or {}
    labelled = {name: {**rule, "when_match": name} for name, rule in rules.items()}
    return {"default": _NO_RULE_MATCHED, "boolean_type": False, "rules": labelled}


class _StaticStore(StoreProvider):
    def __init__(self, document: dict[str, Any]) -> None:
        self._document = document

    @property
    def get_raw_configuration(self) -> dict[str, Any]:
        return self._document

    def get_configuration(self) -> dict[str, Any]:
        return self._document


def _unevaluable_rules(feature: Mapping[str, Any], unknown: frozenset[str]) -> list[tuple[str, Mapping[str, Any]]]:
    """The rules (name, rule) that read a key we do not know: each could have matched."""
    found = []
    for name, rule in (feature.get("rules") or {}).items():
        keys = {c.get("key") for c in rule.get("conditions") or [] if isinstance(c, dict)}
        if keys & unknown:
            found.append((str(name), rule))
    return found


def validate_flags(document: Any) -> list[str]:
    """Problems with a flags document (Powertools schema + our mode values); empty when valid."""
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
        reserved = sorted({DEFAULT_RULE, _NO_RULE_MATCHED} & set(feature.get("rules") or {}))
        problems.extend(f"{name}: a rule may not be named {r!r} (it names the flag's default)" for r in reserved)
    return problems
