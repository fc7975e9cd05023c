"""The policy file: one human-edited YAML, validated here, shipped in the layer next to the code.

`triage policy check` runs exactly this validation, so the deployed functions use a reviewed file.
"""

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import Meta, field

from triage_gate import policy_source
from triage_gate.errors import ConfigurationError
from triage_gate.policy_language import LanguageCode, LanguagePolicy, SignalReview, Signals
from triage_gate.records import FrozenRecord, ValidationError, describe_error

# Package data beside this module: in the layer (/opt/python/triage_gate/policy.yaml), a wheel and a checkout.
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "policy.yaml"
Probability = Annotated[float, Meta(ge=0.0, le=1.0)]
Name = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_\-]*\Z", max_length=64)]
# Labels keep the vendor's spelling (HubSpot priorities are LOW/MEDIUM/HIGH/URGENT).
LabelName = Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*\Z", max_length=64)]

# Fields the context layer can read, per source: a dotted path into the fetched documents.
CONTEXT_ROOTS = {"zendesk": ("ticket", "requester", "organization"), "hubspot": ("ticket", "company")}


class _Strict(FrozenRecord, frozen=True):
    """Every section of the policy: a frozen value, unknown keys refused (a typo is an error, not a default)."""


class Price(_Strict, frozen=True, kw_only=True):
    """USD per million tokens."""

    input: Annotated[float, Meta(ge=0)]
    output: Annotated[float, Meta(ge=0)]
    cache_write: Annotated[float, Meta(ge=0)] = 0
    cache_read: Annotated[float, Meta(ge=0)] = 0
    # Below this many prompt tokens the API caches nothing; no cache_control is sent.
    min_cache_tokens: Annotated[int, Meta(ge=0)] = 1024


class Route(_Strict, frozen=True, kw_only=True):
    kind: Literal["local", "claude"]
    model: str | None = None
    max_tokens: Annotated[int, Meta(ge=16, le=4096)] = 400
    timeout_seconds: Annotated[float, Meta(gt=0, le=60)] = 8.0
    max_retries: Annotated[int, Meta(ge=0, le=3)] = 1

    def __post_init__(self) -> None:
        if self.kind == "claude" and not self.model:
            raise ValueError("a claude route needs a model")


class Label(_Strict, frozen=True, kw_only=True):
    description: Annotated[str, Meta(min_length=3)]
    examples: Annotated[list[str], Meta(max_length=10)] = field(default_factory=list)


class RouteRule(_Strict, frozen=True, kw_only=True):
    """Use another route when the input matches (all given conditions must hold)."""

    route: Name
    min_chars: Annotated[int, Meta(ge=0)] | None = None
    customer_tiers: list[str] | None = None
    # The ticket's language (detected; else the requester's locale; else the workflow's default_language).
    languages: list[LanguageCode] | None = None
    # True: the ticket's language is not one the task's local model was trained on (its metadata says which).
    outside_local_languages: bool = False


class Thresholds(_Strict, frozen=True, kw_only=True):
    default: Probability = 0.8
    per_label: dict[str, Probability] = field(default_factory=dict)

    def for_label(self, label: str) -> float:
        return self.per_label.get(label, self.default)


class Task(_Strict, frozen=True, kw_only=True):
    labels: Annotated[dict[LabelName, Label], Meta(min_length=2)]
    route: Name
    route_rules: list[RouteRule] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Piecewise-linear map from reported to observed accuracy, per label: [[reported, observed], ...].
    calibration: dict[str, list[tuple[Probability, Probability]]] = field(default_factory=dict)
    # The same map fitted on every label's predictions together (`triage calibrate`'s pooled curve): used for a
    # label without its own entry in `calibration`.
    calibration_default: list[tuple[Probability, Probability]] | None = None
    # Seed model for the local route (path relative to the policy file).
    local_model: str | None = None

    def __post_init__(self) -> None:
        for where, names in (("thresholds.per_label", self.thresholds.per_label), ("calibration", self.calibration)):
            unknown = sorted(set(names) - set(self.labels))
            if unknown:
                raise ValueError(f"{where} names labels not in the taxonomy: {unknown}")
        curves = {f"calibration.{label}": points for label, points in self.calibration.items()}
        if self.calibration_default is not None:
            curves["calibration_default"] = self.calibration_default
        for where, points in curves.items():
            xs = [p[0] for p in points]
            if len(points) < 2 or xs != sorted(xs):
                raise ValueError(f"{where} needs ≥ 2 points with increasing reported confidence")


