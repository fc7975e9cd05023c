"""Base URL and credentials for a pull, taken as the functions take them: environment, or the stack's secret.

Environment: ``ZENDESK_BASE_URL``, ``ZENDESK_EMAIL``, ``ZENDESK_API_TOKEN``; ``HUBSPOT_BASE_URL`` (default
https://api.hubapi.com), ``HUBSPOT_ACCESS_TOKEN``. With ``--secret-id`` the credentials (and the base URLs,
when the secret holds them) come from that Secrets Manager JSON secret instead, read with boto3
(``AWS_ENDPOINT_URL`` points it at a local endpoint).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HUBSPOT_DEFAULT_BASE_URL = "https://api.hubapi.com"
NEEDED = {
    "zendesk": ("ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN"),
    "hubspot": ("HUBSPOT_BASE_URL", "HUBSPOT_ACCESS_TOKEN"),
}


class AccessError(ValueError):
    """A credential or base URL is missing or malformed (a usage error: the command cannot start)."""


class SecretReadError(RuntimeError):
    """The secret could not be read (permissions, network, not JSON)."""


@dataclass(frozen=True)
class VendorAccess:
    base_url: str
    headers: dict[str, str]


def resolve_access(source: str, environ: Mapping[str, str], secret: Mapping[str, Any] | None = None) -> VendorAccess:
    """The vendor's base URL and auth header; a value in ``secret`` wins over the environment."""
    values = {name: str((secret or {}).get(name) or environ.get(name) or "").strip() for name in NEEDED[source]}
    if source == "hubspot" and not values["HUBSPOT_BASE_URL"]:
        values["HUBSPOT_BASE_URL"] = HUBSPOT_DEFAULT_BASE_URL
    missing = [name for name, value in values.items() if not value]
    if missing:
        where = "the secret or the environment" if secret is not None else "the environment (or use --secret-id)"
        raise AccessError(f"{source} needs {', '.join(NEEDED[source])}; missing from {where}: {', '.join(missing)}")
    base_url = values[f"{source.upper()}_BASE_URL"].rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise AccessError(f"{source.upper()}_BASE_URL must start with https:// (got {base_url!r})")
    if source == "zendesk":
        login = f"{values['ZENDESK_EMAIL']}/token:{values['ZENDESK_API_TOKEN']}"
        return VendorAccess(base_url, {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()})
    return VendorAccess(base_url, {"Authorization": f"Bearer {values['HUBSPOT_ACCESS_TOKEN']}"})


def read_secret(secret_id: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The stack's vendor secret (a JSON object), from Secrets Manager."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("secretsmanager", endpoint_url=environ.get("AWS_ENDPOINT_URL") or None)
        value = client.get_secret_value(SecretId=secret_id)
    except (BotoCoreError, ClientError) as exc:
        raise SecretReadError(f"cannot read secret {secret_id}: {exc}") from exc
    try:
        document = json.loads(value.get("SecretString") or "")
    except ValueError as exc:
        raise SecretReadError(f"secret {secret_id} is not JSON") from exc
    if not isinstance(document, dict):
        raise SecretReadError(f"secret {secret_id} is not a JSON object")
    return document
