"""``make demo``: bring the stack up locally, replay signed webhooks from events/, show the outcomes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import requests

from triage_gate.triage.decision import DecisionRecord
from triage_local import demo_data
from triage_local.demo_adoption import day_zero
from triage_local.review_cli import click
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample, send
from triage_tools.cli import main as triage


@dataclass(frozen=True)
class Step:
    label: str
    sample: str
    tamper: str = ""  # "", "bad_signature", "stale"


STEPS = (
    Step("Zendesk event: ticket.created", "ingest__zendesk_ticket_created.json"),
    Step("Zendesk event: ticket.comment_added", "ingest__zendesk_comment_added.json"),
    Step("Zendesk trigger: ticket_created", "ingest__zendesk_trigger_ticket_created.json"),
    Step("HubSpot batch (4 events)", "ingest__hubspot_batch.json"),
    Step("Zendesk redelivery of the first event", "ingest__zendesk_ticket_created.json"),
    Step("Zendesk event: agent's internal note", "ingest__zendesk_staff_comment.json"),
    Step("Zendesk event signed with a wrong secret", "ingest__zendesk_priority_changed.json", "bad_signature"),
    Step("HubSpot batch signed 10 minutes ago", "ingest__hubspot_batch.json", "stale"),
)


def demo_secrets() -> dict[str, str]:
    """The demo makes up its own vendor secrets; nothing real is needed."""
    return {
        "ZENDESK_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "HUBSPOT_CLIENT_SECRET": secrets.token_hex(18),
        "SLACK_SIGNING_SECRET": secrets.token_hex(16),
        "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
        "HUBSPOT_ACCESS_TOKEN": demo_data.HUBSPOT_TOKEN,
        "SLACK_BOT_TOKEN": demo_data.SLACK_TOKEN,
    }


def run_demo(
    root: Path, port: int, out: TextIO = sys.stdout, log_path: Path | None = None, *, paced: bool = True
) -> int:
    generated = demo_secrets()
    log_path = log_path or root / ".triage" / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN, slack_token=demo_data.SLACK_TOKEN,
    )  # fmt: skip
    with log_path.open("w", encoding="utf-8") as log, sandboxes:
        demo_data.seed(sandboxes)
        policy = day_zero(root, sandboxes, log_path.parent / "demo", out, paced=paced)
        # No ANTHROPIC_API_KEY: the local model classifies, so the demo runs offline.
        flags = root / "infra" / "local" / "flags.json"
        environ = {**_base_environ(), **generated, **sandboxes.env(), "FLAGS_FILE": str(flags)}
        environ.pop("ANTHROPIC_API_KEY", None)
        config = RunnerConfig(
            template_path=root / "template.yaml", port=port, environ=environ,
            parameter_overrides={"PolicyPath": str(policy)},
        )  # fmt: skip
        with LocalRunner(config, log=log) as runner:
            out.write(f"\nLive: the local stack at {runner.base_url} (AWS: {runner.endpoint_url})\n")
            out.write(
                "Zendesk and HubSpot are local sandboxes; no ANTHROPIC_API_KEY, so the local model classifies.\n\n"
            )
            # The samples were written on a fixed date: they are replayed as happening now.
            now = datetime.now(UTC)
            rows = [_play(step, root / "events", runner.base_url, generated, now) for step in STEPS]
            _print_table(rows, out)
            decisions = wait_for_decisions(runner, EXPECTED_DECISIONS)
            out.write("\nWhat TriageFunction decided:\n")
            print_decisions(decisions, out)
            wait_for_writebacks(runner, [d for d in decisions if d.action == "apply"])
            out.write("\nWhat reached the tickets (sandboxed Zendesk and HubSpot):\n")
            print_ticket_updates(sandboxes, decisions, out)
            review_demo(runner, sandboxes, decisions, generated["SLACK_SIGNING_SECRET"], out)
            print_report(runner, policy, flags, out)
            depths = runner.queue_depths()
            out.write(
                f"\nQueues: ActionsQueue {depths['ActionsQueue']['visible']} to write back, "
                f"ExceptionQueue {depths['ExceptionQueue']['visible']} for review, "
                f"TriageQueue {depths['TriageQueue']['visible'] + depths['TriageQueue']['in_flight']} left; "
                f"DLQs: {sum(v['visible'] for k, v in depths.items() if k.endswith('Dlq'))}.\n"
                f"Function logs: {log_path}\n"
            )
        return _report_iam(runner, out)
    return 0


def _report_iam(runner: LocalRunner, out: TextIO) -> int:
    """Each function ran with its own role (IAM enforced): a denied call fails the demo, naming it."""
    if runner.iam is None:
        out.write("IAM: not enforced (TRIAGE_ENFORCE_IAM=0 or an AWS endpoint you run).\n")
        return 0
    calls, denied = runner.aws_calls(), runner.denied_calls()
    functions = len({c.function for c in calls})
    out.write(f"IAM: enforced, one role per function: {len(calls)} distinct AWS calls by {functions} functions, "
              f"{len(denied)} denied.\n")  # fmt: skip
    for call in denied:
        out.write(f"  DENIED {call.function}: {call.grant} (not granted in template.yaml)\n")
    return 1 if denied else 0


# ticket.created 40211, comment_added 40198, trigger 40215 and the HubSpot ticket.creation.
EXPECTED_DECISIONS = 4


def wait_for_decisions(runner: LocalRunner, expected: int, timeout: float = 60.0) -> list[DecisionRecord]:
    ddb = runner.session.client("dynamodb")
    table = runner.physical_id("DecisionsTable")
    deadline = time.monotonic() + timeout
    while True:
        items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
        routed = [i for i in items if i["status"]["S"] == "routed"]
        if len(routed) >= expected or time.monotonic() > deadline:
            records = [DecisionRecord.from_json(i["record"]["S"]) for i in routed]
            return sorted(records, key=lambda r: (r.source, r.ticket_id))
        time.sleep(0.3)


def review_demo(
    runner: LocalRunner, sandboxes: Sandboxes, decisions: list[DecisionRecord], secret: str, out: TextIO
) -> None:
    """A reviewer works one case from Slack: the corrected label reaches the ticket."""
    reviews = [d for d in decisions if d.action == "review"]
    posted = wait_for_reviews(runner, reviews)
    channel = sandboxes.slack.channel_id(demo_data.REVIEW_CHANNEL)
    out.write(f"\nReview cases posted to Slack {demo_data.REVIEW_CHANNEL}: {len(sandboxes.slack.messages(channel))}\n")
    case = next((d for d in reviews if d.source == "zendesk" and d.ticket_id == "40215"), None)
    if case is None or case.decision_id not in posted:
        out.write("  (no review case for ticket 40215 to correct)\n")
        return
    response = click(
        runner.base_url, "correct", case.decision_id, secret=secret, user="U0REVIEWER",
        labels={"priority": "high"}, reason="wrong_priority",
    )  # fmt: skip
    out.write(
        f"  A reviewer corrects zendesk #40215 in Slack: priority {case.labels.get('priority')} → high "
        f"(reason wrong_priority) — /slack/interactions answered {response.status_code}\n"
    )
    corrected = case.replace(**{"action": "apply"})
    wait_for_writebacks(runner, [corrected])
    ticket = sandboxes.zendesk.ticket(40215) or {}
    fields = f"priority {ticket.get('priority')}, group {ticket.get('group_id')}, tags {ticket.get('tags')}"
    out.write(f"  zendesk 40215 now: {fields}\n")
    message = sandboxes.slack.message(channel, posted[case.decision_id])
    out.write(f"  Slack message now says: {message.get('text')}\n")


def print_report(runner: LocalRunner, policy: Path, flags: Path, out: TextIO) -> None:
    """`triage report` against the demo stack: ROI against the measured baseline, then the rollout gate."""
    argv = ["report", "--url", runner.base_url, "--policy", str(policy), "--flags", str(flags)]
    out.write(f"\n$ triage report --url {runner.base_url} --policy {policy.name} --flags {flags.name}\n")
    out.flush()
    with contextlib.redirect_stdout(out):
        triage(argv)


def wait_for_reviews(runner: LocalRunner, reviews: list[DecisionRecord], timeout: float = 30.0) -> dict[str, str]:
    ddb = runner.session.client("dynamodb")
    table = runner.physical_id("DecisionsTable")
    deadline = time.monotonic() + timeout
    posted: dict[str, str] = {}
    while len(posted) < len(reviews) and time.monotonic() < deadline:
        for record in reviews:
            item = ddb.get_item(TableName=table, Key={"pk": {"S": record.decision_id}}, ConsistentRead=True)
            ts = item.get("Item", {}).get("review_ts", {}).get("S")
            if ts:
                posted[record.decision_id] = ts
        time.sleep(0.3)
    return posted


def wait_for_writebacks(runner: LocalRunner, applied: list[DecisionRecord], timeout: float = 30.0) -> None:
    ddb = runner.session.client("dynamodb")
    table = runner.physical_id("DecisionsTable")
    deadline = time.monotonic() + timeout
    pending = {d.decision_id for d in applied}
    while pending and time.monotonic() < deadline:
        for decision_id in list(pending):
            item = ddb.get_item(TableName=table, Key={"pk": {"S": decision_id}}, ConsistentRead=True).get("Item", {})
            state = json.loads(item["writeback"]["S"]) if "writeback" in item else {}
            if state.get("status") in ("applied", "failed"):
                pending.discard(decision_id)
        time.sleep(0.3)


def print_ticket_updates(sandboxes: Sandboxes, records: list[DecisionRecord], out: TextIO) -> None:
    for record in records:
        if record.source == "zendesk":
            ticket = sandboxes.zendesk.ticket(int(record.ticket_id)) or {}
            notes = [c for c in sandboxes.zendesk.comments_for(int(record.ticket_id)) if not c.get("public", True)]
            fields = {k: ticket.get(k) for k in ("group_id", "priority", "type")}
            custom = {f["id"]: f["value"] for f in ticket.get("custom_fields") or [] if f.get("value")}
            line = f"  zendesk {record.ticket_id}: {fields}, custom {custom}, tags {ticket.get('tags')}"
        else:
            ticket = sandboxes.hubspot.ticket(record.ticket_id) or {}
            props = ticket.get("properties", ticket)
            notes = sandboxes.hubspot.notes_for(record.ticket_id)
            keys = ("hs_ticket_category", "hs_ticket_priority", "ai_triage_category")
            line = f"  hubspot {record.ticket_id}: { ({k: props.get(k) for k in keys}) }"
        note = notes[-1] if notes else None
        note_text = (note.get("body") or note.get("properties", {}).get("hs_note_body") or "") if note else ""
        first = note_text.splitlines()[0] if note_text else "no note"
        out.write(
            f"{line}; {len(notes)} internal note(s){': ' + first if notes else ''} [{record.mode}/{record.action}]\n"
        )


def _language(record: DecisionRecord) -> str:
    """``en (0.93)`` detected; ``de (locale)`` / ``en (default)`` when detection was unsure."""
    language = record.language
    if language is None:
        return "-"
    if language.source == "detected" and language.confidence is not None:
        return f"{language.code} ({language.confidence:.2f})"
    return f"{language.code} ({language.source})"


def print_decisions(records: list[DecisionRecord], out: TextIO) -> None:
    rows: list[tuple[str, ...]] = [
        ("ticket", "workflow", "language", "category", "priority", "mode", "action", "reason codes")
    ]
    for record in records:
        cells = []
        for task in ("category", "priority"):
            decision = record.tasks.get(task)
            confidence = decision.calibrated_confidence if decision else None
            label = decision.label if decision else None
            cells.append(f"{label} ({confidence:.2f})" if label and confidence is not None else str(label))
        rows.append(
            (f"{record.source} {record.ticket_id}", record.workflow, _language(record), *cells, record.mode,
             record.action, ", ".join(record.reason_codes) or "-")
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def _play(
    step: Step, events_dir: Path, base_url: str, generated: dict[str, str], now: datetime
) -> tuple[str, str, str]:
    sample = Sample.load(events_dir / step.sample).as_of(now)
    secret = generated["ZENDESK_WEBHOOK_SECRET" if sample.source == "zendesk" else "HUBSPOT_CLIENT_SECRET"]
    if step.tamper == "bad_signature":
        secret = "not-the-secret"
    age = timedelta(minutes=10) if step.tamper == "stale" else timedelta(0)
    response = send(sample, base_url, secret, age=age)
    return step.label, str(response.status_code), describe(response)


def describe(response: requests.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:80]
    if response.status_code != 200:
        return f"rejected: {body.get('error')} ({body.get('message')})"
    labels = {"accepted": "accepted", "duplicates": "duplicate", "ignored": "ignored", "rejected": "rejected"}
    parts = [f"{body[key]} {label}" for key, label in labels.items() if body.get(key)]
    details = sorted({e["detail"] for e in body.get("events", []) if e.get("detail")})
    return ", ".join(parts) + (f" [{'; '.join(details)}]" if details else "")


def _print_table(rows: list[tuple[str, str, str]], out: TextIO) -> None:
    width = max(len(r[0]) for r in rows)
    out.write(f"  #  {'webhook':<{width}}  HTTP  outcome\n")
    for i, (label, status, outcome) in enumerate(rows, 1):
        out.write(f"  {i}  {label:<{width}}  {status:>4}  {outcome}\n")


def _base_environ() -> dict[str, str]:
    """The caller's environment minus anything that would point the demo away from its own stack."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "AWS_ENDPOINT"))}
