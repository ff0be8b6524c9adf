"""SPC control charts over HTTP: the charts the services draw, for those who work on alerts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loaders.synthetic import generate_plant
from risk.signals.charts import RuleSystem
from schema.access import Role
from tests.e2e.api_client import Api, running_api

pytestmark = pytest.mark.anyio


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        generate_plant(tmp_path / "plant", scale="small", seed=0)
        running.services.load_paths([tmp_path / "plant"])
        yield running


async def test_charts_list_and_one_chart_follow_the_services(api: Api) -> None:
    listed = (await api.client.get("/api/v1/spc/charts")).json()
    expected = api.services.control_charts()
    assert listed == [c.to_json(with_points=False) for c in expected]
    broken = next(c for c in expected if c.breaks)  # the plant has a drifting machine
    response = await api.client.get(
        "/api/v1/spc/chart", params={"equipment": broken.equipment, "parameter": broken.parameter}
    )
    assert response.status_code == 200
    body = response.json()
    assert body == broken.to_json()
    assert len(body["points"]) == body["samples"] and body["breaks"][0]["end"] < body["samples"]
    western = await api.client.get(
        "/api/v1/spc/chart",
        params={"equipment": broken.equipment, "parameter": broken.parameter, "rules": "western-electric"},
    )
    assert western.json()["rules"] == RuleSystem.WESTERN_ELECTRIC.value


async def test_bad_chart_requests_get_clear_errors(api: Api) -> None:
    missing = await api.client.get("/api/v1/spc/chart", params={"equipment": "equipment:NOPE", "parameter": "x"})
    assert missing.status_code == 404 and "equipment:NOPE" in missing.json()["detail"]
    unnamed = await api.client.get("/api/v1/spc/chart", params={"equipment": "equipment:IMM-02"})
    assert unnamed.status_code == 422
    rules = await api.client.get("/api/v1/spc/charts", params={"rules": "shewhart"})
    assert rules.status_code == 422


async def test_an_auditor_may_not_read_process_charts(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.AUDITOR) as api:
        assert (await api.client.get("/api/v1/spc/charts")).status_code == 403
