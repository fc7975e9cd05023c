"""Input guardrails: what must never reach a model, and what must go to a human instead."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

import msgspec
from msgspec import field

from triage_gate.policy import Guardrails
from triage_gate.triage import reasons
from triage_gate.triage.pii import mask_pii

# Phrases that try to steer the model rather than describe a problem.
INJECTION_PATTERNS = (
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|the)\b.{0,20}"
    r"\b(instructions?|prompts?|rules|guidelines|directions)\b",
    r"\byou are (now|no longer)\b",
    r"\b(system|developer) (prompt|message|mode)\b",
    # Role tags, and the prompt's own fences (<ticket>, <context>, <subject>), raw or HTML-escaped.
    r"(<|&lt;)\s*/?\s*(system|assistant|instructions?|ticket|context|subject)(\s[^<>=]{0,40}=[^<>]{0,40})?\s*/?\s*"
    r"(>|&gt;)",
    r"\bact as (an?|the)\b",
    r"\bjailbreak\b",
    r"\b(respond|answer|reply) only with\b",
    r"\bclassify (this|me|it) as\b",
)


class InputVerdict(msgspec.Struct, frozen=True):
    text: str  # masked, bounded: the only text a model may see
    redactions: dict[str, int]
    reasons: list[str] = field(default_factory=list)
    injection_signals: list[str] = field(default_factory=list)

    @property
    def blocks_remote_model(self) -> bool:
        """Nothing to classify, or text we will not send to a remote model."""
        blocking = {reasons.EMPTY_TICKET, reasons.NON_TEXT, reasons.INJECTION_SUSPECTED}
        return bool(blocking & set(self.reasons))

    @property
    def classifiable(self) -> bool:
        return not ({reasons.EMPTY_TICKET, reasons.NON_TEXT} & set(self.reasons))


def check_input(
    text: str,
    guardrails: Guardrails,
    extra_injection: Sequence[str] = (),
    *,
    names: Sequence[str] = (),
    organisations: Sequence[str] = (),
) -> InputVerdict:
    """The body's verdict; ``names``/``organisations`` (from the ticket's context) are masked as [NAME]."""
    stripped = text.strip()
    found: list[str] = []
    if len(stripped) < guardrails.min_text_chars:
        return InputVerdict("", {}, [reasons.EMPTY_TICKET])
    if not _looks_like_text(stripped):
        return InputVerdict("", {}, [reasons.NON_TEXT])
    if len(stripped) > guardrails.max_input_chars:
        found.append(reasons.OVERSIZED_INPUT)
        stripped = stripped[: guardrails.max_input_chars]
    masked = mask_pii(stripped, guardrails.pii_extra_patterns, names=names, organisations=organisations)
    if masked.total > guardrails.pii_heavy_count:
        found.append(reasons.PII_HEAVY)
    signals = injection_signals(stripped, [*guardrails.injection_extra_patterns, *extra_injection])
    if signals:
        found.append(reasons.INJECTION_SUSPECTED)
    return InputVerdict(masked.text, masked.redactions, found, signals)


def scan_for_injection(texts: Mapping[str, str], extra: Sequence[str] = ()) -> list[str]:
    """Injection signals in any of the named strings besides the body (the subject, each context value), as
    ``"<name>: <pattern>"``: everything that enters the prompt is checked, not only the ticket's text."""
    return [f"{name}: {signal}" for name, text in texts.items() if text for signal in injection_signals(text, extra)]


def injection_signals(text: str, extra: Sequence[str] = ()) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).lower()
    return [p for p in (*INJECTION_PATTERNS, *extra) if re.search(p, folded, flags=re.IGNORECASE | re.DOTALL)]


# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, kana, CJK ideographs): a Japanese or
# Chinese ticket has no "words" to measure, and no base64 blob or hex dump is made of these characters.
# Compiled at its first use (only when the usual text test fails): ~3 ms of a cold start otherwise.
_UNSPACED_SCRIPTS = (
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U00020000-\U0002fa1f]"
)


def _looks_like_text(text: str) -> bool:
    """Mostly letters and spaces: not a base64 blob, a hex dump or binary garbage."""
    sample = text[:4000]
    letters = sum(1 for c in sample if c.isalpha())
    spaces = sum(1 for c in sample if c.isspace())
    controls = sum(1 for c in sample if unicodedata.category(c) in ("Cc", "Co", "Cs") and c not in "\n\r\t")
    if controls > len(sample) * 0.02:
        return False
    if letters < len(sample) * 0.3:
        return False
    longest_word = max((len(w) for w in sample.split()), default=0)
    if (spaces > 0 or len(sample) < 40) and longest_word < 200:
        return True
    return len(re.findall(_UNSPACED_SCRIPTS, sample)) >= letters * 0.3  # Japanese, Chinese, Thai…: no spaces
