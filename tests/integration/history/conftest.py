"""History pulls against the Zendesk and HubSpot sandboxes on loopback, seeded with small generated histories.

Pulls run through the library (``run_pull``) so the clock and the sleeps are injected: a 429's wait is
recorded, never slept. Every fake starts with its rate limits lifted unless a test sets them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from triage_gate.policy import load_policy
from triage_local.sandboxes import FakeHubSpot, FakeZendesk
from triage_local.sandboxes.history import History, generate_history
from triage_local.sandboxes.history_load import load_hubspot, load_zendesk
from triage_tools.history.access import resolve_access
from triage_tools.history.hubspot_export import HubSpotHistory
from triage_tools.history.mapping import routing_properties
from triage_tools.history.progress import Progress
from triage_tools.history.pull import PullPlan, PullResult, run_pull
from triage_tools.history.state import PullState
from triage_tools.history.transport import Pacer, RetryPolicy, VendorSession
from triage_tools.history.zendesk_export import ZendeskHistory

ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "history@acme.test", "zd-history-token", "hs-history-token"
PULLED_AT = datetime(2026, 12, 1, tzinfo=UTC)
WORKFLOWS = {"zendesk": "zendesk-support", "hubspot": "hubspot-tickets"}


@dataclass
class Recorder:
    """The pull's clock and sleep: waits are recorded (and advance the clock), never slept."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def make_history(source: str, count: int = 300, seed: int = 11) -> History:
    return generate_history(source, count=count, months=2, seed=seed, now=datetime.now(UTC))  # type: ignore[arg-type]


def window(history: History) -> tuple[datetime, datetime]:
    """From 40 days before the history's end (some older tickets are updated inside it) to tomorrow."""
    since = datetime.combine(history.now.date() - timedelta(days=40), datetime.min.time(), UTC)
    return since, datetime.combine(history.now.date() + timedelta(days=1), datetime.min.time(), UTC)


def zendesk_fake(history: History, *, per_page: int = 40) -> FakeZendesk:
    fake = FakeZendesk(ZD_EMAIL, ZD_TOKEN, rate_limit_per_minute=None)
    load_zendesk(fake, history)
    fake.export.configure(requests_per_minute=None, per_page=per_page)
    return fake.start()


def hubspot_fake(history: History, *, max_results: int = 10_000) -> FakeHubSpot:
    fake = FakeHubSpot(HS_TOKEN, rate_limit_per_10s=None)
    load_hubspot(fake, history)
    fake.search.configure(requests_per_second=None, max_results=max_results)
    return fake.start()


@dataclass
class Puller:
    """Builds and runs one pull of ``source`` from a fake into ``out`` (each run a fresh client, like a re-run)."""

    source: str
    url: str
    out: Path
    since: datetime
    until: datetime
    recorder: Recorder = field(default_factory=Recorder)
    pacing: dict[str, float] = field(default_factory=dict)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    search_cap: int = 10_000

    def plan(self) -> PullPlan:
        policy = load_policy()
        name = WORKFLOWS[self.source]
        return PullPlan(source=self.source, workflow_name=name, workflow=policy.workflows[name],
                        pii_patterns=dict(policy.guardrails.pii_extra_patterns), policy_sha256=policy.sha256,
                        since=self.since, until=self.until, out=self.out)  # fmt: skip

    def history(self) -> ZendeskHistory | HubSpotHistory:
        env = {"ZENDESK_BASE_URL": self.url, "ZENDESK_EMAIL": ZD_EMAIL, "ZENDESK_API_TOKEN": ZD_TOKEN,
               "HUBSPOT_BASE_URL": self.url, "HUBSPOT_ACCESS_TOKEN": HS_TOKEN}  # fmt: skip
        access = resolve_access(self.source, env)
        pacer = Pacer(self.pacing, clock=self.recorder.clock, sleep=self.recorder.sleep)
        session = VendorSession(self.source, access.headers, pacer, retry=self.retry)
        workflow = self.plan().workflow
        if self.source == "zendesk":
            return ZendeskHistory(session, access.base_url, since=self.since, now=datetime.now(UTC),
                                  marker_tag=workflow.writeback.marker_tag)  # fmt: skip
        return HubSpotHistory(session, access.base_url, since=self.since, until=self.until,
                              routing=routing_properties(workflow), search_cap=self.search_cap)  # fmt: skip

    def run(self, on_page: Callable[[PullState], None] | None = None) -> PullResult:
        history = self.history()
        progress = Progress(self.source, stream=io.StringIO(), tty=False)
        try:
            return run_pull(self.plan(), history, progress, now=lambda: PULLED_AT, on_page=on_page)
        finally:
            history.close()


def interrupt_after(pages: int) -> Callable[[PullState], None]:
    """An ``on_page`` hook that presses Ctrl-C once ``pages`` pages are saved."""

    def hook(state: PullState) -> None:
        if state.pages >= pages:
            raise KeyboardInterrupt

    return hook


@pytest.fixture(scope="module")
def zendesk_history() -> History:
    return make_history("zendesk")


@pytest.fixture
def zendesk(zendesk_history: History) -> Iterator[FakeZendesk]:
    fake = zendesk_fake(zendesk_history)
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def hubspot_history() -> History:
    return make_history("hubspot")


@pytest.fixture
def hubspot(hubspot_history: History) -> Iterator[FakeHubSpot]:
    fake = hubspot_fake(hubspot_history)
    yield fake
    fake.stop()
