"""``GET /api/v1/stats``: what the store holds, as ``tracegraph stats`` prints it (the dashboard's overview)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example

router = APIRouter(prefix=API_V1, tags=["operations"])

EXAMPLE = {
    "backend": "sqlite",
    "schema_version": 1,
    "nodes": 19,
    "edges": 24,
    "nodes_by_kind": {"Device": 3, "MaterialLot": 1, "Supplier": 1},
    "edges_by_type": {"PACKED_IN": 5, "PRODUCED": 3},
    "batches": 1,
    "last_loaded_at": "2024-01-02T08:00:00Z",
}


class StoreStatsOut(BaseModel):
    """Counts of what the store holds. The store's location is left out: a file path or a URL
    is the operator's business, not every dashboard user's."""

    backend: str = Field(..., examples=["sqlite"])
    schema_version: int
    nodes: int = Field(..., description="Every node, of every kind")
    edges: int = Field(..., description="Every relationship, of every type")
    nodes_by_kind: dict[str, int]
    edges_by_type: dict[str, int]
    batches: int = Field(..., description="Loads applied (a repeated load is not counted again)")
    last_loaded_at: datetime | None = Field(None, description="When the latest batch was recorded")


@router.get(
    "/stats",
    summary="What the store holds: nodes by kind, relationships by type, loads",
    response_model=StoreStatsOut,
    responses={200: json_example(EXAMPLE), **error_responses()},
)
async def stats(rt: RuntimeDep) -> StoreStatsOut:
    """Like ``tracegraph stats --json``, without the store's location."""
    s = await rt.run(rt.services.stats)
    return StoreStatsOut(
        backend=s.backend,
        schema_version=s.schema_version,
        nodes=s.nodes,
        edges=s.edges,
        nodes_by_kind=s.nodes_by_kind,
        edges_by_type=s.edges_by_type,
        batches=s.batches,
        last_loaded_at=s.last_loaded_at,
    )
