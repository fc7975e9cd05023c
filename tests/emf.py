"""Read EMF documents from captured stdout the way CloudWatch does: every metric of every directive, once
per dimension set, with the dimension values its root holds. Each document is checked against the format's
rules on the way (the limits CloudWatch enforces), so a test that reads metrics also proves they are valid."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

MAX_METRICS = 100  # metric definitions per directive (and per document, as we write them)
MAX_VALUES = 100  # values of one metric in one document
MAX_DIMENSIONS = 30  # keys in one dimension set
UNITS = {unit.value for unit in MetricUnit}


@dataclass(frozen=True)
class Extracted:
    name: str
    unit: str
    dimensions: tuple[tuple[str, str], ...]  # sorted (key, value) pairs
    values: tuple[float, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.dimensions)


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line that is an EMF document (Powertools and we both write `_aws` first)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


def extract(document: dict[str, Any], namespace: str = "TriageGate") -> list[Extracted]:
    directives = document["_aws"]["CloudWatchMetrics"]
    assert isinstance(document["_aws"]["Timestamp"], int)
    assert sum(len(d["Metrics"]) for d in directives) <= MAX_METRICS
    found = []
    for directive in directives:
        assert directive["Namespace"] == namespace
        for dimension_set in directive["Dimensions"]:
            assert len(dimension_set) <= MAX_DIMENSIONS
            values = {key: document[key] for key in dimension_set}
            assert all(isinstance(v, str) and v.strip() for v in values.values()), values
            for definition in directive["Metrics"]:
                assert definition["Unit"] in UNITS
                target = document[definition["Name"]]
                samples = tuple(target) if isinstance(target, list) else (target,)
                assert 0 < len(samples) <= MAX_VALUES
                assert all(isinstance(v, int | float) for v in samples)
                found.append(Extracted(definition["Name"], definition["Unit"], tuple(sorted(values.items())), samples))
    return found


def emf_metrics(stdout: str, namespace: str = "TriageGate") -> list[Extracted]:
    return [metric for document in emf_documents(stdout) for metric in extract(document, namespace)]
