"""SQS event source mappings: poll a queue into its function in batches, as Lambda does.

Up to ``max_in_flight`` batches run at once (the mapping's ``MaximumConcurrency``, bounded by the function's
workers): the poller receives a batch only when a slot is free, hands it to the function's pool on its own
thread (a free warm worker, or a new one while fewer than N exist) and goes back for the next.

Successful records are deleted; records named in ``batchItemFailures`` (or the whole batch, when the
invocation fails) stay and reappear after the visibility timeout, so the queue's redrive policy moves
them to the DLQ after maxReceiveCount receives, exactly as in AWS. Each failed record is logged under the
function's name with its message id, its receive count and the reason: the exception the invocation raised,
or, for a record in ``batchItemFailures``, the failure the function logged for it (``triage_local.worker``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from triage_local.functions import SqsSource
from triage_local.pool import WorkerPool
from triage_local.process import InvocationError

LogSink = Callable[[str, str], None]
NO_REASON = "reported in batchItemFailures; the function logged no reason for it"


class SqsPoller:
    def __init__(
        self,
        source: SqsSource,
        function: WorkerPool,
        sqs: Any,
        region: str,
        log: LogSink,
        retry_delay_seconds: int | None = None,
        max_in_flight: int = 1,
    ) -> None:
        self.source = source
        self.function = function
        self._sqs = sqs
        self._region = region
        self._log = log
        # None = wait for the queue's visibility timeout like Lambda; a number shortens it locally.
        self._retry_delay = retry_delay_seconds
        self.max_in_flight = max_in_flight
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{source.queue}", daemon=True)
        self._deliveries: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self.batches = 0
        self.peak_in_flight = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """No new batches; wait up to ``timeout`` for the batches in flight."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._thread.is_alive():  # never started when the runner failed to start
            self._thread.join(timeout=timeout)
        with self._lock:
            deliveries = list(self._deliveries)
        for delivery in deliveries:
            delivery.join(timeout=max(0.0, deadline - time.monotonic()))

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch and deliver it on this thread; the number of messages."""
        messages = self._receive(wait_seconds)
        if messages:
            self._deliver(messages)
        return len(messages)

    def _receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.source.queue_url,
            MaxNumberOfMessages=min(10, self.source.batch_size),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue  # every slot busy: check for stop, then wait again
            try:
                messages = self._receive(wait_seconds=1)
            except Exception as exc:  # keep polling through a transient endpoint error, as Lambda does
                self._slots.release()
                self._log(self.function.name, f"poller error on {self.source.queue}: {exc}")
                self._stop.wait(1.0)
                continue
            if not messages:
                self._slots.release()
                continue
            self._fan_out(messages)

    def _fan_out(self, messages: list[dict[str, Any]]) -> None:
        """Deliver the batch on its own thread; its slot is given back when the batch is done."""
        delivery = threading.Thread(target=self._deliver_in_slot, args=(messages,), daemon=True,
                                    name=f"batch-{self.source.queue}")  # fmt: skip
        with self._lock:
            self._deliveries.add(delivery)
            self.peak_in_flight = max(self.peak_in_flight, len(self._deliveries))
        delivery.start()

    def _deliver_in_slot(self, messages: list[dict[str, Any]]) -> None:
        try:
            self._deliver(messages)
        except Exception as exc:  # an endpoint error deleting or redriving: the records reappear, as in AWS
            self._log(self.function.name, f"poller error on {self.source.queue} after a batch: {exc}")
        finally:
            with self._lock:
                self._deliveries.discard(threading.current_thread())
            self._slots.release()

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            self.batches += 1
        event = {"Records": [self._record(m) for m in messages]}
        try:
            invocation = self.function.run(event)
        except InvocationError as exc:
            self._log(self.function.name, f"batch of {len(messages)} failed ({exc.kind}); records will be retried")
            raised = f"{exc.kind}: {exc.message}"
            self._log_failures(messages, lambda _: raised)
            self._retry(messages)
            return
        result = invocation.result
        failed_ids = set()
        if self.source.report_batch_item_failures and isinstance(result, dict):
            failed_ids = {f.get("itemIdentifier") for f in result.get("batchItemFailures") or []}
        self._log_failures(
            [m for m in messages if m["MessageId"] in failed_ids],
            lambda message_id: invocation.record_failures.get(message_id, NO_REASON),
        )
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self._retry([m for m in messages if m["MessageId"] in failed_ids])

    def _log_failures(self, messages: list[dict[str, Any]], reason: Callable[[str], str]) -> None:
        for message in messages:
            receives = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "?")
            self._log(
                self.function.name,
                f"record {message['MessageId']} from {self.source.queue} failed on receive {receives} (it stays "
                f"on the queue: retried, then moved to its DLQ if it has one): {reason(message['MessageId'])}",
            )

    def _retry(self, messages: list[dict[str, Any]]) -> None:
        if self._retry_delay is None or not messages:
            return
        for message in messages:
            self._sqs.change_message_visibility(
                QueueUrl=self.source.queue_url, ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=self._retry_delay,
            )  # fmt: skip

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes") or {}
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
                "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
                "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", ""),
            },
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType", "String"),
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.source.queue_arn,
            "awsRegion": self._region,
        }
