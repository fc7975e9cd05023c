"""The architecture, checked: imports go one way, the layer holds runtime code only, modules stay small.

compose (one module per function) ─▶ adapters ─▶ domain ─▶ foundation
tools (triage_tools, triage_local) ─▶ anything in triage_gate; never the reverse
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.builders import ROOT

PACKAGE = ROOT / "layers" / "core" / "triage_gate"
FOUNDATION = {
    "errors",
    "records",
    "messages",
    "config",
    "observability",
    "http",
    "policy",
    "policy_source",
    "policy_language",
    "ports",
    "display",
}
DOMAIN = {"intake", "triage", "writeback", "review", "roi", "rollout", "localmodel"}
DOMAIN |= {"rollout_status", "rollout_gate", "proportions"}  # the promotion gate and its Wilson bounds
RANK = {"foundation": 0, "domain": 1, "adapters": 2, "compose": 3}
TOOLS = ("triage_tools", "triage_local")
# The one deliberate lazy import: PyYAML, only when the policy has no parsed cache beside it (the built layer has
# one: a cold start never imports it).
LAZY_ALLOWED = {("policy_source.py", "yaml")}
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(module: str) -> str | None:
    """triage_gate.x.y → its layer (None: the package root)."""
    parts = module.split(".")
    if parts[0] != "triage_gate" or len(parts) < 2:
        return None
    head = parts[1]
    if head in FOUNDATION:
        return "foundation"
    if head in DOMAIN:
        return "domain"
    if head in ("adapters", "compose"):
        return head
    raise AssertionError(f"{module}: place it in a layer (tests/contract/test_architecture.py)")


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, imported inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(sub)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for sub in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, id(node) in inner))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, id(node) in inner) for alias in node.names)
    return found


def _name(path: Path) -> str:
    return ".".join(("triage_gate", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_one_way_and_never_at_tools(path: Path) -> None:
    own = _layer(_name(path))
    for module, line, _ in _imports(path):
        assert not module.startswith(TOOLS), f"{path.name}:{line} imports tool code {module}"
        target = _layer(module)
        if own is None or target is None:
            continue
        assert RANK[target] <= RANK[own], f"{_name(path)} ({own}) imports {module} ({target}) at line {line}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_lazy_imports_but_pyyaml(path: Path) -> None:
    rel = str(path.relative_to(PACKAGE))
    lazy = [(m, n) for m, n, inside in _imports(path) if inside and (rel, m.split(".")[0]) not in LAZY_ALLOWED]
    assert lazy == [], f"{rel}: imports inside functions {lazy}"


def test_no_module_is_too_long() -> None:
    roots = [PACKAGE, ROOT / "infra" / "tools", ROOT / "infra" / "local", ROOT / "functions"]
    long = {
        str(p.relative_to(ROOT)): n
        for root in roots
        if root.exists()
        for p in root.rglob("*.py")
        if "__pycache__" not in p.parts and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_function_handlers_are_thin() -> None:
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        assert len(app.read_text(encoding="utf-8").splitlines()) <= 40, app
        imports = {m for m, _, _ in _imports(app) if m.startswith("triage_gate")}
        assert imports <= {"triage_gate.compose", "triage_gate.compose.common", "triage_gate.observability"} | {
            i for i in imports if i.startswith("triage_gate.compose.")
        }, f"{app}: a handler talks to its composition module only"
