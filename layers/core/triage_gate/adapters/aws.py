"""boto3 clients with short timeouts, created lazily and once per process.

boto3 honours AWS_ENDPOINT_URL itself, which is how the local runner points everything at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str, *, connect_timeout: float = 2.0, read_timeout: float = 3.0) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return boto3.session.Session().client(service, config=config)
