"""The model step of a decision: each task on its route (local model or Claude), the degraded-mode rule
when Claude cannot be used, and the output guardrails on every answer."""

from __future__ import annotations

import time

from triage_gate.errors import ModelRequestRejected, ModelUnavailable
from triage_gate.observability import logger
from triage_gate.triage import breaker, reasons
from triage_gate.triage.answers import ModelResult, TaskAnswer, calibrate, parse_side_answers
from triage_gate.triage.case import Case
from triage_gate.triage.decision import ReviewerGist, Signals, TaskDecision
from triage_gate.triage.deps import TriageDeps
from triage_gate.triage.prompt import Asks, Examples, asks_for, build_prompt
from triage_gate.triage.routing import choose_route

EXAMPLES_CACHE_SECONDS = 60


class ModelRouter:
    def __init__(self, deps: TriageDeps) -> None:
        self.deps = deps
        self._examples_cache: dict[str, tuple[float, Examples]] = {}
        self._local_languages_cache: dict[tuple[str, str], frozenset[str] | None] = {}

    def classify(self, case: Case) -> None:
        """Every task answered (or refused) and judged; the answers and reasons land on the case."""
        groups: dict[str, list[str]] = {}
        for task_name, spec in case.workflow.tasks.items():
            chosen = choose_route(
                spec, chars=len(case.verdict.text), customer_tier=case.tier, language=case.language_code,
                local_languages=self._local_languages(case, task_name),
            )  # fmt: skip
            groups.setdefault(chosen, []).append(task_name)
        # The gist and the signals are asked of the first Claude route only: one answer per ticket, paid once.
        pending = asks_for(case.workflow, case.language_code)
        for route_name, tasks in groups.items():
            if not case.verdict.classifiable:
                for task_name in tasks:
                    case.tasks[task_name] = TaskDecision(
                        label=None, reported_confidence=None, calibrated_confidence=None, threshold=None,
                        route=route_name, model="none",
                    )  # fmt: skip
                continue
            if self.deps.policy.routes[route_name].kind == "local":
                result = self._local(case, tasks, route_name)
            else:
                result = self._remote_or_degraded(case, tasks, route_name, pending)
                pending = Asks()
            case.results.append(result)
            self._judge(case, result)

    def _remote_or_degraded(self, case: Case, tasks: list[str], route_name: str, asks: Asks) -> ModelResult:
        route, remote = self.deps.policy.routes[route_name], self.deps.remote
        if remote is None or not remote.enabled():
            return self._fallback(case, tasks, "no_api_key", degrade=False)
        if case.verdict.blocks_remote_model:
            # Suspicious text never reaches the remote model; the local model still makes a suggestion.
            return self._fallback(case, tasks, "input_blocked", degrade=False)
        budget_key = f"budget#{case.name}#{self.deps.clock().date().isoformat()}"
        if self.deps.budgets.spent(budget_key) >= case.workflow.daily_budget_usd:
            case.add(reasons.BUDGET_EXHAUSTED)
            return self._fallback(case, tasks, "budget_exhausted", degrade=True)
        breaker_key = f"breaker#{route.model}"
        if not self._admit(breaker_key):
            return self._fallback(case, tasks, "circuit_open", degrade=True)
        prompt = build_prompt(
            case.name, case.workflow, tasks, case.subject, case.verdict.text, case.prompt_context,
            self._corrections(case.name), language=case.language, asks=asks,
        )  # fmt: skip
        started = time.perf_counter()
        try:
            result = remote.classify(route_name, route, prompt, {t: case.workflow.tasks[t] for t in tasks})
        except ModelUnavailable as exc:
            case.latency_ms[f"model:{route_name}"] = round((time.perf_counter() - started) * 1000, 2)
            self._record_breaker(breaker_key, success=False)
            return self._fallback(case, tasks, f"model_error:{exc.kind}", degrade=True)
        except ModelRequestRejected as exc:
            # A bug in our request, not an outage: the breaker is not involved; a person sees the ticket.
            case.latency_ms[f"model:{route_name}"] = round((time.perf_counter() - started) * 1000, 2)
            case.add(reasons.MODEL_REQUEST_REJECTED)
            return self._fallback(case, tasks, f"request_rejected:{exc.kind}", degrade=False)
        case.latency_ms[f"model:{route_name}"] = round(result.latency_ms, 2)
        self._record_breaker(breaker_key, success=True)
        if result.cost_usd:
            self.deps.budgets.add(budget_key, result.cost_usd)
        self._take_side_answers(case, result, asks)
        return result

    def _take_side_answers(self, case: Case, result: ModelResult, asks: Asks) -> None:
        """The gist and the signals a Claude call answered beside the tasks; a missing or invalid one is left out
        of the record (never an error for the tasks), counted in a log line."""
        if not asks.anything:
            return
        side = parse_side_answers(result.raw, asks)
        if side.unusable:
            logger.warning(
                "the model gave no usable answer for what was asked beside the tasks; left off the record",
                unusable=list(side.unusable), unusable_count=len(side.unusable), route=result.route,
                model=result.model, workflow=case.name,
            )  # fmt: skip
        if side.gist is not None and asks.gist_from is not None and asks.gist_into is not None:
            # Its share of the call's output tokens (≈ 4 characters a token) at the route's output price; the
            # decision's cost_usd already counts the whole call.
            tokens = len(side.gist) // 4
            route_model = self.deps.policy.routes[result.route].model or result.model
            price = self.deps.policy.prices[route_model].output / 1_000_000
            case.gist = ReviewerGist(
                text=side.gist, language=asks.gist_into, source_language=asks.gist_from, model=result.model,
                output_tokens_estimate=tokens, cost_usd_estimate=round(tokens * price, 10),
            )  # fmt: skip
        if side.sentiment is not None or side.urgent is not None:
            case.signals = Signals(sentiment=side.sentiment, urgent=side.urgent, model=result.model)

    def _fallback(self, case: Case, tasks: list[str], why: str, *, degrade: bool) -> ModelResult:
        """Claude is not used for this ticket: the degraded-mode rule says what happens instead."""
        case.fallback = why
        if degrade and case.workflow.rules.degraded_mode == "review_all":
            case.add(reasons.MODEL_UNAVAILABLE)
        if not all(case.workflow.tasks[t].local_model for t in tasks):
            case.add(reasons.MODEL_UNAVAILABLE)
            answers = {t: TaskAnswer(None, None, reasons.MODEL_UNAVAILABLE) for t in tasks}
            return ModelResult(route="none", model="none", answers=answers, note=why)
        result = self._local(case, tasks, "local")
        result.note = why
        return result

    def _local_languages(self, case: Case, task: str) -> frozenset[str] | None:
        """The languages the task's local model knows: its metadata's, or only the workflow's default language
        for a model that does not say (trained before models recorded them). None: the task has no local model."""
        key = (case.name, task)
        if key not in self._local_languages_cache:  # the policy and its models do not change while warm
            spec = case.workflow.tasks[task]
            known = None
            if spec.local_model is not None:
                known = self.deps.local.languages(str(self.deps.policy.model_path(spec.local_model)))
                known = known or frozenset({case.workflow.language.default_language})
            self._local_languages_cache[key] = known
        return self._local_languages_cache[key]

    def _local(self, case: Case, tasks: list[str], route_name: str) -> ModelResult:
        started = time.perf_counter()
        answers = {}
        for task in tasks:
            spec = case.workflow.tasks[task]
            assert spec.local_model is not None  # the policy validator guarantees it for local routes
            if case.language_code not in (self._local_languages(case, task) or ()):
                # Out of distribution: a model trained on other languages never guesses at this one.
                answers[task] = TaskAnswer(None, None, reasons.LANGUAGE_UNSUPPORTED)
                continue
            path = str(self.deps.policy.model_path(spec.local_model))
            label, probability = self.deps.local.classify(case.name, task, path, case.verdict.text)
            answers[task] = TaskAnswer(
                label, probability, None if label in spec.labels else reasons.LABEL_NOT_IN_TAXONOMY
            )
        latency = (time.perf_counter() - started) * 1000
        return ModelResult(route=route_name, model="local", answers=answers, latency_ms=latency)

    @staticmethod
    def _judge(case: Case, result: ModelResult) -> None:
        """Output guardrails: taxonomy, calibrated confidence against the label's threshold, policy rules."""
        case.latency_ms.setdefault(f"model:{result.route}", round(result.latency_ms, 2))
        for task, answer in result.answers.items():
            spec = case.workflow.tasks[task]
            calibrated = threshold = None
            if answer.problem:
                case.add(answer.problem)
            elif answer.label is not None and answer.confidence is not None:
                curve = spec.calibration.get(answer.label, spec.calibration_default)
                calibrated = round(calibrate(answer.confidence, curve), 4)
                threshold = spec.thresholds.for_label(answer.label)
                if calibrated < threshold:
                    case.add(reasons.LOW_CONFIDENCE)
                if answer.label in case.workflow.rules.always_review.get(task, []):
                    case.add(reasons.POLICY_ALWAYS_REVIEW)
            else:
                case.add(reasons.MALFORMED_OUTPUT)
            valid = answer.label if answer.label in spec.labels else None  # a refused label is never applicable
            case.tasks[task] = TaskDecision(
                label=valid, reported_confidence=answer.confidence, calibrated_confidence=calibrated,
                threshold=threshold, route=result.route, model=result.model, problem=answer.problem,
                model_label=answer.label if valid is None else None,
            )  # fmt: skip

    def _corrections(self, workflow_name: str) -> Examples | None:
        """Few-shot examples, cached for a minute: corrections arrive slowly; the prefix stays cacheable."""
        if self.deps.examples is None:
            return None
        now = time.monotonic()
        cached = self._examples_cache.get(workflow_name)
        if cached is None or now - cached[0] > EXAMPLES_CACHE_SECONDS:
            cached = (now, self.deps.examples.recent(workflow_name))
            self._examples_cache[workflow_name] = cached
        return cached[1]

    # ------------------------------------------------------------------ the shared circuit breaker
    def _admit(self, key: str) -> bool:
        now = self.deps.clock().timestamp()
        state = self.deps.breakers.load(key)
        allowed, new_state = breaker.admit(state, now)
        if allowed and new_state is not None and not self.deps.breakers.save(key, new_state):
            return False  # another instance won the half-open probe
        return allowed

    def _record_breaker(self, key: str, *, success: bool) -> None:
        now = self.deps.clock().timestamp()
        for _ in range(3):  # optimistic lock: reload and retry on a concurrent update
            state = self.deps.breakers.load(key)
            if success:
                new_state = breaker.on_success(state, now)
            else:
                new_state = breaker.on_failure(state, now, self.deps.policy.circuit_breaker)
            if new_state is None or self.deps.breakers.save(key, new_state):
                return
