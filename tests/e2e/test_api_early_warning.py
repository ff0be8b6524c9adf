"""Early warning over HTTP: the same recall scope, alerts and tasks as the services compute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loaders.synthetic import generate_plant
from schema.access import Role
from tests.conformance.plants import D1, D2, D3, RESIN_LOT
from tests.e2e.api_client import Api, running_api

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


async def test_recall_scope_over_rest_and_graphql_equals_the_service(api: Api) -> None:
    expected = api.services.recall_scope(starts=[RESIN_LOT]).to_json()
    assert {d["key"] for d in expected["devices"]} == {D1, D2, D3}
    response = await api.client.get("/api/v1/recall", params={"start": RESIN_LOT})
    assert response.status_code == 200
    assert response.json() == expected
    body = await api.graphql("query($s: [String!]) { recallScope(starts: $s) }", s=[RESIN_LOT])
    assert body["data"]["recallScope"] == expected


async def test_recall_needs_a_start_or_a_signal(api: Api) -> None:
    response = await api.client.get("/api/v1/recall")
    assert response.status_code == 422 and "start" in response.json()["detail"]


async def test_alerts_and_tasks_follow_the_services(api: Api, tmp_path: Path) -> None:
    generate_plant(tmp_path / "plant", scale="small", seed=0)  # it has a failed incoming inspection
    api.services.load_paths([tmp_path / "plant"])
    run = await api.client.post("/api/v1/alerts/run")
    assert run.status_code == 200
    listed = (await api.client.get("/api/v1/alerts")).json()
    assert listed, "the plant's failed incoming inspection raises an alert"
    assert listed == [a.to_json() for a in api.services.alerts()]
    tasks = (await api.client.get("/api/v1/tasks")).json()
    assert tasks and tasks == [t.to_json() for t in api.services.tasks()]
    one = await api.client.get(f"/api/v1/tasks/{tasks[0]['key']}")
    assert one.json() == tasks[0]
    # About one node: exactly the alerts and tasks whose subject it is.
    node = listed[0]["node"]
    about = (await api.client.get("/api/v1/alerts", params={"node": node})).json()
    assert about and [a["key"] for a in about] == [a["key"] for a in listed if a["node"] == node]
    concerning = (await api.client.get("/api/v1/tasks", params={"concerns": node})).json()
    assert concerning and [t["key"] for t in concerning] == [t["key"] for t in tasks if t["concerns"] == node]
    assert (await api.client.get("/api/v1/alerts", params={"node": "lot:NO-SUCH-LOT"})).json() == []
    missing = await api.client.get("/api/v1/tasks/task:NOPE")
    assert missing.status_code == 404


async def test_a_role_without_recall_permission_is_refused(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.INTEGRATION) as api:
        response = await api.client.get("/api/v1/recall", params={"start": RESIN_LOT})
        assert response.status_code == 403
    async with running_api(tmp_path / "rm", role=Role.RECALL_MANAGER) as api:
        response = await api.client.get("/api/v1/recall", params={"start": RESIN_LOT})
        assert response.status_code == 200
