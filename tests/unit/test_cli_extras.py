"""A command that needs an optional extra says which and how to install it (exit 1), instead of a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from triage_tools.cli import main
from triage_tools.cli.extras import EXTRA_MODULES, MissingExtra, require
from triage_tools.training import cli as training_cli


def _uninstall(monkeypatch: pytest.MonkeyPatch, *extras: str) -> None:
    """Make every module of ``extras`` unimportable, as after a plain `pip install .`."""
    for extra in extras:
        for module in EXTRA_MODULES[extra]:
            monkeypatch.setitem(sys.modules, module, None)


@pytest.mark.parametrize(
    ("argv", "extras", "hint"),
    [
        (["local"], ("local",), "install the extra: pip install '.[local]'"),
        (["demo"], ("local", "train"), "install the extras: pip install '.[local,train]'"),
        (["train", "t.csv", "--text-col", "t", "--label-col", "l", "--out", "m.json"], ("train",),
         "install the extra: pip install '.[train]'"),
        (["backtest", "history", "--workflow", "zendesk-support"], ("train",),
         "install the extra: pip install '.[train]'"),
    ],
)  # fmt: skip
def test_a_command_without_its_extra_exits_1_naming_the_extra(
    argv: list[str], extras: tuple[str, ...], hint: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _uninstall(monkeypatch, *extras)

    code = main(argv)

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"triage {argv[0]}: needs ")
    assert err.rstrip().endswith(hint)
    assert all(module in err for extra in extras for module in EXTRA_MODULES[extra])
    assert "Traceback" not in err


def test_only_the_missing_modules_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy", None)

    with pytest.raises(MissingExtra) as raised:
        require("train")

    assert raised.value.missing == {"train": ["scipy"]}
    assert "needs scipy," in str(raised.value)


def test_with_the_extras_installed_require_passes() -> None:
    require("train", "local")  # the dev venv has both


def test_an_unknown_extra_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no such extra: \\['gpu'\\]"):
        require("gpu")


def test_the_standalone_train_entry_point_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _uninstall(monkeypatch, "train")

    code = training_cli.main(["train", str(tmp_path / "t.csv"), "--text-col", "t", "--label-col", "l", "--out", "m"])

    assert code == 1
    assert capsys.readouterr().err.startswith("triage train: needs numpy, scipy, which `pip install .` leaves out")


def test_commands_without_an_extra_run_without_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _uninstall(monkeypatch, "train", "local")

    assert main(["policy", "check"]) == 0
    assert "Traceback" not in capsys.readouterr().err
