"""Trace options as every transport takes them (REST, GraphQL, EPCIS), checked once, and the
one way the API runs a trace: off the event loop, within a time budget, counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from api.runtime import Runtime
from schema.errors import InvalidInputError, LimitExceededError
from schema.kinds import NodeKind
from schema.model import TimeWindow, TraceDirection, TraceQuery, TraceResult, iso


def check_limit(limit: int, maximum: int, *, name: str = "limit") -> int:
    if limit < 0:
        raise InvalidInputError(f"{name} must be 0 or more, not {limit}")
    if limit > maximum:
        raise LimitExceededError(
            f"{name} {limit} is over this server's maximum of {maximum}; page through the result, "
            "or use the export endpoint for a complete list"
        )
    return limit


def trace_query(
    *,
    starts: Sequence[str],
    direction: TraceDirection,
    depth: int | None = None,
    kinds: frozenset[NodeKind] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
    ignore_time: bool = False,
    limit: int | None = None,
) -> TraceQuery:
    if not starts:
        raise InvalidInputError("give at least one start key")
    window = None
    if start is not None or end is not None:
        try:
            window = TimeWindow(start=start, end=end)
        except ValidationError as exc:
            raise InvalidInputError(f"time window: {exc.errors()[0]['msg']}") from exc
        if window.start and window.end and window.start > window.end:
            raise InvalidInputError(f"the window starts ({iso(window.start)}) after it ends ({iso(window.end)})")
    try:
        return TraceQuery(
            starts=tuple(starts),
            direction=direction,
            max_depth=depth,
            kinds=kinds,
            window=window,
            as_of=as_of,
            ignore_time=ignore_time,
            limit=limit,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInputError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc


async def run_trace(rt: Runtime, query: TraceQuery, *, budget: float | None = None) -> TraceResult:
    """The trace, partial (``is_partial``) rather than late once ``budget`` seconds are spent."""
    budget = rt.settings.trace_time_budget if budget is None else budget
    result = await rt.run(rt.services.trace, query, time_budget=budget)
    rt.metrics.traces.labels(query.direction.value, str(result.is_partial).lower()).inc()
    return result
