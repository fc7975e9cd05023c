"""Pooled calibration: one threshold proven over every label, per-label thresholds only where a label has its
own evidence, always-review only where a label's own evidence says it fails; and the runtime's pooled curve."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

from tests.builders import ROOT, harness, policy, ticket_event
from triage_gate.errors import ConfigurationError
from triage_gate.policy import Task, load_policy
from triage_gate.triage import reasons
from triage_gate.triage.answers import calibrate
from triage_tools.evaluation.calibrate import FAIL_EVIDENCE_MIN, fit_calibration, min_samples_for, propose
from triage_tools.evaluation.calibration_policy import apply_to_policy, policy_change
from triage_tools.evaluation.calibration_report import proposal_dict, proposal_lines
from triage_tools.evaluation.metrics import EvalRow

TOLERANCE = 0.05
NEEDED = min_samples_for(TOLERANCE)  # 73


def _row(label: str, confidence: float, right: bool, other: str = "zz_other") -> EvalRow:
    return EvalRow(
        f"{label}-{confidence}", label if right else other, label, None, confidence, None, False, (), 0.0, 0.0
    )


def _honest(labels: list[str], per_label: int, seed: int) -> list[EvalRow]:
    """A model whose reported confidence is its real chance of being right (what a calibrated model gives)."""
    rng = random.Random(seed)
    rows = []
    for label in labels:
        for _ in range(per_label):
            confidence = rng.betavariate(6, 1.2)
            rows.append(_row(label, confidence, rng.random() < confidence))
    return rows


def _applied(proposal_rows: list[EvalRow], held_out: list[EvalRow], labels: list[str]) -> list[EvalRow]:
    """What the proposal auto-applies on held-out rows: the runtime's rule (own curve, else pooled; threshold)."""
    proposal = propose(proposal_rows, labels, TOLERANCE, NEEDED)
    by_label = {p.label: p for p in proposal.labels}
    applied = []
    for row in held_out:
        label = by_label[str(row.predicted)]
        if label.applies == "always_review" or label.threshold is None:
            continue
        curve = label.calibration or proposal.pooled.calibration
        if round(calibrate(float(row.reported_confidence or 0), curve), 4) >= label.threshold:
            applied.append(row)
    return applied


def test_many_thin_labels_still_automate_within_the_tolerance_on_held_out_rows():
    labels = [f"intent_{i:02d}" for i in range(60)]
    calibration_rows = _honest(labels, 40, seed=1)  # 40 per label: every label below the 73 its own bar needs

    proposal = propose(calibration_rows, labels, TOLERANCE, NEEDED)

    assert all(p.n < NEEDED and not p.own_evidence for p in proposal.labels)  # the old rule: nothing automates
    assert proposal.pooled.threshold is not None
    assert proposal.pooled.evidence is not None
    assert proposal.pooled.evidence.lower >= 1 - TOLERANCE
    assert sum(p.applies == "pooled" for p in proposal.labels) >= 55
    assert proposal.coverage > 0
    held_out = _honest(labels, 200, seed=2)
    applied = _applied(calibration_rows, held_out, labels)
    precision = sum(r.truth == r.predicted for r in applied) / len(applied)
    assert len(applied) / len(held_out) > 0.05
    assert precision >= 1 - TOLERANCE


def test_a_thin_label_whose_own_evidence_fails_goes_to_always_review():
    labels = [f"intent_{i:02d}" for i in range(30)]
    rows = _honest(labels, 40, seed=3)
    # "weak": confident, but right only 60% of the time: 40 predictions, under the 73 its own threshold needs.
    rows += [_row("weak", 0.99, i % 5 < 3) for i in range(40)]

    proposal = propose(rows, [*labels, "weak"], TOLERANCE, NEEDED)

    weak = {p.label: p for p in proposal.labels}["weak"]
    assert not weak.own_evidence
    assert weak.applies == "always_review"
    assert weak.evidence is not None
    assert weak.evidence.n >= FAIL_EVIDENCE_MIN
    assert weak.evidence.upper < 1 - TOLERANCE
    assert "its own evidence fails" in weak.why
    assert proposal.pooled.threshold is not None  # the others still automate


