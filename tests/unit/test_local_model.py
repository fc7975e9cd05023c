"""The local model: features, metrics, training, the artifact, the shipped seed models and `triage train`."""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from triage_gate.localmodel import FORMAT, TextClassifier, tokenize
from triage_tools.training import accuracy, expected_calibration_error, macro_f1
from triage_tools.training import train as train_model
from triage_tools.training.cli import add_train_parser

ROOT = Path(__file__).parents[2]
MODELS = ROOT / "layers" / "core" / "triage_gate" / "models"
SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"

VOCABULARY = {
    "billing": ["invoice", "charged", "payment", "card", "receipt", "billed"],
    "access": ["password", "login", "locked", "reset", "2fa", "sign"],
    "bug": ["crash", "error", "broken", "blank", "fails", "freezes"],
}
FILLER = ["please", "help", "my", "the", "today", "again", "we", "our", "team", "thanks"]


def synthetic_tickets(per_label: int = 30, seed: int = 0) -> tuple[list[str], list[str]]:
    """Short texts: three words from the label's vocabulary among filler shared by every label."""
    rng = random.Random(seed)
    texts, labels = [], []
    for label, words in VOCABULARY.items():
        for _ in range(per_label):
            tokens = rng.sample(words, 3) + rng.sample(FILLER, 4)
            rng.shuffle(tokens)
            texts.append(" ".join(tokens))
            labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    texts, labels = synthetic_tickets()
    return train_model(texts, labels, seed=0, task="category", workflow="test-desk")


def run_train_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="triage")
    add_train_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["train", *argv])
    return int(args.func(args))


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- features ---------------------------------------------------------------------------------------------


def test_tokenize_lowercases_and_splits_on_punctuation() -> None:
    assert tokenize("Login FAILS—again, on iOS!") == ["login", "fails", "again", "on", "ios"]


def test_tokenize_joins_apostrophes_and_replaces_long_numbers() -> None:
    text = "Can\u2019t pay invoice INV-20931, 2 times"  # a typographic apostrophe, as phones type it
    assert tokenize(text) == ["cant", "pay", "invoice", "inv", "<num>", "2", "times"]


def test_tokenize_keeps_non_ascii_letters_and_drops_underscores() -> None:
    assert tokenize("Rückerstattung für_Bestellung") == ["rückerstattung", "für", "bestellung"]


# -- metrics (hand-computed) ------------------------------------------------------------------------------


def test_accuracy_counts_exact_matches() -> None:
    assert accuracy(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"]) == pytest.approx(3 / 5)


def test_macro_f1_averages_per_label_f1_unweighted() -> None:
    # a: tp 1, predicted 2, true 2 -> 0.5; b: tp 2, predicted 3, true 2 -> 0.8; c: never predicted -> 0
    assert macro_f1(["a", "a", "b", "b", "c"], ["a", "b", "b", "b", "a"]) == pytest.approx((0.5 + 0.8 + 0.0) / 3)


def test_macro_f1_is_one_when_every_prediction_is_right() -> None:
    assert macro_f1(["x", "y", "y"], ["x", "y", "y"]) == 1.0


def test_ece_weights_each_bin_gap_by_its_share() -> None:
    # bin 0.9: confidence 0.9, accuracy 0.5 -> gap 0.4 on half the rows; bin 0.6: 0.6 vs 1.0 -> 0.4 on half
    assert expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True]) == pytest.approx(0.4)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)


def test_ece_puts_confidence_one_in_the_last_bin() -> None:
    assert expected_calibration_error([1.0, 0.95], [True, True]) == pytest.approx(0.025)


def test_metrics_reject_sequences_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        accuracy(["a"], ["a", "b"])


# -- training and inference -------------------------------------------------------------------------------


def test_predict_proba_sums_to_one_and_prefers_the_right_label(model: TextClassifier) -> None:
    probabilities = model.predict_proba("I was charged twice, the invoice shows two payments")
    assert set(probabilities) == {"access", "billing", "bug"}
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "billing"


