"""Early warning over REST: recall scope, signals, supplier scorecards, alerts and tasks.

Thin over ``Services``: each operation is one service call, with the same JSON as the CLI's
``--json`` (``tracegraph recall``, ``alerts``, ``tasks``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from schema.alerts import AlertGrade, AlertState, TaskState
from schema.errors import InvalidInputError
from schema.model import TimeWindow

router = APIRouter(prefix=API_V1, tags=["early warning"])

_DEVICE = "01/07612345000107/21/IVS000000021"
_RECALL = {
    "devices": [{"key": _DEVICE, "probability": 0.9, "path": ["lot:R-000002", "wo:WO-000005", _DEVICE]}],
    "by_consignee": [{"key": "414/4399901001060", "count": 1, "devices": [_DEVICE]}],
    "by_lot": [{"key": "01/07612345000107/10/L240122-01", "count": 1, "devices": [_DEVICE]}],
    "sensitivity": [{"threshold": 0.5, "devices": 1}],
    "on_hand": [],
    "shipped": [{"key": _DEVICE, "consignee": "414/4399901001060"}],
}
_ALERT = {"key": "alert:incoming-inspection-fail:lot:R-000002", "grade": "critical", "state": "open"}
_TASK = {"key": "task:incoming-inspection-fail:lot:R-000002", "state": "investigating", "assignee": "qa.lead"}


def _ok(example: Any) -> dict[int | str, dict[str, Any]]:
    return {200: json_example(example), **error_responses(400, 404, 409)}


@router.get(
    "/recall",
    summary="Recall scope: devices with P(affected) at or above a threshold, grouped, with containment",
    responses=_ok(_RECALL),
)
async def recall_scope(
    rt: RuntimeDep,
    start: Annotated[list[str], Query(description="Anomalous starting keys (a bad lot, a drifting machine)")] = [],  # noqa: B006
    signal: Annotated[list[str], Query(description="Signal ids from GET /api/v1/signals")] = [],  # noqa: B006
    threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
    probability: Annotated[float, Query(gt=0.0, le=1.0, description="Prior anomaly probability of the starts")] = 1.0,
    window_from: Annotated[datetime | None, Query(alias="from", description="Anomaly window start")] = None,
    window_to: Annotated[datetime | None, Query(alias="to", description="Anomaly window end")] = None,
    carryover: Annotated[int, Query(ge=0, le=20, description="Later runs on the same machine affected")] = 0,
    as_of: datetime | None = None,
    compare: bool = False,
) -> dict[str, Any]:
    """Like ``tracegraph recall --json``: ``devices`` (key, probability, path), ``by_consignee``,
    ``by_lot``, ``sensitivity``, ``on_hand`` and ``shipped``."""
    if not start and not signal:
        raise InvalidInputError("name at least one start key (start=…) or signal id (signal=…)")
    window = TimeWindow(start=window_from, end=window_to) if window_from or window_to else None
    scope = await rt.run(
        rt.services.recall_scope,
        starts=start,
        signals=signal,
        window=window,
        threshold=threshold,
        probability=probability,
        carryover_runs=carryover,
        as_of=as_of,
        compare=compare,
    )
    return scope.to_json()


@router.get(
    "/signals",
    summary="The anomaly signals the records raise now",
    responses=_ok([{"id": "sig-1", "rule": "inspection-fail"}]),
)
async def signals(rt: RuntimeDep, as_of: datetime | None = None) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in await rt.run(rt.services.signals, as_of=as_of)]


@router.get(
    "/suppliers/scorecard",
    summary="Supplier performance scorecard",
    responses=_ok([{"supplier": "supplier:SUP-008", "grade": "B"}]),
)
async def supplier_scorecard(rt: RuntimeDep, as_of: datetime | None = None) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in await rt.run(rt.services.supplier_scorecard, as_of=as_of)]


@router.get("/alerts", summary="Alerts, by state and grade", responses=_ok([_ALERT]))
async def alerts(
    rt: RuntimeDep,
    state: AlertState | None = None,
    grade: AlertGrade | None = None,
    node: Annotated[str | None, Query(max_length=500, description="Only alerts about this node (its key)")] = None,
) -> list[dict[str, Any]]:
    return [a.to_json() for a in await rt.run(rt.services.alerts, state=state, grade=grade, node=node)]


@router.post(
    "/alerts/run",
    summary="Evaluate the alert rules now",
    responses=_ok(
        {"signals": 3, "opened": [_ALERT["key"]], "escalated": [], "unchanged": 0, "held": {}, "deliveries": []}
    ),
)
async def run_alerts(rt: RuntimeDep) -> dict[str, Any]:
    return (await rt.run(rt.services.run_alerts)).to_json()


@router.get("/alerts/{key:path}", summary="One alert with its history", responses=_ok(_ALERT))
async def alert(rt: RuntimeDep, key: str) -> dict[str, Any]:
    return (await rt.run(rt.services.alert, key)).to_json()


@router.get("/tasks", summary="Tasks, by state and assignee", responses=_ok([_TASK]))
async def tasks(
    rt: RuntimeDep,
    state: TaskState | None = None,
    assignee: str | None = None,
    concerns: Annotated[str | None, Query(max_length=500, description="Only tasks about this node (its key)")] = None,
) -> list[dict[str, Any]]:
    return [t.to_json() for t in await rt.run(rt.services.tasks, state=state, assignee=assignee, concerns=concerns)]


class TaskMove(BaseModel):
    state: TaskState
    fields: dict[str, str] = Field(default_factory=dict, description="What the step requires, e.g. root_cause")
    reason: str | None = None


@router.post("/tasks/{key:path}/move", summary="Move a task to its next state", responses=_ok(_TASK))
async def move_task(rt: RuntimeDep, key: str, move: Annotated[TaskMove, Body()]) -> dict[str, Any]:
    task = await rt.run(rt.services.move_task, key, move.state, move.fields, reason=move.reason)
    return task.to_json()


@router.get("/tasks/{key:path}", summary="One task with its history", responses=_ok(_TASK))
async def task(rt: RuntimeDep, key: str) -> dict[str, Any]:
    return (await rt.run(rt.services.task, key)).to_json()
