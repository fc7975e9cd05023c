"""The weekly digest shows each workflow's rollout segments and what each should do next."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.unit.rollout import NOW, shadow, small_bar_policy
from triage_gate.adapters.flag_stores import FileFlagStore
from triage_gate.compose.roi_digest import RoiDigest, flags_store, run
from triage_gate.config import RoiDigestSettings
from triage_gate.roi.digest import slack_digest
from triage_gate.roi.totals import totals
from triage_gate.roi.weeks import weekly
from triage_gate.rollout_status import status

POLICY = small_bar_policy(review={"channel": "#review"})
FLAGS = {"mode.support": {"default": "shadow", "boolean_type": False}}


@dataclass
class Records:
    records: list[Any]

    def scan(self) -> list[Any]:
        return list(self.records)


@dataclass
class Slack:
    posts: list[tuple[str, str, list[dict[str, Any]]]] = field(default_factory=list)

    def post(self, channel: str, text: str, blocks: list[dict[str, Any]]) -> tuple[str, str]:
        self.posts.append((channel, text, blocks))
        return channel, str(len(self.posts))


def _texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in blocks if b["type"] == "section")


def test_the_digest_says_each_segments_mode_evidence_and_recommendation():
    records = shadow(30, agreeing=30, created=NOW - timedelta(days=2))
    stats = weekly(records, {}, since=NOW - timedelta(days=7), until=NOW)
    rollout = status(records, POLICY, FLAGS, NOW).workflows["support"]

    _, blocks = slack_digest(totals(stats), stats, workflow="support", period="the last 7 days", rollout=rollout)

    text = _texts(blocks)
    assert "*Rollout* (last 28 days, against 80.0% precision): 0 reviews waiting" in text
    assert "• `default` shadow, 30 decisions, agreement 100.0% (lower bound 88.6%): *promote to assist*" in text
    assert "`triage rollout promote --workflow support --to assist --segment default`" in text
    assert len(blocks) <= 50


def test_the_weekly_run_reads_the_flags_and_still_posts_when_they_cannot_be_read(tmp_path: Path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS), encoding="utf-8")
    records = Records(shadow(30, agreeing=20, created=NOW - timedelta(days=1)))
    slack = Slack()

    run(RoiDigest(POLICY, records, slack, FileFlagStore(path, max_age=0)), now=NOW)  # type: ignore[arg-type]
    run(RoiDigest(POLICY, records, slack, FileFlagStore(tmp_path / "gone.json", max_age=0)), now=NOW)  # type: ignore[arg-type]

    readable, unreadable = (_texts(blocks) for _, _, blocks in slack.posts)
    assert "*hold* (shadow agreement lower bound" in readable
    assert "the rollout flags could not be read: cannot read rollout flags" in unreadable
    assert "gone.json" in unreadable


def test_the_digest_reads_the_flags_where_the_triage_function_does(tmp_path: Path, monkeypatch):
    base = {"DECISIONS_TABLE_NAME": "decisions"}
    opened: list[tuple[Any, ...]] = []
    monkeypatch.setattr("triage_gate.compose.roi_digest.appconfig_store", lambda *args: opened.append(args) or "store")

    from_file = flags_store(RoiDigestSettings.from_env({**base, "FLAGS_FILE": str(tmp_path / "f.json")}))
    appconfig = flags_store(RoiDigestSettings.from_env({
        **base, "APPCONFIG_APPLICATION": "app", "APPCONFIG_ENVIRONMENT": "env", "APPCONFIG_PROFILE": "rollout",
        "FLAGS_MAX_AGE_SECONDS": "45",
    }))  # fmt: skip

    assert isinstance(from_file, FileFlagStore)
    assert appconfig == "store"
    assert opened == [("app", "env", "rollout", 45)]
    assert flags_store(RoiDigestSettings.from_env(base)) is None
