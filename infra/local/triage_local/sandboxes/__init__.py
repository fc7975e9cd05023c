"""Fake vendor servers on loopback: Zendesk, HubSpot, Anthropic and Slack, as strict as the real ones.

Integration tests use them as fakes; the local demo uses them as recording sandboxes (every request is
kept in `.requests`). `Sandboxes` starts all four and gives the environment that points the code at them.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from triage_local.sandboxes import anthropic, hubspot, slack, zendesk
from triage_local.sandboxes.anthropic import FakeAnthropic
from triage_local.sandboxes.base import RecordedRequest, Reply, Sandbox
from triage_local.sandboxes.hubspot import FakeHubSpot
from triage_local.sandboxes.slack import FakeSlack
from triage_local.sandboxes.zendesk import FakeZendesk

__all__ = [
    "FakeAnthropic",
    "FakeHubSpot",
    "FakeSlack",
    "FakeZendesk",
    "RecordedRequest",
    "Reply",
    "Sandbox",
    "Sandboxes",
]


class Sandboxes:
    """The four fakes, started and stopped together; `.env()` points the code's base URLs at them."""

    def __init__(
        self,
        *,
        zendesk_email: str = zendesk.DEFAULT_EMAIL,
        zendesk_token: str = zendesk.DEFAULT_TOKEN,
        hubspot_token: str = hubspot.DEFAULT_TOKEN,
        anthropic_key: str = anthropic.DEFAULT_API_KEY,
        slack_token: str = slack.DEFAULT_TOKEN,
    ) -> None:
        self.zendesk = FakeZendesk(zendesk_email, zendesk_token)
        self.hubspot = FakeHubSpot(hubspot_token)
        self.anthropic = FakeAnthropic(anthropic_key)
        self.slack = FakeSlack(slack_token)

    @property
    def all(self) -> tuple[Sandbox, ...]:
        return (self.zendesk, self.hubspot, self.anthropic, self.slack)

    def start(self) -> Self:
        try:
            for sandbox in self.all:
                sandbox.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for sandbox in self.all:
            sandbox.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def journal(self) -> list[tuple[str, RecordedRequest]]:
        """Every request any of the four received, oldest first, with the sandbox's name."""
        entries = [(sandbox.name, request) for sandbox in self.all for request in sandbox.requests]
        return sorted(entries, key=lambda entry: entry[1].at)

    def env(self) -> dict[str, str]:
        """`{ZENDESK_BASE_URL}/api/v2/...`, `{HUBSPOT_BASE_URL}/crm/v3/...`, the Anthropic SDK's `base_url`, and
        `SLACK_API_URL` for `slack_sdk.WebClient(base_url=...)` (it ends in `/api/`)."""
        return {
            "ZENDESK_BASE_URL": self.zendesk.url,
            "HUBSPOT_BASE_URL": self.hubspot.url,
            "ANTHROPIC_BASE_URL": self.anthropic.url,
            "SLACK_API_URL": f"{self.slack.url}/api/",
        }
