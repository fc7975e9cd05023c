"""The backtest says what to do next from auto mode's verdict, and never skips the live evidence."""

from __future__ import annotations

import pytest

from triage_tools.backtest.result import next_step


def _auto(verdict: str, coverage: float = 0.35) -> dict[str, object]:
    return {"coverage": coverage, "precision": {"verdict": verdict}}


def test_a_proven_history_still_starts_in_shadow_and_names_the_gate() -> None:
    text = next_step(_auto("proven"), "zendesk-support")

    assert "supports auto on 35% of tickets" in text
    assert "Start zendesk-support in shadow" in text
    assert "triage rollout status" in text


def test_within_the_tolerance_but_unproven_says_so() -> None:
    assert "too few to prove it" in next_step(_auto("within, not proven"), "w")


@pytest.mark.parametrize("verdict", ["below, not proven", "fails"])
def test_missing_the_tolerance_keeps_the_workflow_out_of_auto(verdict: str) -> None:
    text = next_step(_auto(verdict), "w")

    assert "missed the error tolerance" in text
    assert "shadow or assist" in text


def test_nothing_applied_points_at_more_history_or_claude() -> None:
    assert "--model policy" in next_step(_auto("none", 0.0), "w")