class ContextPolicy(_Strict, frozen=True, kw_only=True):
    fields: list[str] = field(default_factory=list)
    customer_tier_field: str | None = None
    timeout_seconds: Annotated[float, Meta(gt=0, le=10)] = 2.0
    on_failure: Literal["proceed", "review"] = "proceed"


class Rules(_Strict, frozen=True, kw_only=True):
    always_review: dict[str, list[str]] = field(default_factory=dict)
    vip_tiers: list[str] = field(default_factory=list)
    vip_action: Literal["review", "apply_if_confident"] = "review"
    degraded_mode: Literal["local", "review_all"] = "local"
    review_on_signals: SignalReview = field(default_factory=SignalReview)


ZENDESK_PRIORITIES = ("low", "normal", "high", "urgent")
ZENDESK_TYPES = ("question", "incident", "problem", "task")
# Standard HubSpot ticket properties a write-back may set; custom ones must be declared in the policy.
HUBSPOT_TICKET_PROPERTIES = frozenset(
    {"hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category", "hubspot_owner_id", "subject"}
)


class ZendeskFields(_Strict, frozen=True, kw_only=True):
    """What one label sets on a Zendesk ticket. Unknown keys are a policy error, not a runtime surprise."""

    group_id: Annotated[int, Meta(gt=0)] | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    type: Literal["question", "incident", "problem", "task"] | None = None
    tags: list[Annotated[str, Meta(pattern=r"^[a-z0-9_\-:/]+\Z")]] = field(default_factory=list)
    custom_fields: dict[int, str | int | bool] = field(default_factory=dict)


class HubSpotFields(_Strict, frozen=True, kw_only=True):
    properties: dict[str, str] = field(default_factory=dict)


class Writeback(_Strict, frozen=True, kw_only=True):
    """Label → vendor fields, per task. Applied in auto mode; in assist mode only a note is written."""

    marker_tag: Annotated[str, Meta(pattern=r"^[a-z0-9_\-]+\Z")] = "ai_triaged"
    note: bool = True
    zendesk: dict[str, dict[str, ZendeskFields]] = field(default_factory=dict)
    hubspot: dict[str, dict[str, HubSpotFields]] = field(default_factory=dict)
    hubspot_custom_properties: list[str] = field(default_factory=list)


class Review(_Strict, frozen=True, kw_only=True):
    channel: Annotated[str, Meta(min_length=2)]
    # The Slack user-group id (S…) mentioned as <!subteam^ID> on escalations and when a review passes its SLA;
    # escalations go to escalation_channel (or the review channel).
    escalation_group: str | None = None
    escalation_channel: str | None = None

    def __post_init__(self) -> None:
        value = self.escalation_group
        if value is not None and not re.fullmatch(r"S[A-Z0-9]{2,}", value):
            raise ValueError(
                f"escalation_group must be a Slack user-group id such as S05SUPLEADS (the group's `id` in Slack's"
                f" usergroups.list), not {value!r}: a handle like @support-leads does not notify anyone"
            )


class Sla(_Strict, frozen=True, kw_only=True):
    triage_seconds: Annotated[int, Meta(ge=1)] = 120
    review_minutes: Annotated[int, Meta(ge=1)] = 60


class PromotionBar(_Strict, frozen=True, kw_only=True):
    """The evidence `triage rollout promote` asks of a segment before it applies more (measured over the last
    ``window_days``, against the workflow's ``error_tolerance``, with Wilson bounds at ``confidence``)."""

    window_days: Annotated[int, Meta(ge=1, le=365)] = 28
    min_decisions: Annotated[int, Meta(ge=1)] = 200  # the segment's decisions in the window, any mode
    min_shadow_findings: Annotated[int, Meta(ge=1)] = 100  # shadow → assist: human changes compared with shadow
    min_applied: Annotated[int, Meta(ge=1)] = 100  # assist → auto, widening auto: applied decisions judged
    confidence: Annotated[float, Meta(ge=0.5, le=0.999)] = 0.95
    max_sla_miss_rate: Probability = 0.05  # reviews answered after, or pending past, sla.review_minutes
    min_rollback_sample: Annotated[int, Meta(ge=1)] = 20  # applied decisions before a roll back is recommended
    auto_shares: list[Annotated[int, Meta(ge=1, le=100)]] = field(default_factory=lambda: [10, 25, 50, 100])

    def __post_init__(self) -> None:
        value = self.auto_shares
        if not value or value != sorted(set(value)):  # strictly increasing
            raise ValueError(f"auto_shares must be percentages in increasing order, e.g. [10, 25, 50, 100]: {value}")


