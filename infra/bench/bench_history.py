"""`triage history pull` throughput and memory, side by side with a bare fetch loop (the floor).

For each source and size: a generated history (``triage_local.sandboxes.history``, no tickets updated
during the export so every run sees the same data) is served by the sandbox in its own process with
every rate limit lifted (``--no-pacing`` on the client), so the pull's peak RSS is its own. Then, each
in a fresh process: the reference — a bare `requests` loop fetching the same pages and discarding them
(Zendesk: the cursor export with the same sideloads; HubSpot: the same createdate windows, halved past
the 10,000 cap, the same 50-ticket history reads and company-name reads) — and the real pull (``triage
history pull``: masking, mapping, staging, state after every page, the final pass and the baseline).
Tickets/s are medians of ``--runs`` runs where a run is cheap (≤ 20,000 tickets), one run above. Peak
RSS is the process's ``ru_maxrss`` (``os.wait4``). Target: under 200 MB at 100,000 tickets, flat in the
count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT / "infra" / "local"), str(ROOT / "infra" / "tools")]

ZD_EMAIL, ZD_TOKEN, HS_TOKEN = "bench@acme.test", "bench-zd-token", "bench-hs-token"
MONTHS = 3
CHEAP = 20_000  # repeat runs up to this many tickets
RSS_TARGET_MB = 200
HEADER = ("source", "tickets", "run", "tickets/s", "seconds", "peak RSS MB")


# the sandbox process --------------------------------------------------------------------------------------------
def serve(source: str, count: int) -> None:
    """Generate, load and serve a history; print its URL and window; serve until stdin closes."""
    from triage_local.sandboxes import FakeHubSpot, FakeZendesk
    from triage_local.sandboxes.history import Rates, generate_history
    from triage_local.sandboxes.history_load import load_hubspot, load_zendesk

    history = generate_history(source, count=count, months=MONTHS, seed=0, rates=Rates(later=0.0))  # type: ignore[arg-type]
    fake: Any
    if source == "zendesk":
        fake = FakeZendesk(ZD_EMAIL, ZD_TOKEN, rate_limit_per_minute=None, ticket_updates_per_10_minutes=None)
        load_zendesk(fake, history)
        fake.export.configure(requests_per_minute=None)
    else:
        fake = FakeHubSpot(HS_TOKEN, rate_limit_per_10s=None)
        load_hubspot(fake, history)
        fake.search.configure(requests_per_second=None)
    _answer_without_nagle_delay(fake)
    fake.start()
    since = (history.now - timedelta(days=31 * MONTHS)).date().isoformat()
    until = (history.now + timedelta(days=1)).date().isoformat()
    print(json.dumps({"url": fake.url, "since": since, "until": until}), flush=True)
    sys.stdin.read()
    fake.stop()


def _answer_without_nagle_delay(fake: Any) -> None:
    """The sandboxes write a response as two segments (headers, then body) on a socket without TCP_NODELAY, so
    every answer waits for the client's delayed ACK: ~45 ms per request on loopback, which would make this a
    benchmark of that stall (HubSpot's pull is 250 POSTs per 10,000 tickets). Served here with TCP_NODELAY."""
    make_handler = fake._handler_class

    def handler_class() -> Any:
        handler = make_handler()
        handler.disable_nagle_algorithm = True
        return handler

    fake._handler_class = handler_class


# the measured processes -----------------------------------------------------------------------------------------
def run_pull(source: str, url: str, since: str, until: str) -> dict[str, float]:
    from triage_tools.cli import main

    os.environ.update({"ZENDESK_BASE_URL": url, "ZENDESK_EMAIL": ZD_EMAIL, "ZENDESK_API_TOKEN": ZD_TOKEN,
                       "HUBSPOT_BASE_URL": url, "HUBSPOT_ACCESS_TOKEN": HS_TOKEN})  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="bench-history-"))
    try:
        started = time.perf_counter()
        code = main(["history", "pull", "--source", source, "--since", since, "--until", until, "--out", str(out),
                     "--no-pacing"])  # fmt: skip
        seconds = time.perf_counter() - started
        if code != 0:
            raise SystemExit(f"the pull failed with exit code {code}")
        seen = json.loads((out / "baseline.json").read_text(encoding="utf-8"))["seen"]
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "tickets": seen}


def run_reference(source: str, url: str, since: str, until: str) -> dict[str, float]:
    import requests

    session = requests.Session()
    started = time.perf_counter()
    if source == "zendesk":
        session.auth = (f"{ZD_EMAIL}/token", ZD_TOKEN)
        tickets = _zendesk_floor(session, url, since)
    else:
        session.headers["Authorization"] = f"Bearer {HS_TOKEN}"
        tickets = _hubspot_floor(session, url, since, until)
    return {"seconds": time.perf_counter() - started, "tickets": tickets}


