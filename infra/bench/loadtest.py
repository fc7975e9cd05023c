"""``make loadtest``: a burst of signed webhooks through the local stack, then every event accounted for.

Starts the sandboxed vendors (Zendesk, HubSpot, Slack, Anthropic) and the local runner (embedded moto, one warm
worker process per function), sends at least 2,000 webhook events over HTTP from a thread pool (Zendesk
event-subscription bodies and HubSpot batches of 10-50 events; 10% exact re-sends, 5% invalid), waits for the
queues to drain, and accounts for every event from the HTTP answers, DecisionsTable and the DLQs. Prints intake
throughput, end-to-end latency, drain time and peak memory next to the targets (0 unaccounted, 0 duplicate
write-backs). A benchmark: the exit code is 0 whatever the figures; a "NOT MET" line says when a target is missed.

    python infra/bench/loadtest.py [--events 2000] [--workers 8] [--drain-timeout 600]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "infra" / "local"), str(ROOT / "layers" / "core")]

from triage_gate.intake.signatures import signed_hubspot_headers, signed_zendesk_headers  # noqa: E402
from triage_gate.policy import load_policy  # noqa: E402
from triage_gate.triage.decision import DecisionRecord  # noqa: E402
from triage_gate.writeback.plan import NOTE_MARKER, decision_ref  # noqa: E402
from triage_local import demo_data  # noqa: E402
from triage_local.runner import LocalRunner, RunnerConfig  # noqa: E402
from triage_local.sandboxes import Sandboxes  # noqa: E402
from triage_local.webhooks import Sample, signed_headers  # noqa: E402

EVENTS = ROOT / "events"
ZD_ACCOUNT = 90817263
HS_PORTAL = 48213377
ZD_FIRST_TICKET = 60_001
HS_FIRST_TICKET = 88_000_001
PIPELINE_QUEUES = ("TriageQueue", "ActionsQueue", "ExceptionQueue")
HUBSPOT_TYPES = {"ticket.creation": "ticket.created", "ticket.propertyChange": "ticket.property_changed"}
RETRY_DELAY_SECONDS = 10  # failed SQS records reappear after 10 s instead of the template's 360-540 s

# (subject, description, comment) per kind of ticket; the local model classifies from these.
TEXTS = (
    ("Charged twice for invoice {n}", "My card was charged twice for invoice INV-{n} this morning. Please refund "
     "the duplicate charge.", "Still see two charges for INV-{n} on my statement."),
    ("Export to CSV stops at 10,000 rows", "When I export report {n} to CSV the file always ends at row 10000.",
     "Still happening after the update: export {n} ends at row 10000."),
    ("Can't log in after enabling two-factor", "I enabled two-factor authentication and now every code is "
     "rejected, so I am locked out of account {n}.", "Still locked out, the reset link does not arrive."),
    ("How do I add a user to my workspace?", "Where in settings can I invite a new teammate to workspace {n}?",
     "Found the settings page but the invite button is greyed out."),
    ("Dashboard is very slow", "The analytics dashboard takes over a minute to load for project {n} since "
     "yesterday.", "It is even slower today, pages time out."),
    ("Please cancel our subscription", "We want to cancel subscription {n} at the end of this billing period.",
     "Any update on the cancellation request?"),
    ("Feature request: dark mode", "It would be great to have a dark mode in the web app, our team {n} asks.",
     "Adding a +1 from three more colleagues."),
    ("API returns 500 on /v2/orders", "Since this morning every call to /v2/orders returns HTTP 500 for "
     "tenant {n}.", "Errors continue, this blocks our integration."),
)  # fmt: skip
HS_TEXTS = (
    ("Quote for {n} more seats", "We want to add {n} seats before renewal; please send a quote."),
    ("Invoice address is wrong", "Invoice {n} shows our old address, please reissue it."),
    ("Considering other vendors", "Renewal {n} is coming and we are evaluating alternatives given the price."),
    ("Integration with Salesforce", "Does your product sync deal stage {n} with Salesforce?"),
)


@dataclass
class Request:
    """One HTTP delivery: its events (source, normalised event type) and how it is sent."""

    source: str
    kind: str  # "valid", "duplicate", "bad_signature", "malformed"
    events: list[tuple[str, str]]
    build: Any = None  # () -> bytes, called at send time (so timestamps are the send time)
    original: Request | None = None  # for duplicates: the request re-sent byte for byte
    body: bytes | None = None
    sent: threading.Event = field(default_factory=threading.Event)
    status: int | None = None
    answer: dict[str, Any] | None = None
    attempts: int = 0
    error: str | None = None


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Plan:
    """The burst: Zendesk singles and HubSpot batches, 10% re-sends and 5% invalid, in a shuffled order."""

    def __init__(self, total: int, rng: random.Random) -> None:
        self.rng = rng
        self.zd_template = json.loads(Sample.load(EVENTS / "ingest__zendesk_ticket_created.json").body)
        self.zd_comment = json.loads(Sample.load(EVENTS / "ingest__zendesk_comment_added.json").body)
        self.hs_template = json.loads(Sample.load(EVENTS / "ingest__hubspot_batch.json").body)
        self.zd_tickets: list[int] = []  # created so far (comments go to these)
        self.hs_tickets: list[int] = []
        self.requests: list[Request] = []
        self._event_ids = iter(range(5_000_000_000, 6_000_000_000))
        invalid_budget = round(total * 0.05)
        duplicate_budget = round(total * 0.10)
        fresh_budget = total - invalid_budget - duplicate_budget
        zd_fresh = fresh_budget // 2
        hs_fresh = fresh_budget - zd_fresh
        fresh: list[Request] = [self._zendesk() for _ in range(zd_fresh)]
        while hs_fresh > 0:
            size = min(hs_fresh, rng.randint(10, 50))
            if 0 < hs_fresh - size < 10:  # keep every batch at 10 or more events
                size = hs_fresh
            fresh.append(self._hubspot(size))
            hs_fresh -= size
        invalid: list[Request] = []
        if invalid_budget >= 20:  # one whole HubSpot batch signed with the wrong secret
            invalid.append(self._hubspot(10, kind="bad_signature"))
            invalid_budget -= 10
        for i in range(invalid_budget):
            invalid.append(self._zendesk(kind="bad_signature" if i % 2 == 0 else "malformed"))
        duplicates: list[Request] = []
        candidates = fresh[:]
        rng.shuffle(candidates)
        while duplicate_budget > 0 and candidates:
            original = candidates.pop()
            if len(original.events) > duplicate_budget:
                continue
            duplicates.append(Request(original.source, "duplicate", list(original.events), original=original))
            duplicate_budget -= len(original.events)
        # Originals first (in a random order), re-sends and invalid ones spread over the second half.
        rng.shuffle(fresh)
        half = len(fresh) // 2
        tail = fresh[half:] + duplicates + invalid
        rng.shuffle(tail)
        # A re-send must follow its original: move any original that landed after its duplicate forward.
        order = fresh[:half] + tail
        position = {id(r): i for i, r in enumerate(order)}
        for dup in duplicates:
            assert dup.original is not None
            if position[id(dup.original)] > position[id(dup)]:
                order.remove(dup.original)
                order.insert(0, dup.original)
                position = {id(r): i for i, r in enumerate(order)}
        self.requests = order

    # ------------------------------------------------------------------ Zendesk
    def _zendesk(self, kind: str = "valid") -> Request:
        rng = self.rng
        roll = rng.random()
        if kind == "valid" and self.zd_tickets and roll < 0.30:
            return self._zd_comment(rng.choice(self.zd_tickets), staff=roll < 0.03)
        ticket = ZD_FIRST_TICKET + len(self.zd_tickets)
        if kind == "valid":
            self.zd_tickets.append(ticket)
        else:
            ticket = rng.choice(self.zd_tickets) if self.zd_tickets else ZD_FIRST_TICKET
        subject, description, _ = TEXTS[ticket % len(TEXTS)]
        event_id = str(uuid.UUID(int=rng.getrandbits(128)))

        def build() -> bytes:
            body = dict(self.zd_template)
            detail = dict(body["detail"], id=str(ticket), subject=subject.format(n=ticket))
            detail.update(description=description.format(n=ticket), created_at=_now_iso(), updated_at=_now_iso())
            detail.update(requester_id=str(_requester(ticket)), organization_id=str(_organization(ticket)))
            body.update(id=event_id, time=_now_iso(), subject=f"zen:ticket:{ticket}", detail=detail)
            raw = json.dumps(body).encode()
            return raw[: len(raw) // 2] if kind == "malformed" else raw

        return Request("zendesk", kind, [("zendesk", "ticket.created")], build)

    def _zd_comment(self, ticket: int, *, staff: bool) -> Request:
        _, _, comment_text = TEXTS[ticket % len(TEXTS)]
        event_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        comment_id = str(next(self._event_ids))

        def build() -> bytes:
            body = dict(self.zd_comment)
            detail = dict(body["detail"], id=str(ticket), requester_id=str(_requester(ticket)), updated_at=_now_iso())
            author = {"id": "900001", "is_staff": True, "name": "Agent"} if staff else {
                "id": str(_requester(ticket)), "is_staff": False, "name": "Customer"}  # fmt: skip
            comment = {"id": comment_id, "body": comment_text.format(n=ticket), "is_public": not staff,
                       "author": author}  # fmt: skip
            body.update(id=event_id, time=_now_iso(), subject=f"zen:ticket:{ticket}", detail=detail)
            body["event"] = {"comment": comment}
            return json.dumps(body).encode()

        return Request("zendesk", "valid", [("zendesk", "ticket.comment_added")], build)

    # ------------------------------------------------------------------ HubSpot
    def _hubspot(self, size: int, kind: str = "valid") -> Request:
        rng = self.rng
        specs: list[tuple[str, int, int]] = []  # (subscriptionType, objectId, eventId)
        for _ in range(size):
            roll = rng.random()
            if roll < 0.05:
                specs.append(("contact.creation", 77_000_000 + next(self._event_ids) % 1_000_000, 0))
            elif roll < 0.15 and self.hs_tickets:
                specs.append(("ticket.propertyChange", rng.choice(self.hs_tickets), 0))
            else:
                ticket = HS_FIRST_TICKET + len(self.hs_tickets)
                self.hs_tickets.append(ticket)
                specs.append(("ticket.creation", ticket, 0))
        specs = [(t, o, next(self._event_ids)) for t, o, _ in specs]

        def build() -> bytes:
            occurred = int(time.time() * 1000)
            batch = []
            for subscription_type, object_id, event_id in specs:
                item = dict(
                    self.hs_template[0] if subscription_type != "ticket.propertyChange" else self.hs_template[1]
                )
                item.update(eventId=event_id, objectId=object_id, occurredAt=occurred, portalId=HS_PORTAL,
                            subscriptionType=subscription_type)  # fmt: skip
                if subscription_type == "ticket.propertyChange":
                    item.update(propertyName="hs_ticket_priority", propertyValue="HIGH")
                batch.append(item)
            return json.dumps(batch).encode()

        events = [("hubspot", HUBSPOT_TYPES.get(t, t)) for t, _, _ in specs]
        return Request("hubspot", kind, events, build)


def _organization(ticket: int) -> int:
    return 5512 if ticket % 5 else 5530  # every fifth requester is at the enterprise customer (VIP → review)


def _requester(ticket: int) -> int:
    return 7_000_000 + ticket


def seed(sandboxes: Sandboxes, plan: Plan) -> None:
    demo_data.seed(sandboxes)
    zendesk, hubspot = sandboxes.zendesk, sandboxes.hubspot
    for ticket in plan.zd_tickets or [ZD_FIRST_TICKET]:
        requester = _requester(ticket)
        zendesk.add_user(requester, name=f"Customer {ticket}", email=f"c{ticket}@example.test",
                         organization_id=_organization(ticket))  # fmt: skip
        subject, description, _ = TEXTS[ticket % len(TEXTS)]
        zendesk.add_ticket(ticket, subject=subject.format(n=ticket), description=description.format(n=ticket),
                           requester_id=requester, organization_id=_organization(ticket), priority="normal",
                           status="new", tags=["web_form"])  # fmt: skip
    for ticket in plan.hs_tickets:
        subject, content = HS_TEXTS[ticket % len(HS_TEXTS)]
        hubspot.add_ticket(ticket, subject=subject.format(n=ticket % 97), content=content.format(n=ticket % 97),
                           hs_pipeline="0", hs_pipeline_stage="1", hs_ticket_priority="MEDIUM")  # fmt: skip
        hubspot.associate(ticket, 88001)
    # The fakes must not be the bottleneck: no account, per-ticket or per-channel rate limits.
    zendesk.account_window.limit = None
    zendesk.ticket_updates_per_10_minutes = None
    hubspot.window.limit = None
    sandboxes.slack.per_channel_per_second = None


# ---------------------------------------------------------------------- sending
class Sender:
    def __init__(self, base_url: str, secrets: dict[str, str]) -> None:
        self.base_url = base_url
        self.secrets = secrets
        self._local = threading.local()
        self.retries = Counter[str]()
        self._lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def send(self, request: Request) -> None:
        if request.original is not None:
            request.original.sent.wait(120)
            request.body = request.original.body
        else:
            request.body = request.build()
        assert request.body is not None
        url = f"{self.base_url}/webhooks/{request.source}"
        secret = self.secrets["ZENDESK_WEBHOOK_SECRET" if request.source == "zendesk" else "HUBSPOT_CLIENT_SECRET"]
        if request.kind == "bad_signature":
            secret = "not-the-secret-" + secret[::-1]
        for attempt in range(1, 8):
            request.attempts = attempt
            now = datetime.now(UTC)
            if request.source == "zendesk":
                headers = signed_zendesk_headers(secret, request.body, now)
                headers["x-zendesk-account-id"] = str(ZD_ACCOUNT)
            else:
                headers = signed_hubspot_headers(secret, url, request.body, now)
            headers["content-type"] = "application/json"
            try:
                response = self._session().post(url, data=request.body, headers=headers, timeout=30)
            except requests.RequestException as exc:
                request.error = type(exc).__name__
                self._count(f"connection error ({type(exc).__name__})")
                time.sleep(0.5 * attempt)
                continue
            request.status = response.status_code
            try:
                request.answer = response.json()
            except ValueError:
                request.answer = None
            if response.status_code >= 500 or response.status_code == 429:  # the vendor would redeliver
                self._count(f"HTTP {response.status_code}")
                time.sleep(min(float(response.headers.get("Retry-After", 1)), 2.0) * attempt / 2)
                continue
            break
        request.sent.set()

    def _count(self, what: str) -> None:
        with self._lock:
            self.retries[what] += 1


# ---------------------------------------------------------------------- accounting
def drain(runner: LocalRunner, timeout: float, quiet: float = 3.0) -> tuple[float, bool, dict[str, Any]]:
    started = time.monotonic()
    calm_since: float | None = None
    depths: dict[str, Any] = {}
    while time.monotonic() - started < timeout:
        depths = runner.queue_depths()
        busy = sum(depths[q]["visible"] + depths[q]["in_flight"] for q in PIPELINE_QUEUES if q in depths)
        now = time.monotonic()
        if busy == 0:
            calm_since = calm_since or now
            if now - calm_since >= quiet:
                return calm_since - started, True, depths
        else:
            calm_since = None
        time.sleep(0.5)
    return time.monotonic() - started, False, depths


def scan_items(runner: LocalRunner, table_logical: str) -> list[dict[str, Any]]:
    ddb = runner.session.client("dynamodb")
    kwargs: dict[str, Any] = {"TableName": runner.physical_id(table_logical), "ConsistentRead": True}
    items: list[dict[str, Any]] = []
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dlq_keys(runner: LocalRunner) -> dict[str, Counter[str]]:
    """Dedupe keys (or decision ids) of the messages in each DLQ, read without consuming them for long."""
    sqs = runner.session.client("sqs")
    found: dict[str, Counter[str]] = {}
    for logical, ids in runner.template.physical.items():
        if "QueueUrl" not in ids or not logical.endswith("Dlq"):
            continue
        keys: Counter[str] = Counter()
        seen: set[str] = set()
        for _ in range(50):
            got = sqs.receive_message(QueueUrl=ids["QueueUrl"], MaxNumberOfMessages=10, VisibilityTimeout=30,
                                      WaitTimeSeconds=0).get("Messages", [])  # fmt: skip
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                try:
                    body = json.loads(message["Body"])
                    keys[str(body.get("dedupe_key") or body.get("decision_id") or "?")] += 1
                except (ValueError, AttributeError):
                    keys["?"] += 1
        found[logical] = keys
    return found


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def vm_hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def flags_document() -> dict[str, Any]:
    return {
        "mode.zendesk-support": {"default": "auto", "boolean_type": False, "rules": {}},
        "mode.hubspot-tickets": {"default": "shadow", "boolean_type": False, "rules": {}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="webhook events to send (default 2000)")
    parser.add_argument("--workers", type=int, default=8, help="sender threads (default 8)")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds to wait for the queues")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    plan = Plan(max(args.events, 40), rng)
    sent_events = sum(len(r.events) for r in plan.requests)
    policy = load_policy()
    secrets = {
        "ZENDESK_WEBHOOK_SECRET": "loadtest-zendesk-" + uuid.uuid4().hex,
        "HUBSPOT_CLIENT_SECRET": uuid.uuid4().hex,
        "SLACK_SIGNING_SECRET": uuid.uuid4().hex,
        "ZENDESK_EMAIL": demo_data.ZENDESK_EMAIL,
        "ZENDESK_API_TOKEN": demo_data.ZENDESK_TOKEN,
        "HUBSPOT_ACCESS_TOKEN": demo_data.HUBSPOT_TOKEN,
        "SLACK_BOT_TOKEN": demo_data.SLACK_TOKEN,
    }
    log_path = ROOT / ".triage" / "loadtest.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Triage Gate load test: {sent_events} events in {len(plan.requests)} requests, {args.workers} senders")
    print(f"  function logs: {log_path}")
    sandboxes = Sandboxes(
        zendesk_email=demo_data.ZENDESK_EMAIL, zendesk_token=demo_data.ZENDESK_TOKEN,
        hubspot_token=demo_data.HUBSPOT_TOKEN, slack_token=demo_data.SLACK_TOKEN,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, log_path.open("w", encoding="utf-8") as log, sandboxes:
        seed(sandboxes, plan)
        flags = Path(tmp) / "flags.json"
        flags.write_text(json.dumps(flags_document()), encoding="utf-8")
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("TRIAGE_", "AWS_ENDPOINT"))}
        environ.update({**secrets, **sandboxes.env(), "FLAGS_FILE": str(flags)})
        environ.pop("ANTHROPIC_API_KEY", None)
        config = RunnerConfig(template_path=ROOT / "template.yaml", port=0, environ=environ,
                              retry_delay_seconds=RETRY_DELAY_SECONDS)  # fmt: skip
        started_runner = time.monotonic()
        with LocalRunner(config, log=log) as runner:
            print(f"  stack up in {time.monotonic() - started_runner:.1f} s at {runner.base_url}")
            _warm_up(runner, secrets)
            sender = Sender(runner.base_url, secrets)
            send_started = time.monotonic()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                list(pool.map(sender.send, plan.requests))
            send_seconds = time.monotonic() - send_started
            print(f"  sent in {send_seconds:.1f} s; waiting for the queues to drain...", flush=True)
            drain_seconds, drained, depths = drain(runner, args.drain_timeout)
            items = scan_items(runner, "DecisionsTable")
            dlqs = dlq_keys(runner)
            depths = runner.queue_depths()
            function_hwm = {
                name: vm_hwm_kib(proc._proc.pid)
                for name, proc in runner.functions.items()
                if getattr(proc, "_proc", None) is not None
            }
            zendesk_notes = _notes(sandboxes)
            slack = sandboxes.slack
            slack_posts = sum(len(slack.messages(cid)) for cid in slack.channels.values())
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    report(
        plan,
        sender,
        items,
        dlqs,
        depths,
        zendesk_notes,
        policy,
        send_seconds=send_seconds,
        drain_seconds=drain_seconds,
        drained=drained,
        self_rss=self_rss,
        children_rss=children_rss,
        function_hwm=function_hwm,
    )
    print(f"Slack messages posted (review cases): {slack_posts}")  # fmt: skip
    return 0


def _warm_up(runner: LocalRunner, secrets: dict[str, str]) -> None:
    """One ignored event first, so the ingest worker's imports are not timed."""
    body = json.dumps([{**json.loads(Sample.load(EVENTS / "ingest__hubspot_batch.json").body)[3]}]).encode()
    sample = Sample("hubspot", body, {"content-type": "application/json"})
    url = f"{runner.base_url}/webhooks/hubspot"
    requests.post(url, data=body, headers=signed_headers(sample, secrets["HUBSPOT_CLIENT_SECRET"], url), timeout=60)


