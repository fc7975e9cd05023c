"""Tickets in German, Spanish and Portuguese through the local stack with the shipped policy and NO Anthropic
key: each is detected and recorded with its language, never guessed at by the English-only local model (review,
`language_unsupported`), and shown to reviewers in Slack with its language. An English ticket beside them is
decided by the local model as before. (With a key, the same tickets go to Claude: tests/integration/
between_events/test_languages.py.)"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import ROOT
from triage_gate.triage import reasons
from triage_gate.triage.decision import DecisionRecord
from triage_local import demo_data
from triage_local.runner import LocalRunner, RunnerConfig
from triage_local.sandboxes import Sandboxes
from triage_local.webhooks import Sample, send

SECRET = "languages-zd-secret"
REVIEW_CHANNEL = "#support-triage-review"
TRIGGER_HEADERS = {
    "content-type": "application/json", "user-agent": "Zendesk Webhook",
    "x-zendesk-webhook-id": "01JD4R7N2Q8VX5K3M9T6W1B0CZ", "x-zendesk-account-id": "90817263",
}  # fmt: skip

# ticket id → (requester locale, subject, description, the language it is written in, its English name)
TICKETS = {
    50101: ("de-DE", "Rechnung doppelt belastet",
            "Hallo, meine Kreditkarte wurde für die Rechnung vom November zweimal belastet. Bitte erstatten Sie "
            "den doppelten Betrag so schnell wie möglich. Vielen Dank!", "de", "German"),
    50102: ("es-MX", "No puedo entrar a mi cuenta",
            "Desde ayer no puedo iniciar sesión: el correo para restablecer la contraseña nunca llega. "
            "¿Me pueden ayudar? Tengo una reunión importante mañana.", "es", "Spanish"),
    # A misleading locale: the requester's profile says English, the ticket is Portuguese. Detection wins.
    50103: ("en-US", "A exportação para CSV está falhando",
            "Quando tento exportar o relatório de atividades para CSV, aparece um erro 500 e o arquivo não é "
            "gerado. Isso começou depois da atualização de ontem.", "pt", "Portuguese"),
    50104: ("en-GB", "Export to CSV fails with error 500",
            "When I export the activity report to CSV I get an error 500 and no file. It started after "
            "yesterday's update.", "en", "English"),
}  # fmt: skip


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[LocalRunner, Sandboxes, io.StringIO]]:
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN, anthropic_key="sk-ant-unused",
    )  # fmt: skip
    with sandboxes:
        demo_data.seed(sandboxes)
        for ticket_id, (locale, subject, description, _code, _name) in TICKETS.items():
            requester = ticket_id + 1000
            sandboxes.zendesk.add_user(requester, name=f"Requester {ticket_id}", locale=locale, organization_id=5512)
            sandboxes.zendesk.add_ticket(ticket_id, subject=subject, description=description, requester_id=requester,
                                         organization_id=5512, priority="normal", status="new")  # fmt: skip
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "TRIAGE_", "ANTHROPIC"))}
        environ.update({
            **sandboxes.env(), "ZENDESK_WEBHOOK_SECRET": SECRET, "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
            "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN, "SLACK_BOT_TOKEN": "xoxb-sandbox-token",
        })  # fmt: skip
        environ.pop("ANTHROPIC_API_KEY", None)  # no key: Claude routes cannot be used
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ)
        log = io.StringIO()
        with LocalRunner(config, log=log) as runner:
            for ticket_id in TICKETS:
                body = {"source": "zendesk-trigger", "event": "ticket_created", "ticket_id": str(ticket_id),
                        "created_at": "2026-11-30T09:40Z", "via": "Mail", "brand": "Acme Cloud"}  # fmt: skip
                sample = Sample("zendesk", json.dumps(body).encode(), dict(TRIGGER_HEADERS))
                assert send(sample, runner.base_url, SECRET).status_code == 200
            yield runner, sandboxes, log


def _decision(runner: LocalRunner, ticket_id: int, timeout: float = 45) -> DecisionRecord:
    ddb = runner.session.client("dynamodb")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for item in ddb.scan(TableName=runner.physical_id("DecisionsTable"), ConsistentRead=True)["Items"]:
            record = DecisionRecord.from_json(item["record"]["S"])
            if record.ticket_id == str(ticket_id) and item["status"]["S"] == "routed":
                return record
        time.sleep(0.2)
    raise AssertionError(f"no routed decision for ticket {ticket_id}")


def _review_message(sandboxes: Sandboxes, ticket_id: int, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in sandboxes.slack.messages(REVIEW_CHANNEL):
            text = json.dumps({"text": message["text"], "blocks": message["blocks"]}, ensure_ascii=False)
            if str(ticket_id) in text:
                return text
        time.sleep(0.2)
    raise AssertionError(f"no review message for ticket {ticket_id}")


@pytest.mark.parametrize("ticket_id", [50101, 50102, 50103])
def test_a_non_english_ticket_is_detected_recorded_and_sent_to_review_never_guessed(stack, ticket_id: int) -> None:
    runner, sandboxes, _log = stack
    locale, _subject, _description, code, name = TICKETS[ticket_id]

    record = _decision(runner, ticket_id)

    assert record.language is not None
    assert (record.language.code, record.language.source, record.language.detected) == (code, "detected", code)
    assert record.language.confidence is not None
    assert record.language.confidence >= 0.5
    assert record.language.locale == locale  # the hint, recorded beside the detection
    assert record.action == "review"
    assert reasons.LANGUAGE_UNSUPPORTED in record.reason_codes
    # No task got a label from the English model: nothing could be applied, now or by a later reviewer click.
    assert all(task.label is None for task in record.tasks.values()), record.tasks
    assert {task.problem for task in record.tasks.values()} == {reasons.LANGUAGE_UNSUPPORTED}
    assert record.fallback == "no_api_key"
    assert sandboxes.anthropic.message_requests() == []
    message = _review_message(sandboxes, ticket_id)
    assert name in message
    assert f"({code})" in message


def test_the_english_ticket_beside_them_is_decided_by_the_local_model(stack) -> None:
    runner, _sandboxes, _log = stack

    record = _decision(runner, 50104)

    assert record.language is not None
    assert (record.language.code, record.language.source) == ("en", "detected")
    assert reasons.LANGUAGE_UNSUPPORTED not in record.reason_codes
    assert all(task.model == "local" and task.label is not None for task in record.tasks.values()), record.tasks


def test_the_decisions_are_counted_by_language(stack) -> None:
    runner, _sandboxes, log = stack
    for ticket_id in TICKETS:
        _decision(runner, ticket_id)
    emitted: list[dict[str, Any]] = []
    for line in log.getvalue().splitlines():
        if not line.startswith("[TriageFunction"):
            continue
        try:
            document = json.loads(line.split("] ", 1)[1])
        except ValueError:
            continue
        if isinstance(document, dict) and "DecisionsByLanguage" in document:
            emitted.append(document)

    assert sorted(d["Language"] for d in emitted) == ["de", "en", "es", "pt"]
    assert {d["Source"] for d in emitted} == {"detected"}
