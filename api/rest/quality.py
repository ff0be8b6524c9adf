"""Quality views over REST: SPC control charts per equipment and parameter.

``GET /api/v1/spc/charts`` lists the charts (limits and rule breaks, no samples) for choosing
one; ``GET /api/v1/spc/chart`` gives one chart with its samples, what the dashboard draws.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from risk.signals.charts import RuleSystem
from schema.errors import NotFoundError

router = APIRouter(prefix=API_V1, tags=["quality"])

_CHART = {
    "equipment": "equipment:IMM-02",
    "parameter": "hold_pressure_bar",
    "rules": "nelson",
    "samples": 3,
    "runs": 1,
    "first": "2024-01-22T06:00:00+00:00",
    "last": "2024-01-22T07:00:00+00:00",
    "center": 626.4,
    "sigma": 2.4865,
    "lcl": 618.9405,
    "ucl": 633.8595,
    "lsl": 600.0,
    "usl": 650.0,
    "breaks": [{"rule": 1, "start": 2, "end": 2, "description": "one point beyond 3 sigma"}],
}
_POINTS = [
    {"at": "2024-01-22T06:00:00+00:00", "value": 625.1, "run": "run:PR-000007", "work_order": "wo:WO-000012"},
    {"at": "2024-01-22T06:30:00+00:00", "value": 627.9, "run": "run:PR-000007", "work_order": "wo:WO-000012"},
    {"at": "2024-01-22T07:00:00+00:00", "value": 635.2, "run": "run:PR-000007", "work_order": "wo:WO-000012"},
]

Rules = Annotated[RuleSystem, Query(description="Run rules: the eight Nelson rules or the four Western Electric")]


@router.get(
    "/spc/charts",
    summary="SPC control charts per equipment and parameter: limits and run-rule breaks, without samples",
    responses={200: json_example([_CHART]), **error_responses(400)},
)
async def spc_charts(
    rt: RuntimeDep,
    equipment: Annotated[str | None, Query(max_length=200, description="Only this machine's charts")] = None,
    rules: Rules = RuleSystem.NELSON,
    as_of: datetime | None = None,
) -> list[dict[str, Any]]:
    charts = await rt.run(rt.services.control_charts, equipment=equipment, rules=rules, as_of=as_of)
    return [c.to_json(with_points=False) for c in charts]


@router.get(
    "/spc/chart",
    summary="One SPC control chart with its samples, limits and run-rule breaks",
    responses={200: json_example({**_CHART, "points": _POINTS}), **error_responses(400, 404)},
)
async def spc_chart(
    rt: RuntimeDep,
    equipment: Annotated[str, Query(min_length=1, max_length=200, description="Equipment key, e.g. equipment:IMM-02")],
    parameter: Annotated[str, Query(min_length=1, max_length=200, description="Process parameter")],
    rules: Rules = RuleSystem.NELSON,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """``breaks`` index into ``points`` (``start`` to ``end`` inclusive)."""
    charts = await rt.run(
        rt.services.control_charts, equipment=equipment, parameter=parameter, rules=rules, as_of=as_of
    )
    if not charts:
        raise NotFoundError(f"no control chart of {parameter} on {equipment}: no process data with enough samples")
    return charts[0].to_json()
