"""Cold start per function: a fresh interpreter imports the handler and serves its first request with its
real AWS clients, beside a fresh interpreter that imports boto3 and makes the same AWS calls.

Each sample is its own process (``cold_start_child.py``) against the same moto server, reset and provisioned
from template.yaml before every sample, with the vendor sandboxes on loopback for the calls a function makes
to Zendesk, Slack and the rest. The reference makes exactly the AWS calls (service, operation, parameters)
the function made, recorded in an untimed run first. Function and reference samples alternate, so the
machine's drift touches both. A first request that acts on an earlier function's work (a decision to write
back, a case to post or to approve) meets it because its scenario's ``prepare`` step made it, untimed, after
the reset and before either side's child (``cold_prepare.py``); every sample meets the Zendesk tickets as seeded.

Bytecode modes (the same mode on both sides of a row):
  bytecode         every module has its .pyc (as when the layer ships it)
  layer no .pyc    the runtime's modules (stdlib, boto3 and its dependencies) have their .pyc; the layer
                   (triage_gate and its bundled dependencies) and the function compile from source: what
                   Lambda pays when the layer ships no bytecode. PYTHONPYCACHEPREFIX points at a cache
                   holding only the runtime's .pyc; PYTHONDONTWRITEBYTECODE=1 keeps it so.
  no .pyc at all   PYTHONDONTWRITEBYTECODE=1 and PYTHONPYCACHEPREFIX at an empty directory: every module,
                   stdlib included, compiles on both sides.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_stats import Spread
from cold_prepare import SeededTickets
from local_aws import ROOT, LocalAws

CHILD = Path(__file__).with_name("cold_start_child.py")
MODES = ("bytecode", "layer no .pyc", "no .pyc at all")
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
"""What the Lambda python3.13 runtime brings (with its bytecode): boto3 and what boto3 needs."""
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
CHILD_TIMEOUT_S = 120


@dataclass(frozen=True)
class Scenario:
    """A function's first request: the event (built fresh for each sample) and how to check it was served.

    ``name`` tells two scenarios of one function apart (default: the function); ``secret`` adds values to the
    vendor secret for this scenario (an Anthropic key); ``vendors_called`` names the sandboxes the first request
    must reach (the Claude route's proof that it ran), each optionally with the start of a request line that
    must be among its requests ("slack POST /api/chat.postMessage"). ``prepare`` (untimed, after the reset,
    before either side's child) seeds the state the first request acts on (cold_prepare.py) and returns what
    ``event`` is called with; ``verify`` (untimed, after the function's child) tells what the first request
    failed to leave behind (the review it did not record, say), or None."""

    function: str
    describe: str
    event: Callable[..., dict[str, Any]]
    served: Callable[[Any], bool]
    name: str = ""
    secret: Mapping[str, str] = field(default_factory=dict)
    vendors_called: tuple[str, ...] = ()
    prepare: Callable[[Bench], Mapping[str, Any]] | None = None
    verify: Callable[[Bench, Mapping[str, Any]], str | None] | None = None

    @property
    def key(self) -> str:
        return self.name or self.function

    def first_request(self, bench: Bench) -> dict[str, Any]:
        """A freshly reset stack (with this scenario's secret) and the Zendesk tickets as seeded, holding what
        ``prepare`` seeds; the event."""
        bench.aws.reset(self.secret)
        bench.seeded_tickets.restore()
        return self.event(**self.prepare(bench)) if self.prepare else self.event()


@dataclass
class ColdStartRow:
    function: str
    mode: str
    function_ms: Spread
    function_import_ms: Spread
    function_cpu_ms: Spread
    reference_ms: Spread
    reference_cpu_ms: Spread
    aws_calls: int
    vendor_calls: int


@dataclass
class Discovery:
    calls: list[tuple[str, str, dict[str, Any]]]
    vendor_calls: int
    response: Any
    physical: dict[str, dict[str, Any]]
    """The resources' physical ids when the calls were recorded (a reset gives the secret a new ARN)."""

    def calls_now(self, physical: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
        """The recorded calls with every physical id that changed since replaced by today's."""
        changed = {
            old: physical[logical][attribute]
            for logical, ids in self.physical.items()
            for attribute, old in ids.items()
            if isinstance(old, str) and logical in physical and physical[logical].get(attribute) != old
        }
        return [(service, operation, replace_strings(params, changed)) for service, operation, params in self.calls]


def replace_strings(value: Any, changed: Mapping[str, str]) -> Any:
    """``value`` with every string that is a key of ``changed`` replaced, in nested dicts and lists."""
    if isinstance(value, str):
        return changed.get(value, value)
    if isinstance(value, dict):
        return {key: replace_strings(item, changed) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_strings(item, changed) for item in value]
    return value


@dataclass
class CompileCheck:
    label: str
    compiled: int
    ours: int
    runtime: int
    others: int
    ms: float


@dataclass
class Bench:
    """The shared state of one cold-start run: moto, the vendor sandboxes, the bytecode caches."""

    aws: LocalAws
    vendors: Any
    workdir: Path
    flags_file: Path
    runtime_prefix: Path = field(init=False)
    seeded_tickets: SeededTickets = field(init=False)

    def __post_init__(self) -> None:
        self.runtime_prefix = self.workdir / "runtime-pycache"
        self.seeded_tickets = SeededTickets(self.vendors)  # before any sample: the tickets as seeded

    # ------------------------------------------------------------------ environments
    def function_env(self, function: str, mode: str) -> dict[str, str]:
        from triage_local.functions import function_specs

        spec = next(s for s in function_specs(self.aws.template) if s.logical_id == function)
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        env.update(spec.environment)
        env.update(self.vendors.environment())
        if "FLAGS_FILE" in spec.environment:
            env["FLAGS_FILE"] = str(self.flags_file)  # as the local runner does: AppConfig has no local emulator
        env.update(self.aws.client_environment())
        env.update({
            "AWS_LAMBDA_FUNCTION_NAME": function, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout), "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": os.pathsep.join([str(spec.code_uri), *(str(p) for p in spec.layer_paths)]),
        })  # fmt: skip
        return self._with_mode(env, mode)

    def reference_env(self, mode: str) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        return self._with_mode({**env, **self.aws.client_environment()}, mode)

    def _with_mode(self, env: dict[str, str], mode: str) -> dict[str, str]:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTHONPYCACHEPREFIX", None)
        if mode == MODES[1]:
            env.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(self.runtime_prefix)})
        elif mode == MODES[2]:
            empty = Path(tempfile.mkdtemp(prefix="empty-pycache-", dir=self.workdir))
            env.update({"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(empty)})
        elif mode != MODES[0]:
            raise ValueError(f"unknown bytecode mode {mode!r}; one of {', '.join(MODES)}")
        return env

    # ------------------------------------------------------------------ one child
    def run_child(self, spec: dict[str, Any], env: Mapping[str, str], flags: tuple[str, ...] = ()) -> dict[str, Any]:
        handle, spec_path = tempfile.mkstemp(suffix=".spec", dir=self.workdir)
        os.close(handle)
        result_path = spec_path.replace(".spec", ".result")
        Path(spec_path).write_bytes(pickle.dumps({**spec, "result_path": result_path}))
        done = subprocess.run(
            [sys.executable, *flags, str(CHILD), spec_path], env=dict(env), capture_output=True,
            text=True, timeout=CHILD_TIMEOUT_S, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not Path(result_path).is_file():
            raise RuntimeError(f"cold-start child failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        result: dict[str, Any] = pickle.loads(Path(result_path).read_bytes())  # noqa: S301 - our child's own
        return result

    def function_sample(self, scenario: Scenario, mode: str, **switches: bool) -> dict[str, Any]:
        event = scenario.first_request(self)
        before = self.vendor_requests_by_sandbox()
        spec = {"kind": "function", "module": "app", "handler": "lambda_handler", "event": event}
        result = self.run_child({**spec, **switches}, self.function_env(scenario.function, mode))
        if not scenario.served(result["response"]):
            raise RuntimeError(f"{scenario.key}'s first request was not served: {result['response']!r}")
        made = {s.name: [f"{r.method} {r.path}" for r in s.requests[before.get(s.name, 0) :]]
                for s in self.vendors.sandboxes.all}  # fmt: skip
        missed = [want for want in scenario.vendors_called if not reached(want, made)]
        if missed:
            counts = {name: len(lines) for name, lines in made.items()}
            raise RuntimeError(f"{scenario.key}'s first request never reached {', '.join(missed)}: {counts}")
        if scenario.verify and (problem := scenario.verify(self, event)):
            raise RuntimeError(f"{scenario.key}'s first request was not served: {problem}")
        result["vendor_calls"] = sum(len(lines) for lines in made.values())
        return result

    def reference_sample(self, scenario: Scenario, discovery: Discovery, mode: str) -> dict[str, Any]:
        scenario.first_request(self)  # the same prepared state the function's first request met
        calls = discovery.calls_now(self.aws.template.physical)
        result = self.run_child({"kind": "reference", "calls": calls}, self.reference_env(mode))
        if result["response"]["errors"]:
            raise RuntimeError(f"the reference's calls failed where the function's succeeded: {result['response']}")
        return result

    def vendor_requests_by_sandbox(self) -> dict[str, int]:
        return {sandbox.name: len(sandbox.requests) for sandbox in self.vendors.sandboxes.all}

    # ------------------------------------------------------------------ bytecode caches
    def prime_runtime_cache(self, scenarios: list[Scenario], discoveries: Mapping[str, Discovery]) -> None:
        """Bytecode for what the runtime brings, nothing else: run each side once writing into the cache,
        then drop every .pyc whose source is not the stdlib or one of ``RUNTIME_PACKAGES``."""
        for scenario in scenarios:
            event = scenario.first_request(self)
            env = {**self.function_env(scenario.function, "bytecode"), "PYTHONPYCACHEPREFIX": str(self.runtime_prefix)}
            self.run_child({"kind": "function", "module": "app", "handler": "lambda_handler", "event": event}, env)
            reference = {**self.reference_env("bytecode"), "PYTHONPYCACHEPREFIX": str(self.runtime_prefix)}
            scenario.first_request(self)
            calls = discoveries[scenario.key].calls_now(self.aws.template.physical)
            self.run_child({"kind": "reference", "calls": calls}, reference)
        for pyc in list(self.runtime_prefix.rglob("*.pyc")):
            source_dir = Path("/") / pyc.parent.relative_to(self.runtime_prefix)
            if origin(str(source_dir / pyc.name), self.workdir) != "runtime":
                pyc.unlink()


def reached(want: str, made: Mapping[str, list[str]]) -> bool:
    """``want`` ("slack", or "slack POST /api/chat.postMessage") is among the request lines ``made`` per sandbox."""
    sandbox, _, line = want.partition(" ")
    return any(request.startswith(line) for request in made.get(sandbox, []))


def origin(path: str, copies: Path | None = None) -> str:
    """Whose module a source (or mirrored .pyc) path is: ``ours`` (this repository, or a fresh copy of it under
    ``copies``), ``runtime`` (the stdlib, boto3 and its dependencies: what Lambda's runtime brings) or
    ``layer dependency`` (everything else: what the layer bundles)."""
    purelib = sysconfig.get_paths()["purelib"]
    ours = [str(ROOT) + os.sep] + ([str(copies) + os.sep] if copies else [])
    if path.startswith(tuple(ours)) and not path.startswith(str(ROOT / ".venv")):
        return "ours"
    if path.startswith(purelib + os.sep):
        top = path[len(purelib) + 1 :].split(os.sep, 1)[0]
        name = top.split(".cpython-")[0]
        return "runtime" if name in RUNTIME_PACKAGES or f"{name}.py" in RUNTIME_PACKAGES else "layer dependency"
    stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
    return "runtime" if path.startswith(stdlib) else "layer dependency"


def discover(bench: Bench, scenario: Scenario) -> Discovery:
    """An untimed first request that writes down every AWS call; it also compiles our .pyc for ``bytecode``."""
    result = bench.function_sample(scenario, "bytecode", record_calls=True)
    physical = {logical: dict(ids) for logical, ids in bench.aws.template.physical.items()}
    return Discovery(result["calls"], result["vendor_calls"], result["response"], physical)


def measure(
    bench: Bench, scenarios: list[Scenario], discoveries: Mapping[str, Discovery], mode: str, repeats: int
) -> list[ColdStartRow]:
    """``repeats`` rounds; in each, every scenario's function then its reference. Alternating the two sides
    puts drift on this shared machine on both alike; rounds over all scenarios put it on every scenario alike
    (measured one after another, two rows of the same code once differed by ~90 ms of drift alone)."""
    samples: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {s.key: ([], []) for s in scenarios}
    for _ in range(repeats):
        for scenario in scenarios:
            functions, references = samples[scenario.key]
            functions.append(bench.function_sample(scenario, mode))
            references.append(bench.reference_sample(scenario, discoveries[scenario.key], mode))
    return [_row(s, discoveries[s.key], mode, *samples[s.key]) for s in scenarios]


def _row(
    scenario: Scenario,
    discovery: Discovery,
    mode: str,
    functions: list[dict[str, Any]],
    references: list[dict[str, Any]],
) -> ColdStartRow:
    return ColdStartRow(
        function=scenario.key,
        mode=mode,
        function_ms=Spread.of([r["total_ms"] for r in functions]),
        function_import_ms=Spread.of([r["import_ms"] for r in functions]),
        function_cpu_ms=Spread.of([r["cpu_ms"] for r in functions]),
        reference_ms=Spread.of([r["total_ms"] for r in references]),
        reference_cpu_ms=Spread.of([r["cpu_ms"] for r in references]),
        aws_calls=len(discovery.calls),
        vendor_calls=discovery.vendor_calls,
    )


@dataclass
class ClientSetup:
    """Making the same clients in a fresh interpreter after boto3's import: the reference's way (a plain boto3
    session) against the functions' (AwsClients: one session whose botocore loader skips the scan of every
    service directory and decodes with msgspec; see triage_gate.adapters.botocore_data). The cold-start rows
    count that difference in the functions' favour; this says how much."""

    services: tuple[str, ...]
    plain_ms: Spread
    functions_ms: Spread

    @property
    def saved_ms(self) -> float:
        return self.plain_ms.median - self.functions_ms.median


def client_setup(bench: Bench, function: str, services: Sequence[str], repeats: int) -> ClientSetup:
    """``repeats`` rounds of one plain and one functions' setup, alternating, in ``function``'s environment."""
    env = bench.function_env(function, "bytecode")
    samples: dict[str, list[float]] = {"plain": [], "functions": []}
    for _ in range(repeats):
        for setup, times in samples.items():
            result = bench.run_child({"kind": "clients", "setup": setup, "services": list(services)}, env)
            times.append(result["first_request_ms"])
    return ClientSetup(tuple(services), Spread.of(samples["plain"]), Spread.of(samples["functions"]))


def compile_checks(bench: Bench, scenario: Scenario, modes: Sequence[str] = MODES) -> list[CompileCheck]:
    """How many modules each of ``modes`` compiles from source, by whose they are; and ``python -B`` on a fresh
    copy of the function and triage_gate (no __pycache__ anywhere in it), which must compile exactly ours.
    "layer no .pyc" needs the runtime cache ``prime_runtime_cache`` fills: it is checked only when measured."""
    checks = []
    for mode in modes:
        result = bench.function_sample(scenario, mode, count_compiles=True)
        checks.append(_check(mode, result, bench.workdir))
    with fresh_copy(bench.workdir, scenario.function, bench) as python_path:
        event = scenario.first_request(bench)
        env = {**bench.function_env(scenario.function, "bytecode"), "PYTHONPATH": python_path}
        spec = {"kind": "function", "module": "app", "handler": "lambda_handler", "event": event,
                "count_compiles": True}  # fmt: skip
        result = bench.run_child(spec, env, ("-B",))
        checks.append(_check("python -B, fresh copy of ours", result, bench.workdir))
    return checks


def _check(label: str, result: Mapping[str, Any], copies: Path) -> CompileCheck:
    kinds = [origin(path, copies) for path in result["compiled"]]
    return CompileCheck(label, len(kinds), kinds.count("ours"), kinds.count("runtime"),
                        kinds.count("layer dependency"), result["total_ms"])  # fmt: skip


@contextmanager
def fresh_copy(workdir: Path, function: str, bench: Bench) -> Iterator[str]:
    """The function's code and the layer's triage_gate copied without any __pycache__; yields a PYTHONPATH."""
    from triage_local.functions import function_specs

    spec = next(s for s in function_specs(bench.aws.template) if s.logical_id == function)
    copy_root = Path(tempfile.mkdtemp(prefix="fresh-copy-", dir=workdir))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(spec.code_uri, copy_root / "function", ignore=ignore)
    shutil.copytree(ROOT / "layers" / "core" / "triage_gate", copy_root / "layer" / "triage_gate", ignore=ignore)
    try:
        yield os.pathsep.join([str(copy_root / "function"), str(copy_root / "layer")])
    finally:
        shutil.rmtree(copy_root, ignore_errors=True)
