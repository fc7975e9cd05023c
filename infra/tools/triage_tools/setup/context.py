"""What every setup step starts from: the stack (when there is one), its secret, the credentials, the policy.

Credentials are taken as the functions take them: the stack's vendor secret; a key the secret does not hold
comes from the environment (the same names). Base URLs are the stack's parameters (deployed) or the
environment (local), see :mod:`.stack`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from triage_tools.setup.stack import BASE_URL_DEFAULTS, BASE_URL_PARAMETERS, Stack, StackError, resolve_stack

if TYPE_CHECKING:
    from triage_gate.policy import Policy
    from triage_tools.setup.stack import VendorSecret


class UsageProblem(ValueError):
    """The command cannot start as given (exit 2)."""


@dataclass
class SetupContext:
    stack: Stack | None
    stack_problem: str | None  # why there is no stack (None when there is one)
    secret: VendorSecret | None
    stored: dict[str, str]  # the secret's keys and values ({} without one)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def value(self, key: str) -> str:
        """A credential: the secret's value, else the environment's ("" when neither has it)."""
        return (self.stored.get(key) or self.environ.get(key) or "").strip()

    def base_url(self, variable: str) -> str:
        if self.stack is not None:
            return self.stack.base_urls.get(variable, "")
        return (self.environ.get(variable) or BASE_URL_DEFAULTS.get(variable, "")).strip()

    def require_stack(self, what: str) -> Stack:
        if self.stack is None:
            raise StackError(f"{what} needs a stack: {self.stack_problem}")
        return self.stack


def open_context(args: argparse.Namespace, *, stack_required: bool) -> SetupContext:
    """The stack of ``--stack``/``--url`` (an error when ``stack_required``, else remembered as missing), its
    secret (``--secret-id`` overrides) and what it holds."""
    environ = dict(os.environ)
    try:
        stack: Stack | None = resolve_stack(args.stack, args.url, args.secret_id, environ)
        problem = None
    except StackError as exc:
        if stack_required or args.stack:
            raise
        stack, problem = None, str(exc)
    secret = None
    stored: dict[str, str] = {}
    if stack is not None and stack.secret_id:
        secret = stack.secret()
        stored, _ = secret.read()
    return SetupContext(stack, problem, secret, stored, environ)


def load_policy_arg(path: object) -> Policy:
    """The policy of ``--policy`` (default: the shipped one); a bad file is a usage error naming its problems."""
    from triage_gate.policy import load_policy

    return load_policy(str(path) if path else None)


def parse_pairs(items: list[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` options into a dict (the value may contain spaces and '=')."""
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageProblem(f"{option} must be KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


__all__ = ["BASE_URL_PARAMETERS", "SetupContext", "UsageProblem", "load_policy_arg", "open_context", "parse_pairs"]
