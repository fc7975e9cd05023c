"""One cold start, in the fresh interpreter ``cold_start.py`` spawns per sample: ``python cold_start_child.py SPEC``.

SPEC is a pickle: ``kind`` ("function", "reference" or "clients"), ``result_path``, and for a function its
``module``, ``handler`` and ``event``; for the reference the ``calls`` [(service, operation, params)] to make;
for "clients" the ``services`` and the ``setup`` to make their clients with. The clock
starts after this bootstrap has read its spec (as Lambda's runtime is up before it imports the handler) and
stops when the first request has been answered (the function) or the same AWS calls made (the reference).

Two switches serve untimed runs only: ``record_calls`` writes down every AWS call the function makes (the
reference replays them), ``count_compiles`` lists every module compiled from source instead of read from
bytecode (the proof that a "no bytecode" mode really compiles).
"""

from __future__ import annotations

import pickle
import sys
import time
from typing import Any


class ColdContext:
    """The parts of Lambda's context object the handlers and Powertools read."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self) -> None:
        self._deadline = time.monotonic() + 60.0

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def count_compiles(compiled: list[str]) -> None:
    """Append the path of every source file the import system compiles (not read from a .pyc)."""
    from importlib import _bootstrap_external  # CPython's own loader module

    original = _bootstrap_external.SourceLoader.source_to_code

    def source_to_code(self: Any, data: Any, path: Any, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    setattr(_bootstrap_external.SourceLoader, "source_to_code", source_to_code)  # noqa: B010 - a patch


def record_calls(calls: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Write down (service, operation, params) of every boto3 call, as the caller passed them."""
    import copy

    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append((self.meta.service_model.service_name, operation_name, copy.deepcopy(api_params)))
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = make_api_call


def run_function(spec: dict[str, Any]) -> tuple[float, Any]:
    """Import the handler module (its clock mark), then serve the first request; returns (import mark, response)."""
    import importlib

    module = importlib.import_module(spec["module"])
    imported = time.perf_counter()
    return imported, getattr(module, spec["handler"])(spec["event"], ColdContext())


def run_reference(spec: dict[str, Any]) -> tuple[float, Any]:
    """Import boto3 (its clock mark), create one client per service, make the same calls with the same params."""
    import boto3

    imported = time.perf_counter()
    from botocore import xform_name
    from botocore.exceptions import ClientError

    clients: dict[str, Any] = {}
    errors = 0
    for service, operation, params in spec["calls"]:
        if service not in clients:
            clients[service] = boto3.client(service)
        try:
            getattr(clients[service], xform_name(operation))(**params)
        except ClientError:  # the function got the same answer (a conditional write that lost, say)
            errors += 1
    return imported, {"calls": len(spec["calls"]), "errors": errors}


def run_clients(spec: dict[str, Any]) -> tuple[float, Any]:
    """Import boto3 (its clock mark), then make one client per ``services``: from a plain boto3 session
    (``setup`` "plain", what the reference does) or as the functions make them ("functions": AwsClients)."""
    import boto3

    imported = time.perf_counter()
    if spec["setup"] == "functions":
        from triage_gate.adapters.aws import AwsClients

        aws = AwsClients()
        clients = [aws.client(service).meta for service in spec["services"]]  # made at first use
    else:
        session = boto3.session.Session()
        clients = [session.client(service) for service in spec["services"]]
    return imported, {"clients": len(clients)}


RUNS = {"function": run_function, "reference": run_reference, "clients": run_clients}


def main(spec_path: str) -> int:
    with open(spec_path, "rb") as handle:
        spec = pickle.load(handle)  # noqa: S301 - written by cold_start.py for this run
    compiled: list[str] = []
    calls: list[tuple[str, str, dict[str, Any]]] = []
    if spec.get("count_compiles"):
        count_compiles(compiled)
    if spec.get("record_calls"):
        record_calls(calls)
    started, started_cpu = time.perf_counter(), time.process_time()
    imported, response = RUNS[spec["kind"]](spec)
    finished, finished_cpu = time.perf_counter(), time.process_time()
    result = {
        "import_ms": (imported - started) * 1000,
        "first_request_ms": (finished - imported) * 1000,
        "total_ms": (finished - started) * 1000,
        "cpu_ms": (finished_cpu - started_cpu) * 1000,
        "response": response,
        "calls": calls,
        "compiled": compiled,
        "modules": len(sys.modules),
    }
    with open(spec["result_path"], "wb") as handle:
        pickle.dump(result, handle)
    return 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="cold_start_child.py", description=__doc__.split("\n")[0])
    parser.add_argument("spec", help="the pickled sample spec cold_start.py wrote")
    sys.exit(main(parser.parse_args().spec))
