"""The policy's language and signal settings (part of the policy file; validated with it)."""

from typing import Annotated, Literal

from msgspec import Meta, field

from triage_gate.records import FrozenRecord

Probability = Annotated[float, Meta(ge=0.0, le=1.0)]


class _Strict(FrozenRecord, frozen=True):
    pass


# ISO 639-1 where the language has one (639-3 otherwise, as fastText's language identification answers).
LanguageCode = Annotated[str, Meta(pattern=r"^[a-z]{2,3}\Z")]


class LanguagePolicy(_Strict, frozen=True, kw_only=True):
    """How a ticket's language is read and used (triage_gate.triage.language)."""

    # Below this detector confidence the language is undetermined: the requester's locale stands in, then
    # default_language. 0.5 kept 100 % accuracy on 93 % of the project's multilingual sample (make bench).
    min_confidence: Probability = 0.5
    default_language: LanguageCode = "en"
    # The agents' language: the internal note's when note_language is "agent", and the reviewer gist's.
    agent_language: LanguageCode = "en"
    note_language: Literal["agent", "ticket"] = "agent"
    # Ask Claude (in the same forced tool call) for a short gist in agent_language of a ticket written in
    # another language, shown to reviewers marked machine-translated.
    reviewer_gist: bool = False


class Signals(_Strict, frozen=True, kw_only=True):
    """Optional answers beside the routing tasks, in the same forced tool call (Claude routes only). Written
    as tags, shown to reviewers, counted in reports; they decide nothing unless rules.review_on_signals says."""

    sentiment: bool = False  # negative / neutral / positive
    urgency: bool = False  # the customer's situation is urgent (an outage, a deadline, money at stake)


class SignalReview(_Strict, frozen=True, kw_only=True):
    """Send a ticket to a person when a signal says so (off unless listed)."""

    sentiment: list[Literal["negative", "neutral", "positive"]] = field(default_factory=list)
    urgent: bool = False
