"""`triage eval` metrics: label quality, the guardrail view, calibration, operations and reference points,
each checked against numbers worked out by hand in the comments; recorded replies replayed."""

from __future__ import annotations

import json

import pytest

from tests.unit.eval_metrics.conftest import LABELS, ROWS, row
from triage_tools.evaluation.metrics import (
    DEFAULT_THRESHOLDS,
    NO_LABEL,
    accuracy,
    confusion,
    cost_summary,
    coverage_curve,
    coverage_precision,
    expected_calibration_error,
    latency_percentiles,
    macro_f1,
    majority_baseline,
    per_label,
    reason_counts,
    reliability,
    summary,
    wilson_lower_bound,
)

# --------------------------------------------------------------------------------------------- label quality


def test_accuracy_counts_a_missing_label_as_wrong() -> None:
    assert accuracy(ROWS) == pytest.approx(6 / 10)
    assert accuracy([]) == 0.0
    assert accuracy([row("x", "bug", None, None)]) == 0.0


def test_per_label_precision_recall_f1_support() -> None:
    scores = per_label(ROWS, LABELS)
    assert list(scores) == LABELS
    # billing: TP 2 (r1 r2), predicted 3, true 4 -> P 2/3, R 1/2, F1 = 2*2 / (3 + 4) = 4/7
    assert scores["billing"] == pytest.approx({"precision": 2 / 3, "recall": 0.5, "f1": 4 / 7, "support": 4})
    # bug: TP 2 (r5 r6), predicted 4, true 3 -> P 1/2, R 2/3, F1 = 4/7
    assert scores["bug"] == pytest.approx({"precision": 0.5, "recall": 2 / 3, "f1": 4 / 7, "support": 3})
    # access: TP 2, predicted 2, true 3 -> P 1, R 2/3, F1 = 4/5
    assert scores["access"] == pytest.approx({"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3})
    assert scores["refund"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_macro_f1_leaves_out_labels_never_seen_and_scores_predicted_only_labels_zero() -> None:
    # (4/7 + 4/7 + 4/5) / 3; "refund" (never true nor predicted) is not averaged in.
    assert macro_f1(ROWS, LABELS) == pytest.approx((4 / 7 + 4 / 7 + 0.8) / 3)
    assert macro_f1(ROWS, LABELS) == pytest.approx(macro_f1(ROWS, ["billing", "bug", "access"]))
    # predicted "bug" but never true: bug F1 = 0, billing F1 = 2*1/(1+2) = 2/3 -> macro 1/3
    rows = [row("a", "billing", "billing", 0.9), row("b", "billing", "bug", 0.9)]
    assert macro_f1(rows, ["billing", "bug"]) == pytest.approx(1 / 3)
    assert macro_f1([], LABELS) == 0.0


def test_confusion_matrix_counts_with_a_none_column() -> None:
    matrix = confusion(ROWS, LABELS)
    assert list(matrix) == LABELS
    assert list(matrix["billing"]) == [*LABELS, NO_LABEL]
    assert matrix["billing"] == {"billing": 2, "bug": 1, "access": 0, "refund": 0, NO_LABEL: 1}
    assert matrix["bug"] == {"billing": 1, "bug": 2, "access": 0, "refund": 0, NO_LABEL: 0}
    assert matrix["access"] == {"billing": 0, "bug": 1, "access": 2, "refund": 0, NO_LABEL: 0}
    assert sum(matrix["refund"].values()) == 0
    assert sum(sum(counts.values()) for counts in matrix.values()) == len(ROWS)


def test_labels_outside_the_taxonomy_get_their_own_row_and_column() -> None:
    rows = [row("a", "unmapped", "bug", 0.9), row("b", "bug", "bug", 0.9)]
    assert list(confusion(rows, ["bug"])) == ["bug", "unmapped"]
    assert confusion(rows, ["bug"])["unmapped"]["bug"] == 1
    assert per_label(rows, ["bug"])["unmapped"]["support"] == 1


# --------------------------------------------------------------------------------------------- guardrail view


def test_coverage_and_precision_at_the_policy_thresholds() -> None:
    # auto-applied: r1 r2 r5 r7 (4 of 10); correct among them: r1 r2 r5
    assert coverage_precision(ROWS) == {"coverage": 0.4, "precision": 0.75, "n_auto": 4}
    assert coverage_precision(ROWS[2:4]) == {"coverage": 0.0, "precision": None, "n_auto": 0}
    assert coverage_precision([]) == {"coverage": 0.0, "precision": None, "n_auto": 0}


def test_coverage_curve_ignores_the_policy() -> None:
    assert DEFAULT_THRESHOLDS[:3] == (0.0, 0.05, 0.1)
    assert DEFAULT_THRESHOLDS[-2:] == (0.95, 0.99)
    assert len(DEFAULT_THRESHOLDS) == 21
    at_05, at_09, at_099 = coverage_curve(ROWS, thresholds=(0.5, 0.9, 0.99))
    # >= 0.5: every scored row but r9 (0.45) -> 8 rows, correct r1 r2 r5 r6 r8 r10 = 6
    assert at_05 == {"threshold": 0.5, "coverage": 0.8, "precision": 0.75, "n": 8}
    # >= 0.9: r1 .95, r5 .92, r7 .91 (wrong), r10 .98 (not auto under the policy, counted here) -> 3 of 4
    assert at_09 == {"threshold": 0.9, "coverage": 0.4, "precision": 0.75, "n": 4}
    assert at_099 == {"threshold": 0.99, "coverage": 0.0, "precision": None, "n": 0}
    # 0.0: every row with a label and a confidence (r4 has neither): 9 rows, 6 correct
    assert coverage_curve(ROWS, (0.0,))[0]["precision"] == pytest.approx(6 / 9)
    assert len(coverage_curve(ROWS)) == len(DEFAULT_THRESHOLDS)


def test_reason_counts_most_frequent_first() -> None:
    counts = reason_counts(ROWS)
    assert counts == {"low_confidence": 4, "policy_always_review": 2, "empty_ticket": 1}
    assert list(counts) == ["low_confidence", "policy_always_review", "empty_ticket"]
    assert list(reason_counts([row("a", "x", "x", 0.5, reasons=("b", "a"))])) == ["a", "b"]  # ties by name


# --------------------------------------------------------------------------------------------- calibration


def test_reliability_bins() -> None:
    bins = reliability(ROWS)
    assert len(bins) == 10
    assert [b["count"] for b in bins] == [0, 0, 0, 0, 1, 1, 1, 1, 1, 4]  # r4 has no confidence: left out
    assert bins[0] == {"bin_low": 0.0, "bin_high": 0.1, "count": 0, "mean_confidence": None, "accuracy": None}
    assert bins[4]["mean_confidence"] == pytest.approx(0.45)
    assert bins[4]["accuracy"] == 0.0  # r9 wrong
    # bin 9: r1 .95 ok, r5 .92 ok, r7 .91 wrong, r10 .98 ok -> mean 3.76 / 4 = 0.94, accuracy 0.75
    assert bins[9]["mean_confidence"] == pytest.approx(0.94)
    assert bins[9]["accuracy"] == 0.75
    assert reliability([row("a", "x", "x", 1.0)])[-1]["count"] == 1  # 1.0 falls in the last bin
    assert [b["bin_low"] for b in reliability(ROWS, bins=4)] == [0.0, 0.25, 0.5, 0.75]


def test_expected_calibration_error_by_hand() -> None:
    # |accuracy - mean confidence| per bin, weighted by count over the 9 rows with a confidence:
    # .45 wrong -> .45; .55 right -> .45; .65 wrong -> .65; .75 right -> .25; .85 right -> .15;
    # bin 9 (4 rows): |.75 - .94| = .19 -> (0.45 + 0.45 + 0.65 + 0.25 + 0.15 + 4 * 0.19) / 9 = 2.71 / 9
    assert expected_calibration_error(ROWS) == pytest.approx(2.71 / 9)
    from_bins = sum(b["count"] / 9 * abs(b["accuracy"] - b["mean_confidence"]) for b in reliability(ROWS) if b["count"])
    assert expected_calibration_error(ROWS) == pytest.approx(from_bins)
    # one bin (bins=1): mean confidence 7.01 / 9, accuracy 6 / 9
    assert expected_calibration_error(ROWS, bins=1) == pytest.approx(abs(6 / 9 - 7.01 / 9))
    assert expected_calibration_error([row("a", "x", None, None)]) is None
    assert expected_calibration_error([]) is None


def test_confidence_outside_zero_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a probability"):
        reliability([row("a", "x", "x", 1.2)])
    with pytest.raises(ValueError, match="bins"):
        reliability(ROWS, bins=0)


# --------------------------------------------------------------------------------------------- operations


def test_latency_percentiles_nearest_rank() -> None:
    # sorted: 50 100 200 300 400 500 600 700 800 1000 (n = 10)
    # p50: rank ceil(5) = 5 -> 400; p90: rank 9 -> 800; p95: rank ceil(9.5) = 10 -> 1000; p99: rank 10
    assert latency_percentiles(ROWS) == {"p50": 400, "p90": 800, "p95": 1000, "p99": 1000, "max": 1000}
    three = [row(str(i), "x", "x", 0.5, latency=v) for i, v in enumerate([30.0, 10.0, 20.0])]
    assert latency_percentiles(three)["p50"] == 20.0  # rank ceil(1.5) = 2
    twenty = [row(str(i), "x", "x", 0.5, latency=float(i)) for i in range(1, 21)]
    assert latency_percentiles(twenty)["p95"] == 19.0  # rank 19 exactly
    assert latency_percentiles(twenty)["p50"] == 10.0
    assert latency_percentiles([]) == {"p50": None, "p90": None, "p95": None, "p99": None, "max": None}


def test_cost_summary() -> None:
    # six rows at $0.001, three at $0.002, one at $0
    cost = cost_summary(ROWS)
    assert cost["total_usd"] == pytest.approx(0.012)
    assert cost["per_ticket_usd"] == pytest.approx(0.0012)
    assert cost_summary([]) == {"total_usd": 0.0, "per_ticket_usd": 0.0}


# --------------------------------------------------------------------------------------------- reference points


def test_majority_baseline() -> None:
    base = majority_baseline(ROWS)
    # billing is true 4 times of 10; macro-F1 over the 3 true labels: billing 2*4/(10+4) = 4/7, others 0
    assert base["label"] == "billing"
    assert base["n"] == 10
    assert base["accuracy"] == pytest.approx(0.4)
    assert base["macro_f1"] == pytest.approx(4 / 7 / 3)
    tie = [row("a", "zeta", None, None), row("b", "alpha", None, None)]
    assert majority_baseline(tie)["label"] == "alpha"
    assert majority_baseline([])["label"] is None


def test_wilson_lower_bound_by_hand() -> None:
    # 9/10, z = 1.96: z^2 = 3.8416; centre = 0.9 + 3.8416/20 = 1.09208;
    # spread = 1.96 * sqrt(0.09/10 + 3.8416/400) = 1.96 * sqrt(0.018604) = 1.96 * 0.1363965 = 0.2673372;
    # (1.09208 - 0.2673372) / (1 + 0.38416) = 0.8247428 / 1.38416 = 0.59584
    assert wilson_lower_bound(9, 10) == pytest.approx(0.59584, abs=1e-5)
    # n/n: the spread is z/2n * z = z^2/2n, cancelling the centre's shift -> 1 / (1 + z^2/n) = 1 / 1.38416
    assert wilson_lower_bound(10, 10) == pytest.approx(1 / 1.38416)
    assert wilson_lower_bound(0, 10) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(9, 10, z=0.0) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="successes"):
        wilson_lower_bound(11, 10)


def test_summary_has_every_figure_and_is_json() -> None:
    result = summary(ROWS, LABELS, name="candidate")
    expected = {
        "name",
        "n",
        "accuracy",
        "macro_f1",
        "per_label",
        "confusion",
        "coverage",
        "precision_auto",
        "n_auto",
        "curve",
        "reasons",
        "ece",
        "reliability",
        "latency",
        "cost",
    }
    assert expected <= set(result)
    assert result["n"] == 10
    assert result["accuracy"] == pytest.approx(0.6)
    assert (result["coverage"], result["precision_auto"], result["n_auto"]) == (0.4, 0.75, 4)
    assert result["ece"] == pytest.approx(2.71 / 9)
    # mean policy threshold of the 9 rows with a label: 8 at 0.8 and r10 at 0.9
    assert result["policy_threshold"] == pytest.approx((8 * 0.8 + 0.9) / 9)
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_a_recorded_reply_cut_off_by_max_tokens_replays_as_incomplete_not_as_an_answer():
    from tests.builders import policy
    from triage_gate.triage import reasons
    from triage_gate.triage.answers import parse_recorded

    tasks = policy().workflows["support"].tasks
    cut = {"category": "billing", "category_confidence": 0.9, "stop_reason": "max_tokens"}
    clean = {**cut, "stop_reason": "tool_use"}

    assert parse_recorded(cut, tasks, ["category"])["category"].problem == reasons.MODEL_OUTPUT_INCOMPLETE
    assert parse_recorded(clean, tasks, ["category"])["category"].label == "billing"
