"""The local stack: ``triage local``, ``triage demo``, ``triage send`` and ``triage sign-event``.

The local runner, the demo and the sample signer are ``triage_local`` (dev only), imported when a command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from triage_tools.cli.stores import unreachable

if TYPE_CHECKING:
    from triage_local.runner import LocalRunner
    from triage_local.vendors import LocalVendors
    from triage_local.webhooks import Sample

SECRET_ENV = {"zendesk": "ZENDESK_WEBHOOK_SECRET", "hubspot": "HUBSPOT_CLIENT_SECRET"}


def add_stack_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``local``, ``demo`` and ``send``."""
    local = sub.add_parser(
        "local", help="run the whole stack locally (embedded moto unless AWS_ENDPOINT_URL is set)",
        description="Serve template.yaml's topology on this machine: an embedded moto server (or AWS_ENDPOINT_URL), "
        "the HTTP API on --port, queues polled into their functions, schedules. Zendesk, HubSpot, Slack and "
        "Anthropic are loopback sandboxes (seeded with the tickets behind events/) unless ZENDESK_BASE_URL, "
        "HUBSPOT_BASE_URL, SLACK_API_URL or ANTHROPIC_BASE_URL is set; each is listed as sandbox or real. "
        "Ctrl-C or SIGTERM stops it and everything it started. Needs the `local` extra.",
    )  # fmt: skip
    local.add_argument("--port", type=int, default=3000, help="HTTP port for the API routes (default 3000)")
    local.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    local.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template to run")
    local.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="template parameter override"
    )
    local.add_argument(
        "--retry-delay", type=int, default=None, metavar="SECONDS",
        help="redeliver failed queue records after SECONDS instead of the queue's visibility timeout",
    )  # fmt: skip
    local.add_argument(
        "--concurrency", type=_at_least_one, default=None, metavar="N",
        help="run up to N worker processes per function (default: the template's MaximumConcurrency of the "
        "function's queue mapping or its ReservedConcurrentExecutions, else 2); more start as load needs them",
    )  # fmt: skip
    local.set_defaults(func=_cmd_local)

    demo = sub.add_parser("demo", help="replay signed sample webhooks through a local stack and show the outcomes")
    demo.add_argument("--port", type=int, default=0, help="HTTP port (default: any free port)")
    demo.add_argument("--root", type=Path, default=Path("."), help="project root (template.yaml, events/)")
    demo.set_defaults(func=_cmd_demo)

    send = sub.add_parser("send", help="sign a sample webhook like the vendor does and POST it")
    send.add_argument("file", type=Path, help="an events/ sample or a raw vendor JSON body")
    send.add_argument("--url", default="http://127.0.0.1:3000", help="base URL of the stack")
    send.add_argument("--secret", help="signing secret (default: $ZENDESK_WEBHOOK_SECRET / $HUBSPOT_CLIENT_SECRET)")
    send.set_defaults(func=_cmd_send)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_sign_event_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``sign-event`` (listed last in ``triage --help``)."""
    sign = sub.add_parser("sign-event", help="print an events/ sample with fresh signatures (for sam local invoke)")
    sign.add_argument("file", type=Path)
    sign.add_argument("--secret", help="signing secret (default: from the environment)")
    sign.add_argument("--url", help="URL HubSpot would call (default: https://<host header><rawPath>)")
    sign.set_defaults(func=_cmd_sign_event)


def _cmd_local(args: argparse.Namespace) -> int:
    from triage_tools.cli.extras import require

    require("local")
    overrides = _parameter_overrides(args.parameter)
    if overrides is None:
        return 2
    termination = _Termination()
    previous = signal.signal(signal.SIGTERM, termination)
    try:
        return _serve_local(args, overrides, termination)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _parameter_overrides(items: list[str]) -> dict[str, str] | None:
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"triage local: --parameter must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return None
        overrides[key] = value
    return overrides


class _Termination:
    """SIGTERM stops `triage local` as Ctrl-C does (its children with it). While the stack starts it is only
    noted — a half-started runner cannot stop yet — and the stack stops as soon as it is up."""

    def __init__(self) -> None:
        self.requested = False
        self.serving = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:  # already stopping: let it finish
            return
        self.requested = True
        if self.serving:
            raise KeyboardInterrupt


def _serve_local(args: argparse.Namespace, overrides: dict[str, str], termination: _Termination) -> int:
    from triage_gate.errors import ConfigurationError
    from triage_gate.policy import load_policy
    from triage_local.vendors import LocalVendors, review_channels

    try:
        # The functions' POLICY_PATH: the environment's overrides the template's PolicyPath parameter.
        policy = load_policy(os.environ.get("POLICY_PATH") or overrides.get("PolicyPath") or None)
    except ConfigurationError as exc:
        print(f"triage local: {exc}", file=sys.stderr)
        return 2
    with LocalVendors(os.environ, review_channels(policy)) as vendors:
        runner = _started_runner(args, overrides, {**os.environ, **vendors.environment()})
        if isinstance(runner, int):
            return runner
        try:
            _announce(runner, vendors)
        except BaseException:
            runner.stop()
            raise
        if termination.requested:  # SIGTERM while starting
            runner.stop()
            return 0
        termination.serving = True
        runner.serve_forever()  # stops the runner (and its children) when it returns
    return 0


def _announce(runner: LocalRunner, vendors: LocalVendors) -> None:
    print(f"Triage Gate local stack on {runner.base_url} (AWS endpoint {runner.endpoint_url}); Ctrl-C stops it.")
    for function in runner.functions.values():
        for route in function.spec.routes:
            print(f"  {route.route_key:<28} -> {function.name}")
    print("Vendors (a sandbox unless its base URL variable is set):")
    print("\n".join(vendors.describe()), flush=True)


def _started_runner(args: argparse.Namespace, overrides: dict[str, str], environ: dict[str, str]) -> LocalRunner | int:
    """A started LocalRunner, or the exit code after saying why it could not start."""
    from botocore.exceptions import BotoCoreError, ClientError

    from triage_local.runner import LocalRunner, RunnerConfig
    from triage_local.template import TemplateError

    config = RunnerConfig(
        template_path=args.template,
        host=args.host,
        port=args.port,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        parameter_overrides=overrides,
        retry_delay_seconds=args.retry_delay,
        environ=environ,
        concurrency=args.concurrency,
    )
    try:
        runner = LocalRunner(config)
    except (TemplateError, FileNotFoundError) as exc:
        print(f"triage local: {exc}", file=sys.stderr)
        return 2
    try:
        runner.start()
    except (TemplateError, FileNotFoundError) as exc:
        runner.stop()
        print(f"triage local: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        runner.stop()
        print(f"triage local: cannot provision at {runner.endpoint_url}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        runner.stop()
        print(f"triage local: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    return runner


def _cmd_demo(args: argparse.Namespace) -> int:
    from triage_tools.cli.extras import require

    require("local", "train")  # the stack on sandboxes, and the day-zero backtest trains the local model
    from triage_local.demo import run_demo

    if not (args.root / "template.yaml").is_file():
        print(f"triage demo: no template.yaml under {args.root.resolve()}", file=sys.stderr)
        return 2
    return run_demo(args.root.resolve(), args.port)


def _cmd_send(args: argparse.Namespace) -> int:
    import requests

    from triage_local.webhooks import send

    loaded = _sample_and_secret("send", args.file, args.secret)
    if loaded is None:
        return 2
    try:
        sample, secret = loaded
        response = send(sample, args.url, secret)
    except requests.RequestException as exc:
        print(f"triage send: {unreachable(args.url, exc)}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code}")
    print(response.text)
    return 0 if response.ok else 1


def _cmd_sign_event(args: argparse.Namespace) -> int:
    from triage_local.webhooks import signed_event

    loaded = _sample_and_secret("sign-event", args.file, args.secret)
    if loaded is None:
        return 2
    print(json.dumps(signed_event(args.file, loaded[1], args.url), indent=2))
    return 0


def _sample_and_secret(command: str, path: Path, given_secret: str | None) -> tuple[Sample, str] | None:
    """The sample at ``path`` and the secret to sign it with, or None after saying what is wrong."""
    from triage_local.webhooks import Sample

    try:
        sample = Sample.load(path)
    except FileNotFoundError:
        print(f"triage {command}: no such file: {path}", file=sys.stderr)
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"triage {command}: {path} is not JSON: {exc}", file=sys.stderr)
        return None
    if sample.source not in SECRET_ENV:
        print(f"triage {command}: {path} is not a Zendesk or HubSpot webhook sample", file=sys.stderr)
        return None
    secret = given_secret or os.environ.get(SECRET_ENV[sample.source])
    if not secret:
        print(f"triage {command}: no secret; pass --secret or set {SECRET_ENV[sample.source]}", file=sys.stderr)
        return None
    return sample, secret