def _notes(sandboxes: Sandboxes) -> dict[str, list[str]]:
    """Decision refs of the AI notes on each ticket at the fakes: `{"zendesk:60001": [ref, ...]}`."""
    pattern = re.compile(re.escape(NOTE_MARKER) + r" ([0-9a-f]{12})")
    found: dict[str, list[str]] = {}
    zendesk = sandboxes.zendesk
    with zendesk.lock:
        ticket_ids = list(zendesk.comments)
    for ticket_id in ticket_ids:
        refs = [m.group(1) for c in zendesk.comments_for(ticket_id) for m in pattern.finditer(c.get("body") or "")]
        if refs:
            found[f"zendesk:{ticket_id}"] = refs
    hubspot = sandboxes.hubspot
    with hubspot.lock:
        notes = [json.dumps(n) for n in hubspot.notes.values()]
    for note in notes:
        for m in pattern.finditer(note):
            found.setdefault("hubspot:notes", []).append(m.group(1))
    return found


@dataclass
class IntakeTally:
    """What intake answered, per event."""

    outcome: Counter[str] = field(default_factory=Counter)
    accepted: dict[str, tuple[str, str]] = field(default_factory=dict)  # dedupe key -> (source, event type)
    accepted_twice: int = 0
    http: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, plan: Plan) -> IntakeTally:
        tally = cls()
        for request in plan.requests:
            tally.http[f"{request.status}"] += 1
            tally.add(request)
        return tally

    def add(self, request: Any) -> None:
        answer = request.answer or {}
        if request.status is None or request.status >= 500:
            self.outcome["no answer / 5xx after retries"] += len(request.events)
            return
        if request.status >= 400:
            self.outcome["rejected (request 4xx)"] += len(request.events)
            self.reasons[f"{request.kind} → {request.status} {answer.get('error')}"] += 1
            return
        listed = answer.get("events") or []
        if len(listed) != len(request.events):
            self.outcome["answer does not list every event"] += len(request.events) - len(listed)
        for entry in listed:
            status = entry.get("status")
            self.outcome[{"accepted": "accepted", "duplicate": "duplicate", "ignored": "ignored",
                          "rejected": "rejected (event)"}.get(status, f"status {status}")] += 1  # fmt: skip
            if status == "accepted":
                key = entry["dedupe_key"]
                self.accepted_twice += key in self.accepted
                self.accepted[key] = request.events[entry["index"]]


