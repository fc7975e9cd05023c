"""The runner's plumbing around its AWS endpoint: sessions bound to it, credentials, ports, health."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Mapping
from typing import Any

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class EndpointSession:
    """A boto3 session whose clients all talk to the runner's AWS endpoint."""

    def __init__(self, session: Any, endpoint_url: str | None) -> None:
        self._session = session
        self._endpoint_url = endpoint_url

    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self._endpoint_url)


def local_credentials(endpoint_url: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """Dummy credentials for the embedded moto; the user's own for an endpoint they run."""
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_ENDPOINT_URL"):
        keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        return {k: environ[k] for k in keys if k in environ}
    return dict(LOCAL_CREDENTIALS)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the embedded moto server exited with code {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"the embedded moto server did not listen on {port} within {timeout:.0f}s")


def wait_until_healthy(base_url: str, timeout: float = 30.0) -> dict[str, Any]:
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            response = requests.get(f"{base_url}/healthz", timeout=2)
            if response.ok:
                return dict(json.loads(response.text))
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url}/healthz did not answer within {timeout:.0f}s")
        time.sleep(0.2)
