"""``/healthz`` (the process answers), ``/readyz`` (the store answers), ``/metrics``."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest.examples import json_example
from api.rest.models import Health, Ready
from schema.errors import MigrationRequiredError, StoreUnavailableError

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz", summary="The process is up", response_model=Health, responses={200: json_example({"status": "ok"})}
)
async def healthz() -> Health:
    """Answers without touching the store: for liveness probes."""
    return Health()


@router.get(
    "/readyz",
    summary="The store answers",
    response_model=Ready,
    responses={
        200: json_example({"status": "ready", "backend": "sqlite", "schema_version": 1, "nodes": 19}),
        **error_responses(),
    },
)
async def readyz(rt: RuntimeDep) -> Ready:
    """503 when the store does not answer within ``ready_timeout`` seconds (it may be down, or
    busy with long work: either way this instance should not get new traffic now)."""
    try:
        stats = await rt.run_within(rt.settings.ready_timeout, rt.services.stats)
    except TimeoutError as exc:
        raise StoreUnavailableError(f"the store did not answer within {rt.settings.ready_timeout:g} s") from exc
    if stats.schema_version == 0:
        raise MigrationRequiredError(f"the store at {stats.location} has no schema yet: run `tracegraph migrate`")
    return Ready(backend=stats.backend, schema_version=stats.schema_version, nodes=stats.nodes)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"example": "tracegraph_http_requests_total{...} 3.0\n"}}}},
)
async def metrics(rt: RuntimeDep) -> Response:
    return Response(generate_latest(rt.metrics.registry), media_type=CONTENT_TYPE_LATEST)
