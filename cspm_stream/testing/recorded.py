"""Recorded AWS responses, checked against botocore's service model and replayed to a collector.

Where moto does not serve a service (or not the calls a collector needs), collectors are tested
against *recorded* responses. A fixture cannot drift from the real API: every response is walked
against the operation's output shape (``botocore.session.get_session().get_service_model(svc)
.operation_model(op).output_shape``) — types, required members, enums, list and map shapes —
and an unknown member is an error, as is a value of the wrong type.

Fixture files are JSON (or YAML) documents::

    {"service": "route53domains",
     "exchanges": [
        {"operation": "ListDomains", "response": {"Domains": [...]}},
        {"operation": "GetDomainDetail", "params": {"DomainName": "example.com"},
         "response": {...}},
        {"operation": "GetDomainDetail", "params": {"DomainName": "locked.example"},
         "error": {"Code": "AccessDeniedException", "Message": "..."}, "status": 403}]}

``params`` (optional) must be a subset of the call's parameters for the exchange to answer it;
the first exchange that matches wins. Timestamps are ISO 8601 strings or epoch numbers.

:class:`RecordedAWS` answers a :class:`~cspm_stream.collect.Collector`'s calls from the exchanges
through botocore's ``before-call`` event (no network, no signing), converting each response to
what botocore's parser would have produced (timestamps become ``datetime``). A call no exchange
answers fails with the error code ``NotRecorded``, so a missing fixture shows up as a collection
error, never as an empty, compliant answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspm_stream.errors import DefinitionError

MAX_DEPTH = 64


class RecordedShapeError(DefinitionError):
    """A recorded response does not match the operation's output shape in botocore's model."""


def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def operation_name(service: str, operation: str) -> str:
    """The model's operation name (``ListDomains``) for either spelling (``list_domains``)."""
    model = _model(service)
    if operation in model.operation_names:
        return operation
    wanted = operation.replace("_", "").lower()
    for name in model.operation_names:
        if name.lower() == wanted:
            return str(name)
    raise KeyError(f"{service} has no operation {operation!r}")


def validate(service: str, operation: str, response: Mapping[str, Any]) -> list[str]:
    """Problems of ``response`` against the output shape of ``service.operation`` (empty: valid).

    Each problem names the path inside the response (``Domains[0].Expiry``) and what is wrong.
    """
    op = _model(service).operation_model(operation_name(service, operation))
    problems: list[str] = []
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if op.output_shape is None:
        if body:
            problems.append(f"$: {op.name} has no output, got members {sorted(body)}")
        return problems
    _walk(op.output_shape, body, "$", problems, 0)
    return problems


def check(service: str, operation: str, response: Mapping[str, Any], *, source: str = "<recorded>") -> None:
    """Raise :class:`RecordedShapeError` naming every problem of ``response``."""
    problems = validate(service, operation, response)
    if problems:
        raise RecordedShapeError(source, "; ".join(problems[:20]), path=f"{service}.{operation}")


