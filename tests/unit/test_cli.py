"""The ``triage`` command: help, argument errors, and sign-event output that really verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.builders import EVENTS_DIR
from triage_gate.intake.signatures import verify_hubspot_v3, verify_zendesk
from triage_tools.cli import main

SECRET = "cli-test-secret"


def _sign_event(name: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["sign-event", str(EVENTS_DIR / name), "--secret", SECRET, *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_no_command_prints_help_and_returns_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([])

    out = capsys.readouterr().out
    assert code == 2
    assert "usage: triage" in out
    assert "sign-event" in out


def test_send_with_missing_file_returns_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"

    code = main(["send", str(missing), "--secret", SECRET])

    assert code == 2
    assert f"no such file: {missing}" in capsys.readouterr().err


def test_sign_event_with_non_json_file_returns_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "notes.json"
    path.write_text("not json at all", encoding="utf-8")

    code = main(["sign-event", str(path), "--secret", SECRET])

    assert code == 2
    assert "is not JSON" in capsys.readouterr().err


def test_sign_event_without_secret_returns_2_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ZENDESK_WEBHOOK_SECRET", raising=False)

    code = main(["sign-event", str(EVENTS_DIR / "ingest__zendesk_ticket_created.json")])

    assert code == 2
    assert "ZENDESK_WEBHOOK_SECRET" in capsys.readouterr().err


def test_sign_event_zendesk_signature_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    event = _sign_event("ingest__zendesk_ticket_created.json", capsys)

    verify_zendesk(
        event["headers"], event["body"].encode("utf-8"), [SECRET], now=datetime.now(UTC), max_age_seconds=300
    )


def test_sign_event_keeps_the_sample_body_and_delivery_headers(capsys: pytest.CaptureFixture[str]) -> None:
    sample = json.loads((EVENTS_DIR / "ingest__zendesk_ticket_created.json").read_text(encoding="utf-8"))

    event = _sign_event("ingest__zendesk_ticket_created.json", capsys)

    assert event["body"] == sample["body"]
    assert event["headers"]["x-zendesk-webhook-invocation-id"] == "8812093347"
    assert event["headers"]["x-zendesk-webhook-signature"] != "SIGNED-AT-SEND-TIME"


def test_sign_event_hubspot_signature_covers_the_gateway_url(capsys: pytest.CaptureFixture[str]) -> None:
    event = _sign_event("ingest__hubspot_batch.json", capsys)

    verify_hubspot_v3(
        event["headers"],
        event["body"].encode("utf-8"),
        [SECRET],
        method="POST",
        uri="https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/hubspot",
        now=datetime.now(UTC),
        max_age_seconds=300,
    )


def test_sign_event_hubspot_signs_the_given_url(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://hooks.example.test/webhooks/hubspot"

    event = _sign_event("ingest__hubspot_batch.json", capsys, "--url", url)

    verify_hubspot_v3(
        event["headers"],
        event["body"].encode("utf-8"),
        [SECRET],
        method="POST",
        uri=url,
        now=datetime.now(UTC),
        max_age_seconds=300,
    )


@pytest.mark.parametrize("parameter", ["NoEquals", "=value"])
def test_local_with_malformed_parameter_returns_2(parameter: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["local", "--parameter", parameter])

    assert code == 2
    assert "--parameter must be KEY=VALUE" in capsys.readouterr().err


def test_demo_without_template_returns_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--root", str(tmp_path)])

    assert code == 2
    assert "no template.yaml" in capsys.readouterr().err
