"""The state a downstream function's first request acts on, made by the product itself before each sample.

WritebackFunction, ReviewNotifyFunction and SlackActionsFunction act on a decision TriageFunction made. Before
each of their samples (the function's and the reference's alike, on the freshly reset stack, untimed) the
functions upstream run as the pipeline runs them: each in its own interpreter with the template's environment,
against the same moto and sandboxes. TriageFunction decides the events/ sample ticket (Claude's sandbox
decides ``apply`` → ActionsQueue; the local model decides ``review`` → ExceptionQueue); the message it queued
is received as Lambda's event source mapping receives it and becomes the first request. For a reviewer's
click, ReviewNotifyFunction posts the case to the Slack sandbox first; the click is the Approve button of the
message Slack holds, signed with the signing secret the bench's vendor secret holds.

The checks (``verify``) read what the first request left in the decision ledger through the product's own
adapter: a first request that took a "no such decision" or a failure path is never counted as served.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from local_aws import REGION

if TYPE_CHECKING:
    from cold_start import Bench

TRIAGE_EVENT = "triage__ticket_event.json"
REVIEWER = ("U0BENCHREV", "bench-reviewer")  # (Slack user id, username) of the reviewer who clicks
_CLIENTS: dict[tuple[str, str], Any] = {}


class SeededTickets:
    """The Zendesk sandbox's tickets as seeded (with their comments and audits), put back before every sample.

    WritebackFunction's first request updates ticket 40211; every first request must meet the ticket as seeded
    (a ticket changed since its creation sends the next write-back through a read first, and changes what
    TriageFunction reads). Nothing else a first request writes is read by a later one (Slack posts are not)."""

    def __init__(self, vendors: Any) -> None:
        self._zendesk = vendors.sandboxes.zendesk
        with self._zendesk.lock:
            self._seeded = copy.deepcopy((self._zendesk.tickets, self._zendesk.comments, self._zendesk.audits))

    def restore(self) -> None:
        zendesk = self._zendesk
        with zendesk.lock:
            for live, seeded in zip((zendesk.tickets, zendesk.comments, zendesk.audits), self._seeded, strict=True):
                live.clear()
                live.update(copy.deepcopy(seeded))


# ------------------------------------------------------------------ the functions upstream, and their output
def run_upstream(bench: Bench, function: str, event: dict[str, Any]) -> None:
    """``function`` serves ``event`` in its own interpreter (untimed); an unserved batch stops the bench."""
    spec = {"kind": "function", "module": "app", "handler": "lambda_handler", "event": event}
    response = bench.run_child(spec, bench.function_env(function, "bytecode"))["response"]
    if response != {"batchItemFailures": []}:
        raise RuntimeError(f"preparing the first request: {function} did not serve its batch: {response!r}")


def triage_event() -> dict[str, Any]:
    from tests.builders import load_event

    return load_event(TRIAGE_EVENT)


def client(bench: Bench, service: str) -> Any:
    """A boto3 client on the bench's moto, kept for the run (untimed work, but made once all the same)."""
    key = (bench.aws.endpoint_url, service)
    if key not in _CLIENTS:
        _CLIENTS[key] = bench.aws.session().client(service)
    return _CLIENTS[key]


def receive(bench: Bench, queue: str) -> dict[str, Any]:
    """The one message on ``queue`` (a logical id), received as Lambda's event source mapping receives it
    (in flight, with its attributes), as a Lambda SQS event of one record."""
    ids = bench.aws.template.physical[queue]
    got = client(bench, "sqs").receive_message(
        QueueUrl=ids["Ref"], MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )
    messages = got.get("Messages", [])
    if len(messages) != 1:
        raise RuntimeError(f"preparing the first request: expected one message on {queue}, found {len(messages)}")
    return {"Records": [sqs_record(messages[0], ids["Arn"])]}


def sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    """A received message as a record of the Lambda SQS event (the event source mapping's shape)."""
    attributes = message.get("Attributes") or {}
    kept = ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp")
    message_attributes = {
        name: {"stringValue": value.get("StringValue"), "stringListValues": [], "binaryListValues": [],
               "dataType": value.get("DataType", "String")}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }  # fmt: skip
    return {
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": {name: attributes[name] for name in kept if name in attributes},
        "messageAttributes": message_attributes, "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": REGION,
    }  # fmt: skip


def ledger(bench: Bench) -> Any:
    """The decisions table through the product's own adapter."""
    from triage_gate.adapters.decisions_table import DynamoDecisionStore

    return DynamoDecisionStore(bench.aws.template.physical["DecisionsTable"]["Ref"], client(bench, "dynamodb"))


def review_of(bench: Bench, decision_id: str) -> dict[str, Any]:
    """The decision's review as the ledger holds it ({} when there is no decision or no review)."""
    record = ledger(bench).get(decision_id)
    return dict(record.review or {}) if record else {}


def signing_secret(bench: Bench) -> str:
    """The Slack signing secret the vendor secret holds for this sample."""
    got = client(bench, "secretsmanager").get_secret_value(SecretId=bench.aws.template.physical["VendorSecret"]["Ref"])
    return str(json.loads(got["SecretString"])["SLACK_SIGNING_SECRET"])


def interactions_route(bench: Bench) -> tuple[str, str]:
    """SlackActionsFunction's API route in the template: (method, path)."""
    from triage_local.functions import function_specs

    spec = next(s for s in function_specs(bench.aws.template) if s.logical_id == "SlackActionsFunction")
    return spec.routes[0].method, spec.routes[0].path


