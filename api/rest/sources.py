"""Finding the source over REST: ``GET /api/v1/sources``, the JSON of ``tracegraph sources --json``.

Thin over ``Services.likely_sources``. Every candidate carries ``next``: the forward trace
(impact) and the recall scope to run from it, as CLI commands, as service calls and as
``/api/v1`` URLs (``trace_url``, ``recall_url``), so one more request answers "what else did
it reach, and what would we recall".
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from schema.errors import InvalidInputError
from schema.kinds import parse_kinds

router = APIRouter(prefix=API_V1, tags=["investigation"])


class By(StrEnum):
    bayes = "bayes"
    likelihood = "likelihood"
    fisher = "fisher"


_EXAMPLE: dict[str, Any] = {
    "cases": [{"key": "complaint:CMP-000011", "unit": "01/07612345000107/21/IVS000001103", "produced_at": "…"}],
    "controls_mode": "auto",
    "controls": 2843,
    "statistic": "bayes",
    "tested": 52,
    "total": 41,
    "candidates": [
        {
            "rank": 1,
            "key": "lot:R-000024",
            "kind": "MaterialLot",
            "group": "material lot",
            "explained": 8,
            "score": 0.8,
            "common_link": False,
            "controls": 490,
            "log_bayes_factor": 7.18,
            "p_value": 2.1e-05,
            "carriers": ["wo:WO-000028"],
            "log_prior_odds": 0.0,
            "paths": [["complaint:CMP-000011", "01/07612345000107/21/IVS000001103", "wo:WO-000040", "lot:R-000024"]],
            "evidence": [],
            "next": {
                "trace": "tracegraph trace forward lot:R-000024",
                "recall": "tracegraph recall --from lot:R-000024",
                "trace_url": "/api/v1/trace/forward?start=lot%3AR-000024",
                "recall_url": "/api/v1/recall?start=lot%3AR-000024",
            },
        }
    ],
    "by_group": {"material lot": ["lot:R-000024"], "work order": ["wo:WO-000029"]},
    "notes": ["10 cases: …", "lot:R-000024 is significant: p = 2.1e-05, 0.0011 after Bonferroni over the 52 …"],
    "is_partial": False,
}


def _keys(values: list[str]) -> list[str]:
    """Repeated parameters, each possibly a comma-separated list."""
    return [k for v in values for k in v.replace(",", " ").split() if k]


@router.get(
    "/sources",
    summary="Find the source: rank the upstream nodes common to complaints or failed units",
    responses={200: json_example(_EXAMPLE), **error_responses(400, 404)},
)
async def likely_sources(
    rt: RuntimeDep,
    case: Annotated[
        list[str],
        Query(description="Complaints (or nonconformances) or complained/failed units; repeated or comma-separated"),
    ] = [],  # noqa: B006
    control: Annotated[
        list[str],
        Query(description="Units without the problem to compare against (default: the units built in the period)"),
    ] = [],  # noqa: B006
    kinds: Annotated[
        list[str] | None,
        Query(description="Only these kinds: Supplier,MaterialLot,ProductLot,WorkOrder,Equipment,ChangeRecord"),
    ] = None,
    margin_days: Annotated[float, Query(ge=0.0, description="Automatic controls: widen the cases' period")] = 30.0,
    by: Annotated[By, Query(description="Rank by Bayes factor, likelihood ratio or Fisher p-value")] = By.bayes,
    limit: Annotated[int, Query(ge=1, le=1_000, description="Candidates listed (and the best of every kind)")] = 20,
    evidence: Annotated[int, Query(ge=0, le=100, description="Candidates listed with their evidence records")] = 10,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Like ``tracegraph sources --json``: the candidates best first, ``by_group`` (supplier,
    material lot, product lot, work order, equipment window, process change), ``notes`` on the
    ranking's uncertainty; each candidate with its statistic, p-value, explaining ``paths``,
    ``evidence``, prior ``signals``, ``carriers`` and ``next`` (impact and recall scope)."""
    cases = _keys(case)
    if not cases:
        raise InvalidInputError("name at least one case: case=complaint:… or a unit key")
    controls = _keys(control)
    answer = await rt.run(
        rt.services.likely_sources,
        cases,
        controls=controls or None,
        kinds=parse_kinds(",".join(kinds)) if kinds else None,
        margin_days=margin_days,
        as_of=as_of,
        limit=limit,
        evidence=evidence,
        statistic=by.value,
    )
    return answer.to_json()
