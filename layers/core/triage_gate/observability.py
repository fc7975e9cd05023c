"""Logger and metrics, built once. Log keyword fields and correlation ids; never bodies or secrets."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

__all__ = ["NAMESPACE", "MetricUnit", "count", "logger", "measure", "metrics"]

# One CloudWatch namespace for every function (DESIGN.md "Metrics, SLAs and ROI").
NAMESPACE = "TriageGate"

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Emit one EMF count with exactly these dimensions (alarms match on the same set)."""
    if value > 0:
        measure(name, value, MetricUnit.Count, **dimensions)


def measure(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    """Emit one EMF value (latency in Milliseconds, money with unit None) with exactly these dimensions."""
    with single_metric(name=name, unit=unit, value=value, namespace=NAMESPACE) as metric:
        for key, dim in dimensions.items():
            metric.add_dimension(name=key, value=dim)
