"""The policy is parsed with libyaml's safe loader (a cold-start saving): the same document as PyYAML's own
safe loader gives, and still a clear ConfigurationError for a file that is not YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from triage_gate.errors import ConfigurationError
from triage_gate.policy import DEFAULT_POLICY_PATH, SAFE_LOADER, load_policy


def test_the_layer_ships_libyaml_and_the_policy_parses_as_pure_python_reads_it() -> None:
    raw = DEFAULT_POLICY_PATH.read_bytes()

    assert SAFE_LOADER is yaml.CSafeLoader
    assert yaml.load(raw, Loader=SAFE_LOADER) == yaml.safe_load(raw)  # noqa: S506
    assert load_policy().workflows  # and it validates


def test_a_safe_loader_refuses_python_tags_and_bad_yaml_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=SAFE_LOADER)  # noqa: S506
    broken = tmp_path / "policy.yaml"
    broken.write_text("workflows: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        load_policy(broken)
