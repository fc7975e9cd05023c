"""Least privilege over the whole test session: every local runner enforces IAM (one role per function).

Each ``LocalRunner`` gives each function credentials for the role SAM makes of ``template.yaml`` and has moto
authorise every call (``triage_local.iam``). This module watches every runner the session starts:

- a call the template does not grant fails the test that stopped the runner (``AccessDenied`` names the
  function, the action and the resource), unless the test says it provokes one on purpose;
- the calls of ``template.yaml``'s functions are compared with ``OBSERVED`` — what the least-privilege contract
  test (``tests/contract/test_least_privilege.py``) holds the template's grants against. A call that is not
  listed there fails the session, so that file can never silently fall behind the code.
  ``TRIAGE_UPDATE_IAM_OBSERVED=1`` (``make iam-observed``) adds the session's calls to it instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.builders import ROOT
from triage_local.aws_calls import AwsCall, merge_observations, observations
from triage_local.runner import LocalRunner

TEMPLATE = (ROOT / "template.yaml").resolve()
OBSERVED = ROOT / "tests" / "contract" / "fixtures" / "aws_calls_observed.json"
UPDATE_SWITCH = "TRIAGE_UPDATE_IAM_OBSERVED"
# A runner a test starts to provoke AccessDenied on purpose sets this attribute to True.
DENIALS_EXPECTED = "denials_expected"


class SessionCalls:
    """The AWS calls of every runner the session stopped; denials fail the runner's test."""

    def __init__(self) -> None:
        self.calls: list[AwsCall] = []
        self.runners = 0

    def after_stop(self, runner: LocalRunner) -> None:
        if getattr(runner, "_least_privilege_checked", False):
            return  # stop() runs again from __exit__ after serve_forever
        runner._least_privilege_checked = True  # type: ignore[attr-defined]
        self.runners += 1
        if runner.config.template_path.resolve() == TEMPLATE:
            self.calls.extend(runner.aws_calls())
        denied = runner.denied_calls()
        if denied and not getattr(runner, DENIALS_EXPECTED, False):
            listed = "\n  ".join(f"{c.function}: {c.grant}" for c in denied)
            raise AssertionError(
                f"AccessDenied under enforced IAM: the template grants its functions less than their code calls:"
                f"\n  {listed}\nGrant each in template.yaml (the function's Policies), then `make iam-observed`."
            )

    def unlisted(self) -> dict[str, list[str]]:
        """The session's calls that OBSERVED does not list, per function."""
        listed: dict[str, list[str]] = json.loads(OBSERVED.read_text(encoding="utf-8")) if OBSERVED.exists() else {}
        missing = {}
        for function, grants in observations(self.calls).items():
            new = sorted(set(grants) - set(listed.get(function, [])))
            if new:
                missing[function] = new
        return missing


@pytest.fixture(scope="session", autouse=True)
def least_privilege() -> Iterator[SessionCalls]:
    session = SessionCalls()
    original = LocalRunner.stop

    def stop(runner: LocalRunner) -> None:
        original(runner)
        session.after_stop(runner)

    LocalRunner.stop = stop  # type: ignore[method-assign]
    try:
        yield session
    finally:
        LocalRunner.stop = original  # type: ignore[method-assign]
    if os.environ.get(UPDATE_SWITCH) == "1":
        merge_observations(OBSERVED, session.calls)
        return
    missing = session.unlisted()
    if missing:
        listed = json.dumps(missing, indent=2)
        pytest.fail(
            f"{OBSERVED.relative_to(ROOT)} does not list AWS calls the functions made in this session:\n{listed}\n"
            "If the code now needs them, run `make iam-observed` and commit the file (the least-privilege "
            "contract test then checks the template grants no more than the calls listed)."
        )


def mark_denials_expected(runner: Any) -> None:
    setattr(runner, DENIALS_EXPECTED, True)
