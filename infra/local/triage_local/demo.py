"""``make demo``: bring the stack up locally, replay signed webhooks from events/, show the outcomes."""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import requests

from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.webhooks import Sample, send


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
    }


def run_demo(root: Path, port: int, out: TextIO = sys.stdout, log_path: Path | None = None) -> int:
    generated = demo_secrets()
    environ = {**_base_environ(), **generated}
    log_path = log_path or root / ".triage" / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        config = RunnerConfig(template_path=root / "template.yaml", port=port, environ=environ)
        with LocalRunner(config, log=log) as runner:
            out.write(f"Triage Gate demo: local stack at {runner.base_url} (AWS: {runner.endpoint_url})\n\n")
            rows = [_play(step, root / "events", runner.base_url, generated) for step in STEPS]
            _print_table(rows, out)
            depths = runner.queue_depths()
            out.write(
                f"\nTriageQueue: {depths['TriageQueue']['visible']} ticket events waiting for triage"
                f" (DLQ: {depths['TriageDlq']['visible']}).\n"
                f"Function logs: {log_path}\n"
            )
    return 0


def _play(step: Step, events_dir: Path, base_url: str, generated: dict[str, str]) -> tuple[str, str, str]:
    sample = Sample.load(events_dir / step.sample)
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
