"""What the demo's sandboxes hold: the tickets behind the events/ samples (written for this project)."""

from __future__ import annotations

from triage_local.sandboxes import Sandboxes

ZENDESK_EMAIL = "triage-bot@acme-cloud.test"
ZENDESK_TOKEN = "demo-zendesk-api-token"
HUBSPOT_TOKEN = "demo-hubspot-private-app-token"
SLACK_TOKEN = "xoxb-demo-sandbox-token"
REVIEW_CHANNEL = "#support-triage-review"


def seed(sandboxes: Sandboxes) -> None:
    zendesk, hubspot = sandboxes.zendesk, sandboxes.hubspot
    zendesk.add_organization(5512, name="Northwind Traders", organization_fields={"tier": "growth"}, tags=["smb"])
    zendesk.add_organization(5530, name="Globex", organization_fields={"tier": "enterprise"}, tags=["key_account"])
    zendesk.add_user(
        9182736450, name="Priya Kapoor", email="priya@northwind.test", locale="en-US", organization_id=5512
    )
    zendesk.add_user(9182736999, name="Tomas Reyes", email="tomas@globex.test", locale="es-ES", organization_id=5530)
    zendesk.add_user(9182737001, name="Mia Chen", email="mia.chen@northwind.test", locale="en-GB", organization_id=5512)
    zendesk.add_ticket(
        40211,
        subject="Charged twice for the November invoice",
        description="Hi, my card was charged twice for invoice INV-2026-1187 this morning. "
        "Can you refund the duplicate charge? I'd like my money back. Thanks, Priya (priya@northwind.test)",
        requester_id=9182736450,
        organization_id=5512,
        priority="normal",
        status="new",
        tags=["web_form"],
    )
    zendesk.add_ticket(
        40198,
        subject="Export to CSV stops at 10,000 rows",
        description="When I export the activity report to CSV the file always ends at row 10000.",
        requester_id=9182736999,
        organization_id=5530,
        priority="high",
        status="open",
        tags=["reports"],
    )
    zendesk.add_ticket(
        40215,
        subject="Can't log in after enabling two-factor",
        description="I turned on two-factor authentication yesterday and now the code is always rejected, "
        "so I am locked out of my account. Call me on +44 20 7946 0958 if easier.",
        requester_id=9182737001,
        organization_id=5512,
        priority="normal",
        status="new",
    )
    hubspot.add_company(88001, name="Initech", tier="growth", annualrevenue="12000000")
    hubspot.add_ticket(
        19800231,
        subject="Quote for 40 more seats before our renewal",
        content="We renew in January and want to add 40 seats for the new support team. "
        "Can you send a quote and check whether the multi-year discount still applies?",
        hs_pipeline="0",
        hs_pipeline_stage="1",
        hs_ticket_priority="MEDIUM",
    )
    hubspot.associate(19800231, 88001)
    hubspot.allow_properties("ai_triage_category")
