"""The local stack: ``triage local``, ``triage demo``, ``triage send`` and ``triage sign-event``.

The local runner, the demo and the sample signer are ``triage_local`` (dev only), imported when a command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triage_local.webhooks import Sample

SECRET_ENV = {"zendesk": "ZENDESK_WEBHOOK_SECRET", "hubspot": "HUBSPOT_CLIENT_SECRET"}


def add_stack_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``local``, ``demo`` and ``send``."""
    local = sub.add_parser("local", help="run the whole stack locally (embedded moto unless AWS_ENDPOINT_URL is set)")
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


def add_sign_event_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``sign-event`` (listed last in ``triage --help``)."""
    sign = sub.add_parser("sign-event", help="print an events/ sample with fresh signatures (for sam local invoke)")
    sign.add_argument("file", type=Path)
    sign.add_argument("--secret", help="signing secret (default: from the environment)")
    sign.add_argument("--url", help="URL HubSpot would call (default: https://<host header><rawPath>)")
    sign.set_defaults(func=_cmd_sign_event)


def _cmd_local(args: argparse.Namespace) -> int:
    from triage_local.runner import LocalRunner, RunnerConfig
    from triage_local.template import TemplateError

    overrides = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"triage local: --parameter must be KEY=VALUE, got {item!r}", file=sys.stderr)
            return 2
        overrides[key] = value
    config = RunnerConfig(
        template_path=args.template,
        host=args.host,
        port=args.port,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        parameter_overrides=overrides,
        retry_delay_seconds=args.retry_delay,
    )
    from botocore.exceptions import BotoCoreError, ClientError

    runner = LocalRunner(config)
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
    print(f"Triage Gate local stack on {runner.base_url} (AWS endpoint {runner.endpoint_url}); Ctrl-C stops it.")
    for function in runner.functions.values():
        for route in function.spec.routes:
            print(f"  {route.route_key:<28} -> {function.name}")
    runner.serve_forever()
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
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
        print(f"triage send: {args.url} did not answer: {exc}", file=sys.stderr)
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
