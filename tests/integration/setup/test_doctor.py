"""`triage doctor` after the admin's path: all OK (exit 0); then each thing doctor exists for — a refused token, an
unconfirmed alarm e-mail, a webhook calling the wrong URL, a URL whose function cannot read its secret, a missing
key — reported with its fix (exit 1)."""

from __future__ import annotations

import pytest
from moto.sns.models import sns_backends

from tests.integration.setup.conftest import API_PATHS, SECRETS, STACK, Deployed, Vendors, triage

EVERY_CHECK = (
    "vendor secret",
    "zendesk credentials",
    "zendesk webhook",
    "zendesk triggers",
    "hubspot token",
    "hubspot property ai_triage_category",
    "slack bot token",
    "slack #support-triage-review",
    "slack #triage-escalations",
    "slack #revops-triage-review",
    "anthropic claude-haiku-4-5",
    "anthropic claude-sonnet-4-6",
    "zendesk webhook url",
    "hubspot webhook url",
    "slack interactions url",
    "rollout flags",
    "alarm subscription",
)


def _set_up(deployed: Deployed, capsys) -> None:
    deployed.put_secret(dict(SECRETS))
    assert triage(capsys, "setup", "zendesk", "--stack", STACK)[0] == 0
    assert triage(capsys, "setup", "hubspot", "--stack", STACK)[0] == 0


def _line(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if f"] {name} " in line)


def test_everything_ok_after_setup(vendors: Vendors, deployed: Deployed, capsys) -> None:
    _set_up(deployed, capsys)
    code, out, err = triage(capsys, "doctor", "--stack", STACK)
    assert code == 0, out + err
    for name in EVERY_CHECK:
        assert _line(out, name).startswith("[OK  ]"), out
    assert "17 OK, 0 failed, 0 skipped, 2 to check by hand" in out
    assert [path for path, _ in deployed.api.received] == list(API_PATHS)  # one unsigned probe each
    assert {body for _, body in deployed.api.received} == {b"{}"}
    printed = out + err  # the secrets never show; the login does (it says who the token is)
    assert [key for key, value in SECRETS.items() if value in printed and key != "ZENDESK_EMAIL"] == []
    writes = [r for r in vendors.zendesk.requests + vendors.hubspot.requests if r.method not in ("GET", "POST")]
    assert writes == []  # doctor only reads (HubSpot's token info is a POST that reads)


def test_a_bad_token_and_a_pending_subscription_are_reported_with_the_fix(
    vendors: Vendors, deployed: Deployed, capsys
) -> None:
    _set_up(deployed, capsys)
    deployed.put_secret({**deployed.secret(), "SLACK_BOT_TOKEN": "xoxb-revoked", "ANTHROPIC_API_KEY": "sk-ant-old"})
    subscription = sns_backends["123456789012"]["us-east-1"].subscriptions[deployed.subscription_arn]
    subscription.arn = "PendingConfirmation"  # how SNS lists an e-mail subscription nobody confirmed yet
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    assert _line(out, "slack bot token").startswith("[FAIL]")
    assert "invalid_auth" in out
    assert "fix: SLACK_BOT_TOKEN is not valid: reinstall the Slack app and store its Bot User OAuth Token" in out
    assert _line(out, "anthropic key").startswith("[FAIL]")
    assert "ANTHROPIC_API_KEY was refused (401)" in out
    alarm = _line(out, "alarm subscription")
    assert alarm.startswith("[FAIL]")
    assert "PendingConfirmation for oncall@acme.test" in alarm
    assert "fix: confirm the e-mail" in out
    assert _line(out, "zendesk webhook").startswith("[OK  ]")
    assert "xoxb-revoked" not in out
    assert "sk-ant-old" not in out


def test_a_webhook_to_the_wrong_url_and_a_missing_key(vendors: Vendors, deployed: Deployed, capsys) -> None:
    _set_up(deployed, capsys)
    assert triage(capsys, "setup", "zendesk", "--stack", STACK, "--webhook-url", "https://old.acme.test/z")[0] == 0
    stored = deployed.secret()
    del stored["HUBSPOT_ACCESS_TOKEN"]
    deployed.put_secret(stored)
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    assert "calls https://old.acme.test/z; the stack's endpoint is" in _line(out, "zendesk webhook")
    assert f"fix: `triage setup zendesk --stack {STACK}`" in out
    assert "has no value for HUBSPOT_ACCESS_TOKEN" in _line(out, "vendor secret")
    assert _line(out, "hubspot token").startswith("[FAIL]")


