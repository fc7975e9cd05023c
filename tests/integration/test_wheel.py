"""The wheel `pip install .` builds: every module, the shipped policy and seed models, the `triage` entry point,
and the dependencies pyproject.toml declares — then the unpacked wheel finds and loads its own policy.

Built from a copy of the three package directories (the working tree gets no build/ or egg-info), with the
dev venv's setuptools (`--no-build-isolation`: no index needed).
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.builders import ROOT

PACKAGES = {
    "triage_gate": Path("layers/core/triage_gate"),
    "triage_tools": Path("infra/tools/triage_tools"),
    "triage_local": Path("infra/local/triage_local"),
}


def _source_files() -> set[str]:
    """Every file of the three packages as the wheel names it (``triage_gate/policy.yaml``)."""
    names = set()
    for package, directory in PACKAGES.items():
        for path in (ROOT / directory).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                names.add(f"{package}/{path.relative_to(ROOT / directory).as_posix()}")
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools", reason="the dev venv brings setuptools (requirements/dev.txt): make venv")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, source / name)
    for directory in PACKAGES.values():
        shutil.copytree(ROOT / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-cache-dir", "--quiet",
         "-w", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    built = sorted((work / "dist").glob("triage_gate-*.whl"))
    assert len(built) == 1, built
    return built[0]


def test_the_wheel_holds_every_module_the_policy_and_the_seed_models(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    packaged = {n for n in names if n.split("/", 1)[0] in PACKAGES}

    assert {"triage_gate/policy.yaml", "triage_gate/py.typed"} <= packaged
    models = ROOT / "layers/core/triage_gate/models"
    # The seed models, and the language identification model with its licence notice.
    assert {n for n in packaged if n.startswith("triage_gate/models/")} == {
        f"triage_gate/models/{p.name}" for p in [*models.glob("*.json"), *models.glob("lid.176.*")]
    }
    assert packaged == _source_files()  # a new sub-package missing from pyproject's `packages` fails here


def test_the_wheel_declares_the_triage_command_and_the_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    assert "[console_scripts]\ntriage = triage_tools.cli:main" in entry_points
    requires = metadata.get_all("Requires-Dist") or []
    core = [r for r in requires if "extra ==" not in r]
    assert len(core) == len(project["dependencies"])
    assert sorted(metadata.get_all("Provides-Extra") or []) == sorted(project["optional-dependencies"])


def test_the_unpacked_wheel_loads_its_own_policy_and_models(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    script = (
        "import json, triage_gate.policy as p, triage_tools.cli as cli\n"
        "print(p.DEFAULT_POLICY_PATH)\n"
        "policy = p.load_policy()\n"
        "print(json.dumps([str(policy.model_path(t.local_model)) for w in policy.workflows.values()"
        " for t in w.tasks.values() if t.local_model]))\n"
        "raise SystemExit(cli.main(['policy', 'check']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the editable install of the working tree
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(site.resolve() / "triage_gate" / "policy.yaml")
    models = json.loads(lines[1])
    assert len(models) == 4  # two workflows, two tasks each
    assert all(m.startswith(str(site.resolve() / "triage_gate" / "models")) for m in models)
