"""Rollout modes from flags (file store, same schema as AppConfig) and human-override detection."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.builders import FakeLocal, harness, ticket_event, zendesk_documents
from triage_gate.adapters.flag_stores import FileFlagStore
from triage_gate.policy import load_policy
from triage_gate.rollout import FlagRollout, FlagsUnavailable, PolicyRollout, Segment, validate_flags

POLICY = load_policy()
WORKFLOW = POLICY.workflows["zendesk-support"]


def _flags(path: Path, default: str, rules: dict | None = None) -> Path:
    path.write_text(
        json.dumps({"mode.zendesk-support": {"default": default, "boolean_type": False, "rules": rules or {}}})
    )
    return path


def _segment(**kw) -> Segment:  # type: ignore[no-untyped-def]
    return Segment(workflow="zendesk-support", source="zendesk", ticket_id=kw.pop("ticket_id", "40211"), **kw)


def test_without_flags_the_policy_mode_applies():
    assert PolicyRollout().mode_for("zendesk-support", WORKFLOW, _segment()) == WORKFLOW.mode


def test_flag_rules_pick_a_mode_per_segment(tmp_path):
    rules = {
        "enterprise in assist": {
            "when_match": "assist",
            "conditions": [{"action": "EQUALS", "key": "tier", "value": "enterprise"}],
        },
        "no_ai tag off": {
            "when_match": "off",
            "conditions": [{"action": "VALUE_IN_KEY", "key": "tags", "value": "no_ai"}],
        },
        "20% auto": {
            "when_match": "auto",
            "conditions": [
                {"action": "MODULO_RANGE", "key": "ticket_number", "value": {"BASE": 100, "START": 0, "END": 19}}
            ],
        },
    }
    rollout = FlagRollout(FileFlagStore(_flags(tmp_path / "f.json", "shadow", rules), max_age=0))

    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(tier="enterprise")) == "assist"
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(tags=["no_ai", "vip"])) == "off"
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(ticket_id="40215")) == "auto"  # 15 % 100
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(ticket_id="40250")) == "shadow"  # 50 % 100


def test_a_flag_change_takes_effect_without_a_restart(tmp_path):
    path = _flags(tmp_path / "f.json", "shadow")
    rollout = FlagRollout(FileFlagStore(path, max_age=0))
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment()) == "shadow"

    _flags(path, "auto")
    os.utime(path, (time.time() + 5, time.time() + 5))

    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment()) == "auto"


def test_unreadable_flags_fail_closed_and_the_ticket_stays_undecided(tmp_path):
    rollout = FlagRollout(FileFlagStore(tmp_path / "missing.json", max_age=0))
    with pytest.raises(FlagsUnavailable):
        rollout.mode_for("zendesk-support", WORKFLOW, _segment())
    seen: list[str] = []
    h = harness()
    h.service.deps.rollout = rollout
    h.service.deps.on_flags_unavailable = seen.append

    outcome = h.service.process(ticket_event())

    assert outcome.status == "not_classified"
    assert h.actions.bodies == []
    assert h.remote.prompts == []
    assert seen
    assert "missing.json" in seen[0]
    assert h.claims.tickets == {}  # released: a later event may still decide the ticket


def test_a_rule_on_an_unknown_key_fails_closed(tmp_path):
    no_ai = [{"action": "VALUE_IN_KEY", "key": "tags", "value": "no_ai"}]
    rules = {"no_ai tag off": {"when_match": "off", "conditions": no_ai}}
    rollout = FlagRollout(FileFlagStore(_flags(tmp_path / "f.json", "auto", rules), max_age=0))

    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(tags=["billing"])) == "auto"
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(unknown=frozenset({"tags"}))) == "off"
    assert rollout.mode_for("zendesk-support", WORKFLOW, _segment(unknown=frozenset({"tier"}))) == "auto"


def test_without_context_the_segment_is_read_from_the_events_own_fields():
    from triage_gate.rollout import segment_of

    from_event = segment_of("w", "zendesk", "1", {}, None, {"tags": ["no_ai"], "group_id": "7"})
    bare = segment_of("w", "zendesk", "1", {}, None, {"via_channel": "web"})

    assert from_event.tags == ["no_ai"]
    assert from_event.group == "7"
    assert from_event.unknown == frozenset({"brand", "tier"})
    assert bare.unknown == frozenset({"brand", "group", "tags", "tier"})


def test_flags_check_rejects_unknown_modes_and_bad_schema():
    assert validate_flags({"mode.x": {"default": "sometimes", "boolean_type": False}})
    assert validate_flags(
        {"mode.x": {"default": "auto", "boolean_type": False, "rules": {"r": {"when_match": "auto"}}}}
    )
    assert validate_flags(json.loads(Path("infra/local/flags.json").read_text())) == []


class _Mode:
    def __init__(self, mode: str) -> None:
        self.mode = mode

    def mode_for(self, *_args: object) -> str:
        return self.mode


def _decided(mode: str = "auto", tier: str = "growth"):  # type: ignore[no-untyped-def]
    h = harness(POLICY, documents={("zendesk", "40211"): zendesk_documents(tier=tier)})
    h.service.deps.local = FakeLocal(answers={"category": ("billing", 0.9), "priority": ("normal", 0.9)})
    h.service.deps.rollout = _Mode(mode)
    record = h.service.process(ticket_event(account_id="90817263")).record
    return h, record


def test_mode_used_is_recorded_and_a_segment_can_be_switched_off():
    h, record = _decided("assist")
    assert record.mode == "assist"

    h.service.deps.rollout = _Mode("off")
    outcome = h.service.process(ticket_event("ingest__zendesk_comment_added.json", ticket_id="40299"))
    assert outcome.status == "not_classified"


def test_human_changing_a_field_the_system_set_is_an_override():
    h, record = _decided("auto")
    assert record.action == "apply"

    outcome = h.service.process(ticket_event("ingest__zendesk_priority_changed.json"))  # priority → HIGH

    assert outcome.status == "watched"
    [finding] = outcome.findings
    assert (finding.kind, finding.task, finding.system_value, finding.human_value) == (
        "override",
        "priority",
        "normal",
        "high",
    )
    assert finding.human_label == "high"
    stored = h.decisions.records[record.decision_id].override
    assert stored["findings"][0]["human_label"] == "high"


def test_the_systems_own_write_back_is_not_an_override():
    h, _ = _decided("auto")
    event = ticket_event("ingest__zendesk_priority_changed.json")
    echo = event.replace(**{"fields": {**event.fields, "priority": "normal"}})

    outcome = h.service.process(echo)

    assert outcome.findings == ()


def test_shadow_decisions_measure_agreement_with_what_the_human_did():
    h, record = _decided("shadow")
    assert record.action == "record"
    event = ticket_event("ingest__zendesk_priority_changed.json")

    disagree = h.service.process(event)
    agree = h.service.process(event.replace(**{"event_id": "e2", "fields": {**event.fields, "priority": "normal"}}))

    assert [f.kind for f in disagree.findings] == ["shadow_disagreement"]
    assert [f.kind for f in agree.findings] == ["shadow_agreement"]


def test_a_redelivered_update_is_counted_once():
    h, record = _decided("auto")
    event = ticket_event("ingest__zendesk_priority_changed.json")

    h.service.process(event)
    again = h.service.process(event)

    assert again.status == "duplicate"
    assert len(h.decisions.records[record.decision_id].override["findings"]) == 1


@pytest.mark.parametrize("event_name", ["ingest__zendesk_priority_changed.json"])
def test_updates_for_tickets_never_decided_are_not_classified(event_name):
    h = harness(POLICY)

    outcome = h.service.process(ticket_event(event_name))

    assert outcome.status == "not_classified"
