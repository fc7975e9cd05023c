"""The benchmarks' pure helpers: min/median/max, verdicts, tables, and whose module a path is."""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "infra" / "bench"
sys.path.insert(0, str(BENCH))

from bench_stats import Spread, machine_line, render_table, verdict  # noqa: E402
from cold_start import origin  # noqa: E402
from local_aws import ROOT  # noqa: E402


def test_spread_is_min_median_max_of_the_samples() -> None:
    spread = Spread.of([5.0, 1.0, 9.0, 3.0])
    assert (spread.minimum, spread.median, spread.maximum, spread.count) == (1.0, 4.0, 9.0, 4)


def test_spread_of_no_samples_is_refused() -> None:
    with pytest.raises(ValueError, match="no samples"):
        Spread.of([])


def test_spread_formats_median_first_then_the_range() -> None:
    assert Spread.of([371.04, 384.2, 402.94]).format("ms") == "384.2 ms (371.0-402.9)"
    assert Spread.of([2.0, 4.0]).format("µs", 0) == "3 µs (2-4)"


def test_spread_scales_every_figure_and_keeps_the_count() -> None:
    scaled = Spread.of([100.0, 200.0, 300.0]).scaled(0.01)
    assert (scaled.minimum, scaled.median, scaled.maximum, scaled.count) == (1.0, 2.0, 3.0, 3)


@pytest.mark.parametrize(("value", "limit", "expected"), [(99.9, 100.0, "met"), (100.0, 100.0, "met"),
                                                           (100.1, 100.0, "MISSED")])  # fmt: skip
def test_verdict_meets_at_the_limit_and_misses_above_it(value: float, limit: float, expected: str) -> None:
    assert verdict(value, limit) == expected


def test_table_aligns_columns_under_a_rule() -> None:
    table = render_table(("name", "ms"), [("ingest", "384"), ("triage function", "5")])
    assert table.splitlines() == [
        "name             ms",
        "---------------  ---",
        "ingest           384",
        "triage function  5",
    ]


def test_table_refuses_a_row_of_the_wrong_width() -> None:
    with pytest.raises(ValueError, match="row has 1 cells, the header 2"):
        render_table(("a", "b"), [("only one",)])


def test_machine_line_names_the_interpreter_cores_and_repeats() -> None:
    line = machine_line("5 repeats")
    assert line.startswith("Python 3.")
    assert "cores" in line
    assert line.endswith("5 repeats")


def test_origin_tells_ours_from_the_runtime_and_the_layer_dependencies(tmp_path: Path) -> None:
    purelib = sysconfig.get_paths()["purelib"]
    stdlib = sysconfig.get_paths()["stdlib"]
    assert origin(str(ROOT / "layers" / "core" / "triage_gate" / "http.py")) == "ours"
    assert origin(str(tmp_path / "layer" / "triage_gate" / "http.py"), tmp_path) == "ours"
    assert origin(f"{purelib}/botocore/client.py") == "runtime"
    assert origin(f"{purelib}/six.cpython-313.pyc") == "runtime"
    assert origin(f"{stdlib}/json/decoder.py") == "runtime"
    assert origin(f"{purelib}/pydantic/main.py") == "layer dependency"
    assert origin(f"{purelib}/aws_lambda_powertools/logging/logger.py") == "layer dependency"


def _result(macro_f1: float, ece: float) -> object:
    from bench_local_model import Result

    return Result(accuracy=0.9, macro_f1=macro_f1, ece=ece, train_s=1.0, us_per_prediction=1.0,
                  artifact_bytes=1, load_ms=1.0)  # fmt: skip


def test_local_model_targets_compare_with_the_like_with_like_reference() -> None:
    from bench_local_model import targets

    text, met = targets(_result(0.80, 0.02), _result(0.82, 0.20))  # type: ignore[arg-type]
    assert met
    assert "met; ECE < 0.05: met" in text
    text, met = targets(_result(0.78, 0.02), _result(0.82, 0.20))  # type: ignore[arg-type]
    assert not met
    assert "pt: MISSED" in text
    text, met = targets(_result(0.82, 0.06), _result(0.82, 0.20))  # type: ignore[arg-type]
    assert not met
    assert "ECE < 0.05: MISSED" in text


