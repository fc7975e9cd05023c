"""What a cold start imports: no function's handler module, nor the first request's data classes, imports
pydantic (~120 ms after boto3, measured by `make bench`), slack_sdk (any import of it loads its WebClient and
asyncio: ~60 ms), and the Claude and Slack paths import no SDK (``import anthropic`` loads ~2,900 modules:
~2 s on every new instance's first Claude call)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.builders import ROOT

FRESH_INTERPRETER = """
import importlib, json, sys
sys.path[:0] = [{function_dir!r}]
importlib.import_module("app")
import triage_gate.policy as policy
loaded = policy.load_policy()
from triage_gate.messages import TicketEvent, parse_exception_message
from triage_gate.triage.decision import DecisionRecord
print(json.dumps({{"heavy": sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r})),
                  "msgspec": "msgspec" in sys.modules, "workflows": sorted(loaded.workflows)}}))
"""
# What no cold path may import: pydantic (~120 ms after boto3) and the SDKs the layer does without.
HEAVY = ("pydantic", "pydantic_core", "anthropic", "httpx", "requests", "slack_sdk", "asyncio")
FUNCTIONS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_and_the_policy_load_without_pydantic_or_an_sdk(function: str) -> None:
    code = FRESH_INTERPRETER.format(function_dir=str(ROOT / "functions" / function), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["heavy"] == []
    assert seen["msgspec"] is True
    assert seen["workflows"]  # the shipped policy validated


STAND_IN = """
import json, sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer
sys.path[:0] = [{layer!r}]

class Api(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps(answer()).encode()
        self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Api)
threading.Thread(target=server.serve_forever, daemon=True).start()
url = f"http://127.0.0.1:{{server.server_address[1]}}"
{path}
print(json.dumps({{"seen": seen, "heavy": sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))}}))
"""


def run_against_a_stand_in(path: str) -> dict[str, object]:
    """``path`` in a fresh interpreter, its vendor a stand-in server at ``url`` answering ``answer()``; it sets
    ``seen``. Returns ``seen`` and the heavy packages imported."""
    code = STAND_IN.format(layer=str(ROOT / "layers" / "core"), heavy=HEAVY, path=path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


CLAUDE_CALL = """
from triage_gate.adapters.claude import ClaudeModel
from triage_gate.config import VendorSecrets
from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.policy import load_policy
from triage_gate.triage.prompt import TOOL_NAME, build_prompt

def answer():
    tool = {"type": "tool_use", "id": "t", "name": TOOL_NAME,
            "input": {"category": "billing", "category_confidence": 0.9, "rationale": "r"}}
    return {"content": [tool], "stop_reason": "tool_use", "usage": {"input_tokens": 1}}

policy = load_policy()
name, workflow = next(iter(policy.workflows.items()))
task = next(iter(workflow.tasks))
route_name = next(r for r, route in policy.routes.items() if route.kind == "claude")
model = ClaudeModel(EnvironmentSecrets(VendorSecrets.from_mapping({"ANTHROPIC_API_KEY": "k"})), policy.prices, url)
prompt = build_prompt(name, workflow, [task], "Charged twice", "I was charged twice.", {})
result = model.classify(route_name, policy.routes[route_name], prompt, {task: workflow.tasks[task]})
seen = result.answers[task].label
"""

SLACK_PATH = """
from triage_gate.adapters.secrets import EnvironmentSecrets
from triage_gate.adapters.slack_client import SlackWebClient
from triage_gate.config import VendorSecrets
from triage_gate.review import block_kit
from triage_gate.review.signing import SlackRequestVerifier, signed_interaction

def answer():
    return {"ok": True, "channel": "C1", "ts": "1.0001"}

secrets = EnvironmentSecrets(VendorSecrets.from_mapping({"SLACK_BOT_TOKEN": "xoxb-t"}))
blocks = [block_kit.section("hi"), block_kit.actions("b", [block_kit.button("a", "A", "d")])]
seen = list(SlackWebClient(secrets, url + "/api/").post("review", "hi", blocks))
body, headers = signed_interaction({"type": "block_actions"}, "secret")
SlackRequestVerifier(["secret"], max_age_seconds=300).verify(headers, body)
"""


def test_a_claude_call_imports_no_sdk() -> None:
    """The Claude adapter's whole path, a request answered by a stand-in server, in a fresh interpreter."""
    result = run_against_a_stand_in(CLAUDE_CALL)

    assert result == {"seen": "billing", "heavy": []}


def test_a_slack_post_and_a_signed_click_import_no_sdk() -> None:
    """Block Kit built, posted to a stand-in Slack, a signed interaction verified: in a fresh interpreter."""
    result = run_against_a_stand_in(SLACK_PATH)

    assert result == {"seen": ["C1", "1.0001"], "heavy": []}


def test_a_policy_section_validated_on_its_own_still_checks_itself() -> None:
    from triage_gate.policy import PromotionBar, Route, Thresholds
    from triage_gate.records import ValidationError

    assert Thresholds().for_label("refund") == 0.8
    with pytest.raises(ValidationError, match="a claude route needs a model"):
        Route.from_data({"kind": "claude"})
    with pytest.raises(ValidationError, match="auto_shares must be percentages in increasing order"):
        PromotionBar.from_data({"auto_shares": [50, 10]})
    with pytest.raises(ValueError, match="a claude route needs a model"):
        Route(kind="claude")  # a constructor call runs the same check


def test_a_nested_error_still_names_its_place_in_the_file(tmp_path) -> None:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import DEFAULT_POLICY_PATH, load_policy

    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "thresholds: {default: 0.70,", "thresholds: {default: 1.70,", 1
    )
    bad = tmp_path / "policy.yaml"
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigurationError, match=r"workflows\.zendesk-support\.tasks\.category\.thresholds\.default"):
        load_policy(bad)
