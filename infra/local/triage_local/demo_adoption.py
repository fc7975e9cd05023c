"""``make demo``, day zero: the sandboxed Zendesk holds three months of tickets people routed; pull them,
measure the manual baseline, backtest on a time split, and write the measured baseline into the demo's copy
of the policy — the same commands a new team runs on its own help desk (README "Day zero to auto mode")."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from triage_gate.policy import load_policy
from triage_local import demo_data
from triage_local.sandboxes import Sandboxes
from triage_local.sandboxes.history import Rates, generate_history
from triage_local.sandboxes.history_load import load_zendesk
from triage_tools.cli import main as triage

WORKFLOW = "zendesk-support"
HISTORY_TICKETS = 6000
HISTORY_MONTHS = 3
# How often the person's final label disagrees with what the text says. Real desks disagree more (priority
# above all); the backtest then shows fewer labels clearing the bar — run it on your own history to know.
CONSISTENT_PEOPLE = Rates(category_noise=0.01, priority_noise=0.01)


def day_zero(root: Path, sandboxes: Sandboxes, workdir: Path, out: TextIO, *, paced: bool = True) -> Path:
    """Run pull → backtest → --write-baseline against the sandbox; returns the policy the live stack uses.
    ``paced=False`` pulls without client-side spacing (`--no-pacing`: the test suite's run; the sandbox's own
    rate limit still answers 429s, which the pull honours)."""
    policy = demo_policy(root, workdir)
    now = datetime.now(UTC)
    history = generate_history(
        "zendesk", count=HISTORY_TICKETS, months=HISTORY_MONTHS, seed=7, now=now, rates=CONSISTENT_PEOPLE
    )
    load_zendesk(sandboxes.zendesk, history, load_policy(policy).workflows[WORKFLOW])
    since = (now - timedelta(days=31 * HISTORY_MONTHS)).date().isoformat()
    pulled, report = workdir / "history", workdir / "backtest"
    credentials = {
        "ZENDESK_BASE_URL": sandboxes.zendesk.url,
        "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
    }
    out.write(
        f"Day zero: the sandboxed Zendesk holds {HISTORY_TICKETS:,} tickets people routed over {HISTORY_MONTHS} "
        "months (generated from infra/seed, the people's final labels disagreeing with the text on 1% of tickets;\n"
        "its export allows 10 requests a minute, and the pull keeps to it).\n"
    )
    steps = (
        ["history", "pull", "--source", "zendesk", "--since", since, "--out", str(pulled), "--policy", str(policy),
         "--overwrite", *([] if paced else ["--no-pacing"])],
        ["backtest", str(pulled), "--workflow", WORKFLOW, "--policy", str(policy), "--out", str(report),
         "--write-baseline"],
    )  # fmt: skip
    for argv in steps:
        out.write(f"\n$ triage {' '.join(_shown(argv, root))}\n")
        out.flush()
        with _environ(credentials), contextlib.redirect_stdout(out):
            code = triage(argv)
        if code != 0:
            raise RuntimeError(f"`triage {argv[0]}` exited {code} (its message is above)")
    out.write(
        "\nThe backtest's texts come from the same 205 seed examples on both sides of the time split, so its\n"
        "precision here says nothing about your data: run it on your own history.\n"
    )
    return policy


def demo_policy(root: Path, workdir: Path) -> Path:
    """A copy of the shipped policy the demo may edit; its local models resolve to the shipped ones."""
    workdir.mkdir(parents=True, exist_ok=True)
    shipped = root / "layers" / "core" / "triage_gate"  # the policy and the seed models are package data
    policy = workdir / "policy.yaml"
    shutil.copyfile(shipped / "policy.yaml", policy)
    models, seed_models = workdir / "models", (shipped / "models").resolve()
    if models.is_symlink() and models.resolve() != seed_models:
        models.unlink()  # a link left by an earlier run to where the models used to live
    if not models.exists():
        models.symlink_to(seed_models, target_is_directory=True)
    return policy


def _shown(argv: list[str], root: Path) -> list[str]:
    return [os.path.relpath(a, root) if a.startswith(str(root)) else a for a in argv]


@contextlib.contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
