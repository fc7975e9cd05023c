"""``triage setup secrets --from FILE``: the vendor keys into the stack's secret, merged, never echoed.

FILE is a JSON object, or ``KEY=VALUE`` lines (``#`` comments, blank lines and ``export`` allowed; a value may
be quoted). Every key must be one of :data:`SECRET_KEYS`; after merging with what the secret holds, every key
of :data:`REQUIRED` must have a value, except ``ZENDESK_WEBHOOK_SECRET``, which ``triage setup zendesk`` reads
from the webhook it creates. Values are compared, never printed: each key is reported as set, unchanged,
kept (already in the secret, not in FILE) or not set.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from triage_gate.config import SECRET_KEYS

# The eight keys the functions need; the *_PREVIOUS ones are only for a signing-secret rotation.
REQUIRED = (
    "ZENDESK_WEBHOOK_SECRET", "HUBSPOT_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN",
    "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "HUBSPOT_ACCESS_TOKEN", "ANTHROPIC_API_KEY",
)  # fmt: skip
FILLED_BY_SETUP = {"ZENDESK_WEBHOOK_SECRET": "triage setup zendesk"}
_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


class SecretsFileError(ValueError):
    """FILE cannot be used: unreadable, malformed, unknown keys (a usage error, exit 2)."""


@dataclass(frozen=True)
class SecretsChange:
    merged: dict[str, str]
    report: list[tuple[str, str]]  # (key, set | unchanged | kept | not set ...)
    missing: list[str]  # required keys with no value after the merge
    changed: bool


def read_secrets_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsFileError(f"cannot read {path}: {exc}") from exc
    values = _parse_json(path, text) if text.lstrip().startswith("{") else _parse_lines(path, text)
    unknown = sorted(set(values) - set(SECRET_KEYS))
    if unknown:
        hints = [f"{key} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(key, SECRET_KEYS, 1))
                 else key for key in unknown]  # fmt: skip
        raise SecretsFileError(
            f"{path}: unknown key(s): {', '.join(hints)}; the secret's keys are {', '.join(SECRET_KEYS)}"
        )
    empty = sorted(key for key, value in values.items() if not value.strip())
    if empty:
        raise SecretsFileError(f"{path}: empty value for {', '.join(empty)} (leave a key out to keep what is stored)")
    problems = [problem for key, value in values.items() if (problem := _format_problem(key, value))]
    if problems:
        raise SecretsFileError(f"{path}: " + "; ".join(problems))
    return values


def _parse_json(path: Path, text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SecretsFileError(f"{path} is not valid JSON: {exc.__class__.__name__} at {exc}") from None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise SecretsFileError(f"{path}: the JSON must be an object of string values")
    return {str(k): v for k, v in document.items()}


def _parse_lines(path: Path, text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(stripped)
        if match is None:
            raise SecretsFileError(f"{path}:{number}: expected KEY=VALUE (the value is not shown)")
        key, value = match[1], match[2].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key in values:
            raise SecretsFileError(f"{path}:{number}: {key} is given twice")
        values[key] = value
    return values


def _format_problem(key: str, value: str) -> str | None:
    """Mistakes worth catching before they reach a function: a user token for the bot, a login without @."""
    if key == "SLACK_BOT_TOKEN" and not value.startswith("xoxb-"):
        return "SLACK_BOT_TOKEN must be the bot token (it starts with xoxb-)"
    if key == "ZENDESK_EMAIL" and "@" not in value:
        return "ZENDESK_EMAIL must be the e-mail address of the Zendesk user the API token belongs to"
    if value != value.strip():
        return f"{key} has leading or trailing spaces"
    return None


def plan_secrets(current: dict[str, str], given: dict[str, str]) -> SecretsChange:
    merged = {**current, **given}
    report: list[tuple[str, str]] = []
    for key in SECRET_KEYS:
        if key in given:
            report.append((key, "unchanged" if current.get(key) == given[key] else "set"))
        elif merged.get(key):
            report.append((key, "kept (already in the secret)"))
        elif key in FILLED_BY_SETUP:
            report.append((key, f"not set yet: `{FILLED_BY_SETUP[key]}` stores it"))
        else:
            report.append((key, "not set" + (" (optional: only during a rotation)" if key not in REQUIRED else "")))
    missing = [key for key in REQUIRED if not merged.get(key) and key not in FILLED_BY_SETUP]
    extra = sorted(set(current) - set(SECRET_KEYS))  # a stored key the functions do not read: kept, reported
    report.extend((key, "kept, but no function reads it") for key in extra)
    return SecretsChange(merged, report, missing, changed=merged != current)


def print_report(change: SecretsChange, where: str, out: TextIO, *, dry_run: bool) -> None:
    width = max(len(key) for key, _ in change.report)
    for key, status in change.report:
        shown = f"would be {status}" if dry_run and status == "set" else status
        print(f"  {key:<{width}}  {shown}", file=out)
    if not change.changed:
        print(f"{where}: no change", file=out)
    elif dry_run:
        print(f"{where}: would be updated (dry run: nothing written)", file=out)
    else:
        print(f"{where}: updated", file=out)
