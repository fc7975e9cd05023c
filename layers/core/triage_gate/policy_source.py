"""Reading the policy file: its bytes, their SHA-256, and the YAML document as data, parsed once.

The parse is cached beside the file as ``__pycache__`` holds bytecode: the document as JSON, named by the SHA-256
of the YAML's bytes, so an edited file never meets an old parse. ``make build`` writes it into the layer
(read-only on Lambda), so a cold start reads JSON and never imports PyYAML (~17 ms of TriageFunction's cold
start: the import and the parse). The cache holds data, not a decision: every load validates it exactly as it
validates the YAML, and it is written only when its document validates to the same policy.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from triage_gate.errors import ConfigurationError


class PolicySource(msgspec.Struct, frozen=True):
    file: Path
    digest: str
    """SHA-256 of the file's bytes, hex: the policy's identity on every decision."""
    document: dict[str, Any]
    from_cache: bool


def read(file: Path) -> PolicySource:
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read policy file {file}: {exc.strerror}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    cached = _read_cache(parsed_cache(file, digest))
    if cached is not None:
        return PolicySource(file, digest, cached, from_cache=True)
    return PolicySource(file, digest, parse_yaml(raw, file), from_cache=False)


def parsed_cache(file: Path, digest: str) -> Path:
    """Where the parse of ``file`` with these bytes is cached."""
    return file.resolve().parent / "__pycache__" / f"{file.name}.{digest[:32]}.json"


def cache(source: PolicySource, *, same: Callable[[dict[str, Any]], bool]) -> bool:
    """Write the parse's cache, best effort like bytecode; True when written. Nothing is written when the
    document does not survive JSON (``same`` says whether the JSON round trip validates to the same policy:
    Zendesk custom field ids are integer keys, which JSON turns into strings and validation back into integers)
    or the directory is read-only (the layer on Lambda; ``make build`` writes the layer's)."""
    try:
        text = json.dumps(source.document, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # a date, a set: JSON cannot hold it
        return False
    if not same(json.loads(text)):
        return False
    target = parsed_cache(source.file, source.digest)
    try:
        target.parent.mkdir(exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)  # atomic: a concurrent reader sees the whole cache or none
    except OSError:
        return False
    return True


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        cached = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None  # no cache (or an unreadable one): parse the YAML
    return cached if isinstance(cached, dict) else None


def safe_loader() -> Any:
    """libyaml's safe loader when PyYAML was built with it (the layer's wheel is), pure Python otherwise: the
    same documents. PyYAML is imported here, only when a policy has no parsed cache: a cold start from the
    built layer never pays its import."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(raw: bytes, file: Path) -> dict[str, Any]:
    """The YAML document as data; a clear ConfigurationError when it is not YAML or not a mapping."""
    import yaml

    try:
        data: Any = yaml.load(raw, Loader=safe_loader())  # noqa: S506 (a safe loader: libyaml's, else PyYAML's)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{file} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{file}: the policy must be a YAML mapping")
    return data
