"""The invocation's metrics: kept until the handler ends, written as few EMF documents, each metric with
exactly the dimensions it was counted with (what Powertools' single_metric wrote, one record per call)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from aws_lambda_powertools.metrics import (
    MetricUnit,
    MetricUnitError,
    MetricValueError,
    SchemaValidationError,
    single_metric,
)
from aws_lambda_powertools.metrics.provider import cold_start

from tests.emf import Extracted, emf_documents, emf_metrics
from triage_gate.observability import MAX_PENDING_VALUES, NAMESPACE, InvocationMetrics

Call = tuple[str, float, MetricUnit, dict[str, str]]

# One triage decision's metrics (triage/telemetry.py), two escalation reasons and four stages.
DECISION: list[Call] = [
    ("TriageBatches", 1, MetricUnit.Count, {}),
    ("Decisions", 1, MetricUnit.Count, {"Workflow": "zendesk-support", "Action": "review"}),
    ("DecisionsByMode", 1, MetricUnit.Count, {"Workflow": "zendesk-support", "Mode": "auto"}),
    ("Classified", 1, MetricUnit.Count, {"Workflow": "zendesk-support"}),
    ("Escalations", 1, MetricUnit.Count, {"Workflow": "zendesk-support", "Reason": "low_confidence"}),
    ("Escalations", 1, MetricUnit.Count, {"Workflow": "zendesk-support", "Reason": "policy_always_review"}),
    ("FallbackUsed", 1, MetricUnit.Count, {"Workflow": "zendesk-support", "Fallback": "no_api_key"}),
    ("StageLatency", 76.9, MetricUnit.Milliseconds, {"Workflow": "zendesk-support", "Stage": "context"}),
    ("StageLatency", 5.3, MetricUnit.Milliseconds, {"Workflow": "zendesk-support", "Stage": "guardrails"}),
    ("StageLatency", 1.0, MetricUnit.Milliseconds, {"Workflow": "zendesk-support", "Stage": "model:local"}),
    ("StageLatency", 84.9, MetricUnit.Milliseconds, {"Workflow": "zendesk-support", "Stage": "total"}),
    ("EndToEndLatency", 1200.0, MetricUnit.Milliseconds, {"Workflow": "zendesk-support"}),
    ("EscalationRate", 1.0, MetricUnit.NoUnit, {"Workflow": "zendesk-support"}),
    ("FallbackRate", 1.0, MetricUnit.NoUnit, {"Workflow": "zendesk-support"}),
    ("Tokens", 812, MetricUnit.Count, {"Workflow": "zendesk-support", "Kind": "input"}),
    ("Tokens", 95, MetricUnit.Count, {"Workflow": "zendesk-support", "Kind": "output"}),
    ("CostUSD", 0.0042, MetricUnit.NoUnit, {"Workflow": "zendesk-support"}),
]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> InvocationMetrics:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "triage")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    return InvocationMetrics(NAMESPACE)


def _single_metric_output(calls: list[Call], capsys: pytest.CaptureFixture[str]) -> list[Extracted]:
    """What the previous observability wrote: one Powertools single_metric record per call."""
    capsys.readouterr()
    for name, value, unit, dimensions in calls:
        with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
            for key, dim in dimensions.items():
                metric.add_dimension(name=key, value=dim)
    return emf_metrics(capsys.readouterr().out)


def _samples(metrics: list[Extracted]) -> Counter[tuple[str, str, tuple[tuple[str, str], ...], float]]:
    return Counter((m.name, m.unit, m.dimensions, value) for m in metrics for value in m.values)


def test_a_decision_is_a_few_documents_with_every_metric_as_single_metric_wrote_it(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _single_metric_output(DECISION, capsys)
    for name, value, unit, dimensions in DECISION:
        recorder.record(name, unit, value, dimensions)

    recorder.flush_metrics()

    out = capsys.readouterr().out
    assert len(before) == len(DECISION)  # one record per call, before
    assert len(emf_documents(out)) == 4  # now: StageLatency's four stages need four documents
    assert _samples(emf_metrics(out)) == _samples(before)
    assert all(("service", "triage") in m.dimensions for m in emf_metrics(out))


def test_repeated_values_of_one_metric_share_its_series(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    for latency in (10.0, 20.0, 30.0):
        recorder.record("StageLatency", MetricUnit.Milliseconds, latency, {"Workflow": "w", "Stage": "model"})

    recorder.flush_metrics()

    [metric] = emf_metrics(capsys.readouterr().out)
    assert (metric.name, metric.values) == ("StageLatency", (10.0, 20.0, 30.0))
    assert metric.dimensions == (("Stage", "model"), ("Workflow", "w"), ("service", "triage"))


def test_more_than_a_hundred_values_or_metrics_are_split_within_the_limits(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    for value in range(250):
        recorder.record("Tokens", MetricUnit.Count, value, {"Kind": "input"})
    for index in range(150):
        recorder.record(f"Metric{index}", MetricUnit.Count, 1, {"Kind": "input"})

    recorder.flush_metrics()

    out = capsys.readouterr().out
    metrics = emf_metrics(out)  # checks ≤ 100 values per metric and ≤ 100 definitions per document
    assert sorted(v for m in metrics if m.name == "Tokens" for v in m.values) == [float(v) for v in range(250)]
    assert sorted(m.name for m in metrics if m.name != "Tokens") == sorted(f"Metric{i}" for i in range(150))
    assert len(emf_documents(out)) == 3


def test_a_metric_named_like_another_metrics_dimension_gets_its_own_document(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder.record("Stage", MetricUnit.Count, 1, {})
    recorder.record("StageLatency", MetricUnit.Milliseconds, 5, {"Stage": "model"})

    recorder.flush_metrics()

    out = capsys.readouterr().out
    assert len(emf_documents(out)) == 2
    assert {(m.name, m.dimensions) for m in emf_metrics(out)} == {
        ("Stage", (("service", "triage"),)),
        ("StageLatency", (("Stage", "model"), ("service", "triage"))),
    }


def test_invocation_dimensions_apply_to_every_metric_until_the_flush(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder.add_dimension("Tenant", "acme")
    recorder.add_metric(name="WebhookRequests", unit="Count", value=1)
    recorder.record("EventsAccepted", MetricUnit.Count, 2, {"Source": "hubspot"})
    recorder.flush_metrics()
    recorder.add_metric(name="WebhookRequests", unit="Count", value=1)
    recorder.flush_metrics()

    first, second = (emf_metrics(line) for line in capsys.readouterr().out.splitlines())
    assert {m.keys for m in first} == {frozenset({"Tenant", "service"}), frozenset({"Source", "Tenant", "service"})}
    assert [m.keys for m in second] == [frozenset({"service"})]


def test_nothing_recorded_writes_nothing_unless_asked_to_raise(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder.flush_metrics()
    assert capsys.readouterr().out == ""
    with pytest.raises(SchemaValidationError):
        recorder.flush_metrics(raise_on_empty_metrics=True)


def test_disabled_metrics_are_dropped_at_the_flush(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    recorder.record("Decisions", MetricUnit.Count, 1, {"Workflow": "w"})

    recorder.flush_metrics()
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    recorder.flush_metrics()

    assert capsys.readouterr().out == ""


def test_bad_metrics_are_refused_when_recorded(recorder: InvocationMetrics) -> None:
    with pytest.raises(MetricUnitError):
        recorder.record("Decisions", "Furlongs", 1, {})
    for bad in (float("nan"), float("inf"), "1", True):
        with pytest.raises(MetricValueError):
            recorder.record("Decisions", MetricUnit.Count, bad, {})  # type: ignore[arg-type]
    with pytest.raises(SchemaValidationError):
        recorder.record("Stage", MetricUnit.Count, 1, {"Stage": "model"})


def test_an_empty_dimension_is_left_out_with_a_warning(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.warns(UserWarning, match="empty dimension"):
        recorder.record("ReviewClicks", MetricUnit.Count, 1, {"Action": "approve", "Result": ""})
    recorder.flush_metrics()

    [metric] = emf_metrics(capsys.readouterr().out)
    assert metric.keys == {"Action", "service"}


def test_a_caller_that_never_flushes_is_flushed_early(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(MAX_PENDING_VALUES):
        recorder.record("Decisions", MetricUnit.Count, 1, {})

    assert sum(len(m.values) for m in emf_metrics(capsys.readouterr().out)) == MAX_PENDING_VALUES


class Context:
    function_name = "TriageFunction-abc"


def test_log_metrics_flushes_once_per_invocation_also_when_the_handler_raises(
    recorder: InvocationMetrics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cold_start, "is_cold_start", True)

    @recorder.log_metrics(capture_cold_start_metric=True)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        recorder.record("Decisions", MetricUnit.Count, 1, {"Workflow": "w", "Action": event["action"]})
        if event["action"] == "fail":
            raise RuntimeError("boom")
        return {"ok": True}

    assert handler({"action": "apply"}, Context()) == {"ok": True}
    first = capsys.readouterr().out
    with pytest.raises(RuntimeError, match="boom"):
        handler({"action": "fail"}, Context())
    second = capsys.readouterr().out

    assert len(emf_documents(first)) == len(emf_documents(second)) == 1
    assert {(m.name, m.dimensions) for m in emf_metrics(first)} == {
        ("ColdStart", (("function_name", "TriageFunction-abc"), ("service", "triage"))),
        ("Decisions", (("Action", "apply"), ("Workflow", "w"), ("service", "triage"))),
    }
    assert [m.name for m in emf_metrics(second)] == ["Decisions"]  # a cold start is counted once
