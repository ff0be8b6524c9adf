"""Recall reports, electronic signatures and KPIs over REST and GraphQL, as production serves them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import orjson
import pytest

from reports.evidence import verify_package
from reports.publish import SignatureRequest, publish_recall_report
from reports.recall_report import RecallRequest
from schema.access import Role
from schema.kinds import NodeKind
from schema.model import TraceDirection, TraceQuery
from tests.e2e.api_client import issue_key, running_api

RESIN_LOT = "lot:RESIN-7"

pytestmark = pytest.mark.anyio


async def test_a_recall_report_comes_back_as_a_verifiable_package(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.RECALL_MANAGER) as api:
        response = await api.client.post("/api/v1/reports/recall", json={"starts": [RESIN_LOT], "threshold": 0.01})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        package = tmp_path / "recall.zip"
        package.write_bytes(response.content)
        assert verify_package(package).ok
        with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
            doc = orjson.loads(zf.read("reports/recall-report.json"))
        query = TraceQuery(starts=(RESIN_LOT,), direction=TraceDirection.FORWARD, kinds=frozenset({NodeKind.CONSIGNEE}))
        consignees = {n.key for n in api.services.trace(query).nodes}
        assert consignees and {c["key"] for c in doc["consignees"]} == consignees

        as_json = await api.client.post("/api/v1/reports/recall", json={"starts": [RESIN_LOT], "format": "json"})
        assert as_json.status_code == 200 and as_json.json()["format"] == "tracegraph-recall-report/1"
        bad = await api.client.post("/api/v1/reports/recall", json={"starts": [RESIN_LOT], "facts": {"colour": 1}})
        assert bad.status_code == 422 and "colour" in bad.text
        assert (await api.client.post("/api/v1/reports/recall", json={})).status_code == 422


async def test_signing_reauthenticates_with_the_callers_own_key(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.RECALL_MANAGER) as api:
        assert api.key is not None
        other = issue_key(api.runtime.settings, Role.RECALL_MANAGER, name="Someone Else")
        sign = {"meaning": "approval", "reason": "I approve this report"}
        body = {"starts": [RESIN_LOT], "format": "json"}
        wrong = await api.client.post("/api/v1/reports/recall", json={**body, "sign": {**sign, "api_key": "tgk_x"}})
        assert wrong.status_code == 401
        not_mine = await api.client.post("/api/v1/reports/recall", json={**body, "sign": {**sign, "api_key": other}})
        assert not_mine.status_code == 401 and "signed-in user" in not_mine.text

        signed = await api.client.post("/api/v1/reports/recall", json={**body, "sign": {**sign, "api_key": api.key}})
        assert signed.status_code == 200, signed.text
        doc = signed.json()
        [signature] = doc["signatures"]
        assert signature["printed_name"] == "test recall_manager" and signature["meaning"] == "approval"
        verified = await api.client.post("/api/v1/signatures/reports/verify", json={"report": doc})
        assert verified.json()["valid"] is True
        doc["devices"] = doc["devices"][1:]
        verified = await api.client.post("/api/v1/signatures/reports/verify", json={"report": doc})
        assert verified.json()["valid"] is False and "changed" in verified.json()["signatures"][0]["problem"]

        listed = await api.client.get("/api/v1/signatures")
        assert [s["id"] for s in listed.json()["signatures"]] == [signature["id"]]
        # a recall manager may not sign alert closures
        closure = await api.client.post("/api/v1/signatures/alerts/alert:x", json={**sign, "api_key": api.key})
        assert closure.status_code == 403


async def test_an_auditor_sees_the_signatures_shared_with_it(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.AUDITOR) as api:
        manager = issue_key(api.runtime.settings, Role.RECALL_MANAGER, name="Jane Roe")
        publish_recall_report(
            api.services,
            RecallRequest(starts=(RESIN_LOT,)),
            tmp_path / "r",
            sign=SignatureRequest(api_key=manager, meaning="review", reason="reviewed"),
            access=api.app.state.guard.access,
        )
        assert (await api.client.get("/api/v1/signatures")).json() == {"signatures": [], "scoped": True}
        key_id = api.key.split("_")[1] if api.key else ""
        api.app.state.guard.access.share(key_id, ["signature:*"], actor="test")
        [shown] = (await api.client.get("/api/v1/signatures")).json()["signatures"]
        assert shown["printed_name"] == "Jane Roe" and shown["meaning"] == "review"
        assert (await api.client.post("/api/v1/reports/recall", json={"starts": [RESIN_LOT]})).status_code == 403


async def test_kpis_and_the_graphql_recall_report(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        kpis = (await api.client.get("/api/v1/kpis")).json()
        assert set(kpis) == {"generated_at", "time_to_trace", "open_alerts", "supplier_scores", "audit_trail"}
        assert kpis["time_to_trace"]["drills"] == 0 and kpis["audit_trail"]["intact"] is True
        assert "path" not in kpis["audit_trail"]
        body = await api.graphql(
            'mutation($s: [String!]) { recallReport(starts: $s, facts: {report_number: "R-1"}) }', s=[RESIN_LOT]
        )
        assert "errors" not in body, body
        doc = body["data"]["recallReport"]
        assert doc["report_number"] == "R-1" and doc["summary"]["devices"] == len(doc["devices"]) > 0
