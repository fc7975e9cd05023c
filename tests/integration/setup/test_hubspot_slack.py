"""`triage setup hubspot` (scopes, the policy's custom properties, idempotent, options follow the taxonomy) and
`triage setup slack` (the manifest: Slack's schema, exactly the scopes of the methods our code calls; the bot in
the policy's channels, how to invite it where it is not)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.contract.slack_calls import code_calls
from tests.contract.slack_manifest import manifest_problems, reviewer_app_problems
from tests.contract.slack_spec import recorded_call
from tests.integration.setup.conftest import SECRETS, STACK, Deployed, Vendors, policy_with, triage
from triage_tools.setup.slack import CHECK_METHOD_SCOPES, METHOD_SCOPES, RUNTIME_METHOD_SCOPES, bot_scopes

CATEGORIES = ["sales_inquiry", "renewal", "billing", "technical_support", "onboarding", "churn_risk", "other"]


def test_hubspot_properties_are_created_once(vendors: Vendors, deployed: Deployed, capsys) -> None:
    deployed.put_secret(dict(SECRETS))
    code, out, err = triage(capsys, "setup", "hubspot", "--stack", STACK)
    assert code == 0, out + err
    assert "scopes: crm.objects.companies.read, crm.objects.contacts.read, crm.objects.contacts.write, tickets" in out
    assert "created property group 'triage_gate'" in out
    assert "created ticket property 'ai_triage_category' (7 options)" in out
    prop = vendors.hubspot.admin.describe("ai_triage_category")
    assert [o["value"] for o in prop["options"]] == CATEGORIES
    assert prop["type"] == "enumeration"
    assert vendors.hubspot.options["ai_triage_category"] == tuple(CATEGORIES)  # write-backs may now set it
    assert f"Target URL: {deployed.api_url}/webhooks/hubspot" in out
    assert "Event: ticket.propertyChange, property hs_ticket_priority" in out
    assert "a private app token cannot create them" in out

    before = len(vendors.hubspot.requests)
    code, out, _ = triage(capsys, "setup", "hubspot", "--stack", STACK)
    assert code == 0
    assert out.rstrip().endswith("HubSpot: no change")
    second = vendors.hubspot.requests[before:]
    assert [r.path for r in second if r.method != "GET" and "access-token" not in r.path] == []


def test_hubspot_options_follow_the_taxonomy_and_dry_run_changes_nothing(
    vendors: Vendors, deployed: Deployed, tmp_path: Path, capsys
) -> None:
    deployed.put_secret(dict(SECRETS))
    assert triage(capsys, "setup", "hubspot", "--stack", STACK)[0] == 0
    policy = policy_with(tmp_path, "ai_triage_category: renewal}", "ai_triage_category: expansion}")
    code, out, _ = triage(capsys, "setup", "hubspot", "--stack", STACK, "--policy", str(policy), "--dry-run")
    assert code == 0
    assert "would update ticket property 'ai_triage_category': added expansion; hid renewal" in out
    assert "renewal" in vendors.hubspot.options["ai_triage_category"]
    code, out, _ = triage(capsys, "setup", "hubspot", "--stack", STACK, "--policy", str(policy))
    assert code == 0
    options = {o["value"]: o["hidden"] for o in vendors.hubspot.admin.describe("ai_triage_category")["options"]}
    assert options["expansion"] is False
    assert options["renewal"] is True  # kept for old tickets, hidden


def test_hubspot_missing_scope_and_bad_token(vendors: Vendors, deployed: Deployed, capsys) -> None:
    deployed.put_secret(dict(SECRETS))
    vendors.hubspot.admin.scopes.discard("tickets")
    vendors.hubspot.admin.scopes.discard("crm.objects.contacts.write")
    code, out, _ = triage(capsys, "setup", "hubspot", "--stack", STACK)
    assert code == 1
    assert "! scope tickets (or crm.objects.tickets.read + crm.objects.tickets.write) is missing" in out
    assert "! scope crm.objects.contacts.write is missing: needed to add the write-back's note" in out
    assert "Properties: not checked" in out
    vendors.hubspot.admin.scopes.update({"crm.objects.tickets.read", "crm.objects.tickets.write"})
    vendors.hubspot.admin.scopes.add("crm.objects.contacts.write")
    code, out, _ = triage(capsys, "setup", "hubspot", "--stack", STACK)
    assert code == 0, out  # the granular ticket scopes do what "tickets" does
    deployed.put_secret({**SECRETS, "HUBSPOT_ACCESS_TOKEN": "pat-na1-revoked"})
    code, _, err = triage(capsys, "setup", "hubspot", "--stack", STACK)
    assert code == 1
    assert "HTTP 401" in err
    assert "pat-na1-revoked" not in err


def test_the_manifest_has_exactly_the_scopes_of_the_methods_our_code_calls(
    vendors: Vendors, deployed: Deployed, tmp_path: Path, capsys
) -> None:
    """The functions' methods are the ones the runtime package's code calls (found by reading it); setup's and
    doctor's are the ones they send here. The manifest grants their scopes, nothing more, and Slack's own
    manifest schema accepts it."""
    runtime = {c.method for c in code_calls() if c.where.startswith("layers/core/triage_gate/")}
    assert runtime == set(RUNTIME_METHOD_SCOPES) == {"chat.postMessage", "chat.update", "chat.postEphemeral"}
    deployed.put_secret(dict(SECRETS))
    manifest = tmp_path / "manifest.yaml"
    assert triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(manifest))[0] == 0
    doctor = triage(capsys, "doctor", "--stack", STACK)[1]  # (Zendesk is not set up: only its Slack lines matter)
    assert "[OK  ] slack bot token" in doctor
    assert "[OK  ] slack #triage-escalations" in doctor
    called = {call.method for r in vendors.slack.requests if not isinstance(call := recorded_call(r), str)}
    assert called == set(CHECK_METHOD_SCOPES)
    needed = {scope for method in called | runtime for scope in METHOD_SCOPES[method]}

    written = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    assert written["oauth_config"]["scopes"]["bot"] == bot_scopes() == sorted(needed)
    assert bot_scopes() == ["channels:read", "chat:write", "groups:read"]
    assert manifest_problems(written) == []
    deployed_url = "https://abc123.execute-api.us-east-1.amazonaws.com/slack/interactions"
    interactivity = {"is_enabled": True, "request_url": deployed_url}
    at_https = {**written, "settings": {**written["settings"], "interactivity": interactivity}}
    assert reviewer_app_problems(at_https, code_calls()) == []


def test_the_shipped_manifest_is_what_setup_writes_without_a_stack(vendors: Vendors, tmp_path: Path, capsys) -> None:
    shipped = Path(__file__).resolve().parents[3] / "infra" / "slack" / "manifest.yaml"
    manifest = tmp_path / "manifest.yaml"
    code, out, _ = triage(
        capsys, "setup", "slack", "--manifest-only", "--manifest", str(manifest), "--url", "http://127.0.0.1:9"
    )
    assert code == 0
    assert "a placeholder" in out
    assert manifest.read_text(encoding="utf-8") == shipped.read_text(encoding="utf-8")
    assert manifest_problems(yaml.safe_load(shipped.read_text(encoding="utf-8"))) == []


def test_slack_manifest_and_channels(vendors: Vendors, deployed: Deployed, tmp_path: Path, capsys) -> None:
    deployed.put_secret(dict(SECRETS))
    manifest = tmp_path / "manifest.yaml"
    code, out, err = triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(manifest))
    assert code == 0, out + err
    written = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    interactivity = {"is_enabled": True, "request_url": f"{deployed.api_url}/slack/interactions"}
    assert written["settings"]["interactivity"] == interactivity
    assert "Slack accepts only https:// request URLs" in out  # the loopback stand-in is http
    assert "#support-triage-review (zendesk-support review): the bot is a member" in out
    code, out, _ = triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(manifest))
    assert code == 0
    assert out.rstrip().endswith("Slack: no change")

    vendors.slack.admin.remove_bot("#revops-triage-review")
    vendors.slack.admin.make_private("#triage-escalations")
    vendors.slack.admin.remove_bot("#triage-escalations")
    code, out, _ = triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(manifest))
    assert code == 1
    assert (
        "#revops-triage-review (hubspot-tickets review): in the channel #revops-triage-review, type "
        "`/invite @Triage Gate`" in out
    )
    assert (
        "#triage-escalations (zendesk-support escalation, hubspot-tickets escalation): #triage-escalations is "
        "not a public channel the bot can see: if it is private, type `/invite @Triage Gate` in it" in out
    )
    vendors.slack.admin.invite_bot("#triage-escalations")  # a private channel the bot is in is found and read
    vendors.slack.admin.invite_bot("#revops-triage-review")
    code, out, _ = triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(manifest))
    assert code == 0, out
    assert "#triage-escalations (zendesk-support escalation, hubspot-tickets escalation): the bot is a member" in out


def test_slack_without_the_read_scopes_says_which_scope(vendors: Vendors, deployed: Deployed, tmp_path: Path,
                                                        capsys) -> None:  # fmt: skip
    deployed.put_secret(dict(SECRETS))
    vendors.slack.admin.scopes.discard("groups:read")
    code, out, _ = triage(capsys, "setup", "slack", "--stack", STACK, "--manifest", str(tmp_path / "m.yaml"))
    assert code == 1
    assert "channels not checked: Slack said missing_scope: the app lacks the scope groups:read" in out
    assert "update the app from infra/slack/manifest.yaml" in out
