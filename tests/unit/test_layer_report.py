"""`make build`'s bytecode check: a module ships its unchecked-hash .pyc, or the build fails and says which."""

from __future__ import annotations

import compileall
import importlib.util
import py_compile
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.builders import ROOT

TAG = sys.implementation.cache_tag


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layer_report", ROOT / "infra" / "scripts" / "layer_report.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layer_report = _load()


def _layer(tmp_path: Path) -> Path:
    package = tmp_path / "CoreLayer" / "python" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "mod.py").write_text("def f():\n    return 2\n")
    return tmp_path / "CoreLayer"


def _compile(root: Path, mode: py_compile.PycInvalidationMode) -> None:
    assert compileall.compile_dir(root, quiet=1, force=True, invalidation_mode=mode)


def test_unchecked_hash_bytecode_passes_and_the_size_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = _layer(tmp_path)
    _compile(layer, py_compile.PycInvalidationMode.UNCHECKED_HASH)

    assert layer_report.main(["--tag", TAG, "--layer", str(layer)]) == 0

    out = capsys.readouterr().out
    assert f"bytecode: 2 modules, each with __pycache__/*.{TAG}.pyc (unchecked-hash)" in out
    assert "limit 250 MB" in out
    assert "MB zipped" in out


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        (py_compile.PycInvalidationMode.TIMESTAMP, "timestamp or checked-hash bytecode"),
        (py_compile.PycInvalidationMode.CHECKED_HASH, "timestamp or checked-hash bytecode"),
        (None, "no bytecode"),
    ],
)
def test_a_module_without_unchecked_hash_bytecode_fails_the_build_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: py_compile.PycInvalidationMode | None, problem: str
) -> None:
    layer = _layer(tmp_path)
    _compile(layer, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    module = layer / "python" / "pkg" / "mod.py"
    pyc = module.parent / "__pycache__" / f"mod.{TAG}.pyc"
    pyc.unlink()
    if mode is not None:
        py_compile.compile(str(module), invalidation_mode=mode)

    assert layer_report.main(["--tag", TAG, "--layer", str(layer)]) == 1

    err = capsys.readouterr().err
    assert "1 of 2 modules would compile at cold start" in err
    assert f"{module}: {problem}" in err


def test_function_code_is_checked_too_and_a_missing_directory_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = _layer(tmp_path)
    function = tmp_path / "IngestFunction"
    function.mkdir()
    (function / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    _compile(layer, py_compile.PycInvalidationMode.UNCHECKED_HASH)

    assert layer_report.main(["--tag", TAG, "--layer", str(layer), str(function)]) == 1
    assert f"{function / 'app.py'}: no bytecode" in capsys.readouterr().err

    assert layer_report.main(["--tag", TAG, "--layer", str(layer), str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
