"""A rollout change as a new flags document: one segment of one workflow to a mode (and a share).

Pure (no I/O). ``--segment`` names a rule of ``mode.<workflow>`` or ``default`` (the flag's default, created
with the policy's mode when the workflow has no flag yet). ``--share PCT`` sets the ``MODULO_RANGE`` condition
on ``ticket_number`` of a percentage rule (``END = START + BASE * PCT / 100 - 1``); naming a rule that does not
exist with ``--share`` adds one, after the existing rules so that they (opt-outs such as ``no_ai``) keep
precedence — its tickets come from the default segment, whose evidence then speaks for it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from triage_gate.policy import Workflow
from triage_gate.rollout import DEFAULT_RULE, MODES, flag_name, validate_flags
from triage_gate.rollout_status import share_of

__all__ = ["ChangeError", "FlagChange", "plan_change"]


class ChangeError(ValueError):
    """The change asked for cannot be expressed (a usage error: exit 2)."""


@dataclass(frozen=True)
class FlagChange:
    workflow: str
    segment: str  # the rule's name, or DEFAULT_RULE
    from_mode: str
    to_mode: str
    share_before: float | None  # None: the whole segment
    share_after: float | None
    evidence_rule: str  # the segment whose decisions are the evidence
    created: str | None  # "flag" or "rule" when the change adds one
    document: dict[str, Any]  # the whole new flags document

    def describe(self) -> str:
        """``mode.w: 'segment' shadow -> assist`` (ASCII: AppConfig descriptions are ASCII only)."""
        share = ""
        if self.share_after != self.share_before:
            share = f" ({_share(self.share_before)} -> {_share(self.share_after)} of ticket numbers)"
        return f"{flag_name(self.workflow)}: {self.segment!r} {self.from_mode} -> {self.to_mode}{share}"


def _share(value: float | None) -> str:
    return "all" if value is None else f"{value:g}%"


def plan_change(
    document: dict[str, Any],
    workflow_name: str,
    workflow: Workflow,
    to_mode: str,
    segment: str = DEFAULT_RULE,
    share: float | None = None,
) -> FlagChange:
    """The flags document with the change made (the original is not touched). Raises ChangeError."""
    if to_mode not in MODES:
        raise ChangeError(f"--to {to_mode!r} is not a mode: one of {', '.join(MODES)}")
    if share is not None and not 0 < share <= 100:
        raise ChangeError(f"--share {share:g} must be a percentage above 0 and at most 100")
    new = copy.deepcopy(document)
    name = flag_name(workflow_name)
    created = None
    if not isinstance(new.get(name), dict):
        new[name] = {"default": workflow.mode, "boolean_type": False}
        created = "flag"
    feature = new[name]
    rules: dict[str, Any] = feature.get("rules") or {}
    if segment == DEFAULT_RULE:
        if share is not None:
            raise ChangeError("--share applies to a percentage rule (--segment RULE), not to the flag's default")
        from_mode, feature["default"] = str(feature.get("default")), to_mode
        change = FlagChange(workflow_name, segment, from_mode, to_mode, None, None, DEFAULT_RULE, created, new)
    elif segment in rules:
        change = _change_rule(workflow_name, new, rules[segment], segment, to_mode, share, created)
    else:
        change = _add_rule(workflow_name, new, feature, segment, to_mode, share, created or "rule")
    problems = validate_flags(change.document)
    if problems:
        raise ChangeError(f"the new flags would be invalid: {'; '.join(problems)}")
    return change


def _change_rule(
    workflow_name: str,
    document: dict[str, Any],
    rule: dict[str, Any],
    segment: str,
    to_mode: str,
    share: float | None,
    created: str | None,
) -> FlagChange:
    from_mode = str(rule.get("when_match"))
    rule["when_match"] = to_mode
    modulo = _modulo(rule)
    before = share_of(modulo) if modulo is not None else None
    if share is not None:
        if modulo is None:
            raise ChangeError(
                f"rule {segment!r} has no MODULO_RANGE condition on ticket_number: --share cannot apply to it"
            )
        _set_share(modulo, share)
    after = share_of(modulo) if modulo is not None else None
    return FlagChange(workflow_name, segment, from_mode, to_mode, before, after, segment, created, document)


def _add_rule(
    workflow_name: str,
    document: dict[str, Any],
    feature: dict[str, Any],
    segment: str,
    to_mode: str,
    share: float | None,
    created: str,
) -> FlagChange:
    names = sorted(feature.get("rules") or {})
    if share is None:
        raise ChangeError(
            f"no rule {segment!r} in {flag_name(workflow_name)} (rules: {names or 'none'}; 'default' is the flag's"
            " default); to add a percentage rule, give --share"
        )
    modulo = {"BASE": 100, "START": 0, "END": 0}
    _set_share(modulo, share)
    condition = {"action": "MODULO_RANGE", "key": "ticket_number", "value": modulo}
    feature["rules"] = {**(feature.get("rules") or {}), segment: {"when_match": to_mode, "conditions": [condition]}}
    from_mode = str(feature.get("default"))
    return FlagChange(
        workflow_name, segment, from_mode, to_mode, 0.0, share_of(modulo), DEFAULT_RULE, created, document
    )


def _modulo(rule: dict[str, Any]) -> dict[str, Any] | None:
    """The rule's own MODULO_RANGE value on ticket_number (changed in place), if it has one."""
    for condition in rule.get("conditions") or []:
        if not isinstance(condition, dict) or not isinstance(condition.get("value"), dict):
            continue
        if condition.get("action") == "MODULO_RANGE" and condition.get("key") == "ticket_number":
            value: dict[str, Any] = condition["value"]
            return value
    return None


def _set_share(modulo: dict[str, Any], share: float) -> None:
    base, start = int(modulo["BASE"]), int(modulo["START"])
    width = round(base * share / 100)
    if width < 1 or start + width - 1 >= base:
        raise ChangeError(
            f"--share {share:g}% does not fit the rule's range (BASE {base}, START {start}): "
            f"it would cover {width} of {base - start} ticket-number slots"
        )
    modulo["END"] = start + width - 1
