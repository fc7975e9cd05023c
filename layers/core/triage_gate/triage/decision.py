"""The decision record (the audit trail) and the messages it sends to the action and review queues."""

from typing import Any, Literal, Self

from msgspec import field

from triage_gate.messages import AwareDatetime, DecisionMessage, DecisionSignals, Mode, TicketSnapshot
from triage_gate.records import FrozenRecord, Record
from triage_gate.triage.language import TicketLanguage

Action = Literal["apply", "review", "record"]


class TaskDecision(Record, kw_only=True):
    label: str | None  # only ever a label of the taxonomy: what may be applied
    reported_confidence: float | None
    calibrated_confidence: float | None
    threshold: float | None
    route: str
    model: str
    problem: str | None = None
    model_label: str | None = None  # what the model answered when it was refused (audit only)


class LanguageFacts(FrozenRecord, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """The ticket's language on its record: the one that counted, where it came from, and the evidence."""

    code: str  # the language that counted (routing, the local model's check, metrics, the note)
    source: Literal["detected", "locale", "default"]
    detected: str | None = None  # the detector's answer, also when below the confidence bar
    confidence: float | None = None
    locale: str | None = None  # requester.locale as the help desk gave it: a hint

    @classmethod
    def of(cls, language: TicketLanguage) -> Self:
        return cls(
            code=language.language, source=language.source, detected=language.detected,
            confidence=language.confidence, locale=language.locale,
        )  # fmt: skip


class ReviewerGist(FrozenRecord, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """A short summary of a ticket written in another language, in the agents' language, for reviewers.
    Machine-translated by the model that classified the ticket (in the same tool call): never applied to the
    ticket, never shown without saying so."""

    text: str
    language: str  # the language it is written in (the workflow's agent_language)
    source_language: str  # the ticket's language
    model: str
    machine_translated: Literal[True] = True
    output_tokens_estimate: int = 0  # its share of the call's output tokens (≈ 4 characters a token)
    cost_usd_estimate: float = 0.0  # those tokens at the route's output price: counted in the decision's cost


class Signals(FrozenRecord, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """Answers beside the routing decision (policy ``signals``): None when not asked or not answered."""

    sentiment: Literal["negative", "neutral", "positive"] | None = None
    urgent: bool | None = None
    model: str | None = None


def ticket_key(source: str, ticket_id: str) -> str:
    """One stack serves one help desk per vendor (its API credentials name one account): source + id is a ticket."""
    return f"{source}:{ticket_id}"


class DecisionRecord(Record, kw_only=True):
    """One per ticket event. What reviewers see, what ROI and calibration read, what auditors ask for."""

    schema_version: Literal[1] = 1
    decision_id: str  # the event's dedupe key: one decision per event, however often it is delivered
    correlation_id: str
    source: str
    account_id: str
    ticket_id: str
    event_id: str
    event_type: str
    workflow: str
    policy_version: str
    policy_sha256: str
    prompt_version: str
    created_at: AwareDatetime
    occurred_at: AwareDatetime
    mode: Mode
    # The rollout flag rule that decided the mode ("default": the flag's default; None: the policy's mode, or a
    # record from before rules were recorded). `triage rollout status` measures each segment by it.
    rollout_rule: str | None = None
    action: Action
    proposed_action: Literal["apply", "review"]
    reason_codes: list[str] = field(default_factory=list)
    tasks: dict[str, TaskDecision] = field(default_factory=dict)
    input_hash: str
    # The masked text the model saw (bounded): what reviewers read and what feedback exports.
    input_text: str = ""
    subject: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)
    injection_signals: int = 0
    context_fields: dict[str, Any] = field(default_factory=dict)
    context_error: str | None = None
    customer_tier: str | None = None
    snapshot: TicketSnapshot | None = None
    models: list[str] = field(default_factory=list)
    raw_outputs: list[Any] = field(default_factory=list)
    rationale: str | None = None
    fallback: str | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    language: LanguageFacts | None = None  # None on records decided before languages were read
    gist: ReviewerGist | None = None
    signals: Signals | None = None
    status: Literal["decided", "routed"] = "decided"
    # Filled in by later stages (write-back, review, override detection).
    writeback: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    override: dict[str, Any] | None = None

    @property
    def labels(self) -> dict[str, str | None]:
        return {task: d.label for task, d in self.tasks.items()}

    @property
    def ticket_key(self) -> str:
        return ticket_key(self.source, self.ticket_id)


def decision_message(record: DecisionRecord) -> DecisionMessage:
    """The ActionsQueue / ExceptionQueue message for a decision that is applied or reviewed."""
    assert record.action != "record"
    return DecisionMessage(
        decision_id=record.decision_id,
        correlation_id=record.correlation_id,
        workflow=record.workflow,
        source=record.source,
        account_id=record.account_id,
        ticket_id=record.ticket_id,
        action=record.action,
        mode=record.mode,
        labels=record.labels,
        confidence={t: d.calibrated_confidence for t, d in record.tasks.items()},
        reason_codes=record.reason_codes,
        policy_version=record.policy_version,
        decided_at=record.created_at,
        snapshot=record.snapshot,
        language=record.language.code if record.language else None,
        signals=message_signals(record.signals),
    )


def message_signals(signals: Signals | None) -> DecisionSignals | None:
    """The record's signals as the queue message carries them (None when none was answered)."""
    if signals is None or (signals.sentiment is None and signals.urgent is None):
        return None
    return DecisionSignals(sentiment=signals.sentiment, urgent=signals.urgent)
