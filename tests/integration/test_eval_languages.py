"""`triage eval` by language, end to end: a small multilingual JSON-lines set through the production pipeline
(the real language detector, the shipped policy and local model, no API key): English tickets are decided by
the local model, German, Spanish and Portuguese ones go to review as ``language_unsupported``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage_tools.cli import main

TICKETS = [
    ("en-1", "en", "Charged twice", "I was charged twice for my invoice this month, please refund one.", "billing"),
    ("en-2", "en", "Export crashes", "Export to CSV crashes every time since the update yesterday.", "bug"),
    (
        "en-3",
        "en",
        "Locked out",
        "I cannot log in, the password reset email never arrives in my inbox.",
        "account_access",
    ),
    ("en-4", "en", "Add a teammate", "How do I add a teammate to my workspace and give them admin rights?", "how_to"),
    (
        "de-1",
        "de",
        "Rechnung doppelt abgebucht",
        "Hallo, mir wurde die Rechnung für diesen Monat zweimal abgebucht. Bitte erstatten Sie den doppelten Betrag.",
        "billing",
    ),
    (
        "de-2",
        "de",
        "Export stürzt ab",
        "Seit dem Update gestern stürzt der Export als CSV jedes Mal ab. Können Sie sich das bitte ansehen?",
        "bug",
    ),
    (
        "es-1",
        "es",
        "No puedo iniciar sesión",
        "No puedo iniciar sesión, el correo para restablecer la contraseña nunca llega a mi bandeja de entrada.",
        "account_access",
    ),
    (
        "es-2",
        "es",
        "Cobro duplicado",
        "Me han cobrado dos veces la factura de este mes. ¿Pueden devolverme el importe duplicado, por favor?",
        "billing",
    ),
    (
        "pt-1",
        "pt",
        "Como adicionar um colega",
        "Olá, como faço para adicionar um colega ao meu espaço de trabalho e dar a ele permissões de administrador?",
        "how_to",
    ),
]


@pytest.fixture
def multilingual(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.jsonl"
    lines = [
        json.dumps({"id": i, "language": lang, "subject": subject, "body": body, "category": category})
        for i, lang, subject, body, category in TICKETS
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_eval_reports_each_language_with_its_own_numbers(multilingual, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    summary_path = tmp_path / "summary.json"

    code = main(["eval", str(multilingual), "--workflow", "zendesk-support", "--task", "category",
                 "--text-col", "body", "--subject-col", "subject", "--label-col", "category", "--id-col", "id",
                 "--cache", str(tmp_path / "cache.jsonl"), "--no-baselines", "--json", str(summary_path),
                 "--out", str(tmp_path / "report")])  # fmt: skip

    assert code == 0
    candidate = json.loads(summary_path.read_text())["candidate"]
    table = {entry["language"]: entry for entry in candidate["by_language"]}
    assert [entry["language"] for entry in candidate["by_language"]] == ["en", "de", "es", "pt"]
    for language, tickets in (("de", 2), ("es", 2), ("pt", 1)):
        entry = table[language]
        assert (entry["tickets"], entry["reviews"], entry["language_unsupported"]) == (tickets, tickets, tickets)
        assert (entry["accuracy"], entry["coverage"], entry["precision_auto"], entry["cost_usd"]) == (0.0, 0.0, None, 0)
    english = table["en"]
    assert english["tickets"] == 4
    assert english["language_unsupported"] == 0
    assert english["n_auto"] + english["reviews"] == 4
    # every right answer of the run came from the English tickets (the others have no label)
    assert english["accuracy"] * 4 == pytest.approx(candidate["accuracy"] * len(TICKETS))
    assert candidate["language_unsupported"] == 5
    out = capsys.readouterr().out
    assert "By language (zendesk-support/category (policy)):" in out
    german = next(line for line in out.splitlines() if line.startswith("de (German)"))
    assert german.split()[2:8] == ["2", "0.0%", "0.0%", "-", "2", "2"]
    assert "language_unsupported: 5 rows" in out
    assert "<td>pt (Portuguese)</td><td>1</td>" in (tmp_path / "report" / "report.html").read_text()
