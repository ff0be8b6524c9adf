"""``GET /api/v1/trace/{direction}``: the CLI's ``trace`` over HTTP, and its complete export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1, examples
from api.tracing import check_limit, run_trace, trace_query
from schema.kinds import NodeKind, parse_kinds
from schema.model import TraceDirection, TraceQuery, TraceResult
from services import csvsafe

router = APIRouter(prefix=API_V1, tags=["trace"])

_ROWS_PER_CHUNK = 2_000


@dataclass(frozen=True)
class TraceOptions:
    """Every trace option but the starts, the direction and the listing size."""

    depth: int | None
    kinds: frozenset[NodeKind] | None
    start: datetime | None
    end: datetime | None
    as_of: datetime | None
    ignore_time: bool

    def query(self, starts: list[str], direction: TraceDirection, *, limit: int | None) -> TraceQuery:
        return trace_query(
            starts=starts,
            direction=direction,
            depth=self.depth,
            kinds=self.kinds,
            start=self.start,
            end=self.end,
            as_of=self.as_of,
            ignore_time=self.ignore_time,
            limit=limit,
        )


def trace_options(
    depth: Annotated[int | None, Query(ge=0, description="Maximum hops")] = None,
    kinds: Annotated[
        list[str] | None,
        Query(description="Only list these kinds: `Device,Consignee` or repeated", examples=["Device,Consignee"]),
    ] = None,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="The start window begins (ISO 8601; naive times are UTC)"),
    ] = None,
    end: Annotated[datetime | None, Query(alias="to", description="The start window ends (ISO 8601)")] = None,
    as_of: Annotated[datetime | None, Query(description="Answer as the store knew it then")] = None,
    ignore_time: Annotated[bool, Query(description="Plain reachability, for comparison")] = False,
) -> TraceOptions:
    return TraceOptions(depth, parse_kinds(kinds), start, end, as_of, ignore_time)


TraceOptionsDep = Annotated[TraceOptions, Depends(trace_options)]
Starts = Annotated[
    list[str],
    Query(
        alias="start",
        min_length=1,
        description="Start keys in any accepted form (key, EPC URN, barcode, Digital Link); repeat for several",
        openapi_examples={"lot": {"value": [examples.RESIN_LOT]}, "device": {"value": [examples.DEVICE]}},
    ),
]


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@router.get(
    "/trace/{direction}",
    summary="Trace forward (impact) or backward (genealogy)",
    response_model=TraceResult,
    responses={200: examples.json_example(examples.TRACE_RESULT), **error_responses(404)},
)
async def trace(
    rt: RuntimeDep,
    direction: TraceDirection,
    starts: Starts,
    options: TraceOptionsDep,
    limit: Annotated[int | None, Query(ge=0, description="List at most N nodes (totals stay exact)")] = None,
) -> Response:
    """The JSON of ``tracegraph trace --json``. ``total`` is always exact; ``truncated`` says the
    listing stopped at ``limit`` (default ``trace_default_limit``); ``is_partial`` says a server
    budget (time or size) stopped the trace itself, so the totals are lower bounds."""
    listed = check_limit(rt.settings.trace_default_limit if limit is None else limit, rt.settings.trace_max_limit)
    result = await run_trace(rt, options.query(starts, direction, limit=listed))
    # The CLI's exact bytes, not a re-serialisation through the response model.
    return Response(orjson.dumps(result.to_json()), media_type="application/json")


@router.get(
    "/trace/{direction}/export",
    summary="Every node a trace reaches, streamed as CSV or JSON lines",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One row per node reached; X-TraceGraph-Total and X-TraceGraph-Partial say how many "
            "and whether a server budget cut the trace short",
            "content": {
                "text/csv": {
                    "example": "degree,kind,key,via,path\n1,WorkOrder,wo:WO-1,lot:RESIN-7,lot:RESIN-7 > wo:WO-1\n"
                },
                "application/x-ndjson": {
                    "example": '{"key":"wo:WO-1","kind":"WorkOrder","degree":1,"path":["lot:RESIN-7","wo:WO-1"]}\n'
                },
            },
        },
        **error_responses(404),
    },
)
async def export(
    rt: RuntimeDep,
    direction: TraceDirection,
    starts: Starts,
    options: TraceOptionsDep,
    fmt: Annotated[ExportFormat, Query(alias="format", description="csv or jsonl")] = ExportFormat.csv,
) -> StreamingResponse:
    """The complete list, never paginated: a recall list must not lose rows. It is computed with
    the larger ``export_time_budget``; if even that cuts it short, ``X-TraceGraph-Partial: true``."""
    result = await run_trace(rt, options.query(starts, direction, limit=None), budget=rt.settings.export_time_budget)
    headers = {
        "X-TraceGraph-Total": str(result.total),
        "X-TraceGraph-Partial": str(result.is_partial).lower(),
        "Content-Disposition": f'attachment; filename="trace-{direction.value}.{fmt.value}"',
    }
    if fmt is ExportFormat.csv:
        return StreamingResponse(_csv_rows(result), media_type="text/csv; charset=utf-8", headers=headers)
    return StreamingResponse(_jsonl_rows(result), media_type="application/x-ndjson", headers=headers)


def _csv_rows(result: TraceResult) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\n")
    writer.writerow(["degree", "kind", "key", "via", "path"])
    for i, node in enumerate(result.nodes, 1):
        writer.writerow(
            [node.degree, node.kind.value, node.key, node.path[-2] if len(node.path) > 1 else "", " > ".join(node.path)]
        )
        if i % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _jsonl_rows(result: TraceResult) -> Iterator[bytes]:
    rows = result.to_json()["nodes"]
    for i in range(0, len(rows), _ROWS_PER_CHUNK):
        yield b"".join(orjson.dumps(row) + b"\n" for row in rows[i : i + _ROWS_PER_CHUNK])
