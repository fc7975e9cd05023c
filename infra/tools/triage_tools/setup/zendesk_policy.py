"""``triage setup zendesk --write-policy``: the policy's Zendesk group and custom field ids, filled by name.

How a policy entry finds its Zendesk record:

- a label's ``group_id``: the group given with ``--group LABEL=NAME`` (LABEL may be ``label``, ``task.label`` or
  ``workflow.task.label``); else the id already there when the account has that group; else the group whose
  name, lower-cased with every run of other characters as ``_``, is the label (``account_access`` ↔ "Account
  Access").
- a task's ``custom_fields`` key: the field given with ``--field TASK=TITLE`` (``task`` or ``workflow.task``);
  else the id already there when the account has that field; else the custom field titled like the task or
  "AI <task>" (``category`` ↔ "Category" or "AI category").

A dropdown field must offer every value the policy writes into it: missing options are reported, not created.
The file is rewritten with ruamel (comments and layout kept), checked with the policy loader, and the diff
printed; anything left unresolved is listed (the command then exits 1).
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage_gate.policy import Policy, load_policy
from triage_tools.setup.context import UsageProblem
from triage_tools.setup.zendesk_account import DROPDOWNS, ZendeskAccount


def normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")


@dataclass(frozen=True)
class IdChange:
    workflow: str
    task: str
    label: str | None  # None: a custom field key (every label of the task)
    old: int
    new: int
    name: str  # the Zendesk group's name or field's title


@dataclass
class PolicyIds:
    changes: list[IdChange] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    option_problems: list[str] = field(default_factory=list)
    kept: int = 0


def _by_name(records: list[dict[str, Any]], key: str, wanted: str) -> list[dict[str, Any]]:
    return [r for r in records if normalise(str(r.get(key) or "")) == normalise(wanted)]


class _Resolver:
    def __init__(self, account: ZendeskAccount, groups: dict[str, str], fields: dict[str, str]) -> None:
        self.account, self.group_map, self.field_map = account, groups, fields
        self.used: set[str] = set()
        self.result = PolicyIds()

    def _mapped(self, mapping: dict[str, str], *keys: str) -> str | None:
        for key in keys:
            if key in mapping:
                self.used.add(key)
                return mapping[key]
        return None

    def _pick(self, kind: str, where: str, old: int, records: list[dict[str, Any]], key: str,
              explicit: str | None, conventional: list[str]) -> dict[str, Any] | None:  # fmt: skip
        if explicit is not None:
            found = _by_name(records, key, explicit)
            if len(found) != 1:
                self.result.unresolved.append(f"{where}: {len(found)} {kind}s named {explicit!r}")
                return None
            return found[0]
        current = [r for r in records if r.get("id") == old]
        if current:
            self.result.kept += 1
            return None
        found = [r for name in conventional for r in _by_name(records, key, name)]
        if len(found) == 1:
            return found[0]
        hint = "--group LABEL=NAME" if kind == "group" else "--field TASK=TITLE"
        shown = " or ".join(repr(n) for n in conventional)
        self.result.unresolved.append(
            f"{where}: {kind} {old} is not in this account and {len(found)} {kind}s are named like {shown}: use {hint}"
        )
        return None

    def group(self, workflow: str, task: str, label: str, old: int) -> None:
        explicit = self._mapped(self.group_map, f"{workflow}.{task}.{label}", f"{task}.{label}", label)
        where = f"{workflow}.{task}.{label} group_id"
        found = self._pick("group", where, old, self.account.groups, "name", explicit, [label])
        if found is not None and found["id"] != old:
            self.result.changes.append(IdChange(workflow, task, label, old, int(found["id"]), str(found["name"])))

    def custom_field(self, workflow: str, task: str, old: int, values: set[str]) -> None:
        explicit = self._mapped(self.field_map, f"{workflow}.{task}", task)
        where = f"{workflow}.{task} custom field {old}"
        fields = self.account.custom_fields
        found = self._pick("field", where, old, fields, "title", explicit, [task, f"ai_{task}"])
        target = found or next((f for f in fields if f.get("id") == old), None)
        if found is not None and found["id"] != old:
            self.result.changes.append(IdChange(workflow, task, None, old, int(found["id"]), str(found["title"])))
        if target is not None and target.get("type") in DROPDOWNS:
            offered = {str(o.get("value")) for o in target.get("custom_field_options") or []}
            missing = sorted(values - offered)
            if missing:
                self.result.option_problems.append(
                    f"{workflow}.{task}: field {target['title']!r} has no option with value {', '.join(missing)} "
                    "(add them in Admin Center → Objects and rules → Tickets → Fields)"
                )


def resolve_ids(policy: Policy, account: ZendeskAccount, groups: dict[str, str], fields: dict[str, str]) -> PolicyIds:
    resolver = _Resolver(account, groups, fields)
    for workflow, spec in policy.workflows.items():
        for task, labels in spec.writeback.zendesk.items():
            field_values: dict[int, set[str]] = {}
            for label, target in labels.items():
                if target.group_id is not None:
                    resolver.group(workflow, task, label, target.group_id)
                for field_id, value in target.custom_fields.items():
                    field_values.setdefault(field_id, set()).add(
                        str(value).lower() if isinstance(value, bool) else str(value)
                    )
            for field_id, values in field_values.items():
                resolver.custom_field(workflow, task, field_id, values)
    unused = sorted((set(groups) | set(fields)) - resolver.used)
    if unused:
        raise UsageProblem(f"--group/--field name(s) no Zendesk write-back entry of the policy: {', '.join(unused)}")
    return resolver.result


def _rename_key(mapping: Any, old: Any, new: Any) -> None:
    """Rename a key of a ruamel mapping in place (its position and flow style kept)."""
    items = list(mapping.items())
    for key, _ in items:
        del mapping[key]
    for key, value in items:
        mapping[new if key == old else key] = value


def rewrite_policy(path: Path, changes: list[IdChange]) -> tuple[str, str]:
    """(the new text, a unified diff). The new text is checked by the policy loader before it is returned."""
    from triage_tools.evaluation.calibration_policy import policy_yaml, unified_diff

    yaml = policy_yaml()
    original = path.read_text(encoding="utf-8")
    data: Any = yaml.load(original)
    for change in changes:
        labels = data["workflows"][change.workflow]["writeback"]["zendesk"][change.task]
        if change.label is not None:
            labels[change.label]["group_id"] = change.new
            continue
        for target in labels.values():
            custom = target.get("custom_fields") if hasattr(target, "get") else None
            if custom is not None and change.old in custom:
                _rename_key(custom, change.old, change.new)
    out = io.StringIO()
    yaml.dump(data, out)
    changed = out.getvalue()
    _check(path, changed)
    return changed, unified_diff(path, original, changed, "Zendesk ids filled in")


def _check(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        load_policy(temporary)
    finally:
        os.unlink(temporary)


def write_policy(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temporary, path)
