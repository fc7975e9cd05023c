"""boto3 clients with short timeouts: each made at its first use and kept while the instance is warm.

boto3 honours AWS_ENDPOINT_URL itself, which is how the local runner points everything at moto.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from triage_gate.adapters.botocore_data import botocore_session


class LazyClient:
    """A boto3 client made when it is first used, then kept: every attribute is the real client's.

    Making a client costs ~25-35 ms of a cold start (its service model and endpoint rules). A function
    wires every client its service may need (WritebackFunction's SQS client re-queues only a write-back
    that must wait; the scheduled functions' Secrets Manager client is read only when there is something to
    post), so a first request that never calls a service no longer pays for its client.
    """

    __slots__ = ("_client", "_make")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    @property
    def made(self) -> bool:
        return self._client is not None

    def unwrap(self) -> Any:
        """The boto3 client itself (made now if it was not yet): for what needs the object, such as a Stubber."""
        if self._client is None:
            self._client = self._make()
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client if self._client is not None else self.unwrap(), name)

    def __repr__(self) -> str:
        return f"LazyClient({self._client!r})" if self.made else "LazyClient(not made yet)"


class AwsClients:
    """One client per (service, timeouts), made on first use and kept for the life of this object.

    Every client comes from one boto3 session: a session loads botocore's endpoint and service data once
    for all its clients, where a session per client would load it again for each (tens of ms of a cold
    start per client). Its botocore session loads that data for less: no scan of every service directory
    before the first model, and msgspec decoding (37-56 ms less for three clients; see botocore_data)."""

    def __init__(self, session: Any = None) -> None:
        self._session = session
        self._clients: dict[tuple[str, float, float], LazyClient] = {}

    def client(self, service: str, *, connect_timeout: float = 2.0, read_timeout: float = 3.0) -> Any:
        """The client for ``service`` with these timeouts (a :class:`LazyClient`: made at its first call)."""
        key = (service, connect_timeout, read_timeout)
        if key not in self._clients:
            self._clients[key] = LazyClient(lambda: self._make(service, connect_timeout, read_timeout))
        return self._clients[key]

    def _make(self, service: str, connect_timeout: float, read_timeout: float) -> Any:
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": 2, "mode": "standard"},
        )
        if self._session is None:
            self._session = boto3.session.Session(botocore_session=botocore_session())
        return self._session.client(service, config=config)
