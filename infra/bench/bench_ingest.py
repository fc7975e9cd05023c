"""`make bench`: IngestFunction's cold import and per-event CPU cost, side by side with references.

Numbers, not pass/fail: this machine is noisy. Targets (issue #2): a cold start (import the handler and
build its service — the SQS and DynamoDB clients and the secret provider, everything before the first
network call) within 100 ms of importing boto3 and building the same two clients; under 1 ms CPU per
event; the HubSpot 100-event batch reported too. The handler imports boto3 itself, so its bare import
time is reported next to `import boto3`, not judged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "core"), str(ROOT / "infra" / "local"), str(ROOT / "infra" / "tools")]

IMPORT_RUNS = 7


def cold_import_ms(statement: str, extra_path: Sequence[Path] = ()) -> float:
    """Median wall time of ``statement`` in a fresh interpreter (bytecode already compiled)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in extra_path)}
    # Compiled bytecode on both sides: site-packages was compiled by pip; our modules must be too, or the
    # handler pays for compiling itself while the reference does not.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update({"POWERTOOLS_SERVICE_NAME": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    # What the template gives IngestFunction, so `app.SERVICE.get()` builds the deployed service: the SQS and
    # DynamoDB clients and the Secrets Manager provider (no network call until the first request).
    env.update({"TRIAGE_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/triage",
                "DEDUPE_TABLE_NAME": "dedupe", "TRIAGE_SECRET_ID": "triage-gate/bench/vendor",
                "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})  # fmt: skip
    subprocess.run([sys.executable, "-c", statement], env=env, check=True, capture_output=True)  # warm pyc
    samples = []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return statistics.median(samples)


def cpu_per_call_us(fn: Callable[[], Any], calls: int) -> float:
    for _ in range(min(50, calls)):
        fn()
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(calls):
            fn()
        best = min(best, (time.process_time() - start) / calls * 1e6)
    return best


@contextlib.contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Redirect file descriptor 1: Powertools holds its own reference to the stdout stream."""
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


class AlwaysNewDedupe:
    """Every key is new: measures the accepted path, the expensive one."""

    def claim(self, keys: Sequence[str], now: datetime) -> set[str]:
        return set(keys)

    def confirm(self, keys: Sequence[str], now: datetime) -> None:
        return None

    def release(self, keys: Sequence[str]) -> None:
        return None


class DiscardQueue:
    def send(self, events: Sequence[Any]) -> list[str]:
        return []


def handler_benchmarks() -> dict[str, float]:
    os.environ.update(
        {
            "POWERTOOLS_SERVICE_NAME": "ingest",
            "TRIAGE_QUEUE_URL": "https://sqs.local/triage",
            "DEDUPE_TABLE_NAME": "dedupe",
            "HUBSPOT_WEBHOOK_URL": "https://hooks.example.test/webhooks/hubspot",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    import importlib.util

    from tests.builders import load_event, make_secrets, sign_hubspot, sign_zendesk

    from triage_gate.compose.common import Lazy
    from triage_gate.compose.ingest import Ingest
    from triage_gate.config import IngestSettings
    from triage_gate.intake.service import IntakeService
    from triage_local.worker import LocalLambdaContext
    from triage_tools.memory import StaticSecrets

    settings = IngestSettings.from_env()
    service = IntakeService(settings, StaticSecrets(make_secrets()), AlwaysNewDedupe(), DiscardQueue())
    spec = importlib.util.spec_from_file_location("ingest_app", ROOT / "functions" / "ingest" / "app.py")
    assert spec
    assert spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    app.SERVICE = Lazy.of(Ingest(service, settings.retry_after_seconds))  # AWS stubbed: in-memory store and queue
    context = LocalLambdaContext(int(time.time() * 1000) + 3_600_000)

    zendesk = sign_zendesk(load_event("ingest__zendesk_ticket_created.json"))
    batch = json.loads(load_event("ingest__hubspot_batch.json")["body"])[:2]
    hundred = [dict(batch[i % 2], eventId=4_000_000_000 + i, objectId=19_000_000 + i) for i in range(100)]
    hubspot = load_event("ingest__hubspot_batch.json")
    hubspot["body"] = json.dumps(hundred)
    hubspot = sign_hubspot(hubspot)

    def invoke(event: dict[str, Any]) -> Callable[[], Any]:
        def call() -> Any:
            response = app.lambda_handler(event, context)
            assert response["statusCode"] == 200, response
            return response

        return call

    body = zendesk["body"].encode()
    secret = b"zd-test-signing-secret"
    timestamp = zendesk["headers"]["x-zendesk-webhook-signature-timestamp"].encode()

    def reference() -> Any:
        hmac.new(secret, timestamp + body, hashlib.sha256).digest()
        return json.loads(body)

    with stdout_to_devnull():  # the handler's logs and EMF lines are written, to nowhere
        zendesk_us = cpu_per_call_us(invoke(zendesk), 400)
        hubspot_us = cpu_per_call_us(invoke(hubspot), 40)
    return {
        "zendesk_event_us": zendesk_us,
        "reference_us": cpu_per_call_us(reference, 20_000),
        "hubspot_batch_us": hubspot_us,
        "hubspot_reference_us": cpu_per_call_us(
            lambda: (
                hmac.new(secret, hubspot["body"].encode(), hashlib.sha256).digest(),
                json.loads(hubspot["body"]),
            ),
            5_000,
        ),
    }


def main() -> int:
    ingest_path = [ROOT / "functions" / "ingest", ROOT / "layers" / "core"]
    boto3_ms = cold_import_ms("import boto3")
    boto3_clients_ms = cold_import_ms("import boto3; boto3.client('sqs'); boto3.client('dynamodb')")
    handler_ms = cold_import_ms("import app", ingest_path)
    first_request_ms = cold_import_ms(
        "import app; app.SERVICE.get()",
        ingest_path,
    )
    numbers = handler_benchmarks()
    rows = [
        ("cold start: import handler + build its service", f"{first_request_ms:8.1f} ms",
         f"boto3 + same 2 clients {boto3_clients_ms:6.1f} ms", f"≤ ref + 100 ms ({boto3_clients_ms + 100:.0f} ms)",
         first_request_ms <= boto3_clients_ms + 100),
        ("cold import: handler module (boto3 included)", f"{handler_ms:8.1f} ms",
         f"import boto3 {boto3_ms:8.1f} ms", "(reported)", True),
        ("CPU per Zendesk event (handler)", f"{numbers['zendesk_event_us']:8.1f} µs",
         f"HMAC+json.loads {numbers['reference_us']:6.1f} µs", "< 1000 µs", numbers["zendesk_event_us"] < 1000),
        ("CPU per HubSpot event (100-event batch)", f"{numbers['hubspot_batch_us'] / 100:8.1f} µs",
         f"HMAC+json.loads {numbers['hubspot_reference_us'] / 100:6.1f} µs", "< 1000 µs",
         numbers["hubspot_batch_us"] / 100 < 1000),
        ("CPU per HubSpot 100-event batch", f"{numbers['hubspot_batch_us'] / 1000:8.2f} ms",
         f"HMAC+json.loads {numbers['hubspot_reference_us'] / 1000:6.2f} ms", "(reported)", True),
    ]  # fmt: skip
    print(f"Python {sys.version.split()[0]} on {os.uname().machine}; AWS calls stubbed; medians/best of runs\n")
    header = ("benchmark", "triage gate", "reference", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
    for row in rows:
        verdict = ("met" if row[4] else "MISSED") if row[3] != "(reported)" else ""
        print("  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths, strict=True)) + f"  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
