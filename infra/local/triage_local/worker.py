"""One warm "Lambda container": imports a handler once, then serves invocations over pipes.

Run by the runner as ``python -m triage_local.worker HANDLER CODE_URI RESPONSE_FD``. Requests arrive
as JSON lines on stdin; responses go to RESPONSE_FD, so whatever the handler prints to stdout (logs,
EMF metrics) stays out of the protocol. A response also carries ``record_failures``: for each SQS record
the handler logged at error level with its ``message_id`` (as ``triage_gate.compose.sqs`` does for every
record it reports in ``batchItemFailures``), the exception type and message — the runner's poller writes
them next to the record's id in the function's log.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
import uuid
from typing import Any


class LocalLambdaContext:
    def __init__(self, deadline_ms: int) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class RecordFailures:
    """Error-level log records that name an SQS message id, collected during one invocation.

    A log record factory sees every record any logger creates (Powertools' included); the ``message_id``
    a logger passes as an extra is set on the record after the factory returns, so it is read at ``take()``.
    """

    def __init__(self) -> None:
        self._records: list[logging.LogRecord] = []
        self._make = logging.getLogRecordFactory()
        logging.setLogRecordFactory(self._record)

    def _record(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._make(*args, **kwargs)
        if record.levelno >= logging.ERROR:
            self._records.append(record)
        return record

    def take(self) -> dict[str, str]:
        """{message id: "ExceptionType: message"} from the records since the last call."""
        records, self._records = self._records, []
        reasons = {}
        for record in records:
            message_id = record.__dict__.get("message_id")
            if isinstance(message_id, str) and message_id:
                reasons[message_id] = _reason(record)
        return reasons


def _reason(record: logging.LogRecord) -> str:
    """The exception the record carries, else its ``error`` extra, else its message."""
    if record.exc_info and record.exc_info[0] is not None:
        kind, value = record.exc_info[0], record.exc_info[1]
        return f"{kind.__name__}: {value}"
    error = record.__dict__.get("error")
    return str(error) if error else record.getMessage()


def main(argv: list[str]) -> int:
    handler_name, code_uri, fd = argv[0], argv[1], int(argv[2])
    out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
    failures = RecordFailures()
    sys.path.insert(0, code_uri)
    module_name, _, function_name = handler_name.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        init_error = None
    except Exception as exc:  # an Init error answers every invocation, as Lambda does
        traceback.print_exc()
        handler, init_error = None, {"type": type(exc).__name__, "message": str(exc)}
    out.write(json.dumps({"ready": True, "init_error": init_error}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        failures.take()  # only what this invocation logs
        response = _invoke(handler, init_error, request)
        if reasons := failures.take():
            response["record_failures"] = reasons
        out.write(json.dumps(response) + "\n")
    return 0


def _invoke(handler: Any, init_error: dict[str, str] | None, request: dict[str, Any]) -> dict[str, Any]:
    if handler is None:
        return {"id": request["id"], "ok": False, "error": init_error}
    context = LocalLambdaContext(request["deadline_ms"])
    try:
        result = handler(request["event"], context)
    except Exception as exc:
        traceback.print_exc()
        return {"id": request["id"], "ok": False, "error": {"type": type(exc).__name__, "message": str(exc)}}
    finally:
        sys.stdout.flush()
    return {"id": request["id"], "ok": True, "result": result}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
