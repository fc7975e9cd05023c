"""A report is named for the model that produced it: asking for Sonnet without an API key is not a Sonnet run."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.eval_metrics.conftest import row
from triage_tools.evaluation.metrics import models_used, run_name


def _answered_by(*models: str) -> list:
    return [replace(row(f"r{i}", "billing", "billing", 0.9), model=m) for i, m in enumerate(models)]


def test_every_row_from_the_requested_model_keeps_the_plain_name() -> None:
    rows = _answered_by("claude-sonnet-4-6", "claude-sonnet-4-6")

    assert run_name("zendesk-support", "category", "sonnet", "claude-sonnet-4-6", rows) == (
        "zendesk-support/category (sonnet)"
    )


def test_a_fallback_to_the_local_model_is_named() -> None:
    rows = _answered_by("local", "local", "claude-sonnet-4-6")

    assert run_name("zendesk-support", "category", "sonnet", "claude-sonnet-4-6", rows) == (
        "zendesk-support/category (sonnet requested; answered by local 2, claude-sonnet-4-6 1)"
    )


def test_the_policy_routes_may_mix_models() -> None:
    rows = _answered_by("local", "claude-haiku-4-5")

    assert run_name("w", "category", "policy", None, rows) == "w/category (policy)"
    assert models_used(rows) == {"claude-haiku-4-5": 1, "local": 1}