def test_bench_options_quick_defaults_and_bad_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import cold_scenarios
    from bench_ingest import parse_args

    quick = parse_args(["--quick"])
    assert (quick.repeats, quick.mode_list, quick.function_list) == (
        3,
        ["bytecode", "layer no .pyc"],
        ["IngestFunction", "TriageFunction", "TriageFunction/claude", "ReviewBacklogFunction", "RoiDigestFunction",
         "WritebackFunction", "ReviewNotifyFunction", "SlackActionsFunction"],
    )  # fmt: skip
    assert parse_args(["--functions", "all"]).function_list == quick.function_list
    assert cold_scenarios.NOT_MEASURED == {}  # every function's first request is measured
    picked = parse_args(["--functions", "WritebackFunction,SlackActionsFunction"]).function_list
    assert picked == ["WritebackFunction", "SlackActionsFunction"]
    with pytest.raises(SystemExit) as exited:
        parse_args(["--functions", "NoSuchFunction"])
    assert exited.value.code == 2
    monkeypatch.setitem(cold_scenarios.NOT_MEASURED, "WritebackFunction", "left out for this test")
    with pytest.raises(SystemExit) as exited:
        parse_args(["--functions", "WritebackFunction"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        parse_args(["--modes", "warm"])


def test_a_vendor_call_is_found_by_sandbox_or_by_the_start_of_its_request_line() -> None:
    from cold_start import reached

    made = {"zendesk": ["GET /api/v2/tickets/40211.json", "PUT /api/v2/tickets/40211.json"], "slack": []}
    assert reached("zendesk", made)
    assert reached("zendesk PUT /api/v2/tickets/40211", made)
    assert not reached("zendesk PUT /api/v2/tickets/40198", made)
    assert not reached("slack", made)
    assert not reached("slack POST /api/chat.postMessage", made)
    assert not reached("hubspot", made)


def test_a_received_message_becomes_the_lambda_sqs_record_the_event_source_mapping_sends() -> None:
    from cold_prepare import sqs_record

    received = {
        "MessageId": "m-1", "ReceiptHandle": "rh-1", "Body": '{"decision_id":"d-1"}', "MD5OfBody": "5d",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796000000000", "Other": "x"},
        "MessageAttributes": {"correlation_id": {"StringValue": "zendesk:40211", "DataType": "String"}},
    }  # fmt: skip
    record = sqs_record(received, "arn:aws:sqs:us-east-1:123456789012:ActionsQueue")
    assert (record["messageId"], record["receiptHandle"], record["body"]) == ("m-1", "rh-1", '{"decision_id":"d-1"}')
    assert record["attributes"] == {"ApproximateReceiveCount": "1", "SentTimestamp": "1796000000000"}
    assert record["messageAttributes"]["correlation_id"]["stringValue"] == "zendesk:40211"
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs", "arn:aws:sqs:us-east-1:123456789012:ActionsQueue", "us-east-1")  # fmt: skip


def test_the_approve_click_is_the_posted_buttons_interaction_signed_as_slack_signs_it() -> None:
    from cold_prepare import REVIEWER, approve_click

    from triage_gate.http import WebhookRequest
    from triage_gate.review.interactions import parse_interaction
    from triage_gate.review.signing import SlackRequestVerifier

    posted = {"ts": "1796000000.000100", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "a case"}},
        {"type": "actions", "elements": [{"type": "button", "action_id": "escalate", "value": "zendesk:1:e"},
                                         {"type": "button", "action_id": "approve", "value": "zendesk:1:e"}]},
    ]}  # fmt: skip
    event = approve_click("C0REVIEW", posted, "bench-secret", ("POST", "/slack/interactions"))

    request = WebhookRequest.from_apigw_v2(event)
    assert (request.method, request.path) == ("POST", "/slack/interactions")
    assert event["routeKey"] == "POST /slack/interactions"
    SlackRequestVerifier(["bench-secret"], max_age_seconds=60).verify(request.headers, request.body)
    action = parse_interaction(request.body)
    assert action is not None
    assert (action.action, action.decision_id, action.user_id) == ("approve", "zendesk:1:e", REVIEWER[0])
    assert (action.channel, action.ts) == ("C0REVIEW", "1796000000.000100")
    with pytest.raises(RuntimeError, match="no Approve button"):
        approve_click("C0REVIEW", {"ts": "1.2", "blocks": []}, "bench-secret", ("POST", "/slack/interactions"))


def test_recorded_calls_follow_a_physical_id_that_changed_on_reset() -> None:
    from cold_start import Discovery

    old_arn, new_arn = "arn:aws:secretsmanager:us-east-1:1:secret:vendor-AAAAAA", "arn:...:secret:vendor-BBBBBB"
    put: dict[str, Any] = {"TableName": "dedupe", "Item": {"pk": {"S": old_arn}}, "Tags": [old_arn]}
    calls = [("secretsmanager", "GetSecretValue", {"SecretId": old_arn}), ("dynamodb", "PutItem", put)]
    found = Discovery(calls, 0, None, {"VendorSecret": {"Arn": old_arn, "Ref": old_arn}, "Table": {"Ref": "dedupe"}})
    now = found.calls_now({"VendorSecret": {"Arn": new_arn, "Ref": new_arn}, "Table": {"Ref": "dedupe"}})
    assert now[0] == ("secretsmanager", "GetSecretValue", {"SecretId": new_arn})
    assert now[1][2] == {"TableName": "dedupe", "Item": {"pk": {"S": new_arn}}, "Tags": [new_arn]}
    assert found.calls[0][2] == {"SecretId": old_arn}  # the recording itself is kept as it was