def test_a_changed_trigger_is_reported(vendors: Vendors, deployed: Deployed, capsys) -> None:
    _set_up(deployed, capsys)
    updated = next(t for t in vendors.zendesk.admin.automation.triggers.values() if "updated" in t["title"])
    updated["conditions"]["all"] = [c for c in updated["conditions"]["all"] if c["field"] != "current_tags"]
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    line = _line(out, "zendesk triggers")
    assert line.startswith("[FAIL]")
    assert "trigger 'Triage Gate: updated ticket' differs" in line
    assert triage(capsys, "setup", "zendesk", "--stack", STACK)[0] == 0  # the fix it prints puts it back
    assert triage(capsys, "doctor", "--stack", STACK)[0] == 0


@pytest.mark.parametrize(
    ("answer", "detail", "fix"),
    [
        (
            (503, {"error": "secrets_unavailable", "message": "the vendor secret cannot be read"}),
            "the function cannot read the vendor secret (the vendor secret cannot be read)",
            "the function's role needs secretsmanager:GetSecretValue",
        ),
        (
            (503, {"error": "misconfigured", "message": "the service is misconfigured"}),
            "the function is misconfigured (its log names the setting)",
            "usually HUBSPOT_CLIENT_SECRET is not stored yet",
        ),
        ((404, {"message": "Not Found"}), "answered HTTP 404 (Not Found): not a Triage Gate endpoint", "custom domain"),
    ],
    ids=["secret-unreadable", "misconfigured", "not-our-api"],
)
def test_a_url_whose_function_cannot_verify_is_reported(vendors: Vendors, deployed: Deployed, capsys,
                                                        answer, detail, fix) -> None:  # fmt: skip
    _set_up(deployed, capsys)
    deployed.api.answers["/webhooks/hubspot"] = answer
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    line = _line(out, "hubspot webhook url")
    assert line.startswith("[FAIL]")
    assert detail in line
    assert fix in out
    assert _line(out, "zendesk webhook url").startswith("[OK  ]")


def test_an_api_that_does_not_answer(vendors: Vendors, deployed: Deployed, capsys) -> None:
    _set_up(deployed, capsys)
    deployed.api.close()
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    for name in ("zendesk webhook url", "hubspot webhook url", "slack interactions url"):
        assert "(connection refused or unknown host)" in _line(out, name)
    assert "fix: check the stack deployed completely (its HttpApi)" in out
    assert "HTTPConnectionPool" not in out


def test_nobody_subscribed_and_no_setup_yet(vendors: Vendors, deployed: Deployed, capsys) -> None:
    sns_backends["123456789012"]["us-east-1"].subscriptions.pop(deployed.subscription_arn)
    code, out, _ = triage(capsys, "doctor", "--stack", STACK)
    assert code == 1
    assert "nobody is subscribed to the alarm topic" in _line(out, "alarm subscription")
    assert "fix: `triage setup secrets --from FILE --stack triage-gate-test` for" in out
    assert "`triage setup zendesk --stack triage-gate-test` for ZENDESK_WEBHOOK_SECRET" in out


def test_every_command_has_help(capsys) -> None:
    for argv in (["setup"], *(["setup", step] for step in ("secrets", "zendesk", "hubspot", "slack")), ["doctor"]):
        with pytest.raises(SystemExit) as exited:
            triage(capsys, *argv, "--help")
        assert exited.value.code == 0
        assert "usage: triage " + " ".join(argv) in capsys.readouterr().out


def test_doctor_without_a_local_stack_says_how_to_start_one(capsys, unused_url: str) -> None:
    code, _, err = triage(capsys, "doctor", "--url", unused_url)
    assert code == 1
    assert f"no stack answers at {unused_url}: start the local one first (`make local`)" in err
    assert "HTTPConnectionPool" not in err
