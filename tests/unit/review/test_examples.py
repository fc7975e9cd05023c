"""Few-shot examples from reviewers' corrections, and the system prompt that carries them."""

from __future__ import annotations

import json

from tests.unit.review.conftest import WORKFLOW
from triage_gate.policy import Policy
from triage_gate.review.feedback import EXAMPLE_CHARS, EXAMPLES_PER_LABEL, add_example
from triage_gate.triage.prompt import system_prompt


# ---------------------------------------------------------------- few-shot examples
def test_add_example_keeps_the_newest_per_label_first_and_caps_them() -> None:
    examples: dict[str, dict[str, list[str]]] = {}

    for text in ("first refund", "second refund", "third refund"):
        add_example(examples, "category", "refund", text)

    assert EXAMPLES_PER_LABEL == 2
    assert examples == {"category": {"refund": ["third refund", "second refund"]}}


def test_add_example_dedupes_by_moving_a_repeated_text_to_the_front() -> None:
    examples: dict[str, dict[str, list[str]]] = {}
    add_example(examples, "category", "refund", "charged   twice\nplease")
    add_example(examples, "category", "refund", "another one")

    add_example(examples, "category", "refund", "charged twice please")

    assert examples["category"]["refund"] == ["charged twice please", "another one"]


def test_add_example_clips_long_texts_and_keeps_labels_apart() -> None:
    examples: dict[str, dict[str, list[str]]] = {}

    add_example(examples, "category", "refund", "x" * 5000)
    add_example(examples, "category", "billing", "an invoice")
    add_example(examples, "priority", "high", "blocked")

    assert len(examples["category"]["refund"][0]) == EXAMPLE_CHARS
    assert examples["category"]["billing"] == ["an invoice"]
    assert examples["priority"] == {"high": ["blocked"]}


def test_add_example_gives_the_same_result_for_the_same_sequence() -> None:
    sequence = [("category", "refund", "a"), ("category", "bug", "b"), ("category", "refund", "c"),
                ("category", "refund", "a"), ("priority", "high", "d")]  # fmt: skip
    first: dict[str, dict[str, list[str]]] = {}
    second: dict[str, dict[str, list[str]]] = {}

    for task, label, text in sequence:
        add_example(first, task, label, text)
        add_example(second, task, label, text)

    assert json.dumps(first) == json.dumps(second)
    assert first["category"]["refund"] == ["a", "c"]


# ---------------------------------------------------------------- the prompt carries the corrections
def test_system_prompt_lists_recent_corrections_sorted_by_label(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]
    corrections = {"category": {"refund": ["please refund [EMAIL]"], "billing": ["invoice INV-1 is wrong"]}}

    prompt = system_prompt(WORKFLOW, workflow, ["category", "priority"], corrections)

    assert "Recent tickets reviewers labelled for `category`" in prompt
    billing = prompt.index('- "invoice INV-1 is wrong" → `billing`')
    refund = prompt.index('- "please refund [EMAIL]" → `refund`')
    assert billing < refund
    assert "reviewers labelled for `priority`" not in prompt


def test_system_prompt_is_the_same_whatever_order_the_corrections_arrive_in(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]
    one = {"category": {"refund": ["r"], "billing": ["b"], "bug": ["x"]}}
    other = {"category": {"bug": ["x"], "billing": ["b"], "refund": ["r"]}}
    first = system_prompt(WORKFLOW, workflow, ["category"], one)

    assert first == system_prompt(WORKFLOW, workflow, ["category"], other)


def test_system_prompt_leaves_out_corrections_to_labels_outside_the_taxonomy(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    prompt = system_prompt(WORKFLOW, workflow, ["category"], {"category": {"retired_label": ["old ticket"]}})

    assert "old ticket" not in prompt


def test_system_prompt_without_corrections_has_no_reviewed_examples(shipped_policy: Policy) -> None:
    workflow = shipped_policy.workflows[WORKFLOW]

    prompt = system_prompt(WORKFLOW, workflow, ["category"], None)

    assert "Recent tickets reviewers labelled" not in prompt
    assert prompt == system_prompt(WORKFLOW, workflow, ["category"], {})
