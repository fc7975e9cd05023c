"""The local runner's reading of template.yaml: intrinsics, functions, routes and events."""

from __future__ import annotations

import base64

import pytest

from tests.builders import ROOT
from triage_local.functions import HttpRoute, function_specs, rate_seconds
from triage_local.gateway import apigw_v2_event
from triage_local.template import Template, TemplateError


def _template(**overrides: str) -> Template:
    return Template.load(ROOT / "template.yaml", region="eu-west-1", overrides=overrides)


def test_sub_resolves_parameters_and_pseudo_parameters():
    template = _template(Stage="prod")

    assert template.resolve({"Fn::Sub": "triage-gate/${Stage}/vendor"}) == "triage-gate/prod/vendor"
    assert template.resolve({"Fn::Sub": "${AWS::Region}:${AWS::AccountId}"}) == "eu-west-1:123456789012"


def test_equals_compares_as_strings_like_cloudformation():
    reserved = _template().resources["IngestFunction"]["Properties"]["ReservedConcurrentExecutions"]

    assert _template(IngestReservedConcurrency="0").resolve(reserved) is None
    assert _template(IngestReservedConcurrency="7").resolve(reserved) == "7"


def test_unknown_parameter_override_is_an_error():
    with pytest.raises(TemplateError, match="NoSuchParameter"):
        _template(NoSuchParameter="x")


def test_get_att_uses_provisioned_physical_ids():
    template = _template()
    template.physical["TriageDlq"] = {"Ref": "url", "Arn": "arn:aws:sqs:eu-west-1:123456789012:dlq"}

    assert template.resolve({"Fn::GetAtt": ["TriageDlq", "Arn"]}) == "arn:aws:sqs:eu-west-1:123456789012:dlq"


def test_ingest_function_spec_matches_the_template():
    template = _template()
    template.physical.update(
        {
            "TriageQueue": {"Ref": "http://q/triage", "QueueUrl": "http://q/triage", "Arn": "arn:q", "QueueName": "q"},
            "DedupeTable": {"Ref": "dedupe-table", "Arn": "arn:t"},
            "VendorSecret": {"Ref": "arn:secret", "Arn": "arn:secret"},
        }
    )

    for queue in template.resources_of("AWS::SQS::Queue"):
        template.physical.setdefault(queue, {"Ref": f"http://q/{queue}", "QueueUrl": f"http://q/{queue}", "Arn": queue})

    [ingest] = [s for s in function_specs(template) if s.logical_id == "IngestFunction"]

    assert ingest.handler == "app.lambda_handler"
    assert ingest.code_uri == ROOT / "functions" / "ingest"
    assert ingest.layer_paths == [ROOT / "layers" / "core"]
    assert {r.route_key for r in ingest.routes} == {"POST /webhooks/zendesk", "POST /webhooks/hubspot"}
    assert ingest.environment["TRIAGE_QUEUE_URL"] == "http://q/triage"
    assert ingest.environment["DEDUPE_TABLE_NAME"] == "dedupe-table"
    assert ingest.environment["TRIAGE_SECRET_ID"] == "arn:secret"
    assert ingest.environment["POWERTOOLS_SERVICE_NAME"] == "ingest"
    assert ingest.environment["ZENDESK_SIGNATURE_MAX_AGE_SECONDS"] == "300"


def test_route_matching_with_path_parameters_and_methods():
    route = HttpRoute("POST", "/items/{id}")

    assert route.match("POST", "/items/42") == {"id": "42"}
    assert route.match("GET", "/items/42") is None
    assert route.match("POST", "/items/42/more") is None
    assert HttpRoute("ANY", "/files/{path+}").match("GET", "/files/a/b") == {"path": "a/b"}


def test_form_bodies_are_base64_encoded_like_api_gateway():
    body = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    headers = {"content-type": "application/x-www-form-urlencoded", "host": "127.0.0.1:3000"}

    event = apigw_v2_event(HttpRoute("POST", "/slack"), "POST", "/slack", "", headers, body, {}, "127.0.0.1")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["routeKey"] == "POST /slack"


def test_json_bodies_arrive_as_text():
    headers = {"content-type": "application/json; charset=utf-8", "host": "127.0.0.1:3000"}

    event = apigw_v2_event(HttpRoute("POST", "/j"), "POST", "/j", "a=1&b", headers, b'{"x":1}', {}, "127.0.0.1")

    assert (event["isBase64Encoded"], event["body"]) == (False, '{"x":1}')
    assert event["queryStringParameters"] == {"a": "1", "b": ""}


def test_rate_expressions():
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(2 days)") == 172800
