"""The fake vendor servers check what the real ones check, and answer in the real shapes.

The Anthropic fake is driven through the real `anthropic` SDK; Zendesk and HubSpot through `requests`.
This module holds the fakes, the clients and the classification request shared by this package's tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
import requests

from triage_local.sandboxes import FakeAnthropic, FakeHubSpot, FakeZendesk

KEY = "sk-ant-test-key"
TOOL_NAME = "record_classification"
TOOL: dict[str, Any] = {
    "name": TOOL_NAME,
    "description": "Record the triage classification for one support ticket.",
    "input_schema": {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": ["billing", "bug", "how_to"]},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"},
        },
        "required": ["category", "priority", "confidence", "rationale"],
        "additionalProperties": False,
    },
}
SYSTEM = [{"type": "text", "text": "Classify support tickets. " * 200, "cache_control": {"type": "ephemeral"}}]
ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "bot@example.com", "zd-secret", "hs-secret"


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(KEY) as fake:
        yield fake


@pytest.fixture
def client(fake_anthropic: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=fake_anthropic.url, max_retries=0, timeout=2)


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with FakeZendesk(ZD_EMAIL, ZD_TOKEN) as fake:
        fake.add_organization(77, name="Acme")
        fake.add_user(501, name="Ada", email="ada@acme.test", organization_id=77)
        fake.add_ticket(42, subject="Refund please", description="I was charged twice", requester_id=501,
                        submitter_id=501, organization_id=77, tags=["vip"])  # fmt: skip
        yield fake


@pytest.fixture
def zd() -> requests.Session:
    session = requests.Session()
    session.auth = (f"{ZD_EMAIL}/token", ZD_TOKEN)
    return session


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with FakeHubSpot(HS_TOKEN) as fake:
        fake.add_ticket(1001, subject="Cannot log in", content="Password reset fails", hs_ticket_priority="LOW")
        fake.add_company(9, name="Acme", domain="acme.test")
        fake.associate(1001, 9)
        yield fake


@pytest.fixture
def hs() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {HS_TOKEN}"
    return session


def classify(client: anthropic.Anthropic, text: str = "I was charged twice", **extra: Any) -> Any:
    return client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=extra.pop("max_tokens", 512),
        system=extra.pop("system", SYSTEM),
        tools=[TOOL],
        tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": text}],
        **extra,
    )