BaselineFigure = Literal["manual_minutes_per_ticket", "turnaround_minutes", "error_rate"]


class RoiBaseline(_Strict, frozen=True, kw_only=True):
    """How the team worked before Triage Gate: what the ROI report compares against."""

    manual_minutes_per_ticket: Annotated[float, Meta(ge=0)] = 5.0
    turnaround_minutes: Annotated[float, Meta(ge=0)] = 240.0  # ticket created → triaged, before AI
    error_rate: Probability = 0.08  # share of manual triage later corrected
    # Where each figure came from, by field name (`triage backtest --write-baseline` writes the measured
    # ones, e.g. "measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets"); a figure not named here
    # was stated by the team.
    sources: dict[BaselineFigure, str] = field(default_factory=dict)

    def source_of(self, figure: BaselineFigure) -> str:
        return self.sources.get(figure, "stated in the policy")


class Workflow(_Strict, frozen=True, kw_only=True):
    source: Literal["zendesk", "hubspot"]
    description: str = ""
    mode: Literal["off", "shadow", "assist", "auto"] = "shadow"
    # Events that may decide a ticket no earlier event decided (a ticket is decided once; later events on a
    # decided ticket, our own write-back echoes included, create no work).
    classify_events: Annotated[list[str], Meta(min_length=1)]
    # Update events compared with the latest decision to detect human overrides (and shadow agreement).
    watch_events: list[str] = field(default_factory=list)
    context: ContextPolicy = field(default_factory=ContextPolicy)
    tasks: Annotated[dict[Name, Task], Meta(min_length=1)]
    error_tolerance: Probability = 0.05
    promotion: PromotionBar = field(default_factory=PromotionBar)
    rules: Rules = field(default_factory=Rules)
    daily_budget_usd: Annotated[float, Meta(ge=0)] = 25.0
    review: Review
    sla: Sla = field(default_factory=Sla)
    writeback: Writeback = field(default_factory=Writeback)
    roi_baseline: RoiBaseline = field(default_factory=RoiBaseline)
    language: LanguagePolicy = field(default_factory=LanguagePolicy)
    signals: Signals = field(default_factory=Signals)

    def __post_init__(self) -> None:
        for task, labels in self.rules.always_review.items():
            if task not in self.tasks:
                raise ValueError(f"rules.always_review names unknown task {task!r}")
            unknown = sorted(set(labels) - set(self.tasks[task].labels))
            if unknown:
                raise ValueError(f"rules.always_review.{task} names labels not in the taxonomy: {unknown}")
        self._check_writeback()
        review_on = self.rules.review_on_signals
        if review_on.sentiment and not self.signals.sentiment:
            raise ValueError("rules.review_on_signals.sentiment needs signals.sentiment: true")
        if review_on.urgent and not self.signals.urgency:
            raise ValueError("rules.review_on_signals.urgent needs signals.urgency: true")
        roots = CONTEXT_ROOTS[self.source]
        for path in [*self.context.fields, *([self.context.customer_tier_field])]:
            if path and path.split(".", 1)[0] not in roots:
                raise ValueError(f"context field {path!r} must start with one of {roots} for {self.source}")

    def _check_writeback(self) -> None:
        mapping: dict[str, Any] = dict(self.writeback.zendesk if self.source == "zendesk" else self.writeback.hubspot)
        other = self.writeback.hubspot if self.source == "zendesk" else self.writeback.zendesk
        if other:
            raise ValueError(f"writeback maps fields of the other vendor; this workflow's source is {self.source}")
        for task, labels in mapping.items():
            if task not in self.tasks:
                raise ValueError(f"writeback.{self.source}.{task}: no such task")
            unknown = sorted(set(labels) - set(self.tasks[task].labels))
            if unknown:
                raise ValueError(f"writeback.{self.source}.{task} maps labels not in the taxonomy: {unknown}")
            if self.source == "hubspot":
                allowed = HUBSPOT_TICKET_PROPERTIES | set(self.writeback.hubspot_custom_properties)
                for label, fields in labels.items():
                    bad = sorted(set(fields.properties) - allowed)
                    if bad:
                        raise ValueError(
                            f"writeback.hubspot.{task}.{label}: unknown HubSpot ticket properties {bad} "
                            "(declare custom ones in writeback.hubspot_custom_properties)"
                        )


