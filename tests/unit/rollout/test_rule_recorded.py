"""Every decision records which rollout segment decided its mode (through TriageService with the usual fakes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.builders import FakeLocal, harness, policy, ticket_event
from tests.unit.rollout.test_status import NO_AI, percentage_rule
from triage_gate.adapters.flag_stores import FileFlagStore
from triage_gate.rollout import DEFAULT_RULE, FlagRollout, validate_flags
from triage_gate.triage.decision import DecisionRecord

POLICY = policy()  # workflow "support", mode auto in the policy file


def decide(tmp_path: Path, document: dict[str, Any], documents: dict | None = None) -> DecisionRecord:  # type: ignore[type-arg]
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    h = harness(POLICY, documents=documents)
    h.service.deps.local = FakeLocal(answers={"category": ("billing", 0.95), "priority": ("low", 0.95)})
    h.service.deps.rollout = FlagRollout(FileFlagStore(path, max_age=0))
    record = h.service.process(ticket_event()).record  # ticket 40211: ticket_number % 100 = 11
    assert record is not None
    stored = h.decisions.records[record.decision_id]
    assert stored.rollout_rule == record.rollout_rule  # what reports read later
    return record


def flag(default: str, rules: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"mode.support": {"default": default, "boolean_type": False, **({"rules": rules} if rules else {})}}


def test_the_matching_rule_is_recorded_with_the_mode_it_gave(tmp_path):
    record = decide(tmp_path, flag("shadow", {"no_ai off": NO_AI, "20% on auto": percentage_rule("auto", 19)}))

    assert (record.mode, record.rollout_rule) == ("auto", "20% on auto")


def test_when_no_rule_matches_the_flags_default_is_recorded(tmp_path):
    record = decide(tmp_path, flag("shadow", {"10% on auto": percentage_rule("auto", 9)}))

    assert (record.mode, record.rollout_rule) == ("shadow", DEFAULT_RULE)


def test_without_a_flag_for_the_workflow_no_rule_is_recorded(tmp_path):
    record = decide(tmp_path, {"mode.some-other-workflow": {"default": "off", "boolean_type": False}})

    assert (record.mode, record.rollout_rule) == ("auto", None)


def test_a_rule_taken_because_it_could_not_be_evaluated_is_the_one_recorded(tmp_path):
    enterprise = {"when_match": "shadow", "conditions": [{"action": "EQUALS", "key": "tier", "value": "enterprise"}]}

    record = decide(tmp_path, flag("auto", {"enterprise in shadow": enterprise}), documents={})  # no context: tier?

    assert (record.mode, record.rollout_rule) == ("shadow", "enterprise in shadow")


def test_a_rollout_that_only_says_the_mode_records_no_rule():
    class FixedMode:
        def mode_for(self, *_args: object) -> str:
            return "assist"

    h = harness(POLICY)
    h.service.deps.rollout = FixedMode()
    record = h.service.process(ticket_event()).record

    assert record is not None
    assert (record.mode, record.rollout_rule) == ("assist", None)


def test_records_written_before_the_rule_was_recorded_still_parse():
    h = harness(POLICY)
    record = h.service.process(ticket_event()).record
    assert record is not None
    old = json.loads(record.to_json())
    del old["rollout_rule"]

    assert DecisionRecord.from_data(old).rollout_rule is None


def test_a_rule_may_not_take_the_name_of_the_flags_default():
    problems = validate_flags(flag("shadow", {"default": percentage_rule("auto", 9)}))

    assert problems == ["mode.support: a rule may not be named 'default' (it names the flag's default)"]
