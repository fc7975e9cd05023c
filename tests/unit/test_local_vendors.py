"""`triage local`'s vendors: a sandbox each unless its base URL is given, and credentials the sandbox accepts."""

from __future__ import annotations

from triage_gate.policy import load_policy
from triage_local import demo_data
from triage_local.vendors import LocalVendors, choose_vendors, review_channels

REAL = {
    "ZENDESK_BASE_URL": "https://acme.zendesk.com",
    "HUBSPOT_BASE_URL": "https://api.hubapi.com",
    "SLACK_API_URL": "https://slack.com/api/",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
}


def test_a_vendor_is_real_only_when_its_base_url_is_set() -> None:
    choices = choose_vendors({"ZENDESK_BASE_URL": "https://acme.zendesk.com", "SLACK_API_URL": "  "})

    assert {c.vendor.name: c.given_url for c in choices} == {
        "zendesk": "https://acme.zendesk.com", "hubspot": None, "slack": None, "anthropic": None,
    }  # fmt: skip
    assert [c.vendor.name for c in choices if c.sandboxed] == ["hubspot", "slack", "anthropic"]


def test_with_every_base_url_given_nothing_is_sandboxed_or_overridden() -> None:
    vendors = LocalVendors({**REAL, "ZENDESK_EMAIL": "me@acme.test"})

    assert vendors.environment() == {}  # the functions keep the URLs and credentials you gave
    lines = vendors.describe()
    assert [line.split()[:3] for line in lines] == [
        ["zendesk", "real", "https://acme.zendesk.com"],
        ["hubspot", "real", "https://api.hubapi.com"],
        ["slack", "real", "https://slack.com/api/"],
        ["anthropic", "real", "https://api.anthropic.com"],
    ]
    assert all(line.endswith(")") and "(from " in line for line in lines)


def test_a_sandbox_accepts_your_credentials_when_you_give_them_else_the_demos() -> None:
    yours = LocalVendors({"ZENDESK_EMAIL": "me@acme.test", "ZENDESK_API_TOKEN": "tok", "SLACK_BOT_TOKEN": "xoxb-1"})

    assert (yours.sandboxes.zendesk.email, yours.sandboxes.zendesk.api_token) == ("me@acme.test", "tok")
    assert yours.sandboxes.slack.token == "xoxb-1"
    assert yours.sandboxes.hubspot.token == demo_data.HUBSPOT_TOKEN
    # Seeded like the demo: the tickets behind the events/ samples.
    assert {40198, 40211, 40215} <= set(yours.sandboxes.zendesk.tickets)
    assert "19800231" in yours.sandboxes.hubspot.tickets


def test_the_slack_sandbox_has_every_channel_the_policy_posts_to() -> None:
    channels = review_channels(load_policy())
    vendors = LocalVendors({}, [*channels, "#another-review-channel"])

    assert "#support-triage-review" in channels
    assert set(vendors.sandboxes.slack.channels) >= {*channels, "#another-review-channel"}


def test_an_anthropic_key_means_real_claude_and_no_key_means_the_local_model() -> None:
    with_key = {c.vendor.name: c for c in choose_vendors({"ANTHROPIC_API_KEY": "sk-ant-mine"})}
    without = {c.vendor.name: c for c in choose_vendors({})}

    assert with_key["anthropic"].given_url == "https://api.anthropic.com"
    assert without["anthropic"].sandboxed
    others = {k: v for k, v in REAL.items() if k != "ANTHROPIC_BASE_URL"}
    line = next(x for x in LocalVendors({**others, "ANTHROPIC_API_KEY": "sk-ant-mine"}).describe() if "anthropic" in x)
    assert line.split()[:3] == ["anthropic", "real", "https://api.anthropic.com"]
    assert line.endswith("(from ANTHROPIC_API_KEY)")
