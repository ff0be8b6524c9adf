"""``GET /api/v1/nodes/{key}``: a node, its relationships, and the records behind each fact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1, examples
from schema.model import NodeView

router = APIRouter(prefix=API_V1, tags=["nodes"])


@router.get(
    # ``:path`` because keys contain slashes (01/{GTIN}/21/{serial}); any accepted form works.
    "/nodes/{key:path}",
    summary="A node with its facts, relationships and provenance",
    response_model=NodeView,
    responses={200: examples.json_example(examples.NODE_VIEW), **error_responses(404)},
)
async def get_node(
    rt: RuntimeDep,
    key: Annotated[
        str,
        Path(
            description="Any accepted key form: canonical key, EPC URN, GS1 element string, Digital Link URI",
            openapi_examples={
                "canonical": {"value": examples.DEVICE},
                "epc": {"value": examples.DEVICE_URN},
                "natural": {"value": examples.RESIN_LOT},
            },
        ),
    ],
    as_of: Annotated[datetime | None, Query(description="As the store knew it then (ISO 8601)")] = None,
    edge_limit: Annotated[int, Query(ge=1, le=1000, description="Relationships listed each way")] = 200,
) -> NodeView:
    """Like ``tracegraph show KEY --json``. ``edges_truncated`` says when more relationships exist
    than listed: use a trace to list them all."""
    return await rt.run(rt.services.node, key, as_of=as_of, edge_limit=edge_limit)
