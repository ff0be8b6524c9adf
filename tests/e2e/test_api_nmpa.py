"""NMPA duties and languages over HTTP: documents in Chinese by default, errors in the language
``Accept-Language`` asks for, and only the roles that may see a recall get them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from schema.access import Role
from tests.conformance.plants import D1, D2, D3, RESIN_LOT
from tests.e2e.api_client import running_api

pytestmark = pytest.mark.anyio


async def test_recall_documents_errors_and_clocks_over_http(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        params = {"start": RESIN_LOT, "class": "1"}
        pdf = await api.client.get("/api/v1/nmpa/recall/event", params=params)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-language"] == "zh-Hans"
        text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
        assert "医疗器械召回事件报告表" in text and all(device in text for device in (D1, D2, D3))

        english = await api.client.get(
            "/api/v1/nmpa/recall/plan", params={**params, "format": "json"}, headers={"Accept-Language": "en"}
        )
        body = english.json()
        assert body["title"] == "Recall plan" and body["recall_class"] == 1
        assert sum(lot["in_scope"] for lot in body["lots"]) == 3

        csv_text = (await api.client.get("/api/v1/nmpa/recall/notice", params={**params, "format": "csv"})).text
        assert csv_text.lstrip("\ufeff").startswith("收货单位,名称")

        missing = await api.client.get("/api/v1/nodes/wo:WO-404", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert missing.status_code == 404 and missing.headers["content-language"] == "zh-Hans"
        problem = missing.json()
        assert problem["code"] == "not_found" and problem["title"] == "未找到"
        assert problem["detail"] == "没有键为 wo:WO-404 的节点"
        plain = (await api.client.get("/api/v1/nodes/wo:WO-404")).json()
        assert plain["title"] == "not found" and plain["detail"] == "no node with key wo:WO-404"

        graphql = await api.client.post(
            "/graphql",
            json={"query": '{ trace(starts: ["wo:WO-404"]) { total } }'},
            headers={"Accept-Language": "zh-CN"},
        )
        (error,) = graphql.json()["errors"]
        assert error["message"] == "没有键为 wo:WO-404 的节点" and error["extensions"]["code"] == "NOT_FOUND"

        unknown = await api.client.get("/api/v1/nmpa/recall/memo", params=params, headers={"Accept-Language": "zh"})
        assert unknown.status_code == 422 and unknown.json()["detail"].startswith("未知的 NMPA 文件 memo")

        clocks = await api.client.get(
            "/api/v1/nmpa/clocks", params={"class": "3", "decided_at": "2024-03-01T09:00:00Z"}
        )
        due = {c["kind"]: c["due"] for c in clocks.json()}
        assert due["notify-consignees"] == "2024-03-08T09:00:00+00:00"

        kept = await api.client.get("/api/v1/nmpa/retention", params={"on": "2020-01-01"})
        assert kept.status_code == 200 and not kept.json()["may_purge"]


async def test_only_roles_that_see_recalls_get_nmpa_documents(tmp_path: Path) -> None:
    async with running_api(tmp_path, role=Role.QUALITY_ENGINEER) as api:
        refused = await api.client.get("/api/v1/nmpa/recall/event", params={"start": RESIN_LOT, "class": "1"})
        assert refused.status_code == 403