def test_a_handful_of_predictions_never_fails_a_label():
    labels = [f"intent_{i:02d}" for i in range(30)]
    rows = [*_honest(labels, 40, seed=4), _row("rare", 0.999, False)]  # one wrong answer out of one

    rare = {p.label: p for p in propose(rows, [*labels, "rare"], TOLERANCE, NEEDED).labels}["rare"]

    assert rare.applies == "pooled"


def test_a_label_with_its_own_evidence_gets_its_own_threshold_and_curve():
    labels = ["big", *(f"intent_{i:02d}" for i in range(20))]
    rows = [_row("big", 0.95 + (i % 5) / 100, True) for i in range(120)] + _honest(labels[1:], 30, seed=5)

    proposal = propose(rows, labels, TOLERANCE, NEEDED)

    big = proposal.labels[0]
    assert (big.label, big.own_evidence, big.applies) == ("big", True, "own")
    assert big.calibration
    assert big.threshold is not None
    assert big.evidence is not None
    assert big.evidence.n >= NEEDED
    assert big.evidence.lower >= 1 - TOLERANCE


def test_a_label_whose_own_evidence_fails_at_every_threshold_goes_to_always_review():
    labels = ["noisy", *(f"intent_{i:02d}" for i in range(20))]
    rows = [_row("noisy", 0.99, i % 10 != 0) for i in range(150)] + _honest(labels[1:], 40, seed=6)  # 90 % right

    noisy = propose(rows, labels, TOLERANCE, NEEDED).labels[0]

    assert (noisy.own_evidence, noisy.applies) == (True, "always_review")
    assert noisy.evidence is not None
    assert noisy.evidence.upper < 1 - TOLERANCE  # 135/150: even its best predictions are below 95 %
    assert "its own evidence fails: 135/150 right at its best threshold" in noisy.why


def test_a_label_with_evidence_too_thin_to_prove_itself_alone_uses_the_pooled_threshold():
    # 120 predictions, 98 % right: below its own proof (117/120 has a 95% lower bound of 0.93) but nothing says
    # it fails, and the pool of every label proves the threshold it then shares.
    labels = ["steady", *(f"intent_{i:02d}" for i in range(20))]
    rows = [_row("steady", 0.99, i % 40 != 0) for i in range(120)] + _honest(labels[1:], 60, seed=10)

    proposal = propose(rows, labels, TOLERANCE, NEEDED)

    steady = proposal.labels[0]
    assert (steady.own_evidence, steady.own_threshold, steady.applies) == (True, False, "pooled")
    assert steady.calibration  # its own curve still maps its confidence
    assert steady.auto_share == 1.0
    assert "prove no threshold alone" in steady.why


def test_business_rules_stay_always_review_and_are_reported_as_such():
    labels = [f"intent_{i:02d}" for i in range(20)]
    proposal = propose(_honest(labels, 40, seed=7), labels, TOLERANCE, NEEDED, always_review=["intent_03"])

    rule = {p.label: p for p in proposal.labels}["intent_03"]
    assert rule.applies == "always_review"
    assert "rules.always_review" in rule.why
    assert proposal_dict(proposal)["labels"]["intent_03"]["applies"] == "always_review"
    text = "\n".join(proposal_lines(proposal))
    assert "pooled threshold" in text
    assert "intent_03: always review, a rule of the policy" in text


def test_without_a_proven_pooled_threshold_thin_labels_stay_at_review():
    labels = ["a", "b", "c"]
    rows = [_row(label, 0.9, i % 3 != 0) for label in labels for i in range(20)]  # 67% right: nothing proves

    proposal = propose(rows, labels, TOLERANCE, NEEDED)

    assert proposal.pooled.threshold is None
    assert [p.applies for p in proposal.labels] == ["always_review"] * 3
    assert proposal.coverage == 0.0


def test_the_curve_never_promises_accuracy_below_what_was_seen():
    curve = fit_calibration([(0.97, True)] * 50)
    assert calibrate(0.97, curve) == pytest.approx(1.0)
    assert calibrate(0.30, curve) < 0.35  # no evidence at 0.30: it is not calibrated up to 1.0


# --------------------------------------------------------------------------------------------- into the policy


def _policy_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "layers" / "core" / "triage_gate" / "models", tmp_path / "models")
    path = tmp_path / "policy.yaml"
    shutil.copy(ROOT / "layers" / "core" / "triage_gate" / "policy.yaml", path)
    return path


