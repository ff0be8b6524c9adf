"""China NMPA duties over REST: recall documents, recall clocks, distribution records' retention.

As ``tracegraph nmpa``. Company facts come from the server's facts file
(``TRACEGRAPH_NMPA_FACTS``); documents are in the language ``Accept-Language`` asks for,
Chinese when it asks for none (they are written for the NMPA).
"""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from api.deps import RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from i18n import current_language, use_language
from reports import nmpa as documents
from risk.nmpa import RecallClass, recall_clocks
from services import nmpa as nmpa_service

router = APIRouter(prefix=API_V1 + "/nmpa", tags=["nmpa"])

_CSV = (
    "收货单位,名称,国家或地区,地址,许可证编号,数量,批号,已通知,已召回数量\n"
    "414/9506000000022,Hospital,CH,缺失,缺失,2,01/09506000130019/10/L1,否,0\n"
)
_DOCUMENT = {"kind": "plan", "title": "召回计划", "recall_class": 1, "starts": ["lot:RESIN-7"], "in_scope": 3}
_CLOCKS = [{"kind": "notify-consignees", "title": "Notify distributors and users", "due": "2024-03-02T09:00:00Z"}]


class DocumentFormat(StrEnum):
    PDF = "pdf"
    CSV = "csv"
    JSON = "json"


def _facts() -> nmpa_service.NmpaFacts:
    return nmpa_service.load_facts(nmpa_service.facts_path(None, os.environ))


@router.get(
    "/clocks",
    summary="The deadlines an NMPA recall decision starts",
    responses={200: json_example(_CLOCKS), **error_responses()},
)
async def clocks(
    recall_class: Annotated[str, Query(alias="class", description="1, 2 or 3 (一级, 二级, 三级)")],
    decided_at: Annotated[datetime | None, Query(description="When the recall was decided (default: now)")] = None,
) -> list[dict[str, Any]]:
    """Like ``tracegraph nmpa clocks --json``; working days skip weekends and the facts file's holidays."""
    klass = RecallClass.parse(recall_class)
    facts = _facts()
    found = recall_clocks(klass, decided_at or datetime.now(UTC), holidays=facts.holidays, workdays=facts.workdays)
    return [{"kind": c.kind.value, "title": c.title, "rule": c.rule, "due": c.due.isoformat()} for c in found]


@router.get(
    "/recall/{kind}",
    summary="An NMPA recall document (召回事件报告表, 调查评估报告, 召回计划, progress, notice) as PDF, CSV or JSON",
    responses={
        200: {
            "description": "The document: PDF, CSV with a header row, or the JSON of its dossier",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"example": _CSV},
                "application/json": {"example": _DOCUMENT},
            },
        },
        **error_responses(404),
    },
    response_class=Response,
)
async def recall_document(
    rt: RuntimeDep,
    request: Request,
    kind: str,
    start: Annotated[list[str], Query(description="Keys known or suspected to be bad")],
    recall_class: Annotated[str, Query(alias="class", description="1, 2 or 3")],
    format: Annotated[DocumentFormat, Query(description="pdf, csv or json")] = DocumentFormat.PDF,
    threshold: Annotated[float, Query(ge=0.0, le=1.0)] = 0.5,
    decided_at: datetime | None = None,
) -> Response:
    """Like ``tracegraph nmpa report KIND --from KEY --class N``; facts still missing are listed in it."""
    documents.check_kind(kind)
    klass = RecallClass.parse(recall_class)
    facts = _facts()
    scope = await rt.run(rt.services.recall_scope, starts=start, threshold=threshold)
    dossier = await rt.run(rt.services.nmpa_dossier, scope, facts, klass, decided_at=decided_at)
    # Documents for the NMPA are in Chinese unless the caller asks for a language.
    language = "zh" if "accept-language" not in request.headers else current_language()

    def render() -> tuple[bytes, str]:
        with use_language(language):
            if format is DocumentFormat.PDF:
                out = io.BytesIO()
                documents.write_pdf(dossier, kind, out)
                return out.getvalue(), "application/pdf"
            if format is DocumentFormat.CSV:
                return documents.csv_text(dossier, kind).encode("utf-8-sig"), "text/csv; charset=utf-8"
            return orjson.dumps(documents.json_document(dossier, kind)), "application/json"

    body, media = await rt.run(render)
    headers = {"Content-Disposition": f'attachment; filename="nmpa-{kind}.{format.value}"'}
    headers["Content-Language"] = "zh-Hans" if language != "en" else "en"
    return Response(body, media_type=media, headers=headers)


@router.get(
    "/retention",
    summary="Distribution records and whether each must still be kept",
    responses={200: json_example({"on": "2026-01-01", "keep": [], "may_purge": []}), **error_responses()},
)
async def retention(rt: RuntimeDep, on: date | None = None) -> dict[str, Any]:
    """Like ``tracegraph nmpa retention --json``: records kept until expiry + 2 years, 5 years
    without expiry, implants permanently."""
    records = await rt.run(rt.services.distribution_records, _facts())
    return nmpa_service.retention_check(records, on=on).to_json()
