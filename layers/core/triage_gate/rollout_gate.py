"""The promotion gate: whether a rollout change is backed by evidence, and what each segment should do next.

Pure functions over :mod:`triage_gate.rollout_status`. The bar is the workflow's policy
(``error_tolerance`` and ``promotion``); ``bar = 1 - error_tolerance``:

- **roll back** (a safer mode, or a smaller share): always allowed.
- ``off`` → ``shadow``: allowed (shadow applies nothing).
- → ``assist``: the Wilson *lower* bound of shadow agreement ≥ bar, over ≥ ``min_shadow_findings`` findings.
- → ``auto``, and **widening** an assist or auto share: the Wilson lower bound of applied precision ≥ bar, over
  ≥ ``min_applied`` applied decisions (applied decisions exist in assist or auto only: one step at a time).
- every promotion or widening also needs ≥ ``min_decisions`` decisions in the segment and reviews that keep
  their SLA: the workflow's SLA miss rate ≤ ``max_sla_miss_rate`` (a promotion adds review load, and reviewers
  serve the whole workflow).

**Recommendation** per segment: *roll back* one mode when applied precision's Wilson *upper* bound is below the
bar (the evidence says precision is worse than the tolerance; after ``min_rollback_sample`` applied decisions);
else *promote* one mode (shadow → assist → auto) when the gate passes, *widen* an auto percentage to the next of
``auto_shares`` when it passes, or *hold* with the bars still unmet.
"""

from __future__ import annotations

import shlex
from typing import Any, Literal

import msgspec

from triage_gate.display import percent
from triage_gate.rollout import DEFAULT_RULE, MODES
from triage_gate.rollout_status import Evidence, SegmentStatus, WorkflowRollout

__all__ = ["Judgement", "Recommendation", "judge", "recommend"]

ChangeKind = Literal["roll_back", "promotion", "widening", "no_change"]
Action = Literal["hold", "promote", "widen", "roll_back"]


class Judgement(msgspec.Struct, frozen=True):
    kind: ChangeKind
    unmet: tuple[str, ...] = ()  # each bar the evidence does not meet, in words

    @property
    def allowed(self) -> bool:
        return self.kind != "no_change" and not self.unmet


def _rank(mode: str | None) -> int:
    return MODES.index(mode) if mode in MODES else 0


def judge(
    rollout: WorkflowRollout,
    evidence: Evidence,
    from_mode: str,
    to_mode: str,
    share_before: float | None = None,
    share_after: float | None = None,
) -> Judgement:
    """Whether moving a segment (measured by ``evidence``) from ``from_mode`` to ``to_mode`` — and its share of
    ticket numbers from ``share_before`` to ``share_after`` (None: the whole segment) — meets the bar."""
    before = 100.0 if share_before is None else share_before
    after = 100.0 if share_after is None else share_after
    if _rank(to_mode) < _rank(from_mode) or (to_mode == from_mode and after < before):
        return Judgement("roll_back")
    if to_mode == from_mode and after == before:
        return Judgement("no_change")
    if to_mode == from_mode:  # the same mode for more tickets; in shadow (or off) nothing more is applied
        if to_mode not in ("assist", "auto"):
            return Judgement("widening")
        return Judgement("widening", tuple(_applied_bar(rollout, evidence) + _load_bars(rollout, evidence)))
    if to_mode == "shadow":
        return Judgement("promotion")
    unmet = _shadow_bar(rollout, evidence) if to_mode == "assist" else _applied_bar(rollout, evidence)
    if to_mode == "auto" and from_mode != "assist":
        unmet.append(
            f"{from_mode} → auto skips assist: applied precision is measured in assist; promote to assist first"
        )
    return Judgement("promotion", tuple(unmet + _load_bars(rollout, evidence)))


def _shadow_bar(rollout: WorkflowRollout, evidence: Evidence) -> list[str]:
    bar, promotion = rollout.bar, rollout.workflow.promotion
    measures = evidence.measures(rollout.z)
    unmet = []
    if evidence.shadow_findings < promotion.min_shadow_findings:
        unmet.append(
            f"shadow findings {evidence.shadow_findings} < min_shadow_findings {promotion.min_shadow_findings}"
        )
    lower = measures["shadow_agreement_lower"]  # None: no findings, which the count above already says
    if lower is not None and lower < bar:
        unmet.append(f"shadow agreement lower bound {percent(lower)} < {_bar_words(rollout)}")
    return unmet


