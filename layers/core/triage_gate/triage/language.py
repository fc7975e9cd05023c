"""A ticket's language: what the detector read, what the requester's locale says, and which one counts.

The detector reads the masked subject and the start of the body. A reading below the workflow's
``language.min_confidence`` is undetermined: the requester's locale (a hint, often missing or wrong) stands in,
then the workflow's ``default_language``. Routing, the local model's language check, metrics, the note and the
reviewer's view all use the one language this settles on; the record keeps all three facts.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from triage_gate.policy_language import LanguagePolicy

# What the detector reads: the subject and the start of the body (the first lines carry the language;
# signatures, quoted replies and logs come later).
DETECTION_CHARS = 600
LanguageSource = Literal["detected", "locale", "default"]
_LOCALE = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*\s*$")

# English names of the languages reviewers see most (any other code is shown as the code).
NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian", "fi": "Finnish", "fr": "French",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "nl": "Dutch", "no": "Norwegian",
    "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak", "sl": "Slovenian",
    "sr": "Serbian", "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese",
    "zh": "Chinese",
}  # fmt: skip


class Detection(msgspec.Struct, frozen=True):
    """The detector's best language (ISO 639-1 where one exists) and its probability."""

    code: str
    confidence: float


class TicketLanguage(msgspec.Struct, frozen=True):
    language: str  # the one that counts
    source: LanguageSource
    detected: str | None  # the detector's answer, even when below the confidence bar
    confidence: float | None
    locale: str | None  # requester.locale as the help desk gave it

    @property
    def name(self) -> str:
        return language_name(self.language)


def locale_language(locale: object) -> str | None:
    """``pt-BR`` → ``pt``; ``en_US`` → ``en``; anything that is not a locale → None."""
    if not isinstance(locale, str):
        return None
    match = _LOCALE.match(locale)
    return match.group(1).lower() if match else None


def detection_text(subject: str | None, body: str) -> str:
    """One line (fastText reads a line): the subject, then the start of the body, whitespace collapsed."""
    text = f"{subject or ''} {body[:DETECTION_CHARS]}"
    return " ".join(text.split())


def settle(detection: Detection | None, locale: object, policy: LanguagePolicy) -> TicketLanguage:
    """Which language counts: a confident detection, else the locale's language, else the default."""
    hint = str(locale) if isinstance(locale, str) and locale.strip() else None
    detected = detection.code if detection else None
    confidence = round(detection.confidence, 4) if detection else None
    if detection is not None and detection.confidence >= policy.min_confidence:
        return TicketLanguage(detection.code, "detected", detected, confidence, hint)
    from_locale = locale_language(hint)
    if from_locale:
        return TicketLanguage(from_locale, "locale", detected, confidence, hint)
    return TicketLanguage(policy.default_language, "default", detected, confidence, hint)


def language_name(code: str | None) -> str:
    if not code:
        return "unknown"
    return NAMES.get(code, code)
