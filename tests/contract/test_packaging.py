"""What `pip install .` promises, checked against the code: every third-party import of the three packages comes
from a distribution pyproject.toml declares (`[project].dependencies`, or the extra whose commands import it),
each declared range holds the version the project pins, and `triage` starts without any extra installed.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.builders import ROOT
from triage_tools.cli.extras import EXTRA_MODULES

PACKAGE_DIRS = (ROOT / "layers/core/triage_gate", ROOT / "infra/tools/triage_tools", ROOT / "infra/local/triage_local")
OWN = {"triage_gate", "triage_tools", "triage_local"}


@cache
def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module → the files importing it (anywhere in the file, lazily or not)."""
    found: dict[str, set[str]] = {}
    for directory in PACKAGE_DIRS:
        for path in directory.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for top in {name.split(".")[0] for name in names}:
                    if top not in sys.stdlib_module_names and top not in OWN and top != "__future__":
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _provided(specs: list[str]) -> set[str]:
    """The distributions a list of requirements installs: each one, and what each one requires in turn (with
    the extras asked for) — e.g. botocore through boto3, pydantic-core through pydantic."""
    names = set()
    for spec in specs:
        requirement = Requirement(spec)
        names.add(canonicalize_name(requirement.name))
        try:
            needs = requires(requirement.name) or []
        except PackageNotFoundError:
            continue
        for need in map(Requirement, needs):
            wanted = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
            if need.marker is None or any(need.marker.evaluate(env) for env in wanted):
                names.add(canonicalize_name(need.name))
    return names


@cache
def _importable_from() -> dict[str, list[str]]:
    return dict(packages_distributions())  # top-level module -> the installed distributions providing it


def _distributions(module: str) -> set[str]:
    return {canonicalize_name(d) for d in _importable_from().get(module, [])}


def test_every_third_party_import_is_declared_as_a_dependency_or_in_its_extra() -> None:
    core = _provided(_project()["dependencies"])
    extras = {name: _provided(specs) for name, specs in _project()["optional-dependencies"].items()}
    undeclared = []
    for module, files in sorted(_third_party_imports().items()):
        distributions = _distributions(module)
        guarded_by = [extra for extra, modules in EXTRA_MODULES.items() if module in modules]
        if distributions & core or any(distributions & extras[extra] for extra in guarded_by):
            continue
        undeclared.append(f"{module} (from {sorted(distributions) or 'no installed distribution'}): {sorted(files)}")

    listed = "\n".join(undeclared)
    assert undeclared == [], f"imported, but in neither [project].dependencies nor the extra that guards it:\n{listed}"


def test_each_extra_brings_the_modules_its_commands_require() -> None:
    optional = _project()["optional-dependencies"]

    assert set(optional) == set(EXTRA_MODULES)  # `require("x")` names an extra pyproject.toml has
    for extra, modules in EXTRA_MODULES.items():
        provided = _provided(optional[extra])
        for module in modules:
            assert _distributions(module) & provided, f"{module} is not installed by the {extra!r} extra"


def test_every_declared_range_holds_the_pinned_version() -> None:
    pins = {}
    for line in (ROOT / "requirements/constraints.txt").read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[canonicalize_name(name)] = version
    optional = _project()["optional-dependencies"].values()
    declared = [*_project()["dependencies"], *(spec for specs in optional for spec in specs)]

    for requirement in map(Requirement, declared):
        pinned = pins.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{requirement.name} is declared but not pinned in requirements/constraints.txt"
        assert requirement.specifier.contains(pinned, prereleases=True), f"{requirement} excludes the pin {pinned}"


def test_the_layer_installs_what_the_package_declares() -> None:
    layer = {
        canonicalize_name(Requirement(line).name)
        for line in (ROOT / "layers/core/requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert layer <= {canonicalize_name(Requirement(s).name) for s in _project()["dependencies"]}


def test_triage_starts_without_importing_any_extra() -> None:
    script = (
        "import sys\n"
        "from triage_tools.cli import _parser\n"
        "_parser()\n"
        f"print(sorted(m for m in {sorted(m for ms in EXTRA_MODULES.values() for m in ms)!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_policy_and_the_seed_models_are_package_data() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = project["tool"]["setuptools"]["package-data"]["triage_gate"]
    package = Path(ROOT / "layers/core/triage_gate")

    assert {"policy.yaml", "models/*.json"} <= set(data)
    assert (package / "policy.yaml").is_file()
    assert sorted(package.glob("models/*.json"))
