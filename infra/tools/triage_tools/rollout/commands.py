"""What ``triage rollout status`` and ``triage rollout promote`` do (arguments: :mod:`.cli`).

Exit codes: 0 done; 1 refused by the promotion bar, or a runtime failure (flags, decisions or the audit trail
unreadable or unwritable); 2 a usage error (unknown workflow, incomplete options, a change that cannot be
expressed, ``--force`` without ``--reason``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from triage_gate.display import percent
from triage_gate.errors import ConfigurationError
from triage_gate.policy import Policy, load_policy
from triage_gate.rollout_gate import Judgement, judge
from triage_gate.rollout_status import RolloutStatus, WorkflowRollout, status
from triage_gate.triage.decision import DecisionRecord
from triage_tools.cli.stores import unreachable
from triage_tools.reports.rollout import RolloutView, as_json, terminal, write_json
from triage_tools.rollout.audit import AuditEntry, AuditError
from triage_tools.rollout.change import ChangeError, FlagChange, plan_change
from triage_tools.rollout.flags import FlagsError
from triage_tools.rollout.sources import Sources, UsageError, resolve

__all__ = ["print_report_section", "promote_command", "rollout_view", "status_command"]

RECENT_CHANGES = 5


def _fail(command: str, message: str, code: int) -> int:
    print(f"triage rollout {command}: {message}", file=sys.stderr)
    return code


def _setup(args: argparse.Namespace, command: str) -> tuple[Policy, Sources] | int:
    try:
        policy = load_policy(args.policy)
        sources = resolve(args)
    except (ConfigurationError, UsageError) as exc:
        return _fail(command, str(exc), 2)
    except FlagsError as exc:
        return _fail(command, str(exc), 1)
    except (BotoCoreError, ClientError) as exc:  # e.g. no region for the AWS clients
        return _fail(command, f"cannot reach AWS: {exc}", 1)
    if args.workflow and args.workflow not in policy.workflows:
        return _fail(command, f"no workflow {args.workflow!r} (workflows: {sorted(policy.workflows)})", 2)
    return policy, sources


def _read(command: str, read: Callable[[], Any], url: str | None = None) -> Any:
    """``read()``, or a one-line failure on stderr (raised as _Failed)."""
    try:
        return read()
    except FlagsError as exc:
        raise _Failed(_fail(command, str(exc), 1)) from exc
    except requests.RequestException as exc:
        message = unreachable(url, exc)
        raise _Failed(_fail(command, message, 1)) from exc
    except (BotoCoreError, ClientError) as exc:
        raise _Failed(_fail(command, f"cannot read the decisions: {exc}", 1)) from exc


class _Failed(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def rollout_view(
    policy: Policy, sources: Sources, document: dict[str, Any], records: list[DecisionRecord], workflow: str | None
) -> RolloutView:
    """The status of every workflow (or one) with the last changes from the audit trail."""
    measured = status(records, policy, document, datetime.now(UTC))
    view = RolloutView(measured, sources.flags.where, sources.flags.busy(), workflow=workflow)
    view.audit, view.audit_note = (sources.audit.where, None) if sources.audit else (None, sources.audit_problem)
    if sources.audit is not None:
        try:
            recent = sources.audit.recent([workflow] if workflow else sorted(policy.workflows), RECENT_CHANGES)
        except AuditError as exc:
            view.audit_note = str(exc)
        else:
            view.changes = recent.entries
            if recent.unreadable:
                view.audit_note = f"{recent.unreadable} audit entries could not be read"
    return view


def status_command(args: argparse.Namespace) -> int:
    setup = _setup(args, "status")
    if isinstance(setup, int):
        return setup
    policy, sources = setup
    try:
        document = _read("status", sources.flags.read)
        records = _read("status", sources.decisions, args.url)
        view = _read("status", lambda: rollout_view(policy, sources, document, records, args.workflow))
    except _Failed as failed:
        return failed.code
    print(json.dumps(as_json(view), indent=2, default=str) if args.json else terminal(view))
    return 0


def print_report_section(args: argparse.Namespace, policy: Policy, records: list[DecisionRecord]) -> None:
    """``triage report``'s rollout section (and ``rollout.json`` with ``--out``). The ROI report stands without
    it: when the flags cannot be read, the section says why instead."""
    try:
        sources = resolve(args)
        view = rollout_view(policy, sources, sources.flags.read(), records, args.workflow)
    except (UsageError, FlagsError, BotoCoreError, ClientError) as exc:
        print(f"\nRollout: not shown: {exc}")
        return
    print("\n" + terminal(view))
    if args.out:
        print(f"rollout: {write_json(args.out, view)}")


def promote_command(args: argparse.Namespace) -> int:
    if args.force and not (args.reason or "").strip():
        return _fail("promote", "--force needs --reason TEXT (it is recorded in the audit trail)", 2)
    setup = _setup(args, "promote")
    if isinstance(setup, int):
        return setup
    policy, sources = setup
    try:
        if busy := _read("promote", sources.flags.busy):
            return _fail("promote", busy, 1)
        document = _read("promote", sources.flags.read)
        change = plan_change(
            document, args.workflow, policy.workflows[args.workflow], args.to, args.segment, args.share
        )
        measured, evidence_problem = _evidence(sources, policy, document)
    except ChangeError as exc:
        return _fail("promote", str(exc), 2)
    except _Failed as failed:
        return failed.code
    return _decide(args, sources, change, measured, evidence_problem)


def _evidence(sources: Sources, policy: Policy, document: dict[str, Any]) -> tuple[RolloutStatus, str | None]:
    """The rollout status now; without readable decisions, an empty one and why (a roll back or a forced change
    does not need evidence; a promotion is then refused by the bar it cannot meet)."""
    try:
        records = _read("promote", sources.decisions)
    except _Failed:
        return status([], policy, document, datetime.now(UTC)), "the decisions could not be read (above)"
    return status(records, policy, document, datetime.now(UTC)), None


def _decide(
    args: argparse.Namespace, sources: Sources, change: FlagChange, measured: RolloutStatus, problem: str | None
) -> int:
    rollout = measured.workflows[change.workflow]
    evidence = rollout.evidence_for(change.evidence_rule)
    judgement = judge(rollout, evidence, change.from_mode, change.to_mode, change.share_before, change.share_after)
    if judgement.kind == "no_change":
        return _fail("promote", f"nothing to change: {change.describe()}", 2)
    summary = _evidence_words(rollout, change.evidence_rule)
    if judgement.unmet and not args.force:
        bars = "\n".join(f"  - {bar}" for bar in judgement.unmet)
        extra = f"\n  ({problem})" if problem else ""
        return _fail(
            "promote",
            f"refused: {change.describe()} does not meet the promotion bar:\n{bars}{extra}\n"
            f"  evidence: {summary}\n"
            "  (--force --reason TEXT makes the change anyway; it is recorded in the audit trail)",
            1,
        )
    if sources.audit is None:
        return _fail("promote", f"{sources.audit_problem} (every change is recorded)", 2)
    return _write(args, sources, change, judgement, rollout, summary)


def _write(
    args: argparse.Namespace,
    sources: Sources,
    change: FlagChange,
    judgement: Judgement,
    rollout: WorkflowRollout,
    summary: str,
) -> int:
    assert sources.audit is not None
    identity = sources.identity()
    actor = sources.actor(args.actor, identity)
    description = f"{change.describe()} by {actor}" + (f": {args.reason}" if args.reason else "")
    try:
        result = sources.flags.write(change.document, description)
    except FlagsError as exc:
        return _fail("promote", str(exc), 1)
    entry = AuditEntry(
        at=datetime.now(UTC).isoformat(timespec="seconds"), actor=actor, workflow=change.workflow,
        segment=change.segment, kind=judgement.kind, from_mode=change.from_mode, to_mode=change.to_mode,
        target=sources.flags.where, share_before=change.share_before, share_after=change.share_after,
        forced=bool(judgement.unmet), reason=args.reason, unmet=list(judgement.unmet),
        evidence={"segment": change.evidence_rule, **rollout.evidence_for(change.evidence_rule).as_dict(rollout.z)},
        result=result, identity=identity,
    )  # fmt: skip
    try:
        sources.audit.append(entry)
    except AuditError as exc:
        print(
            f"the flags WERE changed, but the audit entry was not recorded: {exc}\n{entry.as_json()}", file=sys.stderr
        )
        return 1
    verb = {"roll_back": "rolled back", "widening": "widened", "promotion": "promoted"}[judgement.kind]
    print(f"{verb}{' (FORCED)' if entry.forced else ''}: {change.describe()}")
    print(f"  evidence: {summary}")
    for bar in judgement.unmet:
        print(f"  unmet: {bar}")
    print(f"  written: {json.dumps(result)}")
    print(f"  recorded in the audit trail: {sources.audit.where} (by {actor})")
    return 0


def _evidence_words(rollout: WorkflowRollout, rule: str) -> str:
    evidence = rollout.evidence_for(rule)
    measures = evidence.measures(rollout.z)
    words = [f"segment {rule!r}, last {rollout.workflow.promotion.window_days} days: {evidence.decisions} decisions"]
    if evidence.shadow_findings:
        words.append(
            f"shadow agreement {percent(measures['shadow_agreement'])} of {evidence.shadow_findings}"
            f" (lower bound {percent(measures['shadow_agreement_lower'])})"
        )
    if evidence.applied:
        words.append(
            f"applied precision {percent(measures['precision'])} of {evidence.applied}"
            f" (lower bound {percent(measures['precision_lower'])}, upper {percent(measures['precision_upper'])})"
        )
    return "; ".join([*words, f"bar {percent(rollout.bar)}"])
