"""The benchmarks' AWS: one moto server in its own process, the template's resources in it, reset on demand.

Moto runs in a child process so that the CPU the benchmark process measures (``time.process_time``) is
the client's only: a moto thread in the same process would add its own work to every figure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "infra" / "tools", ROOT / "infra" / "local", ROOT / "layers" / "core", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(1, str(_path))  # after the script's own directory, before site-packages

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench"}
START_TIMEOUT_S = 30.0


class EndpointSession:
    """A boto3 session whose clients all talk to one endpoint (what ``provision`` expects of a session)."""

    def __init__(self, endpoint_url: str) -> None:
        import boto3

        self.endpoint_url = endpoint_url
        self._session = boto3.session.Session(
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=CREDENTIALS["AWS_SESSION_TOKEN"],
        )

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint_url)


class LocalAws:
    """``python -m moto.server`` on a free loopback port, with template.yaml's queues, tables, secret, topics.

    ``reset()`` empties moto and provisions the template again: every cold-start sample starts from the
    same state (a fresh dedupe table, an unclaimed ticket), so the first request takes the same path.
    """

    def __init__(self, secret_values: Mapping[str, str], template_path: Path = ROOT / "template.yaml") -> None:
        from triage_local.template import Template

        self.template = Template.load(template_path, region=REGION)
        self._secret_values = dict(secret_values)
        self._process: subprocess.Popen[bytes] | None = None
        self.endpoint_url = ""

    def start(self) -> Self:
        from triage_local.endpoints import free_port, wait_for_port  # the runner's own (sys.path set above)

        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.endpoint_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_port(port, self._process, START_TIMEOUT_S)
        except (RuntimeError, TimeoutError):
            self.stop()
            raise
        self.reset()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def reset(self, secret_values: Mapping[str, str] | None = None) -> None:
        """Empty moto (its own ``/moto-api/reset``) and create the template's resources again; the vendor
        secret holds the values given at start, with ``secret_values`` added (a scenario's own, say a key)."""
        from triage_local.provision import provision

        url = f"{self.endpoint_url}/moto-api/reset"
        request = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 - our own loopback moto
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()
        self.template.physical.clear()
        provision(self.template, EndpointSession(self.endpoint_url), {**self._secret_values, **(secret_values or {})})

    def session(self) -> EndpointSession:
        return EndpointSession(self.endpoint_url)

    def client_environment(self) -> dict[str, str]:
        """What a function (or the reference) needs to reach this endpoint: boto3 honours AWS_ENDPOINT_URL."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url, "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION}  # fmt: skip
