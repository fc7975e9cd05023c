"""The ``triage`` command. Dev-only subcommands import the local runner lazily."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from triage_gate import __version__

SECRET_ENV = {"zendesk": "ZENDESK_WEBHOOK_SECRET", "hubspot": "HUBSPOT_CLIENT_SECRET"}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="Triage Gate operations and local tools.")
    parser.add_argument("--version", action="version", version=f"triage-gate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    sign = sub.add_parser("sign-event", help="print an events/ sample with fresh signatures (for sam local invoke)")
    sign.add_argument("file", type=Path)
    sign.add_argument("--secret", help="signing secret (default: from the environment)")
    sign.add_argument("--url", help="URL HubSpot would call (default: https://<host header><rawPath>)")
    sign.set_defaults(func=_cmd_sign_event)
    return parser


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
    try:
        runner = LocalRunner(config).start()
    except (TemplateError, FileNotFoundError) as exc:
        print(f"triage local: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
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


def _secret_for(source: str, given: str | None) -> str | None:
    return given or os.environ.get(SECRET_ENV[source])


def _cmd_send(args: argparse.Namespace) -> int:
    import requests

    from triage_local.webhooks import send

    sample = _load_sample(args.file)
    if sample is None:
        return 2
    secret = _secret_for(sample.source, args.secret)
    if not secret:
        print(f"triage send: no secret; pass --secret or set {SECRET_ENV[sample.source]}", file=sys.stderr)
        return 2
    try:
        response = send(sample, args.url, secret)
    except requests.RequestException as exc:
        print(f"triage send: {args.url} did not answer: {exc}", file=sys.stderr)
        return 1
    print(f"HTTP {response.status_code}")
    print(response.text)
    return 0 if response.ok else 1


def _cmd_sign_event(args: argparse.Namespace) -> int:
    from triage_local.webhooks import signed_event

    sample = _load_sample(args.file)
    if sample is None:
        return 2
    secret = _secret_for(sample.source, args.secret)
    if not secret:
        print(f"triage sign-event: no secret; pass --secret or set {SECRET_ENV[sample.source]}", file=sys.stderr)
        return 2
    print(json.dumps(signed_event(args.file, secret, args.url), indent=2))
    return 0


def _load_sample(path: Path):  # type: ignore[no-untyped-def]
    from triage_local.webhooks import Sample

    try:
        sample = Sample.load(path)
    except FileNotFoundError:
        print(f"triage: no such file: {path}", file=sys.stderr)
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"triage: {path} is not JSON: {exc}", file=sys.stderr)
        return None
    if sample.source not in SECRET_ENV:
        print(f"triage: {path} is not a Zendesk or HubSpot webhook sample", file=sys.stderr)
        return None
    return sample


if __name__ == "__main__":
    sys.exit(main())
