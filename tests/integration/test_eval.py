"""`triage eval` and `triage calibrate` end to end: the production pipeline on a small labelled CSV,
with the shipped local model and with Claude answered by the fake Anthropic server."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.builders import ROOT
from triage_local.sandboxes import FakeAnthropic
from triage_tools.cli import main

ROWS = [
    ("I was charged twice for my invoice this month", "billing"),
    ("Please send me a copy of the invoice with our VAT number", "billing"),
    ("The dashboard shows an error 500 when I open reports", "bug"),
    ("Export to CSV crashes every time since the update", "bug"),
    ("I cannot log in, the password reset email never arrives", "account_access"),
    ("My two-factor code is rejected and I am locked out", "account_access"),
    ("How do I add a teammate to my workspace?", "how_to"),
    ("Where can I change the language of the interface?", "how_to"),
    ("It would be great to schedule reports weekly", "feature_request"),
    ("Thanks a lot, that fixed it!", "other"),
]


@pytest.fixture
def labelled_csv(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body", "topic"])
        writer.writerows((i, text, label) for i, (text, label) in enumerate(ROWS))
    return path


def _eval(csv_path: Path, *extra: str) -> list[str]:
    return ["eval", str(csv_path), "--workflow", "zendesk-support", "--text-col", "body", "--label-col", "topic",
            "--id-col", "id", *extra]  # fmt: skip


def test_eval_with_the_local_model_reports_metrics_html_and_json(labelled_csv, tmp_path, capsys):
    out = tmp_path / "report"

    code = main(_eval(labelled_csv, "--model", "local", "--out", str(out), "--json", str(tmp_path / "s.json")))

    assert code == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    candidate = summary["candidate"]
    assert candidate["n"] == len(ROWS)
    assert 0.5 <= candidate["accuracy"] <= 1.0
    assert {"macro_f1", "per_label", "confusion", "coverage", "curve", "ece", "reliability", "latency", "cost"} <= set(
        candidate
    )
    assert [b["name"] for b in summary["baselines"]] == ["majority class"]
    assert "<svg" in (out / "report.html").read_text()
    assert "accuracy" in capsys.readouterr().out


def _responder(request: dict[str, Any]) -> dict[str, Any]:
    """Answers like a good model: the label whose words appear in the ticket, confident."""
    text = request["messages"][-1]["content"]
    text = text if isinstance(text, str) else json.dumps(text)
    label = next((lbl for t, lbl in ROWS if t[:30] in text), "other")
    answer: dict[str, Any] = {"rationale": "matches the ticket"}
    props = request["tools"][0]["input_schema"]["properties"]
    if "category" in props:
        answer.update(category=label, category_confidence=0.97)
    if "priority" in props:
        answer.update(priority="normal", priority_confidence=0.9)
    return answer


def test_eval_through_claude_uses_the_cache_and_replays_without_calls(labelled_csv, tmp_path, monkeypatch):
    cache = tmp_path / "answers.jsonl"
    with FakeAnthropic(api_key="sk-eval") as fake:
        fake.responder = _responder
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-eval")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        first = main(_eval(labelled_csv, "--cache", str(cache), "--json", str(tmp_path / "a.json"), "--no-baselines"))
        calls_first = len(fake.message_requests())
        second = main(_eval(labelled_csv, "--cache", str(cache), "--json", str(tmp_path / "b.json"), "--no-baselines"))
        calls_second = len(fake.message_requests())
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    replay = main(_eval(labelled_csv, "--recorded", str(cache), "--json", str(tmp_path / "c.json"), "--no-baselines"))

    assert (first, second, replay) == (0, 0, 0)
    assert calls_first == len(ROWS)
    assert calls_second == calls_first  # every answer came from the cache
    results = [json.loads((tmp_path / f"{n}.json").read_text())["candidate"] for n in "abc"]
    assert results[0]["accuracy"] == results[1]["accuracy"] == results[2]["accuracy"] == 1.0
    assert results[0]["cost"]["total_usd"] > 0


def test_gate_passes_a_good_candidate_and_blocks_a_worse_one(labelled_csv, tmp_path, capsys):
    baseline = tmp_path / "baseline.json"
    assert main(_eval(labelled_csv, "--model", "local", "--no-baselines", "--json", str(baseline))) == 0
    assert main(_eval(labelled_csv, "--model", "local", "--no-baselines", "--gate", str(baseline))) == 0
    # The same tickets labelled by someone who disagrees with every answer: auto precision collapses.
    worse = tmp_path / "worse.csv"
    with worse.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [("id", "body", "topic"), *((i, text, "other") for i, (text, _) in enumerate(ROWS))]
        )
    capsys.readouterr()

    code = main(_eval(worse, "--model", "local", "--no-baselines", "--gate", str(baseline)))

    err = capsys.readouterr().err
    assert code == 3
    assert "GATE FAILED" in err
    assert "precision" in err


def test_calibrate_proposes_thresholds_and_writes_a_valid_policy(tmp_path, monkeypatch, capsys):
    policy_dir = tmp_path / "policy"
    shutil.copytree(ROOT / "layers" / "core" / "triage_gate" / "models", policy_dir / "models")
    policy = policy_dir / "policy.yaml"
    shutil.copy(ROOT / "layers" / "core" / "triage_gate" / "policy.yaml", policy)
    big = tmp_path / "big.csv"
    # 160 billing tickets: enough evidence for 97.5 % (the 5 % tolerance split over the workflow's two tasks)
    with big.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "topic"])
        writer.writerows((f"{ROWS[0][0]} (order {i})", "billing") for i in range(160))
    with FakeAnthropic(api_key="sk-cal") as fake:
        fake.responder = _responder
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-cal")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
        code = main(
            ["calibrate", str(big), "--workflow", "zendesk-support", "--text-col", "body", "--label-col", "topic",
             "--policy", str(policy), "--cache", str(tmp_path / "c.jsonl"), "--write"]
        )  # fmt: skip

    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^\s+billing\s+160\s+own\s", out, re.MULTILINE)  # its own 160 predictions prove its threshold
    assert "5.0% per ticket, 2.5% for this task (2 tasks applied together)" in out
    assert "refund: always review, a rule of the policy" in out  # business rules stay
    assert "the pooled evidence comes from 1 label(s) only" in out  # every other label pools billing's evidence
    assert main(["policy", "check", str(policy)]) == 0
    text = policy.read_text()
    assert "billing: [[" in text or "billing: [" in text  # calibration points were written
    assert "# Triage Gate policy" in text  # comments survive


def test_dataset_problems_are_clear_errors(labelled_csv, tmp_path, capsys):
    missing = main(["eval", str(labelled_csv), "--workflow", "zendesk-support", "--text-col", "nope",
                    "--label-col", "topic"])  # fmt: skip
    assert missing == 2
    assert "no column 'nope'" in capsys.readouterr().err

    bad = tmp_path / "bad.csv"
    bad.write_text("body,topic\nhello there,refunds_and_more\n")
    unmapped = main(["eval", str(bad), "--workflow", "zendesk-support", "--text-col", "body", "--label-col", "topic"])
    assert unmapped == 2
    assert "--label-map" in capsys.readouterr().err


def test_asking_for_sonnet_without_a_key_names_the_model_that_answered(labelled_csv, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    summary = tmp_path / "s.json"

    code = main(_eval(labelled_csv, "--model", "sonnet", "--no-baselines", "--json", str(summary)))

    assert code == 0
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err
    name = json.loads(summary.read_text())["candidate"]["name"]
    assert name.startswith("zendesk-support/category (sonnet requested; answered by local ")
