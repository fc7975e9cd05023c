"""boto3 clients with short timeouts: made once per function instance, when it builds its service.

boto3 honours AWS_ENDPOINT_URL itself, which is how the local runner points everything at moto.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from triage_gate.adapters.botocore_data import botocore_session


class AwsClients:
    """One client per (service, timeouts), made on first use and kept for the life of this object.

    Every client comes from one boto3 session: a session loads botocore's endpoint and service data once
    for all its clients, where a session per client would load it again for each (tens of ms of a cold
    start per client). Its botocore session loads models with ScanFreeLoader, which skips botocore's scan
    of every service directory before the first model (~20 ms of a cold start; see botocore_data)."""

    def __init__(self, session: Any = None) -> None:
        self._session = session
        self._clients: dict[tuple[str, float, float], Any] = {}

    def client(self, service: str, *, connect_timeout: float = 2.0, read_timeout: float = 3.0) -> Any:
        key = (service, connect_timeout, read_timeout)
        if key not in self._clients:
            config = Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"max_attempts": 2, "mode": "standard"},
            )
            if self._session is None:
                self._session = boto3.session.Session(botocore_session=botocore_session())
            self._clients[key] = self._session.client(service, config=config)
        return self._clients[key]