@dataclass
class Fates:
    """What became of each accepted event."""

    fate: Counter[str] = field(default_factory=Counter)
    detail: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    unaccounted: list[str] = field(default_factory=list)

    def add(self, key: str, record: DecisionRecord | None, dlq: str | None, classified: bool) -> None:
        if record is not None:
            self.latencies.append((record.created_at - record.occurred_at).total_seconds() * 1000)
            self._decided(key, record)
        elif dlq is not None:
            self.fate["DLQ"] += 1
            self.detail[f"DLQ: {dlq}"] += 1
        elif not classified:
            self.fate["not classified"] += 1
        else:
            self.unaccounted.append(key)

    def _decided(self, key: str, record: DecisionRecord) -> None:
        if record.status != "routed":
            self.fate["decided but never routed"] += 1
            self.unaccounted.append(key)
        elif record.action == "apply":
            self.fate["applied"] += 1
            self.detail[f"apply: write-back {(record.writeback or {}).get('status', 'none')}"] += 1
        elif record.action == "review":
            self.fate["in review"] += 1
            self.detail[f"review: {(record.review or {}).get('state', 'not posted to Slack')}"] += 1
        else:
            self.fate["shadow (record only)"] += 1
            self.detail[f"record: mode {record.mode}"] += 1


def _records(items: list[dict[str, Any]]) -> dict[str, DecisionRecord]:
    records = {}
    for item in items:
        record = DecisionRecord.model_validate_json(item["record"]["S"])
        record.status = "routed" if item["status"]["S"] == "routed" else "decided"
        record.writeback = json.loads(item["writeback"]["S"]) if "writeback" in item else None
        review_state = item.get("review_state", {}).get("S")
        record.review = {"state": review_state} if review_state else None
        records[record.decision_id] = record
    return records


