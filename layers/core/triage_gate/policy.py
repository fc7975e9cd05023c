"""The policy file: one human-edited YAML, validated here, shipped in the layer next to the code.

`triage policy check` runs exactly this validation, so the deployed functions use a reviewed file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from triage_gate import policy_source
from triage_gate.config import describe_validation_error
from triage_gate.errors import ConfigurationError
from triage_gate.policy_language import LanguageCode, LanguagePolicy, SignalReview, Signals

# Package data beside this module: in the layer (/opt/python/triage_gate/policy.yaml), a wheel and a checkout.
DEFAULT_POLICY_PATH = Path(__file__).resolve().parent / "policy.yaml"
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]*$", max_length=64)]
# Labels keep the vendor's spelling (HubSpot priorities are LOW/MEDIUM/HIGH/URGENT).
LabelName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]

# Fields the context layer can read, per source: a dotted path into the fetched documents.
CONTEXT_ROOTS = {"zendesk": ("ticket", "requester", "organization"), "hubspot": ("ticket", "company")}


class _Strict(BaseModel):
    # Built at the first validation (load_policy builds Policy's validator once, nested models inside it), not
    # at import, where each of these ~20 models compiled its own validator: ~13 ms of TriageFunction's cold start.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Price(_Strict):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(default=0, ge=0)
    cache_read: float = Field(default=0, ge=0)
    # Below this many prompt tokens the API caches nothing; no cache_control is sent.
    min_cache_tokens: int = Field(default=1024, ge=0)


class Route(_Strict):
    kind: Literal["local", "claude"]
    model: str | None = None
    max_tokens: int = Field(default=400, ge=16, le=4096)
    timeout_seconds: float = Field(default=8.0, gt=0, le=60)
    max_retries: int = Field(default=1, ge=0, le=3)

    @model_validator(mode="after")
    def _claude_needs_a_model(self) -> Route:
        if self.kind == "claude" and not self.model:
            raise ValueError("a claude route needs a model")
        return self


class Label(_Strict):
    description: str = Field(min_length=3)
    examples: list[str] = Field(default_factory=list, max_length=10)


class RouteRule(_Strict):
    """Use another route when the input matches (all given conditions must hold)."""

    route: Name
    min_chars: int | None = Field(default=None, ge=0)
    customer_tiers: list[str] | None = None
    # The ticket's language (detected; else the requester's locale; else the workflow's default_language).
    languages: list[LanguageCode] | None = None
    # True: the ticket's language is not one the task's local model was trained on (its metadata says which).
    outside_local_languages: bool = False


class Thresholds(_Strict):
    default: Probability = 0.8
    per_label: dict[str, Probability] = Field(default_factory=dict)

    def for_label(self, label: str) -> float:
        return self.per_label.get(label, self.default)


class Task(_Strict):
    labels: dict[LabelName, Label] = Field(min_length=2)
    route: Name
    route_rules: list[RouteRule] = Field(default_factory=list)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    # Piecewise-linear map from reported to observed accuracy, per label: [[reported, observed], ...].
    calibration: dict[str, list[tuple[Probability, Probability]]] = Field(default_factory=dict)
    # The same map fitted on every label's predictions together (`triage calibrate`'s pooled curve): used for a
    # label without its own entry in `calibration`.
    calibration_default: list[tuple[Probability, Probability]] | None = None
    # Seed model for the local route (path relative to the policy file).
    local_model: str | None = None

    @model_validator(mode="after")
    def _labels_referenced_exist(self) -> Task:
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
        return self


class ContextPolicy(_Strict):
    fields: list[str] = Field(default_factory=list)
    customer_tier_field: str | None = None
    timeout_seconds: float = Field(default=2.0, gt=0, le=10)
    on_failure: Literal["proceed", "review"] = "proceed"


class Rules(_Strict):
    always_review: dict[str, list[str]] = Field(default_factory=dict)
    vip_tiers: list[str] = Field(default_factory=list)
    vip_action: Literal["review", "apply_if_confident"] = "review"
    degraded_mode: Literal["local", "review_all"] = "local"
    review_on_signals: SignalReview = Field(default_factory=SignalReview)


ZENDESK_PRIORITIES = ("low", "normal", "high", "urgent")
ZENDESK_TYPES = ("question", "incident", "problem", "task")
# Standard HubSpot ticket properties a write-back may set; custom ones must be declared in the policy.
HUBSPOT_TICKET_PROPERTIES = frozenset(
    {"hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority", "hs_ticket_category", "hubspot_owner_id", "subject"}
)


class ZendeskFields(_Strict):
    """What one label sets on a Zendesk ticket. Unknown keys are a policy error, not a runtime surprise."""

    group_id: int | None = Field(default=None, gt=0)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    type: Literal["question", "incident", "problem", "task"] | None = None
    tags: list[Annotated[str, Field(pattern=r"^[a-z0-9_\-:/]+$")]] = Field(default_factory=list)
    custom_fields: dict[int, str | int | bool] = Field(default_factory=dict)


class HubSpotFields(_Strict):
    properties: dict[str, str] = Field(default_factory=dict)


class Writeback(_Strict):
    """Label → vendor fields, per task. Applied in auto mode; in assist mode only a note is written."""

    marker_tag: str = Field(default="ai_triaged", pattern=r"^[a-z0-9_\-]+$")
    note: bool = True
    zendesk: dict[str, dict[str, ZendeskFields]] = Field(default_factory=dict)
    hubspot: dict[str, dict[str, HubSpotFields]] = Field(default_factory=dict)
    hubspot_custom_properties: list[str] = Field(default_factory=list)


class Review(_Strict):
    channel: str = Field(min_length=2)
    # The Slack user-group id (S…) mentioned as <!subteam^ID> on escalations and when a review passes its SLA;
    # escalations go to escalation_channel (or the review channel).
    escalation_group: str | None = None
    escalation_channel: str | None = None

    @field_validator("escalation_group")
    @classmethod
    def _slack_user_group_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"S[A-Z0-9]{2,}", value):
            raise ValueError(
                f"escalation_group must be a Slack user-group id such as S05SUPLEADS (the group's `id` in Slack's"
                f" usergroups.list), not {value!r}: a handle like @support-leads does not notify anyone"
            )
        return value


class Sla(_Strict):
    triage_seconds: int = Field(default=120, ge=1)
    review_minutes: int = Field(default=60, ge=1)


class PromotionBar(_Strict):
    """The evidence `triage rollout promote` asks of a segment before it applies more (measured over the last
    ``window_days``, against the workflow's ``error_tolerance``, with Wilson bounds at ``confidence``)."""

    window_days: int = Field(default=28, ge=1, le=365)
    min_decisions: int = Field(default=200, ge=1)  # the segment's decisions in the window, any mode
    min_shadow_findings: int = Field(default=100, ge=1)  # shadow → assist: human changes compared with shadow
    min_applied: int = Field(default=100, ge=1)  # assist → auto, widening auto: applied decisions judged
    confidence: float = Field(default=0.95, ge=0.5, le=0.999)
    max_sla_miss_rate: Probability = 0.05  # reviews answered after, or pending past, sla.review_minutes
    min_rollback_sample: int = Field(default=20, ge=1)  # applied decisions before a roll back is recommended
    auto_shares: list[Annotated[int, Field(ge=1, le=100)]] = Field(default_factory=lambda: [10, 25, 50, 100])

    @field_validator("auto_shares")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if not value or value != sorted(set(value)):  # strictly increasing
            raise ValueError(f"auto_shares must be percentages in increasing order, e.g. [10, 25, 50, 100]: {value}")
        return value


BaselineFigure = Literal["manual_minutes_per_ticket", "turnaround_minutes", "error_rate"]


class RoiBaseline(_Strict):
    """How the team worked before Triage Gate: what the ROI report compares against."""

    manual_minutes_per_ticket: float = Field(default=5.0, ge=0)
    turnaround_minutes: float = Field(default=240.0, ge=0)  # ticket created → triaged, before AI
    error_rate: Probability = 0.08  # share of manual triage later corrected
    # Where each figure came from, by field name (`triage backtest --write-baseline` writes the measured
    # ones, e.g. "measured: zendesk history 2026-06-01..2026-09-01, 4812 tickets"); a figure not named here
    # was stated by the team.
    sources: dict[BaselineFigure, str] = Field(default_factory=dict)

    def source_of(self, figure: BaselineFigure) -> str:
        return self.sources.get(figure, "stated in the policy")


class Workflow(_Strict):
    source: Literal["zendesk", "hubspot"]
    description: str = ""
    mode: Literal["off", "shadow", "assist", "auto"] = "shadow"
    # Events that may decide a ticket no earlier event decided (a ticket is decided once; later events on a
    # decided ticket, our own write-back echoes included, create no work).
    classify_events: list[str] = Field(min_length=1)
    # Update events compared with the latest decision to detect human overrides (and shadow agreement).
    watch_events: list[str] = Field(default_factory=list)
    context: ContextPolicy = Field(default_factory=ContextPolicy)
    tasks: dict[Name, Task] = Field(min_length=1)
    error_tolerance: Probability = 0.05
    promotion: PromotionBar = Field(default_factory=PromotionBar)
    rules: Rules = Field(default_factory=Rules)
    daily_budget_usd: float = Field(default=25.0, ge=0)
    review: Review
    sla: Sla = Field(default_factory=Sla)
    writeback: Writeback = Field(default_factory=Writeback)
    roi_baseline: RoiBaseline = Field(default_factory=RoiBaseline)
    language: LanguagePolicy = Field(default_factory=LanguagePolicy)
    signals: Signals = Field(default_factory=Signals)

    @model_validator(mode="after")
    def _consistent(self) -> Workflow:
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
        for field in [*self.context.fields, *([self.context.customer_tier_field])]:
            if field and field.split(".", 1)[0] not in roots:
                raise ValueError(f"context field {field!r} must start with one of {roots} for {self.source}")
        return self

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


class Guardrails(_Strict):
    max_input_chars: int = Field(default=12_000, ge=200, le=200_000)
    min_text_chars: int = Field(default=3, ge=1)
    # More masked PII items than this in one ticket → review (pii_heavy).
    pii_heavy_count: int = Field(default=8, ge=1)
    pii_extra_patterns: dict[Name, str] = Field(default_factory=dict)
    injection_extra_patterns: list[str] = Field(default_factory=list)

    @field_validator("pii_extra_patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pii_extra_patterns.{name} is not a valid regex: {exc}") from exc
        return value


class CircuitBreakerPolicy(_Strict):
    failure_threshold: int = Field(default=5, ge=1)
    window_seconds: int = Field(default=60, ge=1)
    open_seconds: int = Field(default=30, ge=1)


class Policy(_Strict):
    version: str = Field(min_length=1)
    prompt_version: str = Field(min_length=1)
    prices: dict[str, Price] = Field(default_factory=dict)
    routes: dict[Name, Route] = Field(min_length=1)
    guardrails: Guardrails = Field(default_factory=Guardrails)
    circuit_breaker: CircuitBreakerPolicy = Field(default_factory=CircuitBreakerPolicy)
    workflows: dict[Name, Workflow] = Field(min_length=1)
    # Filled by the loader: sha256 of the exact bytes reviewed, and where the file lives.
    sha256: str = ""
    base_dir: str = ""

    @model_validator(mode="after")
    def _routes_and_prices(self) -> Policy:
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
        return self

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
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc, prefix=str(file))) from exc


def _check_model_files(policy: Policy, file: Path) -> None:
    for wf_name, workflow in policy.workflows.items():
        for task_name, task in workflow.tasks.items():
            if task.local_model and not policy.model_path(task.local_model).is_file():
                raise ConfigurationError(
                    f"{file} workflows.{wf_name}.tasks.{task_name}.local_model: no file {task.local_model}"
                )