def _zendesk_floor(session: Any, url: str, since: str) -> int:
    start = int(datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp())
    params: dict[str, Any] = {"start_time": start, "include": "metric_sets,users,organizations"}
    seen: set[int] = set()
    while True:
        body = session.get(f"{url}/api/v2/incremental/tickets/cursor.json", params=params, timeout=120).json()
        seen.update(t["id"] for t in body["tickets"])
        if body["end_of_stream"]:
            return len(seen)
        params = {"cursor": body["after_cursor"], "include": "metric_sets,users,organizations"}


def _hubspot_floor(session: Any, url: str, since: str, until: str) -> int:
    low = int(datetime.fromisoformat(since).replace(tzinfo=UTC).timestamp() * 1000)
    end = high = int(datetime.fromisoformat(until).replace(tzinfo=UTC).timestamp() * 1000)
    routing = ["hubspot_owner_id", "ai_triage_category", "hs_ticket_category", "hs_ticket_priority"]
    fetched, after = 0, None
    while low < high:
        query: dict[str, Any] = {
            "filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GTE", "value": str(low)},
                                          {"propertyName": "createdate", "operator": "LT", "value": str(end)}]}],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "properties": ["subject", "content", "createdate", *routing], "limit": 200,
            **({"after": after} if after else {}),
        }  # fmt: skip
        body = session.post(f"{url}/crm/v3/objects/tickets/search", json=query, timeout=120).json()
        if after is None and body["total"] >= 10_000:
            end = low + (end - low) // 2
            continue
        ids = [r["id"] for r in body["results"]]
        for chunk in range(0, len(ids), 50):
            read = {"inputs": [{"id": i} for i in ids[chunk : chunk + 50]], "propertiesWithHistory": routing}
            session.post(f"{url}/crm/v3/objects/tickets/batch/read", json=read, timeout=120).json()
        _hubspot_company_names(session, url, ids)
        fetched += len(ids)
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if after is None:
            low, end = end, min(high, end + 2 * (end - low))
    return fetched


def _hubspot_company_names(session: Any, url: str, ids: list[str]) -> None:
    """The same associations and companies reads the pull makes to mask company names."""
    if not ids:
        return
    links = session.post(f"{url}/crm/v4/associations/tickets/companies/batch/read",
                         json={"inputs": [{"id": i} for i in ids]}, timeout=120).json()  # fmt: skip
    companies = list(dict.fromkeys(str(to["toObjectId"]) for r in links["results"] for to in r["to"]))
    for chunk in range(0, len(companies), 100):
        read = {"inputs": [{"id": c} for c in companies[chunk : chunk + 100]], "properties": ["name"]}
        session.post(f"{url}/crm/v3/objects/companies/batch/read", json=read, timeout=120).json()


# the parent -----------------------------------------------------------------------------------------------------
def measured(kind: str, source: str, served: dict[str, str]) -> tuple[dict[str, float], float]:
    """Run one measured process; its result and its peak RSS in MB."""
    command = [sys.executable, __file__, "--child", kind, source, served["url"], served["since"], served["until"]]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    output = child.stdout.read() if child.stdout else ""
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{kind} run for {source} failed")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def bench(source: str, count: int, runs: int) -> list[tuple[str, ...]]:
    server = subprocess.Popen([sys.executable, __file__, "--serve", source, str(count)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        served = json.loads(server.stdout.readline() if server.stdout else "{}")
        table = []
        for kind in ("reference", "pull"):
            results = [measured(kind, source, served) for _ in range(runs if count <= CHEAP else 1)]
            rate = statistics.median(r["tickets"] / r["seconds"] for r, _ in results)
            seconds = statistics.median(r["seconds"] for r, _ in results)
            rss = max(mb for _, mb in results)
            label = "bare requests loop (floor)" if kind == "reference" else "triage history pull"
            table.append((source, f"{int(results[0][0]['tickets']):,}", label, f"{rate:,.0f}", f"{seconds:.1f}",
                          f"{rss:.0f}"))  # fmt: skip
        return table
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=60)


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    for row in [HEADER, *rows]:
        print("  ".join(str(cell).rjust(width) if i in (1, 3, 4, 5) else str(cell).ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths, strict=True))))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", default="zendesk,hubspot")
    parser.add_argument("--sizes", default="10000,100000", help="ticket counts, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement when cheap (median)")
    parser.add_argument("--serve", nargs=2, metavar=("SOURCE", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=5, metavar=("KIND", "SOURCE", "URL", "SINCE", "UNTIL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if args.child:
        kind, source, url, since, until = args.child
        print(json.dumps((run_pull if kind == "pull" else run_reference)(source, url, since, until)))
        return
    print(__doc__.split("\n\n")[0])
    rows = []
    for source in args.sources.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            rows.extend(bench(source, size, args.runs))
    print_table(rows)
    pulls = [float(r[5]) for r in rows if r[2] == "triage history pull"]
    verdict = "MET" if pulls and max(pulls) < RSS_TARGET_MB else "MISSED"
    print(f"peak RSS of the pull: max {max(pulls):.0f} MB (target < {RSS_TARGET_MB} MB at 100,000 tickets: {verdict})")


if __name__ == "__main__":
    main()