def _fates(tally: IntakeTally, records: dict[str, DecisionRecord], dlqs: dict[str, Counter[str]], policy: Any) -> Fates:
    in_dlq = {key: queue for queue, keys in dlqs.items() for key in keys}
    fates = Fates()
    for key, (source, event_type) in tally.accepted.items():
        classified = policy.workflow_for(source, event_type) is not None
        if records.get(key) is None and key not in in_dlq and not classified:
            fates.detail[f"not classified: {source} {event_type}"] += 1
        fates.add(key, records.get(key), in_dlq.get(key), classified)
    for queue, keys in dlqs.items():  # write-back / review DLQs hold decisions (counted above as decided)
        for key, n in keys.items():
            if key not in tally.accepted:
                fates.detail[f"DLQ {queue}: message not from this run's intake ({key[:40]})"] += n
    return fates


def _note_counts(notes: dict[str, list[str]], records: dict[str, DecisionRecord]) -> tuple[int, int, int]:
    """(duplicate AI notes for one decision, all notes, notes without an apply decision)."""
    duplicate = sum(n - 1 for refs in notes.values() for n in Counter(refs).values() if n > 1)
    total = sum(len(refs) for refs in notes.values())
    applied = {decision_ref(r.decision_id) for r in records.values() if r.action == "apply" and r.mode != "shadow"}
    stray = sum(1 for refs in notes.values() for ref in refs if ref not in applied)
    return duplicate, total, stray


