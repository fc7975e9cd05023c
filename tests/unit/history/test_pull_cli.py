"""``triage history pull``: help, and every bad input refused with exit 2 and a message naming the problem."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.builders import policy
from triage_tools.cli import main
from triage_tools.history.cli import _default_until, _UsageProblem, choose_workflow
from triage_tools.history.state import PullState, save_state

CREDENTIALS = {"ZENDESK_BASE_URL": "https://acme.zendesk.test", "ZENDESK_EMAIL": "ops@acme.test",
               "ZENDESK_API_TOKEN": "t0ken"}  # fmt: skip


@pytest.fixture
def zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)


def pull(tmp_path: Path, *extra: str, source: str = "zendesk", since: str = "2026-06-01") -> list[str]:
    return ["history", "pull", "--source", source, "--since", since, "--out", str(tmp_path / "out"), *extra]


def test_help_documents_the_options_and_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["history", "pull", "--help"])

    out = capsys.readouterr().out
    assert exited.value.code == 0
    for text in ("--since", "--until", "--workflow", "--secret-id", "ZENDESK_API_TOKEN", "pull-state.json"):
        assert text in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "June"], "--since must be a date like 2026-06-01, got 'June'"),
        (["--until", "2026-05-01"], "--until 2026-05-01 must be after --since 2026-06-01"),
        (["--since", "2999-01-01"], "--since 2999-01-01 is in the future"),
        (["--workflow", "nope"], "no workflow 'nope' in the policy (workflows: zendesk-support, hubspot-tickets)"),
        (["--workflow", "hubspot-tickets"], "workflow 'hubspot-tickets' reads hubspot, not zendesk"),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(
    tmp_path: Path, zendesk_env: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main([*pull(tmp_path), *args])

    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_credentials_exit_2_naming_each_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZENDESK_BASE_URL", "https://acme.zendesk.test")
    monkeypatch.delenv("ZENDESK_EMAIL", raising=False)
    monkeypatch.delenv("ZENDESK_API_TOKEN", raising=False)

    code = main(pull(tmp_path))

    assert code == 2
    assert "missing from the environment (or use --secret-id): ZENDESK_EMAIL, ZENDESK_API_TOKEN" in (
        capsys.readouterr().err
    )


def test_a_base_url_that_is_not_http_is_refused(
    tmp_path: Path, zendesk_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZENDESK_BASE_URL", "acme.zendesk.com")

    assert main(pull(tmp_path)) == 2
    assert "ZENDESK_BASE_URL must start with https://" in capsys.readouterr().err


def test_another_pulls_state_in_dir_is_refused_before_any_request(
    tmp_path: Path, zendesk_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = PullState(source="zendesk", workflow="zendesk-support", since="2026-05-01T00:00:00+00:00",
                      until="2026-09-01T00:00:00+00:00", policy_sha256="x")  # fmt: skip
    save_state(out, other)

    code = main(pull(tmp_path, "--until", "2026-09-01"))

    err = capsys.readouterr().err
    assert code == 2
    assert "holds an unfinished pull of another command" in err
    assert "--since: 2026-05-01T00:00:00+00:00 → 2026-06-01T00:00:00+00:00" in err
    assert "the policy file" in err  # a different policy is another pull too


def test_a_finished_pull_is_not_overwritten_by_accident(
    tmp_path: Path, zendesk_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tickets.csv").write_text("id\n", encoding="utf-8")

    assert main(pull(tmp_path)) == 2
    assert "already holds a finished pull (tickets.csv); use --overwrite" in capsys.readouterr().err


def test_workflow_defaults_to_the_only_one_reading_the_source_and_names_several() -> None:
    single = policy()
    workflow = single.workflows["support"]
    several = single.replace(**{"workflows": {"emea": workflow, "apac": workflow}})

    assert choose_workflow(single, "zendesk", None) == "support"
    with pytest.raises(_UsageProblem, match=r"several workflows read zendesk \(emea, apac\): choose one"):
        choose_workflow(several, "zendesk", None)
    with pytest.raises(_UsageProblem, match="no workflow in the policy reads hubspot"):
        choose_workflow(single, "hubspot", None)


def test_without_until_an_unfinished_pull_keeps_its_own_so_it_resumes_the_next_day(tmp_path: Path) -> None:
    now = datetime(2026, 9, 2, 0, 30, tzinfo=UTC)  # the pull began yesterday, with --until defaulting to today
    saved = PullState(source="zendesk", workflow="zendesk-support", since="2026-06-01T00:00:00+00:00",
                      until="2026-09-02T00:00:00+00:00", policy_sha256="x")  # fmt: skip
    save_state(tmp_path, saved)

    assert _default_until(tmp_path, now) == datetime(2026, 9, 2, tzinfo=UTC)
    assert _default_until(tmp_path / "fresh", now) == datetime(2026, 9, 3, tzinfo=UTC)  # tomorrow