def _applied_bar(rollout: WorkflowRollout, evidence: Evidence) -> list[str]:
    bar, promotion = rollout.bar, rollout.workflow.promotion
    measures = evidence.measures(rollout.z)
    unmet = []
    if evidence.applied < promotion.min_applied:
        unmet.append(f"applied decisions {evidence.applied} < min_applied {promotion.min_applied}")
    lower = measures["precision_lower"]  # None: nothing applied, which the count above already says
    if lower is not None and lower < bar:
        unmet.append(f"applied precision lower bound {percent(lower)} < {_bar_words(rollout)}")
    return unmet


def _load_bars(rollout: WorkflowRollout, evidence: Evidence) -> list[str]:
    promotion, sla = rollout.workflow.promotion, rollout.workflow.sla
    unmet = []
    if evidence.decisions < promotion.min_decisions:
        unmet.append(f"decisions {evidence.decisions} < min_decisions {promotion.min_decisions}")
    miss_rate = rollout.review.measures(rollout.z)["sla_miss_rate"]
    if miss_rate is not None and miss_rate > promotion.max_sla_miss_rate:
        unmet.append(
            f"review SLA misses {percent(miss_rate)} > max_sla_miss_rate {percent(promotion.max_sla_miss_rate)}"
            f" ({rollout.review.sla_misses} of {rollout.review.reviews_answered + rollout.review.reviews_pending}"
            f" reviews answered after, or waiting past, {sla.review_minutes} min)"
        )
    return unmet


def _bar_words(rollout: WorkflowRollout) -> str:
    return f"{percent(rollout.bar)} (1 - error_tolerance {rollout.workflow.error_tolerance:g})"


class Recommendation(msgspec.Struct, frozen=True):
    action: Action
    to_mode: str | None = None
    share: float | None = None
    reasons: tuple[str, ...] = ()
    command: str | None = None  # the `triage rollout promote` that carries it out

    def summary(self) -> str:
        """``promote to assist``, ``widen to 25%``, ``roll back to assist``, ``hold``."""
        if self.action == "widen":
            return f"widen to {self.share:g}%"
        return f"{self.action.replace('_', ' ')} to {self.to_mode}" if self.to_mode else self.action

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "to_mode": self.to_mode, "share": self.share,
                "reasons": list(self.reasons), "command": self.command}  # fmt: skip


def recommend(rollout: WorkflowRollout, item: SegmentStatus) -> Recommendation:
    """What this segment should do next (see the module docstring)."""
    segment, evidence = item.segment, item.evidence
    if segment.retired:
        return Recommendation("hold", reasons=("not in the current flags: kept for its history",))
    mode = str(segment.mode)
    if mode in ("assist", "auto") and (reason := _rollback_reason(rollout, evidence)):
        previous = MODES[MODES.index(mode) - 1]
        return Recommendation("roll_back", previous, reasons=(reason,), command=_command(rollout, item, previous))
    if mode not in MODES or mode == "off":
        return Recommendation("hold", reasons=(f"{mode}: nothing is decided in this segment, nothing is measured",))
    if mode == "auto":
        return _widen_or_hold(rollout, item)
    target = MODES[MODES.index(mode) + 1]
    judgement = judge(rollout, evidence, mode, target, segment.share, segment.share)
    if judgement.allowed:
        return Recommendation("promote", target, command=_command(rollout, item, target))
    return Recommendation("hold", reasons=judgement.unmet)


def _rollback_reason(rollout: WorkflowRollout, evidence: Evidence) -> str | None:
    upper = evidence.measures(rollout.z)["precision_upper"]
    if evidence.applied < rollout.workflow.promotion.min_rollback_sample or upper is None or upper >= rollout.bar:
        return None
    return (
        f"applied precision upper bound {percent(upper)} < {_bar_words(rollout)}: "
        f"{evidence.applied_errors} of {evidence.applied} applied decisions were overridden or corrected"
    )


def _widen_or_hold(rollout: WorkflowRollout, item: SegmentStatus) -> Recommendation:
    share = item.segment.share
    if share is None or share >= 100:
        return Recommendation("hold", reasons=("auto for the whole segment: nothing left to widen",))
    steps = rollout.workflow.promotion.auto_shares
    after = float(next((s for s in steps if s > share), 100))
    judgement = judge(rollout, item.evidence, "auto", "auto", share, after)
    if judgement.allowed:
        return Recommendation("widen", "auto", after, command=_command(rollout, item, "auto", after))
    return Recommendation("hold", reasons=judgement.unmet)


def _command(rollout: WorkflowRollout, item: SegmentStatus, to_mode: str, share: float | None = None) -> str:
    rule = item.segment.rule if item.segment.rule is not None else DEFAULT_RULE
    words = ["triage", "rollout", "promote", "--workflow", rollout.name, "--to", to_mode, "--segment", rule]
    if share is not None:
        words += ["--share", f"{share:g}"]
    return shlex.join(words)