def report(
    plan: Plan,
    sender: Sender,
    items: list[dict[str, Any]],
    dlqs: dict[str, Counter[str]],
    depths: dict[str, Any],
    notes: dict[str, list[str]],
    policy: Any,
    *,
    send_seconds: float,
    drain_seconds: float,
    drained: bool,
    self_rss: int,
    children_rss: int,
    function_hwm: dict[str, int],
) -> None:
    sent_events = sum(len(r.events) for r in plan.requests)
    tally = IntakeTally.of(plan)
    records = _records(items)
    fates = _fates(tally, records, dlqs, policy)
    outcome, fate = tally.outcome, fates.fate
    rejected = outcome["rejected (request 4xx)"] + outcome["rejected (event)"]
    pipeline = sum(fate.values()) - fate["decided but never routed"]
    lost = sent_events - (rejected + outcome["duplicate"] + outcome["ignored"] + pipeline)
    duplicate_notes, notes_total, stray_notes = _note_counts(notes, records)
    _print_intake(tally, sender, fates, records, depths)
    lat = [x for x in fates.latencies if x == x]
    fmt_ms = "{:,.0f} ms".format
    mib = 1024
    rows = [
        ("events sent (received)", f"{sent_events:,}", ">= 2,000", sent_events >= 2000),
        ("  rejected (4xx + per-event)", f"{rejected:,}", "~5% (invalid)", None),
        ("  duplicates", f"{outcome['duplicate']:,}", "~10% (re-sends)", None),
        ("  ignored", f"{outcome['ignored']:,}", "-", None),
        ("  applied", f"{fate['applied']:,}", "-", None),
        ("  in review", f"{fate['in review']:,}", "-", None),
        ("  shadow (record only)", f"{fate['shadow (record only)']:,}", "-", None),
        ("  not classified", f"{fate['not classified']:,}", "-", None),
        ("  DLQ", f"{fate['DLQ']:,}", "-", None),
        ("unaccounted events", f"{lost:,}", "0", lost == 0 and not fates.unaccounted),
        ("duplicate write-backs (AI notes)", f"{duplicate_notes} of {notes_total} notes", "0", duplicate_notes == 0),
        ("notes without an apply decision", f"{stray_notes}", "0", stray_notes == 0),
        ("intake throughput",
         f"{sent_events / send_seconds:,.0f} events/s, {len(plan.requests) / send_seconds:,.1f} req/s", "-", None),
        ("send phase", f"{send_seconds:,.1f} s", "-", None),
        ("end-to-end p50 / p95 / p99", " / ".join(fmt_ms(percentile(lat, p)) for p in (50, 95, 99)),
         "-", None),
        ("  (occurred_at -> decision created_at)", f"{len(lat):,} decisions, max {fmt_ms(max(lat) if lat else 0)}",
         "", None),
        ("time to drain after the burst", f"{drain_seconds:,.1f} s" + ("" if drained else " (TIMED OUT)"),
         "drains", drained),
        ("peak RSS: runner process", f"{self_rss / mib:,.0f} MiB", "-", None),
        ("peak RSS: largest function worker", f"{children_rss / mib:,.0f} MiB", "-", None),
    ]  # fmt: skip
    _print_rows(rows)
    hwm = ", ".join(f"{k.removesuffix('Function')} {v / mib:.0f}" for k, v in sorted(function_hwm.items()))
    print(f"peak RSS per function worker (MiB, VmHWM): {hwm}")
    print(
        f"check: received {sent_events:,} = rejected {rejected:,} + duplicates {outcome['duplicate']:,} + ignored "
        f"{outcome['ignored']:,} + (applied {fate['applied']:,} + in review {fate['in review']:,} + shadow "
        f"{fate['shadow (record only)']:,} + not classified {fate['not classified']:,} + DLQ {fate['DLQ']:,}) "
        f"+ unaccounted {lost:,}"
    )
    if sum(outcome.values()) != sent_events:
        print(f"  note: intake answered for {sum(outcome.values()):,} of {sent_events:,} events")
    if fates.unaccounted:
        print(f"  accepted but with no decision, DLQ entry or not-classified reason: {fates.unaccounted[:5]}")
    missed = [name.strip() for name, _, _, met in rows if met is False]
    print(
        f"NOT MET: {', '.join(missed)}"
        if missed
        else "ALL TARGETS MET: every event accounted for, no duplicate write-backs"
    )


