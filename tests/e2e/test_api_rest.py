"""REST over HTTP: every operation under /api/v1 and the operational endpoints."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from schema.errors import StoreBusyError
from schema.model import TraceDirection, TraceQuery
from tests.conformance.plants import (
    D1,
    D2,
    HOSPITAL_1,
    HOSPITAL_2,
    INSPECTION,
    LOT,
    RESIN_LOT,
    SUPPLIER,
)
from tests.e2e.api_client import Api, running_api

pytestmark = pytest.mark.anyio

SUPPLIERS = b"supplier,name,country,status\nsupplier:NEW-1,New Polymers,DE,approved\n"
BAD_ROW = b"supplier:BAD-1,Bad Co,FR,banned\n"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


# -- operations ---------------------------------------------------------------------------


async def test_health_and_readiness(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["backend"] == "sqlite"
    assert ready.json()["nodes"] == 19


async def test_readiness_fails_when_the_store_does_not_answer(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise StoreBusyError("locked")

    monkeypatch.setattr(api.services, "stats", broken)
    response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


async def test_metrics_count_requests_by_route_template(api: Api) -> None:
    await api.client.get(f"/api/v1/nodes/{D1}")
    await api.client.get(f"/api/v1/nodes/{D2}")
    text = (await api.client.get("/metrics")).text
    assert 'tracegraph_http_requests_total{method="GET",route="/api/v1/nodes/{key:path}",status="200"} 2.0' in text
    assert "tracegraph_http_request_duration_seconds_bucket" in text


async def test_node_by_key_with_slashes_and_by_epc_urn(api: Api) -> None:
    by_key = await api.client.get(f"/api/v1/nodes/{D1}")
    assert by_key.status_code == 200
    assert by_key.json()["kind"] == "Device"
    by_urn = await api.client.get("/api/v1/nodes/urn:epc:id:sgtin:9506000.013001.S1")
    assert by_urn.json()["key"] == D1
    lot = (await api.client.get(f"/api/v1/nodes/{RESIN_LOT}")).json()
    assert {e["type"] for e in lot["edges_in"]} == {"SUPPLIED", "INSPECTED"}
    assert lot["versions"][0]["provenance"]["source"] == "test.csv"


async def test_trace_is_the_json_of_the_cli(api: Api) -> None:
    response = await api.client.get("/api/v1/trace/forward", params={"start": RESIN_LOT})
    assert response.status_code == 200
    limit = api.runtime.settings.trace_default_limit
    expected = api.services.trace(TraceQuery(starts=(RESIN_LOT,), direction=TraceDirection.FORWARD, limit=limit))
    assert response.json() == orjson.loads(orjson.dumps(expected.to_json()))
    keys = {n["key"] for n in response.json()["nodes"]}
    assert HOSPITAL_1 in keys and HOSPITAL_2 not in keys  # D1 left the emptied case before it shipped


async def test_trace_takes_every_cli_option(api: Api) -> None:
    params = {
        "start": [D1, D2],
        "depth": 3,
        "kinds": "workorder,ProductLot",
        "as_of": "2100-01-01",
        "ignore_time": "false",
        "limit": 1,
    }
    body = (await api.client.get("/api/v1/trace/backward", params=params)).json()
    assert body["starts"] == [D1, D2]
    assert body["total"] == 2 and body["truncated"] is True and len(body["nodes"]) == 1
    assert {n["kind"] for n in body["nodes"]} <= {"WorkOrder", "ProductLot"}


async def test_trace_window_and_ignore_time(api: Api) -> None:
    timed = (await api.client.get("/api/v1/trace/forward", params={"start": D1})).json()
    plain = (await api.client.get("/api/v1/trace/forward", params={"start": D1, "ignore_time": "true"})).json()
    assert HOSPITAL_2 not in {n["key"] for n in timed["nodes"]}
    assert HOSPITAL_2 in {n["key"] for n in plain["nodes"]}
    # Packed t1..t5: a window after t5 never meets the case.
    late = {"start": D1, "from": "2024-01-01T05:30:00Z", "to": "2024-01-01T05:45:00Z", "depth": 1}
    body = (await api.client.get("/api/v1/trace/forward", params=late)).json()
    assert "00/095060000000000015" not in {n["key"] for n in body["nodes"]}


async def test_export_streams_every_node_beyond_the_listing_limit(tmp_path: Path) -> None:
    async with running_api(tmp_path, trace_default_limit=2) as api:
        listed = (await api.client.get("/api/v1/trace/forward", params={"start": SUPPLIER})).json()
        assert listed["truncated"] is True and len(listed["nodes"]) == 2
        exported = await api.client.get("/api/v1/trace/forward/export", params={"start": SUPPLIER, "format": "csv"})
        assert exported.status_code == 200
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(rows) == listed["total"] == int(exported.headers["X-TraceGraph-Total"])
        assert exported.headers["X-TraceGraph-Partial"] == "false"
        lines = (
            await api.client.get("/api/v1/trace/forward/export", params={"start": SUPPLIER, "format": "jsonl"})
        ).text.splitlines()
        assert [orjson.loads(line)["key"] for line in lines] == [r["key"] for r in rows]


async def test_ingest_is_strict_then_partial_then_idempotent(api: Api) -> None:
    def upload(data: bytes, **form: str) -> dict[str, object]:
        return {"files": {"file": ("suppliers.csv", data, "text/csv")}, "data": form}

    strict = await api.client.post("/api/v1/ingest", **upload(SUPPLIERS + BAD_ROW))  # type: ignore[arg-type]
    assert strict.status_code == 422
    assert strict.json()["code"] == "rejected_records"
    assert strict.json()["rejects"][0]["line"] == 3 and strict.json()["rejects"][0]["field"] == "status"
    assert (await api.client.get("/api/v1/nodes/supplier:NEW-1")).status_code == 404  # nothing written

    partial = await api.client.post("/api/v1/ingest", **upload(SUPPLIERS + BAD_ROW, partial="true"))  # type: ignore[arg-type]
    assert partial.status_code == 200
    assert partial.json()["applied"] is True and len(partial.json()["rejects"]) == 1
    node = (await api.client.get("/api/v1/nodes/supplier:NEW-1")).json()
    assert node["versions"][0]["provenance"]["source"] == "suppliers.csv"

    first = await api.client.post("/api/v1/ingest", **upload(SUPPLIERS, format="csv"))  # type: ignore[arg-type]
    again = await api.client.post("/api/v1/ingest", **upload(SUPPLIERS, format="csv"))  # type: ignore[arg-type]
    assert first.json()["applied"] is True
    assert again.json()["applied"] is False and again.json()["result"]["already_loaded"] is True


# -- bad requests -------------------------------------------------------------------------


async def test_domain_errors_map_to_statuses(api: Api) -> None:
    invalid = await api.client.get("/api/v1/nodes/nonsense:thing")
    assert invalid.status_code == 422 and invalid.json()["code"] == "invalid_key"
    assert invalid.headers["content-type"] == "application/problem+json"
    missing = await api.client.get("/api/v1/trace/forward", params={"start": "wo:WO-404"})
    assert missing.status_code == 404 and "wo:WO-404" in missing.json()["detail"]
    unknown_kind = await api.client.get("/api/v1/trace/forward", params={"start": LOT, "kinds": "Gadget"})
    assert unknown_kind.status_code == 422 and "Gadget" in unknown_kind.json()["detail"]
    bad_param = await api.client.get("/api/v1/trace/sideways", params={"start": LOT})
    assert bad_param.status_code == 422 and bad_param.json()["errors"][0]["loc"] == ["path", "direction"]
    backwards_window = {"start": LOT, "from": "2024-02-01", "to": "2024-01-01"}
    assert (await api.client.get("/api/v1/trace/forward", params=backwards_window)).status_code == 422
    over = await api.client.get("/api/v1/trace/forward", params={"start": LOT, "limit": 10**9})
    assert over.status_code == 422 and over.json()["code"] == "limit_exceeded"


async def test_store_busy_is_503_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(*_args: object, **_kwargs: object) -> None:
        raise StoreBusyError("another process is writing")

    monkeypatch.setattr(api.services, "load_document", busy)
    response = await api.client.post("/api/v1/ingest", files={"file": ("suppliers.csv", SUPPLIERS, "text/csv")})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["code"] == "store_busy"


async def test_unexpected_errors_are_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret store detail")

    monkeypatch.setattr(api.services, "node", bug)
    response = await api.client.get(f"/api/v1/nodes/{D1}")
    assert response.status_code == 500
    assert "secret" not in response.text and response.json()["code"] == "internal_error"


async def test_oversized_bodies_are_413_naming_the_limit(tmp_path: Path) -> None:
    async with running_api(tmp_path, max_body_bytes=1_000) as api:
        declared = await api.client.post("/api/v1/ingest", files={"file": ("suppliers.csv", b"x" * 5_000, "text/csv")})
        assert declared.status_code == 413
        assert "1000 bytes" in declared.json()["detail"]

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(5):
                yield b"{" * 400

        streamed = await api.client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert "1000 bytes" in streamed.json()["detail"]


async def test_a_trace_past_its_time_budget_says_it_is_partial(tmp_path: Path) -> None:
    async with running_api(tmp_path, trace_time_budget=1e-9) as api:
        body = (await api.client.get("/api/v1/trace/forward", params={"start": SUPPLIER})).json()
        assert body["is_partial"] is True
        metrics = (await api.client.get("/metrics")).text
        assert 'tracegraph_traces_total{direction="forward",partial="true"} 1.0' in metrics


async def test_inspection_evidence_reachable_by_rest(api: Api) -> None:
    body = (await api.client.get(f"/api/v1/nodes/{INSPECTION}")).json()
    assert body["props"] == {"result": "fail"}
    assert body["edges_out"][0]["target"] == RESIN_LOT
