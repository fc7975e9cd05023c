"""The embedded AWS: moto's server, deciding IAM on the resource each request names, and writing it down.

Run by the runner as ``python -m triage_local.aws_server --calls FILE -H HOST -p PORT`` with
``INITIAL_NO_AUTH_ACTION_COUNT`` in its environment (moto's own switch: that many requests are served
without authentication, every later one is signed, authenticated and authorised against the caller's IAM
policies). Moto asks its IAM model about the real resource only for SQS (the queue's ARN), STS and IAM;
for every other service it asks about ``*``, which no resource-scoped statement matches. This module gives
DynamoDB (table or index ARN) and Secrets Manager (the secret's ARN) their resources, and authorises the
SQS batch calls as the actions IAM knows them by (``SendMessageBatch`` is ``sqs:SendMessage``).

Every decision about a role's credentials (an assumed role: a function) is appended once to FILE as a
JSON line ``{"role", "action", "resource", "allowed"}``: what each function's code asked AWS to do.
DynamoDB writes are serialised, so a conditional write is atomic as in AWS (``serialise_dynamodb_writes``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any, TextIO

from moto.core.responses import BaseResponse
from moto.iam.access_control import AssumedRoleAccessKey, IAMRequest

# API operations that IAM authorises as another action (they have no IAM action of their own).
AUTHORIZED_AS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


class CallLog:
    """Distinct (role, action, resource, allowed) decisions, appended to a file as JSON lines."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self._seen: set[tuple[str, str, str, bool]] = set()
        self._lock = threading.Lock()

    def record(self, role: str, action: str, resource: str, allowed: bool) -> None:
        key = (role, action, resource, allowed)
        with self._lock:
            if self._stream is None or key in self._seen:
                return
            self._seen.add(key)
            self._stream.write(json.dumps({"role": role, "action": action, "resource": resource, "allowed": allowed}))
            self._stream.write("\n")
            self._stream.flush()


CALLS = CallLog(None)


class ResourceIAMRequest(IAMRequest):
    """Moto's IAM request, with batch operations named as IAM names them and every decision recorded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._action = AUTHORIZED_AS.get(self._action, self._action)
        self._resource = "*"

    def check_action_permitted(self, resource: str) -> None:
        self._resource = resource
        role = self._access_key._owner_role_name if isinstance(self._access_key, AssumedRoleAccessKey) else None
        try:
            super().check_action_permitted(resource)
        except Exception:
            if role:
                CALLS.record(role, self._action, resource, allowed=False)
            raise
        if role:
            CALLS.record(role, self._action, resource, allowed=True)

    def _raise_access_denied(self) -> None:
        from moto.core.exceptions import AccessDeniedError

        error = AccessDeniedError(user_arn=self._access_key.arn, action=self._action)
        error.description = (error.description or "").replace(
            f"perform: {self._action}", f"perform: {self._action} on resource: {self._resource}"
        )
        raise error


def _authorize(self: Any, resource: str = "*") -> None:
    """BaseResponse._authenticate_and_authorize_normal_action, on the request's own resources."""
    for each in request_resources(self, resource):
        self._authenticate_and_authorize_action(ResourceIAMRequest, each)


def request_resources(response: Any, resource: str) -> list[str]:
    """The ARNs a request acts on (moto's own answer for services other than DynamoDB and Secrets Manager)."""
    if response.service_name == "dynamodb" and isinstance(response.body, dict):
        return _dynamodb_resources(response, response.body) or [resource]
    if response.service_name == "secretsmanager":
        secret_id = response._get_param("SecretId")
        return [_secret_arn(response, secret_id)] if secret_id else [resource]
    return [resource]


def _dynamodb_resources(response: Any, body: dict[str, Any]) -> list[str]:
    prefix = f"arn:{response.partition}:dynamodb:{response.region}:{response.current_account}:table/"
    table = body.get("TableName")
    if isinstance(table, str):
        index = body.get("IndexName")
        return [prefix + table + (f"/index/{index}" if isinstance(index, str) else "")]
    request_items = body.get("RequestItems")
    if isinstance(request_items, dict):  # BatchGetItem, BatchWriteItem: every table named
        return [prefix + name for name in sorted(request_items)]
    return []


def _secret_arn(response: Any, secret_id: str) -> str:
    from moto.secretsmanager.models import secretsmanager_backends

    secret = secretsmanager_backends[response.current_account][response.region].secrets.get(secret_id)
    if secret is not None:
        return str(secret.arn)
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:{response.partition}:secretsmanager:{response.region}:{response.current_account}:secret:{secret_id}"


def install() -> None:
    setattr(BaseResponse, "_authenticate_and_authorize_normal_action", _authorize)  # noqa: B010 (a patch)
    serialise_dynamodb_writes()


DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def serialise_dynamodb_writes() -> None:
    """DynamoDB applies a conditional write atomically; moto's server threads do not (read, check, write can
    interleave). The runner's workers really run at once, so two claims of one item could both win here and
    never in AWS: one lock over every write makes them resolve as in AWS, one wins and the other's condition fails.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()

    def serialised(write: Any) -> Any:
        def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return write(self, *args, **kwargs)

        return locked

    for name in DYNAMODB_WRITES:
        setattr(DynamoDBBackend, name, serialised(getattr(DynamoDBBackend, name)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m triage_local.aws_server", description=__doc__.split("\n")[0])
    parser.add_argument("--calls", required=True, help="file the IAM decisions about roles are appended to")
    args, moto_args = parser.parse_known_args(argv)
    from moto import server

    install()
    with open(args.calls, "a", encoding="utf-8") as stream:
        global CALLS
        CALLS = CallLog(stream)
        server.main(moto_args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
