"""The policy is parsed with libyaml's safe loader: the same document as PyYAML's own safe loader gives, and
still a clear ConfigurationError for a file that is not YAML. The parse is cached beside the file as JSON named
by the YAML's hash (what `make build` ships in the layer, so a cold start never imports PyYAML); every load
validates, cached or not, and an edited file never meets an old parse."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from triage_gate.errors import ConfigurationError
from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy
from triage_gate.policy_source import parsed_cache, safe_loader


def test_the_layer_ships_libyaml_and_the_policy_parses_as_pure_python_reads_it() -> None:
    raw = DEFAULT_POLICY_PATH.read_bytes()

    assert safe_loader() is yaml.CSafeLoader
    assert yaml.load(raw, Loader=safe_loader()) == yaml.safe_load(raw)  # noqa: S506
    assert load_policy().workflows  # and it validates


def test_a_safe_loader_refuses_python_tags_and_bad_yaml_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(yaml.YAMLError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=safe_loader())  # noqa: S506
    broken = tmp_path / "policy.yaml"
    broken.write_text("workflows: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigurationError, match="is not valid YAML"):
        load_policy(broken)


def _copy_policy(tmp_path: Path) -> Path:
    """The shipped policy and its seed models in a directory of the test's own."""
    shutil.copytree(DEFAULT_POLICY_PATH.parent / "models", tmp_path / "models")
    file = tmp_path / "policy.yaml"
    file.write_bytes(DEFAULT_POLICY_PATH.read_bytes())
    return file


def _cache_of(file: Path) -> Path:
    return parsed_cache(file, hashlib.sha256(file.read_bytes()).hexdigest())


def test_the_first_load_caches_the_parse_and_the_next_load_reads_it_without_pyyaml(tmp_path: Path) -> None:
    file = _copy_policy(tmp_path)
    first = load_policy(file)
    cache = _cache_of(file)
    assert cache.is_file()
    # The document as JSON holds it (Zendesk custom field ids become string keys; validation reads them back).
    assert json.loads(cache.read_bytes()) == json.loads(json.dumps(yaml.safe_load(file.read_bytes())))

    script = (
        "import sys; from triage_gate.policy import load_policy; "
        f"p = load_policy({str(file)!r}); print(p.sha256, 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()

    assert out == [first.sha256, "False"]  # the same policy, and PyYAML never imported


def test_an_edited_policy_never_meets_the_old_parse(tmp_path: Path) -> None:
    file = _copy_policy(tmp_path)
    load_policy(file)
    old_cache = _cache_of(file)
    file.write_text(file.read_text(encoding="utf-8").replace("error_tolerance: 0.05", "error_tolerance: 0.03", 1))

    edited = load_policy(file)

    assert edited.workflows["zendesk-support"].error_tolerance == 0.03
    assert _cache_of(file) != old_cache
    assert _cache_of(file).is_file()


def test_a_cached_parse_is_validated_like_the_yaml(tmp_path: Path) -> None:
    file = _copy_policy(tmp_path)
    load_policy(file)
    cache = _cache_of(file)
    document = json.loads(cache.read_bytes())
    document["workflows"]["zendesk-support"]["error_tolerance"] = 7  # tampered with: out of range
    cache.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(ConfigurationError, match="error_tolerance"):
        load_policy(file)


def test_a_read_only_directory_or_a_document_json_cannot_hold_leaves_no_cache(tmp_path: Path) -> None:
    file = _copy_policy(tmp_path)
    file.write_text(file.read_text(encoding="utf-8") + "\n# a date JSON cannot hold\nreviewed_on: 2026-11-30\n")
    with pytest.raises(ConfigurationError):  # an unknown key: the policy is refused, cached or not
        load_policy(file)
    assert not _cache_of(file).exists()

    read_only = _copy_policy(tmp_path / "ro")
    (read_only.parent / "__pycache__").mkdir()
    (read_only.parent / "__pycache__").chmod(0o555)
    try:
        assert load_policy(read_only).workflows  # loads; the cache is best effort
    finally:
        (read_only.parent / "__pycache__").chmod(0o755)
    if os.geteuid() != 0:  # root writes through a read-only mode bit
        assert not _cache_of(read_only).exists()
