"""What a cold start imports: no function's handler module, nor the first request's data classes, imports
pydantic (~120 ms after boto3, measured by `make bench`; only the Claude path's anthropic SDK brings it)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.builders import ROOT

FRESH_INTERPRETER = """
import importlib, json, sys
sys.path[:0] = [{function_dir!r}]
importlib.import_module("app")
import triage_gate.policy as policy
loaded = policy.load_policy()
from triage_gate.messages import TicketEvent, parse_exception_message
from triage_gate.triage.decision import DecisionRecord
print(json.dumps({{"pydantic": sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core")),
                  "msgspec": "msgspec" in sys.modules, "workflows": sorted(loaded.workflows)}}))
"""
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_and_the_policy_load_without_pydantic(function: str) -> None:
    code = FRESH_INTERPRETER.format(function_dir=str(ROOT / "functions" / function))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["pydantic"] == []
    assert seen["msgspec"] is True
    assert seen["workflows"]  # the shipped policy validated


def test_the_claude_path_is_the_one_that_brings_pydantic() -> None:
    code = "import sys, triage_gate.adapters.claude as c; import anthropic; print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert done.stdout.strip() == "True"


def test_a_policy_section_validated_on_its_own_still_checks_itself() -> None:
    from triage_gate.policy import PromotionBar, Route, Thresholds
    from triage_gate.records import ValidationError

    assert Thresholds().for_label("refund") == 0.8
    with pytest.raises(ValidationError, match="a claude route needs a model"):
        Route.from_data({"kind": "claude"})
    with pytest.raises(ValidationError, match="auto_shares must be percentages in increasing order"):
        PromotionBar.from_data({"auto_shares": [50, 10]})
    with pytest.raises(ValueError, match="a claude route needs a model"):
        Route(kind="claude")  # a constructor call runs the same check


def test_a_nested_error_still_names_its_place_in_the_file(tmp_path) -> None:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy

    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "thresholds: {default: 0.70,", "thresholds: {default: 1.70,", 1
    )
    bad = tmp_path / "policy.yaml"
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigurationError, match=r"workflows\.zendesk-support\.tasks\.category\.thresholds\.default"):
        load_policy(bad)
