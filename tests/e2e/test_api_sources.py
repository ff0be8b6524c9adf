"""Finding the source over HTTP: REST ``/api/v1/sources`` and GraphQL ``likelySources`` give
the service's answer, and one more field of a candidate gives its impact and recall scope."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loaders.synthetic import Defect, PlantManifest, generate_plant
from schema.access import Role
from schema.model import TraceDirection, TraceQuery
from tests.e2e.api_client import Api, error_code, running_api

pytestmark = pytest.mark.anyio

QUERY = """query($cases: [String!]!) {
  likelySources(cases: $cases, limit: 5, evidence: 2) {
    cases caseUnits controls statistic tested notes byGroup isPartial
    candidates {
      rank key kind group explained controls pValue logBayesFactor logPriorOdds carriers signals
      paths evidence { key relation flagged } next { trace recall traceUrl recallUrl }
      impact { total isPartial }
    }
  }
}"""


def _plant(tmp_path: Path) -> PlantManifest:
    return generate_plant(tmp_path / "plant", scale="small", seed=3, inject=[Defect(kind="bad_supplier_lot")])


async def _loaded(api: Api, tmp_path: Path) -> list[str]:
    manifest = _plant(tmp_path)
    api.services.load_paths([tmp_path / "plant"])
    complaints = list(manifest.defects[0].complaints)
    assert len(complaints) >= 4, "the plant's defect draws complaints"
    return complaints[:6]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path, plant=False) as running:
        yield running


async def test_rest_gives_the_services_answer(api: Api, tmp_path: Path) -> None:
    cases = await _loaded(api, tmp_path)
    expected = api.services.likely_sources(cases).to_json()
    response = await api.client.get("/api/v1/sources", params={"case": ",".join(cases)})
    assert response.status_code == 200, response.text
    assert response.json() == expected
    top = expected["candidates"][0]
    assert top["paths"] and top["next"]["trace_url"].startswith("/api/v1/trace/forward?start=")
    # The candidate's links answer over REST too.
    impact = await api.client.get(top["next"]["trace_url"])
    assert impact.status_code == 200 and impact.json()["total"] > 0
    recall = await api.client.get(top["next"]["recall_url"])
    assert recall.status_code == 200 and recall.json()["devices"]


async def test_rest_refuses_bad_input(api: Api, tmp_path: Path) -> None:
    await _loaded(api, tmp_path)
    assert (await api.client.get("/api/v1/sources")).status_code == 422
    missing = await api.client.get("/api/v1/sources", params={"case": "complaint:NOPE"})
    assert missing.status_code == 404
    wrong = await api.client.get("/api/v1/sources", params={"case": "complaint:CMP-000001", "by": "vote"})
    assert wrong.status_code == 422


async def test_graphql_ranks_as_the_service_and_links_to_impact_and_recall(api: Api, tmp_path: Path) -> None:
    cases = await _loaded(api, tmp_path)
    expected = api.services.likely_sources(cases, limit=5, evidence=2)
    body = await api.graphql(QUERY, cases=cases)
    assert "errors" not in body, body
    answer: dict[str, Any] = body["data"]["likelySources"]
    assert answer["notes"] == list(expected.notes) and answer["tested"] == expected.tested
    assert answer["byGroup"] == expected.by_group
    got = [(c["rank"], c["key"], c["explained"], c["controls"], c["pValue"]) for c in answer["candidates"]]
    assert got == [(c.rank, c.key, c.explained, c.controls, c.p_value) for c in expected.candidates]
    top, model = answer["candidates"][0], expected.candidates[0]
    assert top["paths"] == [list(p) for p in model.paths]
    assert [e["key"] for e in top["evidence"]] == [e.key for e in model.evidence]
    # impact: the forward trace from the candidate (within its window for a machine).
    window = None
    if model.window_start is not None:
        from schema.model import TimeWindow

        window = TimeWindow(start=model.window_start, end=model.window_end)
    forward = api.services.trace(TraceQuery(starts=(model.key,), direction=TraceDirection.FORWARD, window=window))
    assert top["impact"]["total"] == forward.total > 0
    # recallScope: the recall scope if it is the source, in the same call.
    scoped = await api.graphql(
        """query($cases: [String!]!) { likelySources(cases: $cases, limit: 1, evidence: 0) {
             candidates { key recallScope } } }""",
        cases=cases,
    )
    first = scoped["data"]["likelySources"]["candidates"][0]
    assert first["recallScope"] == api.services.recall_scope(starts=[model.key], window=window).to_json()


async def test_graphql_refuses_a_bad_statistic(api: Api, tmp_path: Path) -> None:
    cases = await _loaded(api, tmp_path)
    body = await api.graphql('query($c: [String!]!) { likelySources(cases: $c, statistic: "vote") { total } }', c=cases)
    assert error_code(body) == "INVALID_INPUT"


async def test_roles(tmp_path: Path) -> None:
    """Quality engineers and recall managers find sources; a candidate's recall scope needs the
    recall permission as the root field does; auditors and integrations are refused."""
    _plant(tmp_path)
    recall_query = """query($c: [String!]!) { likelySources(cases: $c, limit: 1, evidence: 0) {
                        candidates { key recallScope } } }"""
    for role, sources, recall in (
        (Role.QUALITY_ENGINEER, 200, False),
        (Role.RECALL_MANAGER, 200, True),
        (Role.AUDITOR, 403, False),
        (Role.INTEGRATION, 403, False),
    ):
        async with running_api(tmp_path / role.value, plant=False, role=role) as api:
            api.services.load_paths([tmp_path / "plant"])
            manifest = PlantManifest.model_validate_json((tmp_path / "plant" / "manifest.json").read_text())
            cases = list(manifest.defects[0].complaints)[:4]
            response = await api.client.get("/api/v1/sources", params={"case": cases})
            assert response.status_code == sources, (role, response.text)
            body = await api.graphql(recall_query, c=cases)
            if sources != 200:
                assert error_code(body) == "FORBIDDEN"
            elif recall:
                assert "errors" not in body, body
            else:  # the ranking stands; only each candidate's recall scope is refused
                assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
                listed = body["data"]["likelySources"]["candidates"]
                assert listed and all(c["key"] and c["recallScope"] is None for c in listed)
