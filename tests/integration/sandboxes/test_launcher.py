"""Sandboxes, the launcher: one environment pointing every client at the running fakes."""

from __future__ import annotations

import anthropic
import pytest
import requests

from tests.integration.sandboxes.conftest import HS_TOKEN, KEY, ZD_EMAIL, ZD_TOKEN, classify
from triage_local.sandboxes import Sandboxes


# launcher ------------------------------------------------------------------------------------------------------
def test_sandboxes_env_points_clients_at_the_running_fakes() -> None:
    with Sandboxes(zendesk_email=ZD_EMAIL, zendesk_token=ZD_TOKEN, hubspot_token=HS_TOKEN, anthropic_key=KEY) as sb:
        env = sb.env()
        sb.zendesk.add_ticket(5)
        sb.hubspot.add_ticket(6)
        sdk = anthropic.Anthropic(api_key=KEY, base_url=env["ANTHROPIC_BASE_URL"], max_retries=0, timeout=2)

        message = classify(sdk)
        ticket = requests.get(f"{env['ZENDESK_BASE_URL']}/api/v2/tickets/5.json", auth=(f"{ZD_EMAIL}/token", ZD_TOKEN),
                              timeout=5)  # fmt: skip
        hs_ticket = requests.get(f"{env['HUBSPOT_BASE_URL']}/crm/v3/objects/tickets/6",
                                 headers={"Authorization": f"Bearer {HS_TOKEN}"}, timeout=5)  # fmt: skip

    assert message.stop_reason == "tool_use"
    assert [name for name, _ in sb.journal()] == ["anthropic", "zendesk", "hubspot"]
    assert ticket.json()["ticket"]["id"] == 5
    assert hs_ticket.json()["id"] == "6"
    with pytest.raises(requests.ConnectionError):
        requests.get(env["ZENDESK_BASE_URL"], timeout=1)