# ------------------------------------------------------------------ prepare: the state each first request needs
def applied_decision(bench: Bench) -> dict[str, Any]:
    """TriageFunction decides the sample ticket through Claude's sandbox (the scenario's secret holds the
    key): the decision is stored and its action is on ActionsQueue, WritebackFunction's first batch."""
    run_upstream(bench, "TriageFunction", triage_event())
    return {"batch": receive(bench, "ActionsQueue")}


def review_case(bench: Bench) -> dict[str, Any]:
    """TriageFunction decides the sample ticket with the local model (no key): the decision is stored and
    sent to review on ExceptionQueue, ReviewNotifyFunction's first batch."""
    run_upstream(bench, "TriageFunction", triage_event())
    return {"batch": receive(bench, "ExceptionQueue")}


def posted_case(bench: Bench) -> dict[str, Any]:
    """A review case in Slack: TriageFunction sends the ticket to review, ReviewNotifyFunction posts it (and
    the batch is deleted, as the event source mapping does); what the reviewer sees is the message the Slack
    sandbox holds, at the channel and ts the ledger recorded."""
    [record] = review_case(bench)["batch"]["Records"]
    run_upstream(bench, "ReviewNotifyFunction", {"Records": [record]})
    queue = bench.aws.template.physical["ExceptionQueue"]["Ref"]
    client(bench, "sqs").delete_message(QueueUrl=queue, ReceiptHandle=record["receiptHandle"])
    review = review_of(bench, json.loads(record["body"])["decision_id"])
    if review.get("state") != "pending" or not review.get("ts"):
        raise RuntimeError(f"preparing the first request: ReviewNotifyFunction posted no case: {review!r}")
    return {"channel": review["channel"], "message": bench.vendors.sandboxes.slack.message(review["channel"],
            review["ts"]), "signing_secret": signing_secret(bench), "route": interactions_route(bench)}  # fmt: skip


# ------------------------------------------------------------------ event: the first request on that state
def batch_event(batch: dict[str, Any]) -> dict[str, Any]:
    """The first request of an SQS-triggered function: the batch prepared for it."""
    return batch


def approve_click(
    channel: str, message: Mapping[str, Any], signing_secret: str, route: tuple[str, str]
) -> dict[str, Any]:
    """The reviewer presses Approve on the posted case: Slack's block_actions interaction for that button,
    signed now, as API Gateway (HTTP API, payload v2) hands it to SlackActionsFunction."""
    from triage_gate.review.signing import block_actions_payload, signed_interaction

    buttons = [element for block in message.get("blocks") or [] if block.get("type") == "actions"
               for element in block.get("elements") or [] if element.get("action_id") == "approve"]  # fmt: skip
    if not buttons:
        raise RuntimeError(f"the posted review case has no Approve button: {message.get('blocks')!r}")
    user_id, user_name = REVIEWER
    payload = block_actions_payload("approve", buttons[0]["value"], user_id=user_id, user_name=user_name,
                                    channel=channel, ts=message["ts"])  # fmt: skip
    body, headers = signed_interaction(payload, signing_secret)
    method, path = route
    return {
        "version": "2.0", "routeKey": f"{method} {path}", "rawPath": path, "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()}, "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
                           "requestId": f"bench-{time.time_ns()}", "domainName": "bench.execute-api.local",
                           "timeEpoch": int(time.time() * 1000)},
    }  # fmt: skip


# ------------------------------------------------------------------ served and verify: what it must leave
def batch_served(response: Any) -> bool:
    """No batch item failure: a record with no such decision, or whose vendor call failed, is one."""
    return bool(response == {"batchItemFailures": []})


def click_acked(response: Any) -> bool:
    """Slack's ack: an empty 200 (a refused or failed click is a 4xx or a 503 with a body)."""
    return isinstance(response, dict) and response.get("statusCode") == 200 and not response.get("body")


def written_back(bench: Bench, event: Mapping[str, Any]) -> str | None:
    state = ledger(bench).writeback_state(_batch_decision(event)) or {}
    return None if state.get("status") == "applied" else f"the decision's write-back is {state or 'absent'}"


def review_posted(bench: Bench, event: Mapping[str, Any]) -> str | None:
    review = review_of(bench, _batch_decision(event))
    posted = review.get("state") == "pending" and review.get("ts")
    return None if posted else f"no review case posted: {review or 'no such decision'}"


def review_claimed(bench: Bench, event: Mapping[str, Any]) -> str | None:
    """The click claimed the case (an acked click on no case, or a resolved one, claims nothing) and queued
    the approval for ReviewNotifyFunction."""
    from triage_gate.review.interactions import parse_interaction

    action = parse_interaction(str(event["body"]).encode())
    review = review_of(bench, action.decision_id) if action else {}
    if review.get("state") != "claimed":
        return f"the click claimed no case: {review or 'no such decision'}"
    job = json.loads(receive(bench, "ExceptionQueue")["Records"][0]["body"])
    if (job.get("kind"), job.get("verdict"), job.get("user_id")) != ("review_outcome", "approve", REVIEWER[0]):
        return f"the click queued {job.get('kind')}/{job.get('verdict')} by {job.get('user_id')}, not the approval"
    return None


def _batch_decision(event: Mapping[str, Any]) -> str:
    return str(json.loads(event["Records"][0]["body"])["decision_id"])
