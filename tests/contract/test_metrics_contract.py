"""The metrics contract: every handler flushes its metrics once per invocation, and the metrics the README's
Operations section promises are recorded under those names with those dimensions.

Read from the code (the handlers' decorators; the ``count``/``measure``/``add_metric``/``record`` call sites),
so a renamed metric or a dropped dimension breaks this test before it breaks an alarm. What the recorder
then writes for each call (exactly its dimensions, plus ``service``) is tests/unit/test_observability.py's job.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from tests.builders import ROOT

PACKAGE = ROOT / "layers" / "core" / "triage_gate"
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Operations") :]
METRICS_PARAGRAPH = SECTION[SECTION.index("**Metrics**") : SECTION.index("**Alarms**")]
RECORDING = {"count", "measure", "add_metric", "record"}
NOT_DIMENSIONS = {"name", "unit", "value", "resolution"}


def _call_sites() -> dict[str, list[frozenset[str]]]:
    """{metric name: the dimension keys of each call that records it}."""
    sites: dict[str, list[frozenset[str]]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
            if called not in RECORDING or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if not first.value[:1].isupper():
                continue  # str.count("accepted") and friends
            keys = {k.arg for k in node.keywords if k.arg and k.arg not in NOT_DIMENSIONS}
            literal = node.args[3] if called == "record" and len(node.args) > 3 else None
            if isinstance(literal, ast.Dict):
                keys |= {k.value for k in literal.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            sites[first.value].append(frozenset(keys))
    return sites


SITES = _call_sites()
DIMENSIONS = set().union(*(keys for calls in SITES.values() for keys in calls))
WORDS = re.findall(r"`([^`]+)`", METRICS_PARAGRAPH)
README_METRICS = sorted(
    {w for w in WORDS if re.fullmatch(r"[A-Z][A-Za-z]+", w) and w not in DIMENSIONS} - {"TriageGate"}
)


def _documented_dimensions() -> dict[str, set[str]]:
    """`Name` (or `A`/`B`/`C`) followed by "(`Dim`, …)", or `A` and `B` (…) "per `Dim`": those dimensions."""
    listed = re.findall(r"((?:`[A-Z]\w+`/?)+) \(([^)]*)\)", METRICS_PARAGRAPH)
    per = re.findall(r"((?:`[A-Z]\w+`(?: and )?)+)(?: \([^)`]*\))? per (`\w+`)", METRICS_PARAGRAPH)
    documented: dict[str, set[str]] = {}
    for names, dimensions in [*listed, *per]:
        keys = {w for w in re.findall(r"`(\w+)`", dimensions) if w in DIMENSIONS}
        for name in re.findall(r"`(\w+)`", names) if keys else ():  # "(minutes)" names no dimension
            documented[name] = keys
    return documented


def test_the_readme_lists_metrics_and_the_code_records_them() -> None:
    assert len(README_METRICS) > 30, README_METRICS  # the paragraph was found and read
    assert {"Decisions", "StageLatency", "WebhookRejected", "ColdStart"} <= set(README_METRICS)
    assert _documented_dimensions()["OldestPendingReviewAge"] == {"Workflow"}


@pytest.mark.parametrize("name", README_METRICS)
def test_every_documented_metric_is_recorded(name: str) -> None:
    assert SITES.get(name), f"README's Operations section lists {name}; nothing in {PACKAGE.name} records it"


@pytest.mark.parametrize(("name", "keys"), sorted(_documented_dimensions().items()))
def test_every_call_recording_a_documented_metric_carries_its_documented_dimensions(name: str, keys: set[str]) -> None:
    for recorded in SITES[name]:
        assert keys <= recorded, f"{name} recorded with {sorted(recorded)}, README says {sorted(keys)}"


def _decorators(app: Path) -> list[str]:
    tree = ast.parse(app.read_text(encoding="utf-8"))
    [handler] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler"]
    return [ast.unparse(d) for d in handler.decorator_list]


@pytest.mark.parametrize("app", HANDLERS, ids=lambda p: p.parent.name)
def test_every_handler_flushes_its_metrics_once_per_invocation(app: Path) -> None:
    """``log_metrics`` flushes when the handler returns or raises; it must be the only flush, so the
    composition modules the handler calls never flush themselves."""
    assert "metrics.log_metrics(capture_cold_start_metric=True)" in _decorators(app)


def test_nothing_in_the_runtime_flushes_metrics_but_the_handlers_decorator() -> None:
    flushing = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "observability.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Attribute) and node.attr in ("flush_metrics", "single_metric"))
        or (isinstance(node, ast.alias) and node.name == "single_metric")  # one EMF record per call
    ]
    assert flushing == []
