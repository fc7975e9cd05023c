"""``triage local``'s vendors: a sandbox for each of Zendesk, HubSpot, Slack and Anthropic, unless you give
its base URL.

A vendor whose base URL variable (``ZENDESK_BASE_URL``, ``HUBSPOT_BASE_URL``, ``SLACK_API_URL``,
``ANTHROPIC_BASE_URL``) is set in the environment is used as given ("real"); every other one is a sandbox on
loopback (``triage_local.sandboxes``), seeded like ``make demo``'s (the tickets behind the ``events/`` samples,
the policy's Slack channels). The functions get the sandbox's URL and, unless you set them, the credentials
the sandbox accepts. Anthropic is real when you set ``ANTHROPIC_API_KEY`` (Claude answers); without a key
the local model classifies, as in the demo.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from triage_gate.policy import Policy
from triage_local import demo_data
from triage_local.sandboxes import Sandbox, Sandboxes, anthropic


@dataclass(frozen=True)
class Vendor:
    name: str  # the attribute of `Sandboxes`
    variable: str  # the base URL variable the functions read
    # (variable, what the sandbox accepts when the variable is unset): the vendor secret's keys for this vendor
    credentials: tuple[tuple[str, str], ...] = ()


VENDORS = (
    Vendor("zendesk", "ZENDESK_BASE_URL",
           (("ZENDESK_EMAIL", demo_data.ZENDESK_EMAIL), ("ZENDESK_API_TOKEN", demo_data.ZENDESK_TOKEN))),
    Vendor("hubspot", "HUBSPOT_BASE_URL", (("HUBSPOT_ACCESS_TOKEN", demo_data.HUBSPOT_TOKEN),)),
    Vendor("slack", "SLACK_API_URL", (("SLACK_BOT_TOKEN", demo_data.SLACK_TOKEN),)),
    Vendor("anthropic", "ANTHROPIC_BASE_URL"),
)  # fmt: skip


@dataclass(frozen=True)
class VendorChoice:
    vendor: Vendor
    given_url: str | None  # the base URL from the environment; None: a sandbox

    @property
    def sandboxed(self) -> bool:
        return self.given_url is None


ANTHROPIC_API = "https://api.anthropic.com"


def choose_vendors(environ: Mapping[str, str]) -> list[VendorChoice]:
    """Each vendor, real when its base URL variable is set (and not blank), else a sandbox. Anthropic is real
    too when you give ``ANTHROPIC_API_KEY``: a key means you want Claude's answers, not scripted ones."""
    choices = []
    for vendor in VENDORS:
        given = (environ.get(vendor.variable) or "").strip() or None
        if vendor.name == "anthropic" and given is None and (environ.get("ANTHROPIC_API_KEY") or "").strip():
            given = ANTHROPIC_API
        choices.append(VendorChoice(vendor, given))
    return choices


def review_channels(policy: Policy) -> list[str]:
    """Every Slack channel the policy posts to: each workflow's review and escalation channels."""
    channels = [w.review.channel for w in policy.workflows.values()]
    channels += [w.review.escalation_channel for w in policy.workflows.values() if w.review.escalation_channel]
    return sorted(set(channels))


class LocalVendors:
    """The sandboxes `choose_vendors` picked, seeded; `environment()` points the functions at them."""

    def __init__(self, environ: Mapping[str, str], channels: Iterable[str] = ()) -> None:
        self.choices = choose_vendors(environ)
        self._given = dict(environ)
        sandboxed = [c.vendor for c in self.choices if c.sandboxed]
        self._credentials = {var: environ.get(var) or default for v in sandboxed for var, default in v.credentials}
        self.sandboxes = Sandboxes(
            zendesk_email=self._credentials.get("ZENDESK_EMAIL", demo_data.ZENDESK_EMAIL),
            zendesk_token=self._credentials.get("ZENDESK_API_TOKEN", demo_data.ZENDESK_TOKEN),
            hubspot_token=self._credentials.get("HUBSPOT_ACCESS_TOKEN", demo_data.HUBSPOT_TOKEN),
            slack_token=self._credentials.get("SLACK_BOT_TOKEN", demo_data.SLACK_TOKEN),
            anthropic_key=environ.get("ANTHROPIC_API_KEY") or anthropic.DEFAULT_API_KEY,
        )
        demo_data.seed(self.sandboxes)
        for channel in channels:
            self.sandboxes.slack.add_channel(channel)

    def sandbox(self, name: str) -> Sandbox:
        sandbox: Sandbox = getattr(self.sandboxes, name)
        return sandbox

    def start(self) -> Self:
        try:
            for choice in self.choices:
                if choice.sandboxed:
                    self.sandbox(choice.vendor.name).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.sandboxes.stop()  # a sandbox never started stops as a no-op

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, choice: VendorChoice) -> str:
        """The base URL the functions use for this vendor."""
        if choice.given_url is not None:
            return choice.given_url
        url = self.sandbox(choice.vendor.name).url
        return f"{url}/api/" if choice.vendor.name == "slack" else url  # slack_sdk's base_url ends in /api/

    def environment(self) -> dict[str, str]:
        """The variables that point the functions at the sandboxes, with the credentials the sandboxes accept
        (yours when set: the sandbox is configured to accept them)."""
        env = {c.vendor.variable: self.url(c) for c in self.choices if c.sandboxed}
        return {**env, **self._credentials}

    def describe(self) -> list[str]:
        """One line per vendor: sandbox (its URL and what it holds) or real (the URL you gave)."""
        return [f"  {c.vendor.name:<10} {self._kind(c):<8} {self.url(c)}{self._note(c)}" for c in self.choices]

    @staticmethod
    def _kind(choice: VendorChoice) -> str:
        return "sandbox" if choice.sandboxed else "real"

    def _note(self, choice: VendorChoice) -> str:
        name = choice.vendor.name
        if not choice.sandboxed:
            given_by = choice.vendor.variable if self._given.get(choice.vendor.variable) else "ANTHROPIC_API_KEY"
            return f"  (from {given_by})"
        if name == "zendesk":
            tickets = ", ".join(str(t) for t in sorted(self.sandboxes.zendesk.tickets))
            return f"  tickets {tickets} (the events/ samples); set {choice.vendor.variable} for a real account"
        if name == "hubspot":
            return f"  tickets {', '.join(str(t) for t in sorted(self.sandboxes.hubspot.tickets))}"
        if name == "slack":
            return f"  channels {', '.join(self.sandboxes.slack.channels)}"
        return "  no ANTHROPIC_API_KEY: the local model classifies (set it for Claude)"
