"""Tickets in any language: the prompt's language rules, the reviewer gist and the sentiment/urgency signals."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import harness, policy, ticket_event, zendesk_documents
from triage_gate.policy import Policy
from triage_gate.triage import model_router, reasons
from triage_gate.triage.answers import parse_side_answers
from triage_gate.triage.decision import DecisionRecord, Signals
from triage_gate.triage.language import TicketLanguage
from triage_gate.triage.prompt import INSTRUCTIONS, Asks, build_prompt, system_prompt

RULES: dict[str, Any] = {
    "always_review": {"category": ["security"]},
    "vip_tiers": ["enterprise"],
    "vip_action": "review",
}
ON: dict[str, Any] = {"language": {"reviewer_gist": True}, "signals": {"sentiment": True, "urgency": True}}
GERMAN_SUBJECT = "Doppelte Abbuchung auf meiner Rechnung"
GERMAN = (
    "Hallo, meine Kreditkarte wurde für die Rechnung vom November zweimal belastet. Bitte erstatten Sie den "
    "doppelten Betrag so schnell wie möglich zurück, vielen Dank."
)
ANSWER = {"category": "billing", "category_confidence": 0.93, "rationale": "charge"}


def _policy(*, sonnet_tasks: tuple[str, ...] = (), **workflow: Any) -> Policy:
    """The builders' policy with a second Claude route (sonnet) that ``sonnet_tasks`` are routed to."""
    data = policy(**workflow).to_data()
    data["prices"]["claude-sonnet-4-6"] = {"input": 3, "output": 15}
    data["routes"]["sonnet"] = {"kind": "claude", "model": "claude-sonnet-4-6"}
    for task in sonnet_tasks:
        data["workflows"]["support"]["tasks"][task]["route"] = "sonnet"
    return Policy.from_data(data)


def _german_documents() -> dict[tuple[str, str], dict[str, Any]]:
    documents = zendesk_documents(description=GERMAN)
    documents["ticket"]["subject"] = GERMAN_SUBJECT
    documents["requester"]["locale"] = "de-DE"
    return {("zendesk", "40211"): documents}


def _decide(
    pol: Policy, answer: dict[str, Any] | None = None, *, german: bool = False, key_set: bool = True
) -> tuple[DecisionRecord, Any]:
    h = harness(pol, _german_documents() if german else None)
    h.local.trained_languages = frozenset({"en", "de"})  # the local priority model reads both: no noise here
    h.remote.key_set = key_set
    if answer is not None:
        h.remote.default = answer
    record = h.service.process(ticket_event()).record
    assert record is not None
    return record, h.remote


def _properties(tool: dict[str, Any]) -> dict[str, Any]:
    return dict(tool["input_schema"]["properties"])


# ------------------------------------------------------------------ the prompt
def test_instructions_say_any_language_read_as_written_and_labels_never_translated() -> None:
    assert "may be written in any language" in INSTRUCTIONS
    assert "do not translate it" in INSTRUCTIONS
    assert "never translated" in INSTRUCTIONS


def test_ticket_language_goes_fenced_into_the_user_turn_and_the_system_prompt_stays_static() -> None:
    workflow = policy(**ON).workflows["support"]
    german = TicketLanguage("de", "detected", "de", 0.98, "de-DE")
    english = TicketLanguage("en", "detected", "en", 0.97, None)

    de = build_prompt("support", workflow, ["category"], "Betreff", GERMAN, {"ticket.priority": "low"}, language=german)
    en = build_prompt("support", workflow, ["category"], "Subject", "Charged twice", {}, language=english)

    assert de.system == en.system
    context = de.user.split("<context>")[1].split("</context>")[0]
    assert "- ticket language: de (German)" in context
    assert "- ticket.priority: low" in context
    assert "- ticket language: en (English)" in en.user
    assert "German" not in de.system


def test_system_prompt_defines_the_optional_answers_only_when_the_workflow_turns_them_on() -> None:
    on = system_prompt("support", policy(**ON).workflows["support"], ["category"])
    off = system_prompt("support", policy().workflows["support"], ["category"])
    only_urgency = system_prompt("support", policy(signals={"urgency": True}).workflows["support"], ["category"])

    assert all(f"- `{name}` (when the tool asks for it)" in on for name in ("gist", "sentiment", "urgent"))
    assert "when the tool asks for it" not in off
    assert "`urgent`" in only_urgency
    assert "`sentiment`" not in only_urgency
    assert "`gist`" not in only_urgency


