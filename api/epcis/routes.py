"""The GS1 EPCIS 2.0 REST binding: capture, event queries, and per-EPC events and traces.

Captures are loaded before the 202 is sent (the capture job is finished when the client first
sees it) and remembered in a bounded in-memory registry: see :mod:`api.captures`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from api.captures import CaptureJob
from api.deps import RuntimeDep
from api.epcis.query import EventQuery, EventRecord
from api.errors import UnsupportedMediaTypeError, error_responses
from api.rest import examples
from api.rest.trace import TraceOptionsDep
from api.runtime import Runtime
from api.tracing import check_limit, run_trace
from schema.errors import InvalidInputError, RejectedRecordsError, TraceGraphError
from schema.identifiers import canonical_key
from schema.model import TraceDirection, TraceResult, iso

router = APIRouter(prefix="/epcis", tags=["epcis"])

EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0"}
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
JSON_TYPES = ("application/ld+json", "application/json")
XML_TYPES = ("application/xml", "text/xml")
#: Most events one query scans while the store cannot filter events itself (see Services.events).
SCAN_LIMIT = 10_000
DEFAULT_PER_PAGE = 100

_CAPTURE_EXAMPLE = {
    "@context": [EPCIS_CONTEXT],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2024-01-01T10:00:00Z",
    "epcisBody": {
        "eventList": [
            {
                "type": "ObjectEvent",
                "eventTime": "2024-01-01T09:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "epcList": [examples.DEVICE_URN],
                "action": "ADD",
                "bizStep": "commissioning",
                "disposition": "active",
                "readPoint": {"id": "urn:epc:id:sgln:9506000.00000.0"},
            }
        ]
    },
}
_JOB_EXAMPLE = {
    "captureID": "6c1f0e5c2b1d4e0f9a3b7c8d9e0f1a2b",
    "createdAt": "2024-01-01T10:00:01Z",
    "finishedAt": "2024-01-01T10:00:01Z",
    "running": False,
    "success": True,
    "captureErrorBehaviour": "rollback",
    "errors": [],
    "batchID": "0b5d…",
    "eventCount": 1,
}


def _json(payload: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type="application/json",
        headers={**EPCIS_HEADERS, **(headers or {})},
    )


# -- capture ------------------------------------------------------------------------------


@router.post(
    "/capture",
    summary="Capture an EPCIS document (JSON-LD or XML)",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}, "example": _CAPTURE_EXAMPLE},
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
                "text/xml": {"schema": {"type": "string"}},
            },
        }
    },
    responses={
        202: {
            "description": "Captured: the job is finished; its status says whether it succeeded",
            "headers": {"Location": {"description": "The capture job", "schema": {"type": "string"}}},
            "content": {"application/json": {"example": _JOB_EXAMPLE}},
        },
        **error_responses(413, 415),
    },
)
async def capture(
    rt: RuntimeDep,
    request: Request,
    error_behaviour: Annotated[
        Literal["rollback", "proceed"],
        Header(
            alias="GS1-Capture-Error-Behaviour",
            description="rollback: any invalid event rejects the document (nothing written); proceed: load the rest",
        ),
    ] = "rollback",
) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (*JSON_TYPES, *XML_TYPES):
        raise UnsupportedMediaTypeError(
            f"capture takes an EPCIS document as {', '.join((*JSON_TYPES, *XML_TYPES))}, not '{media_type or 'none'}'"
        )
    data = await request.body()
    job = rt.captures.start(error_behaviour)
    name = f"capture-{job.capture_id}" + (".xml" if media_type in XML_TYPES else ".jsonld")
    try:
        report = await rt.run(
            rt.services.load_document, data, name=name, fmt="epcis", partial=error_behaviour == "proceed"
        )
    except RejectedRecordsError as exc:
        _finish(rt, job, errors=[_capture_error(r) for r in exc.rejects])
    except TraceGraphError as exc:
        _finish(rt, job, errors=[_capture_error(exc)])
        if not isinstance(exc, InvalidInputError):
            raise  # the store failed: 503, and the job says so for anyone who asks
    else:
        job.batch_id = report.result.batch_id if report.result else None
        job.events = report.records
        _finish(rt, job, errors=[_capture_error(r) for r in report.rejects])
    return _json(job.to_json(), status=202, headers={"Location": f"/epcis/capture/{job.capture_id}"})


def _finish(rt: Runtime, job: CaptureJob, *, errors: list[dict[str, Any]]) -> None:
    job.errors = errors
    # "proceed" succeeds with its rejects listed; "rollback" fails on the first.
    job.success = job.batch_id is not None
    job.finished_at = datetime.now(UTC)
    rt.metrics.captures.labels("success" if job.success else "failure").inc()


def _capture_error(error: object) -> dict[str, Any]:
    """An RFC 7807 problem, as EPCIS capture jobs list their errors."""
    problem: dict[str, Any] = {
        "type": "epcisException:ValidationException",
        "title": "invalid event" if not isinstance(error, TraceGraphError) else error.code.replace("_", " "),
        "status": 400,
        "detail": str(error),
    }
    for attr in ("source", "line", "field"):
        value = getattr(error, attr, None)
        if value is not None:
            problem[attr] = value
    return problem


@router.get(
    "/capture/{capture_id}",
    summary="A capture job's status and errors",
    responses={200: examples.json_example(_JOB_EXAMPLE), **error_responses(404)},
)
async def capture_job(
    rt: RuntimeDep, capture_id: Annotated[str, Path(examples=["6c1f0e5c2b1d4e0f9a3b7c8d9e0f1a2b"])]
) -> Response:
    return _json(rt.captures.get(capture_id).to_json())


@router.get(
    "/capture",
    summary="Recent capture jobs, newest first (this server's registry)",
    responses={200: examples.json_example([_JOB_EXAMPLE])},
)
async def capture_jobs(rt: RuntimeDep) -> Response:
    return _json([job.to_json() for job in rt.captures.recent()])


# -- queries -------------------------------------------------------------------------------


def _event_query(
    event_type: Annotated[list[str] | None, Query(alias="eventType", examples=["ObjectEvent,AggregationEvent"])] = None,
    ge_event_time: Annotated[datetime | None, Query(alias="GE_eventTime")] = None,
    lt_event_time: Annotated[datetime | None, Query(alias="LT_eventTime")] = None,
    eq_biz_step: Annotated[list[str] | None, Query(alias="EQ_bizStep", examples=["shipping"])] = None,
    eq_disposition: Annotated[list[str] | None, Query(alias="EQ_disposition", examples=["in_transit"])] = None,
    match_epc: Annotated[list[str] | None, Query(alias="MATCH_epc", examples=[examples.DEVICE_URN])] = None,
    match_any_epc: Annotated[list[str] | None, Query(alias="MATCH_anyEPC")] = None,
    match_epc_class: Annotated[list[str] | None, Query(alias="MATCH_epcClass")] = None,
    match_parent_id: Annotated[list[str] | None, Query(alias="MATCH_parentID")] = None,
    eq_biz_location: Annotated[list[str] | None, Query(alias="EQ_bizLocation")] = None,
) -> EventQuery:
    return EventQuery.of(
        event_types=event_type,
        ge_event_time=ge_event_time,
        lt_event_time=lt_event_time,
        biz_steps=eq_biz_step,
        dispositions=eq_disposition,
        epcs=match_epc,
        any_epcs=match_any_epc,
        epc_classes=match_epc_class,
        parent_ids=match_parent_id,
        biz_locations=eq_biz_location,
    )


PerPage = Annotated[int, Query(alias="perPage", ge=1, description="Events per page")]
PageToken = Annotated[str | None, Query(alias="nextPageToken", description="From the previous page's Link header")]

_QUERY_DOCUMENT_EXAMPLE = {
    "@context": [EPCIS_CONTEXT],
    "type": "EPCISQueryDocument",
    "schemaVersion": "2.0",
    "creationDate": "2024-01-02T10:00:00Z",
    "epcisBody": {
        "queryResults": {
            "queryName": "SimpleEventQuery",
            "resultsBody": {"eventList": _CAPTURE_EXAMPLE["epcisBody"]["eventList"]},  # type: ignore[index]
        }
    },
}
_QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An EPCISQueryDocument; a Link header (rel=next) carries the next page's token",
        "content": {"application/json": {"example": _QUERY_DOCUMENT_EXAMPLE}},
    },
    **error_responses(),
}


EventQueryDep = Annotated[EventQuery, Depends(_event_query)]
EpcPath = Annotated[
    str,
    Path(
        description="An EPC URN, Digital Link URI or canonical key",
        openapi_examples={"sgtin": {"value": examples.DEVICE_URN}, "key": {"value": examples.DEVICE}},
    ),
]


@router.get("/events", summary="Events matching a SimpleEventQuery", responses=_QUERY_RESPONSES)
async def events(
    rt: RuntimeDep,
    request: Request,
    query: EventQueryDep,
    per_page: PerPage = DEFAULT_PER_PAGE,
    next_page_token: PageToken = None,
) -> Response:
    """Parameters combine with AND; the values of one parameter (repeated, or comma-separated)
    with OR. Events come oldest first (by eventTime, then key)."""
    return await _page(rt, request, query, per_page, next_page_token)


@router.get(
    "/epcs/{epc:path}/events",
    summary="Every event that names an EPC (or its class, or as parent)",
    responses={**_QUERY_RESPONSES, **error_responses(404)},
)
async def epc_events(
    rt: RuntimeDep,
    request: Request,
    epc: EpcPath,
    query: EventQueryDep,
    per_page: PerPage = DEFAULT_PER_PAGE,
    next_page_token: PageToken = None,
) -> Response:
    return await _page(rt, request, replace(query, involving=canonical_key(epc)), per_page, next_page_token)


@router.get(
    "/epcs/{epc:path}/trace",
    summary="Trace from an EPC, forward or backward",
    response_model=TraceResult,
    responses={200: examples.json_example(examples.TRACE_RESULT), **error_responses(404)},
)
async def epc_trace(
    rt: RuntimeDep,
    epc: EpcPath,
    options: TraceOptionsDep,
    direction: Annotated[TraceDirection, Query(description="forward (impact) or backward")] = TraceDirection.FORWARD,
    limit: Annotated[int | None, Query(ge=0, description="List at most N nodes (totals stay exact)")] = None,
) -> Response:
    """As ``GET /api/v1/trace/{direction}?start={epc}``, with EPCIS headers."""
    listed = check_limit(rt.settings.trace_default_limit if limit is None else limit, rt.settings.trace_max_limit)
    result = await run_trace(rt, options.query([epc], direction, limit=listed))
    return _json(result.to_json())


# -- paging ---------------------------------------------------------------------------------

#: Events are listed by (eventTime, key); a page token is the position of the last one listed.
Position = tuple[float, str]


def _position(event: EventRecord) -> Position:
    return (event.time.timestamp() if event.time else float("-inf"), event.key)


def _encode_token(position: Position) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([position[0], position[1]])).decode()


def _decode_token(token: str | None) -> Position | None:
    if token is None:
        return None
    try:
        when, key = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return (float(when), str(key))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise InvalidInputError(f"'{token}' is not a nextPageToken this server gave out") from None


async def _page(rt: Runtime, request: Request, query: EventQuery, per_page: int, token: str | None) -> Response:
    check_limit(per_page, rt.settings.page_max, name="perPage")
    after = _decode_token(token)
    views = await rt.run(rt.services.events, naming=query.anchors(), limit=SCAN_LIMIT)
    matched = sorted(
        (e for e in map(EventRecord.of, views) if query.matches(e) and (after is None or _position(e) > after)),
        key=_position,
    )
    listed = matched[:per_page]
    headers: dict[str, str] = {}
    if len(matched) > per_page:
        link = request.url.include_query_params(nextPageToken=_encode_token(_position(listed[-1])))
        headers["Link"] = f'<{link}>; rel="next"'
    if len(views) >= SCAN_LIMIT:  # the store may hold more candidate events than one query reads
        headers["X-TraceGraph-Partial"] = "true"
    document = {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(datetime.now(UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [e.to_json() for e in listed]},
            }
        },
    }
    return _json(document, headers=headers)
