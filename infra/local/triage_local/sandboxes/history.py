"""A realistic help-desk history for the sandboxes, generated from the project's own seed examples.

Several thousand tickets over a few months (``count``, ``months``, ``seed``, ``now``): texts drawn from
``infra/seed/<desk>.csv`` (text, category, priority) and varied so no row is a verbatim copy (greetings,
sign-offs with the requester's name, reference numbers, the odd email address, phone or account number,
typos); created mostly on weekdays in business hours; first assigned by a person after a delay that
follows business hours with a long tail; about one in ten first routed to the wrong team and re-routed;
a few deleted, merged and never routed; some updated again while an export runs (so they reappear in it).
Every timestamp is relative to ``now``. ``history_load`` puts a history into FakeZendesk / FakeHubSpot.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

SEED_DIR = Path(__file__).resolve().parents[3] / "seed"
SEED_FILES = {"zendesk": "zendesk-support.csv", "hubspot": "hubspot-tickets.csv"}
Desk = Literal["zendesk", "hubspot"]
Fate = Literal["routed", "unassigned", "unrouted", "deleted", "merged"]
Later = Literal["", "solved", "rerouted", "deleted"]
SETTLED = timedelta(minutes=3)  # nothing happens in the last minutes (exports leave the last minute out)

FIRST = ("Priya", "Tomas", "Aisha", "Lars", "Mei", "Jonas", "Fatima", "Oliver", "Chiara", "Kwame", "Sofia",
         "Hiroshi", "Elena", "Mateo", "Zoe", "Ibrahim", "Annika", "Diego", "Nora", "Ravi", "Grace")  # fmt: skip
LAST = ("Sharma", "Berg", "Okafor", "Nilsson", "Chen", "Weber", "Haddad", "Brennan", "Romano", "Mensah",
        "Alvarez", "Tanaka", "Petrova", "Garcia", "Fischer", "Kowalski", "Silva", "Dubois", "Novak")  # fmt: skip
ORGANISATIONS = ("Northwind Traders", "Globex Analytics", "Initech Systems", "Umbrella Logistics", "Hooli Retail",
                 "Vandelay Imports", "Tyrell Robotics", "Wayne Foods", "Soylent Labs", "Stark Freight",
                 "Acme Outdoor", "Pied Piper Media", "Cyberdyne Health", "Gringotts Finance")  # fmt: skip
GREETINGS = ("", "", "Hi,", "Hello,", "Hi team,", "Hello support,", "Hey there,", "Good morning,", "Dear support team,")
SIGN_OFFS = ("", "", "Thanks,\n{first}", "Best regards,\n{full}", "Cheers, {first}", "Thank you!",
             "Kind regards,\n{full}\n{organisation}", "-- {full}")  # fmt: skip
REFERENCES = ("Ref: #{n}", "Order {n}", "(case {n})", "Our reference: ZX-{n}", "Invoice INV-{n}")


@dataclass(frozen=True)
class Rates:
    """Shares of tickets per outcome (the rest are routed and assigned normally)."""

    rerouted: float = 0.09  # first routed to the wrong team, then re-routed by a person (+ later re-routes)
    deleted: float = 0.01
    merged: float = 0.015
    unrouted: float = 0.02  # never given a group / owner
    unassigned: float = 0.02  # routed, never assigned by a person
    later: float = 0.03  # updated again while the export runs
    custom: float = 0.7  # the person also filled the team's category field (the policy's custom field)
    # People disagree with the text now and then: another plausible category, or the next priority up or down.
    category_noise: float = 0.04
    priority_noise: float = 0.15


@dataclass(frozen=True)
class GeneratedTicket:
    number: int  # 1-based, in creation order
    created_at: datetime
    subject: str
    text: str
    category: str
    priority: str
    requester: str
    organisation: str
    fate: Fate
    first_assigned_at: datetime | None
    rerouted_from: str | None  # the wrong category it was first routed to
    rerouted_at: datetime | None
    solved_at: datetime | None
    later: Later = ""
    later_category: str | None = None  # re-routed again during the export: the final category
    fills: frozenset[str] = field(default_factory=frozenset)  # optional fields filled: type, custom, priority

    @property
    def updated_at(self) -> datetime:
        moments = (self.created_at, self.first_assigned_at, self.rerouted_at, self.solved_at)
        return max(m for m in moments if m is not None)

    @property
    def final_category(self) -> str:
        return self.later_category or self.category

    @property
    def final_fate(self) -> Fate:
        return "deleted" if self.later == "deleted" else self.fate

    @property
    def final_rerouted(self) -> bool:
        return self.rerouted_from is not None or self.later == "rerouted"


@dataclass(frozen=True)
class History:
    desk: Desk
    now: datetime
    tickets: list[GeneratedTicket]
    labels: tuple[str, ...]  # the seed set's categories


@dataclass(frozen=True)
class SeedExample:
    text: str
    category: str
    priority: str


def read_seed(desk: Desk) -> list[SeedExample]:
    with (SEED_DIR / SEED_FILES[desk]).open(newline="", encoding="utf-8") as handle:
        return [SeedExample(r["text"], r["category"], r["priority"]) for r in csv.DictReader(handle)]


def generate_history(
    desk: Desk, *, count: int = 3000, months: int = 3, seed: int = 0, now: datetime | None = None,
    rates: Rates | None = None,
) -> History:  # fmt: skip
    """``count`` tickets created over the ``months`` before ``now`` (default: the current time)."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rates = rates or Rates()
    examples = read_seed(desk)
    labels = tuple(dict.fromkeys(e.category for e in examples))
    start, end = now - timedelta(days=30 * months), now - timedelta(minutes=10)
    moments = sorted(_created(rng, start, end) for _ in range(count))
    people = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(ORGANISATIONS)) for _ in range(max(count // 3, 1))]
    tickets = [
        _ticket(rng, number, created, rng.choice(examples), rng.choice(people), labels, rates, now)
        for number, created in enumerate(moments, start=1)
    ]
    return History(desk, now, tickets, labels)


def _ticket(
    rng: random.Random, number: int, created: datetime, example: SeedExample, person: tuple[str, str],
    labels: tuple[str, ...], rates: Rates, now: datetime,
) -> GeneratedTicket:  # fmt: skip
    fate = _fate(rng, rates)
    latest = now - SETTLED
    assigned = _first_assignment(rng, created) if fate in ("routed", "deleted", "merged") else None
    assigned = assigned if assigned is not None and assigned <= latest else None
    wrong = rerouted_at = None
    if assigned is not None and rng.random() < rates.rerouted:
        rerouted_at = assigned + timedelta(minutes=rng.lognormvariate(math.log(45), 0.8))
        wrong = rng.choice([label for label in labels if label != example.category]) if rerouted_at <= latest else None
        rerouted_at = rerouted_at if wrong else None
    solved = (rerouted_at or assigned or created) + timedelta(hours=rng.lognormvariate(math.log(6), 1.0))
    later: Later = ""
    if fate == "routed" and assigned is not None and rng.random() < rates.later:
        later = rng.choice(("solved", "rerouted", "rerouted", "deleted"))
    fills = {name for name, share in (("type", 0.85), ("custom", rates.custom), ("priority", 0.95))
             if rng.random() < share}  # fmt: skip
    return GeneratedTicket(
        number=number, created_at=created, subject=_subject(rng, example), category=_category(rng, example, labels,
        rates), text=vary_text(rng, example.text, person[0], person[1]), priority=_priority(rng, example, rates),
        requester=person[0], organisation=person[1], fate=fate, first_assigned_at=assigned, rerouted_from=wrong,
        rerouted_at=rerouted_at, solved_at=solved if solved <= latest and assigned else None, later=later,
        later_category=rng.choice([x for x in labels if x != example.category]) if later == "rerouted" else None,
        fills=frozenset(fills),
    )  # fmt: skip


PRIORITY_LEVELS = (("low",), ("normal", "medium"), ("high",), ("urgent",))


def _category(rng: random.Random, example: SeedExample, labels: tuple[str, ...], rates: Rates) -> str:
    if rng.random() >= rates.category_noise:
        return example.category
    return rng.choice([label for label in labels if label != example.category])


def _priority(rng: random.Random, example: SeedExample, rates: Rates) -> str:
    """The seed's priority, or (``priority_noise``) the level next to it, spelled as the seed spells it."""
    level = next(i for i, names in enumerate(PRIORITY_LEVELS) if example.priority.lower() in names)
    if rng.random() >= rates.priority_noise:
        return example.priority
    level = min(max(level + rng.choice((-1, 1)), 0), len(PRIORITY_LEVELS) - 1)
    name = PRIORITY_LEVELS[level][-1 if example.priority.isupper() else 0]
    return name.upper() if example.priority.isupper() else name


def _fate(rng: random.Random, rates: Rates) -> Fate:
    draw = rng.random()
    outcomes: tuple[tuple[Fate, float], ...] = (
        ("deleted", rates.deleted), ("merged", rates.merged), ("unrouted", rates.unrouted),
        ("unassigned", rates.unassigned),
    )  # fmt: skip
    for fate, share in outcomes:
        if draw < share:
            return fate
        draw -= share
    return "routed"


def in_business_hours(moment: datetime) -> bool:
    return moment.weekday() < 5 and 9 <= moment.hour < 17


def next_opening(moment: datetime) -> datetime:
    """``moment`` when the desk is staffed (Mon-Fri 09:00-17:00 UTC), else the next 09:00 on a weekday."""
    if in_business_hours(moment):
        return moment
    day = moment.replace(hour=9, minute=0, second=0)
    if moment.hour >= 17 or moment.weekday() >= 5:
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _created(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """Mostly weekdays, mostly working hours (rejection sampling over the period)."""
    span = (end - start).total_seconds()
    while True:
        moment = start + timedelta(seconds=int(span * rng.random()))
        weight = (0.35 if moment.weekday() >= 5 else 1.0) * (1.0 if 8 <= moment.hour < 18 else 0.3)
        if rng.random() < weight:
            return moment


def _first_assignment(rng: random.Random, created: datetime) -> datetime:
    """A person picks it up after a short delay once the desk is staffed; one in sixteen waits much longer."""
    minutes = rng.lognormvariate(math.log(20), 0.9)
    if rng.random() < 0.06:
        minutes += rng.uniform(120, 2880)
    return (next_opening(created) + timedelta(minutes=minutes)).replace(microsecond=0)


def _subject(rng: random.Random, example: SeedExample) -> str:
    words = example.text.replace("\n", " ").split(".")[0].split()
    subject = " ".join(words[:7]).rstrip(",;:!?") + ("…" if len(words) > 7 else "")
    prefix = rng.choice(("", "", "", "Re: ", "Question: ")) if example.priority.lower() != "urgent" else "URGENT: "
    return prefix + subject


def vary_text(rng: random.Random, text: str, requester: str, organisation: str) -> str:
    """The seed text with a greeting, a sign-off, maybe a reference, contact details or typos."""
    first = requester.split()[0]
    body = _typos(rng, text) if rng.random() < 0.25 else text
    extras = []
    if rng.random() < 0.2:
        extras.append(rng.choice(REFERENCES).format(n=rng.randint(10_000, 999_999)))
    contact = rng.random()
    email = f"{requester.lower().replace(' ', '.')}@{organisation.split()[0].lower()}.example"
    if contact < 0.06:
        extras.append(f"You can reach me at {email}.")
    elif contact < 0.10:
        extras.append(f"Call me on +44 20 7946 {rng.randint(1000, 9999)} if easier.")
    elif contact < 0.13:
        extras.append(f"Our account number is ACC-{rng.randint(1_000_000, 9_999_999)}.")
    sign_off = rng.choice(SIGN_OFFS).format(first=first, full=requester, organisation=organisation)
    parts = [rng.choice(GREETINGS), " ".join([body, *extras]), sign_off]
    varied = "\n\n".join(part for part in parts if part)
    return varied.lower() if rng.random() < 0.05 else varied


def _typos(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    candidates = [i for i, word in enumerate(words) if len(word) >= 5 and word.isalpha()]
    for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
        word = words[i]
        at = rng.randint(1, len(word) - 3)
        words[i] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)