def test_a_gist_is_asked_only_of_a_ticket_outside_the_agents_language() -> None:
    _, german_remote = _decide(_policy(**ON), german=True)
    _, english_remote = _decide(_policy(**ON))
    _, gist_off_remote = _decide(_policy(signals={"sentiment": True}), german=True)

    german_tool = german_remote.prompts[0].tool
    gist = _properties(german_tool)["gist"]
    assert gist["type"] == "string"
    assert gist["maxLength"] == 600
    assert gist["description"] == (
        "A 1-3 sentence summary of the ticket in English for a reviewer who does not read German."
    )
    assert "gist" in german_tool["input_schema"]["required"]
    assert "gist" not in _properties(english_remote.prompts[0].tool)
    assert "gist" not in _properties(gist_off_remote.prompts[0].tool)
    assert "- ticket language: de (German)" in german_remote.prompts[0].user
    # The schema is part of the cached prefix: a ticket needing a gist has its own prefix; the system prompt is one.
    assert german_remote.prompts[0].prefix_hash != english_remote.prompts[0].prefix_hash
    assert german_remote.prompts[0].system == english_remote.prompts[0].system


def test_signal_properties_are_required_when_the_workflow_turns_them_on() -> None:
    _, remote = _decide(_policy(**ON))
    _, off_remote = _decide(_policy())

    properties = _properties(remote.prompts[0].tool)
    assert properties["sentiment"]["enum"] == ["negative", "neutral", "positive"]
    assert properties["urgent"]["type"] == "boolean"
    assert {"sentiment", "urgent"} <= set(remote.prompts[0].tool["input_schema"]["required"])
    assert not {"sentiment", "urgent", "gist"} & set(_properties(off_remote.prompts[0].tool))


# ------------------------------------------------------------------ the answers
def test_signals_and_the_gist_land_on_the_record_and_decide_nothing() -> None:
    gist = "The customer was charged twice for the November invoice and asks for a refund."
    plain, _ = _decide(_policy(**ON), ANSWER, german=True)

    record, _ = _decide(_policy(**ON), {**ANSWER, "sentiment": "negative", "urgent": True, "gist": gist}, german=True)

    assert record.signals == Signals(sentiment="negative", urgent=True, model="claude-haiku-4-5")
    assert record.gist is not None
    assert (record.gist.text, record.gist.language, record.gist.source_language) == (gist, "en", "de")
    assert record.gist.model == "claude-haiku-4-5"
    assert record.gist.machine_translated is True
    assert (record.action, record.reason_codes, record.labels) == (plain.action, plain.reason_codes, plain.labels)
    assert record.action == "apply"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"sentiment": "angry", "urgent": True}, Signals(sentiment=None, urgent=True, model="claude-haiku-4-5")),
        (
            {"sentiment": "positive", "urgent": "yes"},
            Signals(sentiment="positive", urgent=None, model="claude-haiku-4-5"),
        ),
        ({"sentiment": 3, "urgent": 1}, None),
        ({}, None),
    ],
)
def test_an_invalid_signal_is_none_and_never_an_error_for_the_tasks(
    given: dict[str, Any], expected: Signals | None
) -> None:
    record, _ = _decide(_policy(**ON), {**ANSWER, **given})

    assert record.signals == expected
    assert record.action == "apply"
    assert record.reason_codes == []
    assert record.labels["category"] == "billing"


