"""Logger and metrics, built once. Log keyword fields and correlation ids; never bodies or secrets.

Metrics are kept for the invocation and written once, at its end: every handler is wrapped in
``@metrics.log_metrics(capture_cold_start_metric=True)``, which flushes when the handler returns or raises.
``count``/``measure`` take the metric's own dimensions (alarms match on exactly that set, plus ``service``).

Why not Powertools ``Metrics`` alone: its record holds one dimension set for every metric in it
(``add_dimensions`` adds sets that apply to all of them), so metrics with their own dimensions needed
``single_metric`` — one EMF record per call, ~13 per triage decision. ``InvocationMetrics`` keeps the
Powertools API our handlers use (``log_metrics``, ``add_metric``, ``add_dimension``, ``flush_metrics``,
``clear_metrics``) and its validation, and packs the invocation's metrics into as few EMF documents as the
format allows: a document may carry several metric directives, each with its own dimension keys, as long
as the root members they read agree. Metrics whose dimension *values* differ (``Stage=context`` and
``Stage=model``) cannot share a document, so a triage decision takes a few documents, not thirteen.
"""

from __future__ import annotations

import functools
import json
import math
import numbers
import os
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit, MetricValueError, SchemaValidationError
from aws_lambda_powertools.metrics.functions import (
    extract_cloudwatch_metric_resolution_value,
    extract_cloudwatch_metric_unit_value,
    is_metrics_disabled,
    resolve_cold_start_function_name,
)
from aws_lambda_powertools.metrics.provider import cold_start
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.constants import MAX_METRIC_NAME_LENGTH, MAX_METRICS
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import MetricNameError
from aws_lambda_powertools.warnings import PowertoolsUserWarning
from msgspec import field

__all__ = ["NAMESPACE", "InvocationMetrics", "MetricUnit", "count", "logger", "measure", "metrics"]

# One CloudWatch namespace for every function (DESIGN.md "Metrics, SLAs and ROI").
NAMESPACE = "TriageGate"
# EMF: at most 100 metric definitions per directive and 100 values per metric; a metric has at most 30
# dimensions (CloudWatch API "Dimension"). We also keep a whole document to 100 metric definitions.
MAX_VALUES = 100
MAX_DIMENSIONS = 30
# Values kept before an early flush: an invocation records tens; this only bounds a caller that never flushes.
MAX_PENDING_VALUES = 1_000

_UNIT_VALUES = [unit.value for unit in MetricUnit]
_UNIT_NAMES = list(MetricUnit.__members__)
_RESOLUTIONS = [resolution.value for resolution in MetricResolution]

R = TypeVar("R")
Handler = Callable[[Any, Any], R]
DimensionKey = tuple[tuple[str, str], ...]


class _Series(msgspec.Struct):
    """One metric under one dimension set: its unit, storage resolution and every value of the invocation."""

    unit: str
    resolution: int
    values: list[float] = field(default_factory=list)


class _Group(msgspec.Struct):
    dimensions: dict[str, str]
    series: dict[str, _Series] = field(default_factory=dict)


class _Document(msgspec.Struct):
    """One EMF document under construction: root members (dimension values, metric values) and directives."""

    root: dict[str, Any] = field(default_factory=dict)
    directives: list[dict[str, Any]] = field(default_factory=list)
    metric_count: int = 0

    def fits(self, dimensions: Mapping[str, str], chunk: Mapping[str, _Series]) -> bool:
        if self.metric_count + len(chunk) > MAX_METRICS:
            return False
        # A shared root member must hold the same dimension value; a metric's name must be new here.
        if any(self.root.get(key, value) != value for key, value in dimensions.items()):
            return False
        return not any(name in self.root for name in chunk)

    def add(self, namespace: str, dimensions: Mapping[str, str], chunk: Mapping[str, _Series]) -> None:
        definitions: list[dict[str, Any]] = []
        for name, series in chunk.items():
            definition: dict[str, Any] = {"Name": name, "Unit": series.unit}
            if series.resolution == MetricResolution.High.value:
                definition["StorageResolution"] = series.resolution
            definitions.append(definition)
            self.root[name] = series.values
        self.root.update(dimensions)
        self.directives.append({"Namespace": namespace, "Dimensions": [list(dimensions)], "Metrics": definitions})
        self.metric_count += len(chunk)

    def render(self, timestamp_ms: int) -> dict[str, Any]:
        return {"_aws": {"Timestamp": timestamp_ms, "CloudWatchMetrics": self.directives}, **self.root}


def _chunks(series: Mapping[str, _Series]) -> list[dict[str, _Series]]:
    """A group's series in pieces EMF accepts: ≤ 100 values per metric, ≤ 100 metrics, each name once."""
    chunks: list[dict[str, _Series]] = []
    for name, whole in series.items():
        for start in range(0, len(whole.values), MAX_VALUES):
            piece = _Series(whole.unit, whole.resolution, whole.values[start : start + MAX_VALUES])
            target = next((c for c in chunks if name not in c and len(c) < MAX_METRICS), None)
            if target is None:
                target = {}
                chunks.append(target)
            target[name] = piece
    return chunks


def _dimension_values(name: str, dimensions: Mapping[str, str]) -> dict[str, str]:
    """Dimensions as strings; an empty one is left out with a warning, as Powertools' ``add_dimension`` does."""
    values = {key: str(value) for key, value in dimensions.items() if key.strip() and str(value).strip()}
    if len(values) != len(dimensions):
        empty = sorted(set(dimensions) - set(values))
        warnings.warn(f"{name}: empty dimension(s) {empty} left out", PowertoolsUserWarning, stacklevel=4)
    return values