def test_predict_returns_the_top_label_and_its_probability(model: TextClassifier) -> None:
    label, probability = model.predict("the app shows a blank page and then it crashes with an error")
    assert label == "bug"
    assert probability == pytest.approx(
        model.predict_proba("the app shows a blank page and then it crashes with an error")["bug"]
    )


def test_predict_proba_falls_back_to_base_rates_without_a_known_word(model: TextClassifier) -> None:
    probabilities = model.predict_proba("zzz qqq")
    assert probabilities == pytest.approx({"access": 1 / 3, "billing": 1 / 3, "bug": 1 / 3})


def test_metadata_records_task_workflow_temperature_and_holdout(model: TextClassifier) -> None:
    meta = model.metadata
    assert (meta["task"], meta["workflow"], meta["n_train"]) == ("category", "test-desk", 90)
    assert meta["temperature"] == model.temperature > 0
    assert meta["n_features"] == model.n_features > 0
    assert meta["holdout"]["n"] == 90  # a small set is measured by cross-validation over every row
    assert meta["holdout"]["accuracy"] > 0.9
    assert meta["trained_at"].endswith("+00:00")


def test_train_rejects_a_single_label() -> None:
    with pytest.raises(ValueError, match="at least 2 distinct labels"):
        train_model(["one text", "another text"], ["billing", "billing"])


def test_round_trip_through_json_gives_identical_probabilities(model: TextClassifier, tmp_path: Path) -> None:
    text = "locked out after a password reset, login fails"
    path = tmp_path / "model.json"
    model.save(path)
    assert TextClassifier.from_dict(model.to_dict()).predict_proba(text) == model.predict_proba(text)
    assert TextClassifier.load(path).predict_proba(text) == model.predict_proba(text)
    assert json.loads(path.read_text())["format"] == FORMAT


def test_load_rejects_another_format_naming_the_expected_one(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"format": "sklearn-pickle/3", "labels": ["a", "b"]}))
    with pytest.raises(ValueError, match="triage-gate-textclf/1"):
        TextClassifier.load(path)


def test_load_rejects_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(b"\x80not json")
    with pytest.raises(ValueError, match="not a JSON model artifact"):
        TextClassifier.load(path)


def test_from_dict_rejects_a_model_trained_on_other_features(model: TextClassifier) -> None:
    with pytest.raises(ValueError, match="retrain"):
        TextClassifier.from_dict({**model.to_dict(), "featurizer": "char-3grams/1"})


def test_from_dict_rejects_a_truncated_artifact(model: TextClassifier) -> None:
    artifact = model.to_dict()
    del artifact["vocabulary"]
    with pytest.raises(ValueError, match="malformed"):
        TextClassifier.from_dict(artifact)


def test_inference_imports_neither_numpy_nor_scipy() -> None:
    code = (
        "import sys; from triage_gate.localmodel import TextClassifier; "
        f"m = TextClassifier.load({str(MODELS / 'zendesk-support.category.json')!r}); m.predict('refund please'); "
        "print(sorted(n for n in ('numpy', 'scipy') if n in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


# -- shipped seed models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("artifact", "text", "expected"),
    [
        ("zendesk-support.category.json", "I was charged twice on my invoice", "billing"),
        ("zendesk-support.category.json", "I forgot my password and I'm locked out of my account", "account_access"),
        ("hubspot-tickets.category.json", "We will not renew, send instructions to export our data", "churn_risk"),
        ("hubspot-tickets.category.json", "Our API calls return 500 errors since this morning", "technical_support"),
    ],
)  # fmt: skip
def test_seed_model_classifies_an_obvious_ticket(artifact: str, text: str, expected: str) -> None:
    model = TextClassifier.load(MODELS / artifact)
    assert model.predict(text)[0] == expected