def _print_intake(
    tally: IntakeTally, sender: Sender, fates: Fates, records: dict[str, DecisionRecord], depths: dict[str, Any]
) -> None:
    print()
    print("Intake (HTTP answers)")
    print(f"  requests by status: {dict(sorted(tally.http.items()))}; retried after 5xx/errors: {dict(sender.retries)}")
    for reason, n in sorted(tally.reasons.items()):
        print(f"    {n:5d} x {reason}")
    twice = f"; accepted twice: {tally.accepted_twice}" if tally.accepted_twice else ""
    print(f"  per event: {dict(tally.outcome)}{twice}")
    print("What became of the accepted events")
    for name, n in sorted(fates.detail.items()):
        print(f"  {n:6d}  {name}")
    extra_records = len(set(records) - set(tally.accepted))
    if extra_records:
        print(f"  ({extra_records} decision records not from this run's accepted events: warm-up or demo)")
    print(f"Queues after the run: {json.dumps({k: v['visible'] + v['in_flight'] for k, v in depths.items()})}")
    print()


def _print_rows(rows: list[tuple[str, str, str, bool | None]]) -> None:
    width = max(len(r[0]) for r in rows) + 2
    vwidth = max(len(r[1]) for r in rows) + 2
    print(f"{'figure':<{width}}{'measured':<{vwidth}}{'target':<18}met")
    print("-" * (width + vwidth + 22))
    for name, value, target, met in rows:
        mark = "" if met is None else ("yes" if met else "NO")
        print(f"{name:<{width}}{value:<{vwidth}}{target:<18}{mark}")


if __name__ == "__main__":
    sys.exit(main())
