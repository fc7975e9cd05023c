"""``triage local``: the template's topology on one machine.

AWS: the endpoint in AWS_ENDPOINT_URL (a moto server or LocalStack you run), else an embedded moto
server with IAM enforced: each function runs with its own role's credentials, the role as SAM expands
the template (``triage_local.iam``), so a permission the template lacks fails here as in AWS. HTTP: the
template's HttpApi routes on --port. Queues: polled into their consumers like Lambda event source
mappings, several batches at once. Schedules: run on their rate. Functions: up to N warm worker processes each
(``triage_local.pool``), N from the template's concurrency settings, scaled out as load needs, as Lambda does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from triage_local.aws_calls import AwsCall
from triage_local.endpoints import EndpointSession, free_port, local_credentials, wait_for_port
from triage_local.endpoints import wait_until_healthy as wait_until_healthy  # re-exported: callers import it here
from triage_local.functions import FunctionSpec, ScheduleSource, function_specs
from triage_local.gateway import Gateway
from triage_local.iam import RoleEnforcement
from triage_local.poller import SqsPoller
from triage_local.pool import DEFAULT_CONCURRENCY, WorkerPool, concurrency_of
from triage_local.process import InvocationError
from triage_local.provision import provision
from triage_local.template import Template

_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "VIRTUAL_ENV")
_SWITCH = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def enforce_iam_from(environ: Mapping[str, str]) -> bool:
    """TRIAGE_ENFORCE_IAM: on unless it says 0 (or false/no/off)."""
    value = environ.get("TRIAGE_ENFORCE_IAM", "1").strip().lower()
    if value not in _SWITCH:
        raise ValueError(f"TRIAGE_ENFORCE_IAM must be 1 or 0, got {environ['TRIAGE_ENFORCE_IAM']!r}")
    return _SWITCH[value]


@dataclass
class RunnerConfig:
    template_path: Path = Path("template.yaml")
    host: str = "127.0.0.1"
    port: int = 3000
    region: str = "us-east-1"
    endpoint_url: str | None = None
    parameter_overrides: dict[str, str] = field(default_factory=dict)
    # None: failed records wait out the queue's visibility timeout, as in AWS.
    retry_delay_seconds: int | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # None: TRIAGE_ENFORCE_IAM in ``environ`` decides (on unless 0). Enforced on the embedded moto only.
    enforce_iam: bool | None = None
    # Workers per function: None = the template's (reserved concurrency, else the SQS mappings' MaximumConcurrency,
    # else default_concurrency); a number replaces it for every function (`triage local --concurrency N`).
    concurrency: int | None = None
    default_concurrency: int = DEFAULT_CONCURRENCY
    # Workers started per function before serving (at most its N); the rest start as load needs them.
    prewarm: int = 1

    def __post_init__(self) -> None:
        for name in ("concurrency", "default_concurrency", "prewarm"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"RunnerConfig.{name} must be at least 1, got {value}")


class LocalRunner:
    def __init__(self, config: RunnerConfig, log: TextIO | None = None) -> None:
        self.config = config
        self._log_stream = log or sys.stderr
        self._log_lock = threading.Lock()
        self._moto: Any = None
        self.endpoint_url = config.endpoint_url
        self.template = Template.load(config.template_path, region=config.region, overrides=config.parameter_overrides)
        self.functions: dict[str, WorkerPool] = {}
        self.pollers: list[SqsPoller] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.gateway: Gateway | None = None
        self._session: Any = None
        self._workdir = tempfile.TemporaryDirectory(prefix="triage-local-")
        self.flags_file = self._initial_flags()
        self.enforce_iam = enforce_iam_from(config.environ) if config.enforce_iam is None else config.enforce_iam
        self.iam: RoleEnforcement | None = None
        self._serving = False
        self._final_calls: list[AwsCall] | None = None  # what the functions called, kept once stopped

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalRunner:
        """Everything up, or (whatever failed: AWS, provisioning, a function's init) everything stopped."""
        try:
            self._start_aws()
            provision(self.template, self.session, self.config.environ)
            if self.iam is not None:
                self.iam.grant(self.session)
            self.gateway = Gateway(self.config.host, self.config.port, self.health)
            specs = function_specs(self.template)
            self.functions = {s.logical_id: self._pool(s) for s in specs}
            self._start_functions()
            for spec in specs:
                self._wire(spec)
            self._serving = True
            self._spawn(self.gateway.server.serve_forever, "gateway")
            for poller in self.pollers:
                poller.start()
        except BaseException:
            self.stop()
            raise
        iam = "IAM enforced, one role per function" if self.iam else "IAM not enforced"
        self.log("runner", f"ready on {self.base_url} (AWS endpoint {self.endpoint_url}; {iam})")
        return self

    def stop(self) -> None:
        self._stop.set()
        for poller in self.pollers:
            poller.stop()
        if self.gateway:
            if self._serving:  # shutdown() waits for serve_forever, which never ran if start() failed first
                self.gateway.server.shutdown()
            self.gateway.server.server_close()
        for function in self.functions.values():
            function.stop()
        if self.iam is not None and self._final_calls is None:
            self.iam.stop()
            self._final_calls = self.iam.calls()
            self._report_denials(self._final_calls)
        if self._moto is not None:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._moto.kill()
            self._moto = None
        self._workdir.cleanup()

    def __enter__(self) -> LocalRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        try:
            while not self._stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            self.log("runner", "stopping")
        finally:
            self.stop()

    # ------------------------------------------------------------------ facts
    @property
    def base_url(self) -> str:
        assert self.gateway is not None, "start() first"
        return f"http://{self.config.host}:{self.gateway.port}"

    @property
    def session(self) -> Any:
        if self._session is None:
            import boto3

            creds = self.iam.admin.environment() if self.iam and self.iam.admin else {}
            creds = creds or local_credentials(self.endpoint_url, self.config.environ)
            self._session = boto3.session.Session(
                region_name=self.config.region,
                aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=creds.get("AWS_SECRET_ACCESS_KEY"),
                aws_session_token=creds.get("AWS_SESSION_TOKEN"),
            )
        return EndpointSession(self._session, self.endpoint_url)

    @property
    def aws_pid(self) -> int | None:
        """The embedded moto server's process id (None with an AWS endpoint you run)."""
        return self._moto.pid if self._moto is not None else None

    def physical_id(self, logical: str, attribute: str = "Ref") -> Any:
        return self.template.physical[logical][attribute]

    def queue_depths(self) -> dict[str, dict[str, int]]:
        sqs = self.session.client("sqs")
        depths = {}
        for logical, ids in self.template.physical.items():
            if "QueueUrl" not in ids:
                continue
            attrs = sqs.get_queue_attributes(
                QueueUrl=ids["QueueUrl"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[logical] = {
                "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
                "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            }
        return depths

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "aws_endpoint": self.endpoint_url,
            # The operator identity (review CLI, setup) on the embedded moto when it enforces IAM: loopback only.
            "aws_credentials": self.iam.admin.client_arguments() if self.iam and self.iam.admin else None,
            "region": self.config.region,
            "resources": {k: v["Ref"] for k, v in self.template.physical.items()},
            "functions": {n: {"invocations": f.invocations, "workers": f.status()} for n, f in self.functions.items()},
            "routes": [r.route_key for r, _ in (self.gateway.routes if self.gateway else [])],
            "queues": self.queue_depths(),
        }

    def log(self, source: str, line: str) -> None:
        with self._log_lock:
            self._log_stream.write(f"[{source}] {line}\n")
            self._log_stream.flush()

    # ------------------------------------------------------------------ internals
    def _start_aws(self) -> None:
        """An embedded moto server in a child process: its state is its own (moto's backends are
        process-global, so two runners in one process would otherwise share every table)."""
        if self.endpoint_url:
            if self.enforce_iam:
                self.log("runner", f"IAM is not enforced on an AWS endpoint you run ({self.endpoint_url})")
            return
        port = free_port()
        calls = Path(self._workdir.name) / "aws-calls.jsonl"
        env = {k: v for k, v in os.environ.items() if k != "INITIAL_NO_AUTH_ACTION_COUNT"}
        env.update(RoleEnforcement.server_environment() if self.enforce_iam else {})
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "triage_local.aws_server", "--calls", str(calls), "-H", "127.0.0.1",
             "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        self.endpoint_url = f"http://127.0.0.1:{port}"
        if self.enforce_iam:  # SAM's translation runs while moto starts
            self.iam = RoleEnforcement(self.template, calls, self.log)
        wait_for_port(port, self._moto, timeout=30)
        if self.iam is not None:
            self.iam.bootstrap(self.endpoint_url, self.config.region)

    def aws_calls(self) -> list[AwsCall]:
        """The distinct AWS calls the functions made under their roles (none when IAM is not enforced)."""
        if self._final_calls is not None:
            return self._final_calls
        return self.iam.calls() if self.iam else []

    def denied_calls(self) -> list[AwsCall]:
        return [call for call in self.aws_calls() if not call.allowed]

    def _report_denials(self, calls: list[AwsCall]) -> None:
        denied = [call for call in calls if not call.allowed]
        if denied:
            listed = "; ".join(f"{c.function}: {c.grant}" for c in denied)
            self.log("runner", f"ERROR {len(denied)} AWS call(s) were denied: the template does not grant {listed}")

    def function_env(self, spec: FunctionSpec) -> dict[str, str]:
        environ = self.config.environ
        env = {k: environ[k] for k in _PASSTHROUGH if k in environ}
        env.update(spec.environment)
        # A variable the template declares can be overridden from the runner's environment
        # (e.g. ZENDESK_BASE_URL pointing at a sandbox).
        env.update({k: environ[k] for k in spec.environment if k in environ})
        if "FLAGS_FILE" in spec.environment and not env.get("FLAGS_FILE") and self.flags_file:
            env["FLAGS_FILE"] = self.flags_file  # AppConfig, as the stack deploys it: its initial flags
        role = self.iam.function_credentials.get(spec.logical_id) if self.iam else None
        env.update(role.environment() if role else local_credentials(self.endpoint_url, environ))
        python_path = [
            str(spec.code_uri),
            *(str(p) for p in spec.layer_paths),
            str(Path(__file__).parent.parent),
        ]
        env.update(
            {
                "AWS_ENDPOINT_URL": str(self.endpoint_url),
                "AWS_REGION": self.config.region,
                "AWS_DEFAULT_REGION": self.config.region,
                "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout),
                "PUBLIC_BASE_URL": self.base_url,
                "PYTHONPATH": os.pathsep.join(python_path),
                "PYTHONUNBUFFERED": "1",
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        return env

    def _initial_flags(self) -> str | None:
        """AppConfig has no local emulator: the template's first hosted configuration version (what a new
        stack deploys) is written to a file that FLAGS_FILE points at, unless FLAGS_FILE is given."""
        versions = self.template.resources_of("AWS::AppConfig::HostedConfigurationVersion")
        contents = [self.template.resolve(v.get("Properties", {}).get("Content")) for v in versions.values()]
        if len(contents) != 1 or not isinstance(contents[0], str):
            return None
        path = Path(self._workdir.name) / "appconfig-flags.json"
        path.write_text(contents[0], encoding="utf-8")
        return str(path)

    def _pool(self, spec: FunctionSpec) -> WorkerPool:
        concurrency = concurrency_of(spec, self.config.default_concurrency, self.config.concurrency)
        return WorkerPool(spec, self.function_env(spec), self.log, concurrency)

    def _start_functions(self) -> None:
        errors: list[BaseException] = []

        def start(function: WorkerPool) -> None:
            try:
                function.start(self.config.prewarm)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start, args=(f,)) for f in self.functions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def _wire(self, spec: FunctionSpec) -> None:
        function = self.functions[spec.logical_id]
        assert self.gateway is not None
        for route in spec.routes:
            self.gateway.add_route(route, function)
        for source in spec.sqs_sources:
            # The mapping's MaximumConcurrency batches at once, within the function's workers.
            in_flight = min(self.config.concurrency or source.maximum_concurrency or function.concurrency,
                            function.concurrency)  # fmt: skip
            sqs = self.session.client("sqs")
            retry = self.config.retry_delay_seconds
            self.pollers.append(SqsPoller(source, function, sqs, self.config.region, self.log, retry, in_flight))
        for schedule in spec.schedules:
            self._spawn(lambda s=schedule, f=function: self._run_schedule(s, f), f"schedule-{schedule.name}")

    def run_scheduled(self, function: str) -> Any:
        """Run a scheduled function now, as its first schedule would (InvocationError if it fails)."""
        process = self.functions[function]
        return process.invoke(self._scheduled_event(process.spec.schedules[0]))

    def _scheduled_event(self, schedule: ScheduleSource) -> dict[str, Any]:
        return {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "123456789012",
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": self.config.region,
            "resources": [f"local:schedule/{schedule.name}"], "detail": {},
        }  # fmt: skip

    def _run_schedule(self, schedule: ScheduleSource, function: WorkerPool) -> None:
        while not self._stop.wait(schedule.interval_seconds):
            try:
                function.invoke(self._scheduled_event(schedule))
            except InvocationError as exc:
                self.log(function.name, f"scheduled run {schedule.name} failed: {exc}")

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