def test_policy_change_writes_pooled_and_own_settings_and_keeps_rules_and_comments(tmp_path):
    path = _policy_copy(tmp_path)
    labels = ["billing", "refund", "bug", "account_access", "how_to", "feature_request", "security", "other"]
    rows = [_row("billing", 0.95 + (i % 5) / 100, True) for i in range(120)]
    rows += _honest(labels[1:], 40, seed=8)
    proposal = propose(rows, labels, TOLERANCE, NEEDED, always_review=["security", "refund"])

    changed, diff = policy_change(path, "zendesk-support", "category", proposal)

    assert "# Triage Gate policy" in changed
    task = yaml.safe_load(changed)["workflows"]["zendesk-support"]["tasks"]["category"]
    assert task["thresholds"]["default"] == proposal.pooled.threshold
    assert set(task["thresholds"]["per_label"]) == {"billing"}  # refund/security/other per-label values dropped
    assert set(task["calibration"]) == {"billing"}
    assert len(task["calibration_default"]) >= 2
    review = yaml.safe_load(changed)["workflows"]["zendesk-support"]["rules"]["always_review"]["category"]
    assert review[:2] == ["security", "refund"]  # never removed
    assert "calibration_default" in diff
    path.write_text(changed)
    load_policy(path)  # a valid policy


def test_apply_to_policy_matches_what_is_written(tmp_path):
    path = _policy_copy(tmp_path)
    labels = ["billing", "refund", "bug", "account_access", "how_to", "feature_request", "security", "other"]
    proposal = propose(_honest(labels, 40, seed=9), labels, TOLERANCE, NEEDED, always_review=["security", "refund"])
    changed, _ = policy_change(path, "zendesk-support", "category", proposal)
    path.write_text(changed)

    in_memory = apply_to_policy(load_policy(_policy_copy(tmp_path / "again")), "zendesk-support", "category", proposal)
    written = load_policy(path)

    for name in ("zendesk-support",):
        assert (
            in_memory.workflows[name].tasks["category"].thresholds
            == written.workflows[name].tasks["category"].thresholds
        )
        assert in_memory.workflows[name].rules == written.workflows[name].rules
        assert in_memory.workflows[name].tasks["category"].calibration_default == (
            written.workflows[name].tasks["category"].calibration_default
        )


# --------------------------------------------------------------------------------------------- at run time


def _with_category(**update: object):
    pol = policy()
    category = pol.workflows["support"].tasks["category"].replace(**update)
    workflow = pol.workflows["support"].replace(**{"tasks": {**pol.workflows["support"].tasks, "category": category}})
    return pol.replace(**{"workflows": {"support": workflow}})


def test_the_pooled_curve_calibrates_a_label_without_its_own():
    h = harness(_with_category(calibration_default=[(0.0, 0.0), (1.0, 0.6)]))  # billing has no curve of its own

    record = h.service.process(ticket_event()).record

    assert record.tasks["category"].reported_confidence == 0.93
    assert record.tasks["category"].calibrated_confidence == pytest.approx(0.558)
    assert reasons.LOW_CONFIDENCE in record.reason_codes


def test_a_label_with_its_own_curve_does_not_use_the_pooled_one():
    h = harness(
        _with_category(calibration={"billing": [(0.0, 0.0), (1.0, 1.0)]}, calibration_default=[(0.0, 0.0), (1.0, 0.1)])
    )

    record = h.service.process(ticket_event()).record

    assert record.tasks["category"].calibrated_confidence == pytest.approx(0.93)
    assert record.action == "apply"


def test_a_bad_pooled_curve_is_a_policy_error(tmp_path):
    category = policy().workflows["support"].tasks["category"].to_data()
    with pytest.raises(ValueError, match="calibration_default needs ≥ 2 points"):
        Task.from_data({**category, "calibration_default": [[0.9, 0.5], [0.2, 0.6]]})
    path = _policy_copy(tmp_path)
    data = yaml.safe_load(path.read_text())
    data["workflows"]["zendesk-support"]["tasks"]["category"]["calibration_default"] = [[0.5, 0.5]]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigurationError, match="calibration_default"):
        load_policy(path)