class InvocationMetrics:
    """The invocation's metrics, grouped by dimension set and written once as packed EMF documents."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._dimensions: dict[str, str] = {}  # add_dimension: every metric of this invocation
        self._groups: dict[DimensionKey, _Group] = {}
        self._pending = 0

    def add_metric(
        self, name: str, unit: MetricUnit | str, value: float, resolution: MetricResolution | int = 60
    ) -> None:
        """Powertools' ``Metrics.add_metric``: a metric with only the invocation's dimensions."""
        self.record(name, unit, value, {}, resolution)

    def add_dimension(self, name: str, value: str) -> None:
        """A dimension for every metric of this invocation (cleared at the flush, as Powertools does)."""
        if not name.strip() or not str(value).strip():
            raise SchemaValidationError(f"dimension {name!r} needs a non-empty name and value")
        self._dimensions[name] = str(value)

    def record(
        self,
        name: str,
        unit: MetricUnit | str,
        value: float,
        dimensions: Mapping[str, str],
        resolution: MetricResolution | int = 60,
    ) -> None:
        """One value of ``name`` under exactly ``dimensions`` (plus the invocation's, ``service`` included)."""
        name = name.strip()
        if not 0 < len(name) <= MAX_METRIC_NAME_LENGTH:
            raise MetricNameError(f"metric name {name!r} must be 1 to {MAX_METRIC_NAME_LENGTH} characters")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise MetricValueError(f"{name}: {value!r} is not a finite number")
        if len(dimensions) >= MAX_DIMENSIONS or name in dimensions:
            raise SchemaValidationError(f"{name}: dimensions {sorted(dimensions)} are too many or include its name")
        key = tuple(sorted(dimensions.items()))
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(_dimension_values(name, dimensions))
        series = group.series.get(name)
        if series is None:
            unit_value = extract_cloudwatch_metric_unit_value(_UNIT_VALUES, _UNIT_NAMES, unit)
            resolution_value = extract_cloudwatch_metric_resolution_value(_RESOLUTIONS, resolution)
            series = group.series[name] = _Series(unit_value, resolution_value)
        series.values.append(float(value))
        self._pending += 1
        if self._pending >= MAX_PENDING_VALUES:
            self.flush_metrics()

    def serialize_documents(self) -> list[dict[str, Any]]:
        """The EMF documents for everything recorded so far (first fit: a group joins the first that agrees)."""
        invocation = dict(self._dimensions)
        service = os.environ.get("POWERTOOLS_SERVICE_NAME")
        if service:
            invocation.setdefault("service", service)
        documents: list[_Document] = []
        for group in self._groups.values():
            dimensions = {**group.dimensions, **{k: v for k, v in invocation.items() if k not in group.dimensions}}
            if len(dimensions) > MAX_DIMENSIONS:
                raise SchemaValidationError(f"more than {MAX_DIMENSIONS} dimensions: {sorted(dimensions)}")
            for chunk in _chunks(group.series):
                document = next((d for d in documents if d.fits(dimensions, chunk)), None)
                if document is None:
                    document = _Document()
                    documents.append(document)
                document.add(self.namespace, dimensions, chunk)
        timestamp_ms = int(time.time() * 1000)
        return [document.render(timestamp_ms) for document in documents]

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        """Write the invocation's metrics (one line per EMF document) and start afresh."""
        if not self._groups:
            if raise_on_empty_metrics:
                raise SchemaValidationError("Must contain at least one metric.")
            return
        try:
            documents = self.serialize_documents()
        finally:
            self.clear_metrics()
        if not is_metrics_disabled():
            for document in documents:
                print(json.dumps(document, separators=(",", ":")))

    def clear_metrics(self) -> None:
        self._groups.clear()
        self._dimensions.clear()
        self._pending = 0

    def log_metrics(
        self, *, capture_cold_start_metric: bool = False, raise_on_empty_metrics: bool = False
    ) -> Callable[[Handler[R]], Handler[R]]:
        """Decorate a Lambda handler: its metrics are flushed once when it returns, and when it raises."""

        def decorate(handler: Handler[R]) -> Handler[R]:
            @functools.wraps(handler)
            def invoke(event: Any, context: Any) -> R:
                try:
                    if capture_cold_start_metric:
                        self._record_cold_start(context)
                    return handler(event, context)
                finally:
                    self.flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)

            return invoke

        return decorate

    def _record_cold_start(self, context: Any) -> None:
        """``ColdStart`` (``function_name``) once per instance, on Powertools' flag (provisioned: never)."""
        if cold_start.is_cold_start:
            cold_start.is_cold_start = False
            function_name = resolve_cold_start_function_name(function_name=None, context=context)
            self.record("ColdStart", MetricUnit.Count, 1, {"function_name": function_name})


logger = Logger()
metrics = InvocationMetrics(NAMESPACE)


def count(name: str, value: float = 1, **dimensions: str) -> None:
    """Count ``value`` (nothing when 0) with exactly these dimensions (alarms match on the same set)."""
    if value > 0:
        metrics.record(name, MetricUnit.Count, value, dimensions)


def measure(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    """One value (latency in Milliseconds, money with unit None) with exactly these dimensions."""
    metrics.record(name, unit, value, dimensions)