class Guardrails(_Strict, frozen=True, kw_only=True):
    max_input_chars: Annotated[int, Meta(ge=200, le=200_000)] = 12_000
    min_text_chars: Annotated[int, Meta(ge=1)] = 3
    # More masked PII items than this in one ticket → review (pii_heavy).
    pii_heavy_count: Annotated[int, Meta(ge=1)] = 8
    pii_extra_patterns: dict[Name, str] = field(default_factory=dict)
    injection_extra_patterns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name, pattern in self.pii_extra_patterns.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pii_extra_patterns.{name} is not a valid regex: {exc}") from exc


class CircuitBreakerPolicy(_Strict, frozen=True, kw_only=True):
    failure_threshold: Annotated[int, Meta(ge=1)] = 5
    window_seconds: Annotated[int, Meta(ge=1)] = 60
    open_seconds: Annotated[int, Meta(ge=1)] = 30


class Policy(_Strict, frozen=True, kw_only=True):
    version: Annotated[str, Meta(min_length=1)]
    prompt_version: Annotated[str, Meta(min_length=1)]
    prices: dict[str, Price] = field(default_factory=dict)
    routes: Annotated[dict[Name, Route], Meta(min_length=1)]
    guardrails: Guardrails = field(default_factory=Guardrails)
    circuit_breaker: CircuitBreakerPolicy = field(default_factory=CircuitBreakerPolicy)
    workflows: Annotated[dict[Name, Workflow], Meta(min_length=1)]
    # Filled by the loader: sha256 of the exact bytes reviewed, and where the file lives.
    sha256: str = ""
    base_dir: str = ""

    def __post_init__(self) -> None:
        for route_name, route in self.routes.items():
            if route.kind == "claude" and route.model not in self.prices:
                raise ValueError(f"routes.{route_name}: model {route.model!r} has no entry in prices")
        for wf_name, workflow in self.workflows.items():
            for task_name, task in workflow.tasks.items():
                where = f"workflows.{wf_name}.tasks.{task_name}"
                for used in [task.route, *(r.route for r in task.route_rules)]:
                    if used not in self.routes:
                        raise ValueError(f"{where}: unknown route {used!r} (routes: {sorted(self.routes)})")
                if self.routes[task.route].kind == "local" and not task.local_model:
                    raise ValueError(f"{where}: the local route needs local_model")
                if workflow.rules.degraded_mode == "local" and not task.local_model:
                    raise ValueError(f"{where}: degraded_mode local needs local_model for every task")

    def watching(self, source: str, event_type: str) -> tuple[str, Workflow] | None:
        for name, workflow in self.workflows.items():
            if workflow.source == source and event_type in workflow.watch_events:
                return name, workflow
        return None

    def workflow_for(self, source: str, event_type: str) -> tuple[str, Workflow] | None:
        for name, workflow in self.workflows.items():
            if workflow.source == source and event_type in workflow.classify_events:
                return name, workflow
        return None

    def model_path(self, relative: str) -> Path:
        return Path(self.base_dir) / relative


def load_policy(path: Path | str | None = None) -> Policy:
    """Read, parse and validate the policy file. Validation always runs; the parse may come from its cache
    (``policy_source.parsed_cache``), which is written here the first time a YAML parse validates."""
    file = Path(path) if path else DEFAULT_POLICY_PATH
    source = policy_source.read(file)
    policy = _validated(source.document, source, file)
    if not source.from_cache:
        policy_source.cache(source, same=lambda document: _validated(document, source, file) == policy)
    _check_model_files(policy, file)
    return policy


def _validated(document: dict[str, Any], source: policy_source.PolicySource, file: Path) -> Policy:
    data = {**document, "sha256": source.digest, "base_dir": str(file.resolve().parent)}
    try:
        return Policy.from_data(data)
    except ValidationError as exc:
        raise ConfigurationError(describe_error(exc, data, Policy, prefix=str(file))) from exc


def _check_model_files(policy: Policy, file: Path) -> None:
    for wf_name, workflow in policy.workflows.items():
        for task_name, task in workflow.tasks.items():
            if task.local_model and not policy.model_path(task.local_model).is_file():
                raise ConfigurationError(
                    f"{file} workflows.{wf_name}.tasks.{task_name}.local_model: no file {task.local_model}"
                )
