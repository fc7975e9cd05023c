"""What the runner needs to know about each AWS::Serverless::Function in the template."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage_local.template import Template, TemplateError

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method.upper()):
            return None
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", r"(?P<\1>.+)", re.escape(self.path))
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", pattern)
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass(frozen=True)
class SqsSource:
    queue: str
    queue_url: str
    queue_arn: str
    batch_size: int
    report_batch_item_failures: bool
    # ScalingConfig.MaximumConcurrency: the most batches the mapping has in flight at once (None: not set).
    maximum_concurrency: int | None = None


@dataclass(frozen=True)
class ScheduleSource:
    name: str
    expression: str
    interval_seconds: float


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: Path
    layer_paths: list[Path]
    timeout: int
    memory: int
    environment: dict[str, str]
    reserved_concurrency: int | None = None  # ReservedConcurrentExecutions, when the template sets one
    routes: list[HttpRoute] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    schedules: list[ScheduleSource] = field(default_factory=list)


def function_specs(template: Template) -> list[FunctionSpec]:
    glob = template.function_globals()
    return [_spec(template, logical, res, glob) for logical, res in template.resources_of(FUNCTION).items()]


def _spec(template: Template, logical: str, resource: dict[str, Any], glob: dict[str, Any]) -> FunctionSpec:
    props = dict(resource.get("Properties") or {})
    env = dict((glob.get("Environment") or {}).get("Variables") or {})
    env.update((props.get("Environment") or {}).get("Variables") or {})
    resolved_env = {k: _env_string(template.resolve(v)) for k, v in env.items()}
    spec = FunctionSpec(
        logical_id=logical,
        handler=str(props.get("Handler") or glob.get("Handler") or ""),
        code_uri=(template.root / str(props.get("CodeUri") or glob.get("CodeUri") or ".")).resolve(),
        layer_paths=_layers(template, props.get("Layers", glob.get("Layers") or [])),
        timeout=int(template.resolve(props.get("Timeout", glob.get("Timeout", 3)))),
        memory=int(template.resolve(props.get("MemorySize", glob.get("MemorySize", 128)))),
        environment={k: v for k, v in resolved_env.items() if v is not None},
        reserved_concurrency=_optional_int(
            template.resolve(props.get("ReservedConcurrentExecutions")), f"{logical}.ReservedConcurrentExecutions"
        ),
    )
    for name, event in (props.get("Events") or {}).items():
        _add_event(template, spec, name, event)
    return spec


def _optional_int(value: Any, where: str) -> int | None:
    """A number the template may leave out (absent, or !Ref AWS::NoValue)."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{where} must be a number, got {value!r}") from exc


def _env_string(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _layers(template: Template, layers: list[Any]) -> list[Path]:
    paths = []
    for ref in layers:
        logical = ref.get("Ref") if isinstance(ref, dict) else None
        resource = template.resources.get(logical or "")
        if resource and resource.get("Type") == LAYER:
            paths.append((template.root / resource["Properties"]["ContentUri"]).resolve())
    return paths


def _add_event(template: Template, spec: FunctionSpec, name: str, event: dict[str, Any]) -> None:
    kind = event.get("Type")
    props = event.get("Properties") or {}
    if kind == "HttpApi":
        spec.routes.append(HttpRoute(str(props.get("Method", "ANY")).upper(), str(props.get("Path", "/"))))
    elif kind == "SQS":
        queue_ref = props["Queue"]
        logical = queue_ref["Fn::GetAtt"][0] if isinstance(queue_ref, dict) and "Fn::GetAtt" in queue_ref else None
        if logical is None or logical not in template.physical:
            raise TemplateError(f"{spec.logical_id}.{name}: SQS Queue must be !GetAtt <Queue>.Arn of a template queue")
        physical = template.physical[logical]
        spec.sqs_sources.append(
            SqsSource(
                queue=logical,
                queue_url=physical["QueueUrl"],
                queue_arn=physical["Arn"],
                batch_size=int(template.resolve(props.get("BatchSize", 10))),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                maximum_concurrency=_optional_int(
                    template.resolve((props.get("ScalingConfig") or {}).get("MaximumConcurrency")),
                    f"{spec.logical_id}.{name}.ScalingConfig.MaximumConcurrency",
                ),
            )
        )
    elif kind in ("Schedule", "ScheduleV2"):
        expression = str(template.resolve(props.get("Schedule") or props.get("ScheduleExpression")))
        spec.schedules.append(ScheduleSource(name, expression, rate_seconds(expression)))


def rate_seconds(expression: str) -> float:
    """Seconds between runs of a ``rate(...)`` expression; cron(...) runs hourly locally."""
    found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not found:
        return 3600.0
    unit = {"minute": 60, "hour": 3600, "day": 86400}[found.group(2).rstrip("s")]
    return float(int(found.group(1)) * unit)
