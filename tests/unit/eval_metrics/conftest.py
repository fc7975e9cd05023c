"""`triage eval` metrics and report: the ten hand-worked rows (and the row builder) shared by this package's
tests; every figure is checked against numbers worked out by hand in the comments."""

from __future__ import annotations

from triage_tools.evaluation.metrics import (
    EvalRow,
)

LABELS = ["billing", "bug", "access", "refund"]  # "refund" is never true and never predicted


def row(
    row_id: str,
    truth: str,
    predicted: str | None,
    confidence: float | None,
    *,
    auto: bool = False,
    reasons: tuple[str, ...] = (),
    cost: float = 0.001,
    latency: float = 100.0,
    threshold: float | None = 0.8,
) -> EvalRow:
    return EvalRow(
        row_id=row_id,
        truth=truth,
        predicted=predicted,
        confidence=confidence,
        reported_confidence=confidence,
        threshold=threshold if predicted is not None else None,
        auto_applied=auto,
        reason_codes=reasons,
        cost_usd=cost,
        latency_ms=latency,
    )


LOW = ("low_confidence",)

# Ten rows: truth billing x4, bug x3, access x3. Predictions: billing x3 (r1 r2 r7), bug x4 (r3 r5 r6 r9),
# access x2 (r8 r10), none x1 (r4). Correct: r1 r2 r5 r6 r8 r10. Auto-applied: r1 r2 r5 r7.
ROWS = [
    row("r1", "billing", "billing", 0.95, auto=True, latency=100),
    row("r2", "billing", "billing", 0.85, auto=True, latency=200),
    row("r3", "billing", "bug", 0.65, reasons=LOW, latency=300),
    row("r4", "billing", None, None, reasons=("empty_ticket",), cost=0.0, latency=50),
    row("r5", "bug", "bug", 0.92, auto=True, cost=0.002, latency=400),
    row("r6", "bug", "bug", 0.75, reasons=LOW, cost=0.002, latency=500),
    row("r7", "bug", "billing", 0.91, auto=True, cost=0.002, latency=600),
    row("r8", "access", "access", 0.55, reasons=("low_confidence", "policy_always_review"), latency=700),
    row("r9", "access", "bug", 0.45, reasons=LOW, latency=800),
    row("r10", "access", "access", 0.98, reasons=("policy_always_review",), latency=1000, threshold=0.9),
]
