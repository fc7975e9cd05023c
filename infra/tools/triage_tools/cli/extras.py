"""The optional extras: what a command needs beyond ``pip install .``, checked before the command starts.

``pip install .`` brings the runtime and every operator command. Two extras (``[project.optional-dependencies]``
in pyproject.toml) bring the rest: ``train`` fits the local model (numpy, scipy), ``local`` runs the stack on
this machine (moto's server, SAM's translator for each function's IAM role, the sandboxes' JSON Schemas).
A command that needs one calls :func:`require` first, so a missing extra stops it with exit 1 and the pip
command that installs it — not an ImportError traceback halfway through the work.
"""

from __future__ import annotations

from importlib.util import find_spec

# The top-level modules each extra brings that the tools import (lazily, inside the commands that need
# them). tests/contract/test_packaging.py checks that each one comes from a distribution the extra names.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "train": ("numpy", "scipy"),
    "local": ("moto", "samtranslator", "jsonschema"),
}


class MissingExtra(Exception):
    """A module of an optional extra is not installed; the message names it and the pip command."""

    def __init__(self, missing: dict[str, list[str]]) -> None:
        self.missing = missing
        modules = ", ".join(module for names in missing.values() for module in names)
        extras = ",".join(missing)
        noun = "extra" if len(missing) == 1 else "extras"
        super().__init__(
            f"needs {modules}, which `pip install .` leaves out: install the {noun}: pip install '.[{extras}]'"
        )


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or half-removed installation counts as missing
        return False


def require(*extras: str) -> None:
    """Raise :class:`MissingExtra` unless every module of every named extra is installed."""
    unknown = [extra for extra in extras if extra not in EXTRA_MODULES]
    if unknown:
        raise ValueError(f"no such extra: {unknown} (known: {sorted(EXTRA_MODULES)})")
    missing = {extra: [m for m in EXTRA_MODULES[extra] if not installed(m)] for extra in extras}
    missing = {extra: modules for extra, modules in missing.items() if modules}
    if missing:
        raise MissingExtra(missing)
