"""Everything that may enter a prompt, made safe in one place: personal data masked (the names the
ticket's own context gives us included) and every string scanned for injection signals — the body,
the subject and each context value, not only the body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import field

from triage_gate.policy import Guardrails
from triage_gate.triage.input_guard import scan_for_injection
from triage_gate.triage.pii import mask_pii

# Context fields that repeat the ticket body: the prompt already carries the (masked) body.
BODY_FIELDS = (".description", ".content", ".subject")
# Who the context says the ticket is about: person names, and organisation names.
_PEOPLE = ("requester.name",)
_ORGANISATIONS = ("organization.name", "company.name")


class Masker(msgspec.Struct, frozen=True):
    extra: Mapping[str, str]
    names: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)  # redactions of everything masked so far

    @classmethod
    def for_ticket(cls, guardrails: Guardrails, documents: Mapping[str, Any]) -> Masker:
        return cls(guardrails.pii_extra_patterns, _strings(documents, _PEOPLE), _strings(documents, _ORGANISATIONS))

    def text(self, value: str, *, counted: bool = True) -> str:
        masked = mask_pii(value, self.extra, names=self.names, organisations=self.organisations)
        if counted:
            for kind, n in masked.redactions.items():
                self.counts[kind] = self.counts.get(kind, 0) + n
        return masked.text

    def context(self, fields: Mapping[str, Any], *, counted: bool = True) -> dict[str, Any]:
        """Context values as a model (and the audit record) may see them: strings masked, lists of strings too."""
        values: dict[str, Any] = {}
        for key, value in fields.items():
            items = value if isinstance(value, list) else [value]
            masked = [self.text(i, counted=counted) if isinstance(i, str) else i for i in items]
            values[key] = masked if isinstance(value, list) else masked[0]
        return values


def prompt_context(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The context fields the prompt carries (not those that repeat the body)."""
    return {k: v for k, v in fields.items() if not k.endswith(BODY_FIELDS)}


def injection_outside_body(subject: str | None, context: Mapping[str, Any], extra: list[str]) -> list[str]:
    texts = {"subject": subject or ""}
    texts.update({key: " ".join(map(str, v)) if isinstance(v, list) else str(v) for key, v in context.items()})
    return scan_for_injection(texts, extra)


def _strings(documents: Mapping[str, Any], paths: tuple[str, ...]) -> tuple[str, ...]:
    found = []
    for path in paths:
        root, _, key = path.partition(".")
        value = (documents.get(root) or {}).get(key)
        if isinstance(value, str) and value.strip():
            found.append(value.strip())
    return tuple(found)
