"""The README's production guide covers what a deploy needs: every stack parameter, every secret key."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from tests.builders import ROOT
from triage_gate.config import SECRET_KEYS
from triage_local.template import load_yaml

README = (ROOT / "README.md").read_text(encoding="utf-8")
GUIDE = README[README.index("## Deploy to AWS") : README.index("## Operations")]
PARAMETERS = load_yaml(ROOT / "template.yaml")["Parameters"]
ROTATION_ONLY = {key for key in SECRET_KEYS if key.endswith("_PREVIOUS")}


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_every_stack_parameter_is_in_the_guides_table_with_its_default(name: str) -> None:
    row = next((line for line in GUIDE.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row, f"README's parameter table lacks {name}"
    default = PARAMETERS[name].get("Default", "(required)")
    assert (f"`{default}`" if default != "" else "(empty)") in row


def test_the_secret_example_holds_all_eight_keys() -> None:
    example = json.loads(re.search(r"```json\n(\{.*?\})\n```", GUIDE, re.DOTALL).group(1))  # type: ignore[union-attr]

    assert set(example) == set(SECRET_KEYS) - ROTATION_ONLY
    assert len(example) == 8
    for key in ROTATION_ONLY:
        assert key in GUIDE


def test_the_steps_come_in_the_order_an_admin_runs_them() -> None:
    steps = ["make deploy", "triage setup secrets", "triage setup zendesk", "triage setup hubspot",
             "triage setup slack", "triage doctor", "--to shadow"]  # fmt: skip
    table = GUIDE[: GUIDE.index("**1. Parameters.**")]
    positions = [table.index(step) for step in steps]
    assert positions == sorted(positions)


def test_samconfig_names_only_parameters_the_template_declares() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for env in ("default", "dev", "prod"):
        overrides = config[env]["deploy"]["parameters"]["parameter_overrides"]
        names = re.findall(r'(\w+)="', overrides)
        assert names
        assert set(names) <= set(PARAMETERS), env
