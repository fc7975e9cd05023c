"""CPU per event (process time, not wall) through IngestFunction's handler, three ways, on distinct events:

  SDK in       the handler as deployed: its own boto3 clients (built from its environment) against moto
  SDK stubbed  the same handler with the dedupe table and the queue replaced by in-memory fakes
  SDK's own    the AWS calls the handler made for each event (recorded, then replayed on a reset moto with
               the same parameters) made directly with boto3 clients: what the SDK costs for those calls

Every invocation is timed alone with ``time.process_time`` (this process only: moto runs in its own process)
and the figures are min/median/max over the invocations. Events are distinct (new event ids, signed before
the clock starts), so every one is accepted: the claim, the enqueue and the confirmation all happen.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench_stats import Spread
from cold_start_child import ColdContext
from local_aws import ROOT, LocalAws

HUBSPOT_BATCH = 100
WARMUP_INVOCATIONS = 5
Call = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class CpuRow:
    label: str
    events_per_invocation: int
    sdk_in_ms: Spread
    stubbed_ms: Spread
    sdk_own_ms: Spread
    aws_calls_per_invocation: float


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Redirect file descriptor 1: Powertools holds its own reference to the stdout stream."""
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


@contextlib.contextmanager
def recording_calls(groups: list[list[Call]]) -> Iterator[Callable[[], None]]:
    """While open, every boto3 call is appended to ``groups[-1]``; the yielded function starts a new group."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        groups[-1].append((self.meta.service_model.service_name, operation_name, copy.deepcopy(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = make_api_call
    try:
        yield lambda: groups.append([])
    finally:
        BaseClient._make_api_call = original


class AlwaysNewDedupe:
    """Every key is new: the accepted path, the expensive one."""

    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        return set(keys)

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        return None

    def release(self, keys: Sequence[str]) -> None:
        return None


class DiscardQueue:
    def send(self, events: Sequence[Any]) -> list[str]:
        return []


def cpu_ms_each(invoke: Callable[[dict[str, Any]], Any], events: Sequence[dict[str, Any]]) -> list[float]:
    """Process time of each invocation, in ms."""
    samples = []
    for event in events:
        start = time.process_time()
        invoke(event)
        samples.append((time.process_time() - start) * 1000)
    return samples


class IngestHarness:
    """IngestFunction's app module loaded in this process with the template's environment, against moto."""

    def __init__(self, aws: LocalAws) -> None:
        from tests.builders import HUBSPOT_URL

        from triage_local.functions import function_specs

        spec = next(s for s in function_specs(aws.template) if s.logical_id == "IngestFunction")
        # The template leaves the HubSpot target URL to the deployer; the one the test signatures use stands in.
        self.hubspot_url = spec.environment.get("HUBSPOT_WEBHOOK_URL") or HUBSPOT_URL
        os.environ.update({**spec.environment, **aws.client_environment(), "POWERTOOLS_TRACE_DISABLED": "true",
                           "HUBSPOT_WEBHOOK_URL": self.hubspot_url})  # fmt: skip
        self.aws = aws
        loaded = importlib.util.spec_from_file_location("ingest_app", ROOT / "functions" / "ingest" / "app.py")
        if loaded is None or loaded.loader is None:
            raise RuntimeError("functions/ingest/app.py cannot be loaded")
        self.app: Any = importlib.util.module_from_spec(loaded)
        loaded.loader.exec_module(self.app)
        self.deployed_service = self.app.SERVICE

    def zendesk_events(self, count: int) -> list[dict[str, Any]]:
        from tests.builders import load_event, sign_zendesk

        template = load_event("ingest__zendesk_ticket_created.json")
        original_id = json.loads(template["body"])["id"]
        events = []
        for _ in range(count):
            event = copy.deepcopy(template)
            event["body"] = event["body"].replace(original_id, str(uuid.uuid4()))
            events.append(sign_zendesk(event))
        return events

    def hubspot_events(self, count: int) -> list[dict[str, Any]]:
        from tests.builders import load_event, sign_hubspot

        template = load_event("ingest__hubspot_batch.json")
        pair = json.loads(template["body"])[:2]
        events = []
        for n in range(count):
            base = 5_000_000_000 + uuid.uuid4().int % 10**9 * 1000 + n
            body = [dict(pair[i % 2], eventId=base + i, objectId=19_000_000 + i) for i in range(HUBSPOT_BATCH)]
            event = copy.deepcopy(template)
            event["body"] = json.dumps(body)
            events.append(sign_hubspot(event, url=self.hubspot_url))
        return events

    def invoke(self, event: dict[str, Any]) -> Any:
        response = self.app.lambda_handler(event, ColdContext())
        if response.get("statusCode") != 200 or '"accepted":0' in response.get("body", ""):
            raise RuntimeError(f"the ingest handler did not accept the event: {response}")
        return response

    def use_deployed(self) -> None:
        self.app.SERVICE = self.deployed_service

    def use_stubbed(self) -> None:
        from tests.builders import make_secrets

        from triage_gate.compose.common import Lazy
        from triage_gate.compose.ingest import Ingest
        from triage_gate.config import IngestSettings
        from triage_gate.intake.service import IntakeService
        from triage_tools.memory import StaticSecrets

        settings = IngestSettings.from_env()
        service = IntakeService(settings, StaticSecrets(make_secrets()), AlwaysNewDedupe(), DiscardQueue())
        self.app.SERVICE = Lazy.of(Ingest(service, settings.retry_after_seconds))


def direct_clients(groups: Sequence[Sequence[Call]]) -> dict[str, Any]:
    """One plain boto3 client per service the calls use (from this process's environment: moto)."""
    import boto3

    session = boto3.session.Session()
    return {service: session.client(service) for group in groups for service, _, _ in group}


def replay_ms_each(clients: dict[str, Any], groups: Sequence[Sequence[Call]]) -> list[float]:
    """Each group of calls made again, with the same parameters, directly with ``clients``; process time in ms."""
    from botocore import xform_name

    samples = []
    for group in groups:
        start = time.process_time()
        for service, operation, params in group:
            getattr(clients[service], xform_name(operation))(**params)
        samples.append((time.process_time() - start) * 1000)
    return samples


def measure(
    harness: IngestHarness, label: str, make_events: Callable[[int], list[dict[str, Any]]], n: int, per_call: int
) -> CpuRow:
    """``n`` timed invocations each way; ``per_call`` events in each (the HubSpot batch size, or 1)."""
    aws = harness.aws
    harness.use_deployed()
    with stdout_to_devnull():
        warmup = WARMUP_INVOCATIONS if n > WARMUP_INVOCATIONS else 1
        for event in make_events(warmup):  # the secret, the clients: once per instance, not per event
            harness.invoke(event)
        groups: list[list[Call]] = []
        recorded = make_events(n)
        with recording_calls(groups) as next_group:
            for event in recorded:
                next_group()
                harness.invoke(event)
        clients = direct_clients(groups)
        aws.reset()  # warm the direct clients as the handler's were warm (first calls load endpoint rules)
        replay_ms_each(clients, groups[:warmup])
        aws.reset()  # the recorded calls now succeed again, as they did for the handler
        sdk_own = replay_ms_each(clients, groups)
        sdk_in = cpu_ms_each(harness.invoke, make_events(n))
        harness.use_stubbed()
        stubbed_events = make_events(n + warmup)
        cpu_ms_each(harness.invoke, stubbed_events[:warmup])
        stubbed = cpu_ms_each(harness.invoke, stubbed_events[warmup:])
    per_invocation = sum(len(g) for g in groups) / len(groups)
    return CpuRow(label, per_call, Spread.of(sdk_in), Spread.of(stubbed), Spread.of(sdk_own), per_invocation)


def run(aws: LocalAws, zendesk_events: int, hubspot_batches: int) -> list[CpuRow]:
    harness = IngestHarness(aws)
    return [
        measure(harness, "Zendesk: one event", harness.zendesk_events, zendesk_events, 1),
        measure(
            harness, f"HubSpot: {HUBSPOT_BATCH}-event batch", harness.hubspot_events, hubspot_batches, HUBSPOT_BATCH
        ),
    ]