def _walk(shape: Any, value: Any, path: str, out: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        out.append(f"{path}: nested deeper than {MAX_DEPTH}")
        return
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object ({shape.name}), got {type(value).__name__}")
            return
        members = shape.members
        for name in sorted(set(value) - set(members)):
            out.append(f"{path}.{name}: unknown member of {shape.name}")
        for name in getattr(shape, "required_members", ()) or ():
            if name not in value:
                out.append(f"{path}.{name}: required member of {shape.name} missing")
        for name, member_value in value.items():
            if name in members and member_value is not None:
                _walk(members[name], member_value, f"{path}.{name}", out, depth + 1)
    elif kind == "list":
        if not isinstance(value, list):
            out.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            _walk(shape.member, v, f"{path}[{i}]", out, depth + 1)
    elif kind == "map":
        if not isinstance(value, dict):
            out.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for k, v in value.items():
            _walk(shape.key, k, f"{path}<key {k!r}>", out, depth + 1)
            _walk(shape.value, v, f"{path}[{k!r}]", out, depth + 1)
    else:
        problem = _scalar_problem(shape, value)
        if problem:
            out.append(f"{path}: {problem}")


def _scalar_problem(shape: Any, value: Any) -> str | None:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}"
        enum = getattr(shape, "enum", None) or []
        if enum and value not in enum:
            return f"{value!r} is not one of {shape.name}'s values {list(enum)}"
        return None
    if kind in ("integer", "long"):
        return None if isinstance(value, int) and not isinstance(value, bool) else _typed("an integer", value)
    if kind in ("float", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else _typed("a number", value)
    if kind == "boolean":
        return None if isinstance(value, bool) else _typed("a boolean", value)
    if kind == "timestamp":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and _parse_time(value) is not None:
            return None
        return f"expected an ISO 8601 timestamp or epoch number, got {value!r}"
    if kind == "blob":
        return None if isinstance(value, str) else _typed("a base64 string", value)
    return f"unsupported shape type {kind}"


def _typed(what: str, value: Any) -> str:
    return f"expected {what}, got {type(value).__name__} {value!r}"[:200]


def _parse_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parsed(shape: Any, value: Any, depth: int = 0) -> Any:
    """``value`` as botocore's parser returns it: timestamps → aware ``datetime``, blobs → bytes."""
    if shape is None or value is None or depth > MAX_DEPTH:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: parsed(shape.members.get(k), v, depth + 1) for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [parsed(shape.member, v, depth + 1) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: parsed(shape.value, v, depth + 1) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, str):
            return _parse_time(value)
        if isinstance(value, int | float):
            return dt.datetime.fromtimestamp(value, dt.UTC)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


@dataclass(frozen=True)
class Exchange:
    """One recorded answer: a response or an error for calls whose parameters include ``params``."""

    service: str
    operation: str  # the model's name, e.g. "GetDomainDetail"
    params: Mapping[str, Any] = field(default_factory=dict)
    response: Mapping[str, Any] | None = None
    error: Mapping[str, Any] | None = None
    status: int = 400

    def matches(self, operation: str, params: Mapping[str, Any]) -> bool:
        return operation == self.operation and all(params.get(k) == v for k, v in self.params.items())


def exchanges_from(doc: Any, source: str) -> list[Exchange]:
    """Validate a fixture document (see module docstring) and return its exchanges."""
    if not isinstance(doc, dict) or not isinstance(doc.get("service"), str):
        raise RecordedShapeError(source, "a fixture is an object with 'service' and 'exchanges'")
    service = doc["service"]
    raw = doc.get("exchanges")
    if not isinstance(raw, list) or not raw:
        raise RecordedShapeError(source, "'exchanges' must be a non-empty list", path="exchanges")
    out: list[Exchange] = []
    for i, ex in enumerate(raw):
        where = f"exchanges[{i}]"
        if not isinstance(ex, dict) or not isinstance(ex.get("operation"), str):
            raise RecordedShapeError(source, "each exchange names its 'operation'", path=where)
        try:
            op = operation_name(service, ex["operation"])
        except KeyError as exc:
            raise RecordedShapeError(source, str(exc.args[0]), path=where) from None
        params = ex.get("params") or {}
        if not isinstance(params, dict):
            raise RecordedShapeError(source, "'params' must be an object", path=where)
        if ("response" in ex) == ("error" in ex):
            raise RecordedShapeError(source, "an exchange has exactly one of 'response' and 'error'", path=where)
        if "error" in ex:
            err = ex["error"]
            if not isinstance(err, dict) or not isinstance(err.get("Code"), str):
                raise RecordedShapeError(source, "'error' must be an object with a 'Code'", path=where)
            status = ex.get("status", 400)
            if not isinstance(status, int) or not 300 <= status <= 599:
                raise RecordedShapeError(source, "'status' must be an HTTP error status", path=where)
            out.append(Exchange(service, op, params, error=err, status=status))
            continue
        response = ex["response"]
        if not isinstance(response, dict):
            raise RecordedShapeError(source, "'response' must be an object", path=where)
        problems = validate(service, op, response)
        if problems:
            raise RecordedShapeError(source, "; ".join(problems[:20]), path=f"{where} ({service}.{op})")
        out.append(Exchange(service, op, params, response=response))
    return out


def load_exchanges(path: str | Path) -> list[Exchange]:
    """Exchanges of one fixture file (``.json``, ``.yaml`` or ``.yml``), validated."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if p.suffix in (".yaml", ".yml"):
        from cspm_stream import strict_yaml

        doc = strict_yaml.load(text)
    else:
        doc = json.loads(text)
    return exchanges_from(doc, str(p))


def load_dir(path: str | Path) -> list[Exchange]:
    """Exchanges of every fixture file below ``path`` (sorted by file name)."""
    files = sorted(x for x in Path(path).rglob("*") if x.suffix in (".json", ".yaml", ".yml") and x.is_file())
    return [ex for f in files for ex in load_exchanges(f)]


class _Http:
    """What botocore reads of an HTTP response whose parsed body a hook provides."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


class RecordedAWS:
    """Answer AWS calls from recorded exchanges; give :meth:`hooks` to ``Collector(event_hooks=...)``.

    ``calls`` lists every (service, operation, params) asked, ``unanswered`` those no exchange
    matched (each failed with ``NotRecorded``).
    """

    def __init__(self, exchanges: Iterable[Exchange]) -> None:
        self.exchanges = list(exchanges)
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.unanswered: list[tuple[str, str, dict[str, Any]]] = []

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [("before-parameter-build", self._remember), ("before-call", self._answer)]

    @staticmethod
    def _remember(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["recorded_api_params"] = dict(params)

    def _answer(self, model: Any, context: Mapping[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]]:
        service = model.service_model.service_name
        params = dict(context.get("recorded_api_params") or {})
        self.calls.append((service, model.name, params))
        for ex in self.exchanges:
            if ex.service == service and ex.matches(model.name, params):
                if ex.error is not None:
                    return _Http(ex.status), {
                        "Error": dict(ex.error),
                        "ResponseMetadata": {"HTTPStatusCode": ex.status},
                    }
                body = parsed(model.output_shape, dict(ex.response or {}))
                return _Http(200), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}
        self.unanswered.append((service, model.name, params))
        message = f"no recorded exchange for {service}.{model.name} {params}"[:300]
        return _Http(400), {
            "Error": {"Code": "NotRecorded", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }


async def collect_recorded(
    service: str,
    exchanges: Iterable[Exchange],
    *,
    region: str = "us-east-1",
    account_id: str = "123456789012",
    resource_types: Iterable[str] = (),
) -> tuple[list[Any], RecordedAWS]:
    """Run the registered collector of ``service`` (one job: ``account_id``/``region``, or the global
    job for global types) against recorded exchanges; returns (snapshots, the :class:`RecordedAWS`)."""
    from aiobotocore.session import get_session

    from cspm_stream import settings as settings_mod
    from cspm_stream.collect import Collector, ScanOutcome, SessionPool
    from cspm_stream.collect.services import SPECS
    from cspm_stream.collect.spec import GLOBAL
    from cspm_stream.models import ScanJob

    aws = RecordedAWS(exchanges)
    cfg = settings_mod.load(
        data={"aws": {"regions": [region], "rate_per_second": 1000.0, "max_attempts": 1}}, environ={}
    ).aws
    types = list(resource_types)
    regions = sorted({GLOBAL if s.global_ else region for s in SPECS[service]})
    snaps: list[Any] = []
    # static throw-away credentials: nothing is signed or sent, and no credential chain (IMDS) is probed
    base = get_session()
    base.set_credentials("RECORDED", "RECORDED")
    async with Collector(cfg, event_hooks=aws.hooks(), sessions=SessionPool(cfg, base=base)) as c:
        for r in regions:
            job = ScanJob(
                job_id=f"recorded-{service}-{r}",
                scan_id="scan-recorded",
                account_id=account_id,
                region=r,
                service=service,
                requested_at="2025-01-01T00:00:00Z",
                resource_types=types,
            )
            async for snap in c.collect(job, ScanOutcome()):
                snaps.append(snap)
    return snaps, aws
