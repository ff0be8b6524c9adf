"""Trace and recall reports, electronic signatures and KPIs over REST and GraphQL, as production serves them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from cli.commands.audit import EXIT_INTEGRITY
from cli.main import app
from reports.evidence import verify_package
from reports.publish import SignatureRequest, publish_recall_report
from reports.recall_report import RecallRequest
from schema.access import Role
from schema.kinds import NodeKind
from schema.model import TraceDirection, TraceQuery
from tests.e2e.api_client import error_code, issue_key, running_api, store_url

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


#: Per run, not per content: everything else in a trace report is the same however it is asked for.
RUN_FIELDS = ("generated_at",)


def _content(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in RUN_FIELDS}


def _cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--store", store_url(tmp_path), *args])
    return result.exit_code, result.stdout + result.stderr


async def test_a_trace_report_over_rest_is_the_one_the_cli_writes(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.QUALITY_ENGINEER) as api:
        body = {"key": RESIN_LOT, "direction": "forward", "format": "json"}
        response = await api.client.post("/api/v1/reports/trace", json=body)
        assert response.status_code == 200, response.text
        served = response.json()

        code, output = _cli(tmp_path, "--actor", served["generated_by"], "report", "trace", RESIN_LOT,
                            "--direction", "forward", "--out", str(tmp_path / "cli"))  # fmt: skip
        assert code == 0, output
        written = orjson.loads((tmp_path / "cli" / "trace-report.json").read_bytes())
        assert _content(served) == _content(written)
        consignees = {n["key"] for n in served["nodes"] if n["kind"] == NodeKind.CONSIGNEE.value}
        assert consignees and served["query"]["direction"] == "forward"

        backward = (await api.client.post("/api/v1/reports/trace", json={**body, "direction": "backward"})).json()
        assert backward["query"]["direction"] == "backward" and backward["nodes"] != served["nodes"]
        capped = (await api.client.post("/api/v1/reports/trace", json={**body, "limit": 1})).json()
        assert capped["result"]["listed"] == 1 and capped["result"]["truncated"] is True
        assert capped["result"]["total"] == served["result"]["total"]

        unknown = await api.client.post("/api/v1/reports/trace", json={**body, "key": "lot:NO-SUCH-LOT"})
        assert unknown.status_code == 404 and "NO-SUCH-LOT" in unknown.text
        too_many = await api.client.post("/api/v1/reports/trace", json={**body, "limit": 10**9})
        assert too_many.status_code == 422 and "maximum" in too_many.text
        for bad in ({"direction": "sideways"}, {"key": ""}, {"depth": -1}, {"format": "pdf"}):
            assert (await api.client.post("/api/v1/reports/trace", json={**body, **bad})).status_code == 422, bad


async def test_a_trace_report_package_verifies_and_names_a_changed_byte(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.RECALL_MANAGER) as api:
        response = await api.client.post("/api/v1/reports/trace", json={"key": RESIN_LOT, "direction": "forward"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        assert 'filename="trace-report-lot-RESIN-7.zip"' in response.headers["content-disposition"]
    package = tmp_path / "trace.zip"
    package.write_bytes(response.content)
    code, output = _cli(tmp_path, "verify", str(package))
    assert code == 0, output

    with zipfile.ZipFile(package) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    doc = orjson.loads(members["reports/trace-report.json"])
    assert doc["start"]["key"] == RESIN_LOT and doc["sources"]
    nodes = bytearray(members["reports/trace-nodes.csv"])
    nodes[-2] ^= 0x01  # flip one bit of one byte
    members["reports/trace-nodes.csv"] = bytes(nodes)
    with zipfile.ZipFile(package, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    code, output = _cli(tmp_path, "verify", str(package))
    flat = " ".join(output.split())
    assert code == EXIT_INTEGRITY and "1 problem(s)" in flat and "reports/trace-nodes.csv: altered" in flat


async def test_the_graphql_trace_report_matches_rest_and_follows_the_policy(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.QUALITY_ENGINEER) as api:
        rest = (await api.client.post("/api/v1/reports/trace", json={"key": RESIN_LOT, "direction": "forward",
                                                                      "format": "json"})).json()  # fmt: skip
        mutation = "mutation($k: String!) { traceReport(key: $k, direction: FORWARD) }"
        body = await api.graphql(mutation, k=RESIN_LOT)
        assert "errors" not in body, body
        assert _content(body["data"]["traceReport"]) == _content(rest)
        assert error_code(await api.graphql('mutation { traceReport(key: "lot:R", limit: 0) }')) == "INVALID_INPUT"

        for role in (Role.AUDITOR, Role.INTEGRATION):
            headers = {"Authorization": f"Bearer {issue_key(api.runtime.settings, role)}"}
            refused = await api.client.post("/api/v1/reports/trace", json={"key": RESIN_LOT}, headers=headers)
            assert refused.status_code == 403, (role, refused.text)
            answer = await api.client.post(
                "/graphql", json={"query": mutation, "variables": {"k": RESIN_LOT}}, headers=headers
            )
            assert error_code(answer.json()) == "FORBIDDEN", role