@pytest.mark.parametrize(
    ("workflow", "task", "labels"),
    [
        ("zendesk-support", "category",
         {"billing", "refund", "bug", "account_access", "how_to", "feature_request", "security", "other"}),
        ("zendesk-support", "priority", {"low", "normal", "high", "urgent"}),
        ("hubspot-tickets", "category",
         {"sales_inquiry", "renewal", "billing", "technical_support", "onboarding", "churn_risk", "other"}),
        ("hubspot-tickets", "priority", {"LOW", "MEDIUM", "HIGH", "URGENT"}),
    ],
)  # fmt: skip
def test_seed_artifact_is_small_and_describes_its_taxonomy(workflow: str, task: str, labels: set[str]) -> None:
    path = MODELS / f"{workflow}.{task}.json"
    model = TextClassifier.load(path)
    assert set(model.labels) == labels
    assert (model.metadata["workflow"], model.metadata["task"]) == (workflow, task)
    assert path.stat().st_size < 100_000


# -- triage train -----------------------------------------------------------------------------------------


def test_triage_train_missing_column_exits_2_naming_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_csv(tmp_path / "t.csv", [{"body": "refund me", "queue": "refund"}])
    code = run_train_command(
        [str(data), "--text-col", "text", "--label-col", "queue", "--out", str(tmp_path / "m.json")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "no column 'text'" in err
    assert "'body', 'queue'" in err


def test_triage_train_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_train_command([str(tmp_path / "nope.csv"), "--text-col", "t", "--label-col", "l", "--out", "m.json"])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_triage_train_single_label_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "t.csv", [{"text": f"ticket {i}", "label": "bug"} for i in range(5)])
    code = run_train_command(
        [str(data), "--text-col", "text", "--label-col", "label", "--out", str(tmp_path / "m.json")]
    )
    assert code == 2
    assert "at least 2 distinct labels" in capsys.readouterr().err


def test_triage_train_skips_empty_rows_maps_labels_and_writes_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts, labels = synthetic_tickets(per_label=10)
    rows = [{"text": t, "label": y.upper()} for t, y in zip(texts, labels, strict=True)]
    rows += [{"text": "  ", "label": "BUG"}, {"text": "spam spam", "label": "SPAM"}]
    data = write_csv(tmp_path / "t.csv", rows)
    label_map = tmp_path / "map.json"
    label_map.write_text(json.dumps({"BILLING": "billing", "ACCESS": "access", "BUG": "bug", "SPAM": None}))
    out = tmp_path / "models" / "m.json"
    argv = [str(data), "--text-col", "text", "--label-col", "label", "--out", str(out), "--label-map", str(label_map)]
    code = run_train_command([*argv, "--workflow", "test-desk", "--task", "category"])
    captured = capsys.readouterr()
    assert code == 0
    assert "skipped 1 row(s) with empty text" in captured.err
    assert "skipped 1 row(s) whose label the label map drops" in captured.err
    assert "trained on 30 of 32 rows, 3 labels" in captured.out
    assert "macro-F1" in captured.out
    model = TextClassifier.load(out)
    assert sorted(model.labels) == ["access", "billing", "bug"]
    assert model.metadata["workflow"] == "test-desk"


# -- the shared labelled data (absent on a fresh clone) ---------------------------------------------------


@pytest.mark.data
@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent (fresh clone): no shared labelled data")
def test_model_is_accurate_and_calibrated_on_bitext_customer_support() -> None:
    with (SHARED_DATA / "bitext-customer-support" / "tickets.csv").open(newline="", encoding="utf-8") as handle:
        rows = [(r["instruction"], r["category"]) for r in csv.DictReader(handle)]
    random.Random(0).shuffle(rows)
    split = int(len(rows) * 0.8)
    trained = train_model([t for t, _ in rows[:split]], [y for _, y in rows[:split]])
    predictions = [trained.predict(t) for t, _ in rows[split:]]
    truth = [y for _, y in rows[split:]]
    predicted = [label for label, _ in predictions]
    assert macro_f1(truth, predicted) > 0.95
    correct = [p == t for p, t in zip(predicted, truth, strict=True)]
    assert expected_calibration_error([p for _, p in predictions], correct) < 0.05
