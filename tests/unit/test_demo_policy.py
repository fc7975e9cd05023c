"""The demo's editable copy of the shipped policy: its `models/` resolve to the seed models (package data)."""

from __future__ import annotations

from pathlib import Path

from tests.builders import ROOT
from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy
from triage_local.demo_adoption import demo_policy


def test_the_copy_loads_with_the_shipped_models(tmp_path: Path) -> None:
    policy = load_policy(demo_policy(ROOT, tmp_path / "demo"))

    assert policy.sha256 == load_policy(DEFAULT_POLICY_PATH).sha256
    assert (tmp_path / "demo" / "models").resolve() == DEFAULT_POLICY_PATH.parent / "models"


def test_a_link_left_to_where_the_models_used_to_live_is_replaced(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    workdir.mkdir()
    (workdir / "models").symlink_to(ROOT / "layers" / "core" / "models", target_is_directory=True)  # dangling now

    policy = load_policy(demo_policy(ROOT, workdir))

    assert all(
        policy.model_path(task.local_model).is_file()
        for workflow in policy.workflows.values()
        for task in workflow.tasks.values()
        if task.local_model
    )