@pytest.mark.parametrize("gist", [None, 42, "   ", "x" * 601])
def test_a_missing_or_invalid_gist_leaves_the_record_without_one_and_is_logged(
    gist: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged: list[tuple[str, dict[str, Any]]] = []

    class Recorder:
        def warning(self, message: str, **fields: Any) -> None:
            logged.append((message, fields))

    monkeypatch.setattr(model_router, "logger", Recorder())
    answer = {**ANSWER, "sentiment": "neutral", "urgent": False, **({} if gist is None else {"gist": gist})}

    record, _ = _decide(_policy(**ON), answer, german=True)

    assert record.gist is None
    assert record.action == "apply"
    assert record.signals == Signals(sentiment="neutral", urgent=False, model="claude-haiku-4-5")
    assert len(logged) == 1
    assert logged[0][1]["unusable"] == ["gist"]
    assert logged[0][1]["unusable_count"] == 1


@pytest.mark.parametrize(("route", "output_price"), [("haiku", 5), ("sonnet", 15)])
def test_the_gist_cost_estimate_is_its_tokens_at_the_routes_output_price(route: str, output_price: int) -> None:
    pol = _policy(sonnet_tasks=("category",) if route == "sonnet" else (), **ON)

    record, _ = _decide(pol, {**ANSWER, "sentiment": "neutral", "urgent": False, "gist": "g" * 402}, german=True)

    assert record.gist is not None
    assert record.gist.output_tokens_estimate == 100
    assert record.gist.cost_usd_estimate == pytest.approx(100 * output_price / 1_000_000)
    assert record.cost_usd == pytest.approx(0.00125)  # the whole call, as the remote model reported it


def test_only_the_first_claude_route_is_asked_for_the_gist_and_signals() -> None:
    pol = _policy(sonnet_tasks=("priority",), **ON)
    answer = {**ANSWER, "priority": "high", "priority_confidence": 0.9, "sentiment": "positive", "urgent": False,
              "gist": "Double charge."}  # fmt: skip

    record, remote = _decide(pol, answer, german=True)

    assert len(remote.prompts) == 2
    first, second = (_properties(p.tool) for p in remote.prompts)
    assert {"category", "sentiment", "urgent", "gist"} <= set(first)
    assert not {"sentiment", "urgent", "gist"} & set(second)
    assert "priority" in second
    assert remote.prompts[0].asks.anything
    assert not remote.prompts[1].asks.anything
    assert record.signals is not None
    assert record.signals.model == "claude-haiku-4-5"
    assert record.gist is not None
    assert record.gist.model == "claude-haiku-4-5"


def test_a_local_only_decision_has_no_signals_and_no_gist() -> None:
    record, remote = _decide(_policy(**ON), german=True, key_set=False)

    assert remote.prompts == []
    assert record.fallback == "no_api_key"
    assert record.signals is None
    assert record.gist is None


# ------------------------------------------------------------------ rules.review_on_signals
@pytest.mark.parametrize(
    ("review_on", "signals", "sends_to_review"),
    [
        ({"sentiment": ["negative"]}, {"sentiment": "negative", "urgent": False}, True),
        ({"sentiment": ["negative"]}, {"sentiment": "neutral", "urgent": True}, False),
        ({"urgent": True}, {"sentiment": "positive", "urgent": True}, True),
        ({"urgent": True}, {"sentiment": "negative", "urgent": False}, False),
        ({"urgent": True}, {"sentiment": "negative", "urgent": "maybe"}, False),
        ({}, {"sentiment": "negative", "urgent": True}, False),
    ],
)
def test_review_on_signals_adds_signal_review_and_nothing_else_changes(
    review_on: dict[str, Any], signals: dict[str, Any], sends_to_review: bool
) -> None:
    baseline, _ = _decide(_policy(**ON), ANSWER)

    record, _ = _decide(_policy(**ON, rules={**RULES, "review_on_signals": review_on}), {**ANSWER, **signals})

    assert (reasons.SIGNAL_REVIEW in record.reason_codes) is sends_to_review
    assert [c for c in record.reason_codes if c != reasons.SIGNAL_REVIEW] == baseline.reason_codes
    assert record.proposed_action == ("review" if sends_to_review else baseline.proposed_action)
    assert record.labels == baseline.labels


# ------------------------------------------------------------------ parsing
def test_a_reply_that_did_not_finish_its_tool_call_answers_nothing_beside_the_tasks() -> None:
    asks = Asks(gist_from="de", gist_into="en", sentiment=True, urgent=True)
    cut_off = {"sentiment": "negative", "urgent": True, "gist": "A summary.", "stop_reason": "max_tokens"}

    side = parse_side_answers(cut_off, asks)

    assert (side.gist, side.sentiment, side.urgent) == (None, None, None)
    assert side.unusable == ("gist", "sentiment", "urgent")
    assert parse_side_answers({**cut_off, "stop_reason": "tool_use"}, asks).unusable == ()


def test_nothing_is_read_that_was_not_asked() -> None:
    side = parse_side_answers({"sentiment": "negative", "urgent": True, "gist": "A summary."}, Asks())

    assert (side.gist, side.sentiment, side.urgent, side.unusable) == (None, None, None, ())
