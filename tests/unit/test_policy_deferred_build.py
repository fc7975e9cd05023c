"""The policy models defer their pydantic build (a cold-start saving for TriageFunction): importing the module
builds no validator; the first validation builds what it needs, once, and validates exactly as before."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from triage_gate.errors import ConfigurationError
from triage_gate.policy import DEFAULT_POLICY_PATH, PromotionBar, Route, Thresholds, load_policy

FRESH_INTERPRETER = """
import json
from pydantic import BaseModel
import triage_gate.policy as policy

models = sorted(
    name for name, value in vars(policy).items()
    if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == policy.__name__
)
built_at_import = [name for name in models if getattr(policy, name).__pydantic_complete__]
loaded = policy.load_policy()
print(json.dumps({"models": models, "built_at_import": built_at_import,
                  "policy_built_after_load": policy.Policy.__pydantic_complete__,
                  "workflows": sorted(loaded.workflows)}))
"""


def test_importing_the_policy_builds_no_model_and_loading_it_builds_the_policy() -> None:
    done = subprocess.run(
        [sys.executable, "-c", FRESH_INTERPRETER], capture_output=True, text=True, check=True, timeout=60
    )
    seen = json.loads(done.stdout)

    assert len(seen["models"]) >= 20  # every model of the policy file, _Strict included
    assert seen["built_at_import"] == []
    assert seen["policy_built_after_load"] is True
    assert seen["workflows"] == ["hubspot-tickets", "zendesk-support"]


def test_a_deferred_model_used_on_its_own_still_validates() -> None:
    assert Thresholds().for_label("refund") == 0.8
    with pytest.raises(ValidationError, match="a claude route needs a model"):
        Route(kind="claude")
    with pytest.raises(ValidationError, match="auto_shares must be percentages in increasing order"):
        PromotionBar(auto_shares=[50, 10])


def test_a_nested_error_still_names_its_place_in_the_file(tmp_path: Path) -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "thresholds: {default: 0.70,", "thresholds: {default: 1.70,", 1
    )
    bad = tmp_path / "policy.yaml"
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigurationError, match=r"workflows\.zendesk-support\.tasks\.category\.thresholds\.default"):
        load_policy(bad)
