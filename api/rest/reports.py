"""Regulator-ready output over REST: trace and recall reports, electronic signatures and KPIs.

- ``POST /api/v1/reports/trace``: the trace report of one key (as ``tracegraph report trace``),
  returned as its evidence package (ZIP: the PDF, CSVs and JSON under ``reports/``, the subgraph,
  the cited records and the manifest; ``tracegraph verify`` checks it) or as the report's JSON.
- ``POST /api/v1/reports/recall``: the recall report of a recall scope (as ``tracegraph report
  recall``), returned as its evidence package (ZIP: the PDF, CSVs and JSON under ``reports/``, the
  subgraph, the cited records and the manifest) or as the report's JSON document; optionally
  signed as it is generated.
- ``POST /api/v1/signatures/alerts/{key}``, ``…/releases/{key}``, ``…/reports``: sign an alert
  closure, a release decision or a recall report. Every signature re-authenticates: the body
  carries the signer's API key, re-entered, which must be the signed-in caller's own.
- ``GET /api/v1/signatures``: the signatures in the audit trail (an auditor: those shared with it).
- ``GET /api/v1/kpis``: time to trace (drills), open alerts by grade and age, supplier scores and
  the audit trail's health, as ``tracegraph kpis --json``.
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth.guard import Guard
from api.deps import PrincipalDep, RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from api.tracing import check_limit
from reports.publish import (
    SignatureRequest,
    publish_recall_report,
    publish_trace_report,
    verify_recall_signatures,
)
from reports.recall_report import FORMAT, RecallRequest, parse_facts, record_key, signed_content
from reports.trace_report import DEFAULT_LIMIT, ReportRequest, report_json
from risk.recall import DEFAULT_THRESHOLD
from schema.errors import InvalidInputError, UnauthenticatedError
from schema.model import TraceDirection
from services.access import Principal
from services.drills import kpis
from services.signatures import Meaning, Signature, Signatures, SignedKind, subject_of

router = APIRouter(prefix=API_V1, tags=["reports"])

_SIGNATURE = {
    "id": "sig-5f0c2a9e81d34b7a",
    "kind": "recall-report",
    "record": "report:recall:3001234567-20240301-001-R",
    "record_sha256": "6e0a9596…",
    "meaning": "approval",
    "printed_name": "Jane Roe",
    "signer": "key:90ddaf24fa45",
    "signed_at": "2024-03-01T09:12:44.120Z",
    "reason": "I approve this recall report",
    "audit_seq": 42,
}


class SignatureInput(BaseModel):
    """A signature: the signer's API key re-entered (re-authentication), meaning and reason."""

    api_key: str = Field(..., min_length=1, max_length=200, description="The signer's own API key, re-entered")
    meaning: Meaning
    reason: str = Field(..., min_length=1, max_length=2000, description="What the signer attests")


class RecallReportInput(BaseModel):
    starts: list[str] = Field(default_factory=list, max_length=100, description="Suspect keys (a bad lot, a machine)")
    signals: list[str] = Field(default_factory=list, max_length=100, description="Signal ids from GET /signals")
    threshold: float = Field(DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    as_of: datetime | None = None
    facts: dict[str, Any] = Field(
        default_factory=dict, description="Company facts, as in the YAML facts file (examples/recall-facts.yaml)"
    )
    format: Literal["zip", "json"] = Field("zip", description="zip: the evidence package; json: the report document")
    sign: SignatureInput | None = Field(None, description="Sign the report as it is generated")


class TraceReportInput(BaseModel):
    key: str = Field(..., min_length=1, max_length=500, description="A UDI, lot or any key, in any accepted form")
    direction: TraceDirection = Field(
        TraceDirection.BACKWARD, description="backward (genealogy, the default) or forward (impact)"
    )
    as_of: datetime | None = Field(None, description="As the store knew it then (ISO 8601; naive times are UTC)")
    depth: int | None = Field(None, ge=0, description="Maximum hops")
    limit: int = Field(DEFAULT_LIMIT, ge=1, description="List at most N nodes (the total stays exact)")
    ignore_time: bool = Field(False, description="Plain reachability, for comparison")
    format: Literal["zip", "json"] = Field("zip", description="zip: the evidence package; json: the report document")


class ReportSignatureInput(SignatureInput):
    report: dict[str, Any] = Field(..., description="The recall report's JSON document (recall-report.json)")


def _guard(request: Request) -> Guard:
    guard = request.app.state.guard
    assert isinstance(guard, Guard), "the app was not started through its lifespan"
    return guard


def _signatures(rt: Any, request: Request) -> Signatures:
    return Signatures(rt.services, _guard(request).access)


def _request(body: SignatureInput, principal: Principal) -> SignatureRequest:
    return SignatureRequest(api_key=body.api_key, meaning=body.meaning, reason=body.reason, signed_in=principal)


async def _signing(rt: Any, request: Request, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a signing call; a failed re-authentication counts as a failed sign-in for the client."""
    try:
        return await rt.run(fn, *args, **kwargs)
    except UnauthenticatedError:
        _guard(request).note_failure(request.client.host if request.client else "unknown")
        raise


@router.post(
    "/reports/recall",
    summary="Recall report (21 CFR 806.10(c), EU FSN) of a recall scope: evidence package ZIP or JSON",
    responses={
        200: {
            "description": "The evidence package (format=zip) or the report document (format=json)",
            "content": {"application/zip": {}, "application/json": {"example": {"format": FORMAT, "summary": {}}}},
        },
        **error_responses(400, 401, 403, 404),
    },
    response_class=Response,
)
async def recall_report(
    rt: RuntimeDep, principal: PrincipalDep, request: Request, body: Annotated[RecallReportInput, Body()]
) -> Response:
    """As ``tracegraph report recall --package``: generated, recorded in the audit trail, signed
    when ``sign`` is given (by the signed-in caller, re-entering their key), then returned."""
    if not body.starts and not body.signals:
        raise InvalidInputError("name at least one start key (starts) or signal id (signals)")
    report_request = RecallRequest(
        starts=tuple(body.starts),
        signals=tuple(body.signals),
        threshold=body.threshold,
        as_of=body.as_of,
        facts=parse_facts(body.facts, source="facts"),
    )
    sign = _request(body.sign, principal) if body.sign is not None else None
    with tempfile.TemporaryDirectory(prefix="tracegraph-recall-") as tmp:
        out, package = Path(tmp) / "report", Path(tmp) / "recall-report.zip"
        published = await _signing(
            rt,
            request,
            publish_recall_report,
            rt.services,
            report_request,
            out,
            package=package if body.format == "zip" else None,
            sign=sign,
            access=_guard(request).access,
        )
        if body.format == "json":
            return Response(orjson.dumps(published.report), media_type="application/json")
        data = package.read_bytes()
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="recall-report.zip"'},
    )


_TRACE_REPORT = {
    "report": "trace",
    "query": {"report": "trace", "key": "lot:RESIN-7", "start": "lot:RESIN-7", "direction": "forward"},
    "generated_at": "2024-03-01T09:12:44.120Z",
    "result": {"total": 12, "listed": 12, "truncated": False, "is_partial": False, "by_kind": {"Device": 8}},
    "start": {"key": "lot:RESIN-7", "kind": "MaterialLot"},
    "nodes": [],
    "timeline": [],
    "sources": [],
    "limitations": [],
}


@router.post(
    "/reports/trace",
    summary="Trace report of one key (genealogy or impact, every line citing its source): evidence package ZIP or JSON",
    responses={
        200: {
            "description": "The evidence package (format=zip) or the report document (format=json)",
            "content": {"application/zip": {}, "application/json": {"example": _TRACE_REPORT}},
        },
        **error_responses(400, 401, 403, 404),
    },
    response_class=Response,
)
async def trace_report(rt: RuntimeDep, request: Request, body: Annotated[TraceReportInput, Body()]) -> Response:
    """As ``tracegraph report trace --package``: generated, recorded in the audit trail, then
    returned; the package is the one ``tracegraph verify`` checks."""
    report_request = ReportRequest(
        key=body.key,
        direction=body.direction,
        as_of=body.as_of,
        max_depth=body.depth,
        limit=check_limit(body.limit, rt.settings.trace_max_limit),
        ignore_time=body.ignore_time,
    )
    with tempfile.TemporaryDirectory(prefix="tracegraph-trace-") as tmp:
        out, package = Path(tmp) / "report", Path(tmp) / "trace-report.zip"
        published = await rt.run(
            publish_trace_report,
            rt.services,
            report_request,
            out,
            package=package if body.format == "zip" else None,
        )
        if body.format == "json":
            return Response(orjson.dumps(report_json(published.report)), media_type="application/json")
        data = package.read_bytes()
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{_package_name(published.report.start.key)}"'},
    )


def _package_name(key: str) -> str:
    """``trace-report-lot-RESIN-7.zip``: the start key, reduced to characters safe in a header."""
    return "trace-report-" + re.sub(r"[^A-Za-z0-9._-]+", "-", key).strip("-")[:120] + ".zip"


def _signed(signature: Signature) -> dict[str, Any]:
    return {"signature": signature.to_json(), "manifestation": signature.manifestation()}


@router.post(
    "/signatures/alerts/{key:path}",
    summary="Sign a closed alert's closure (re-enter your API key)",
    responses={
        200: json_example({"signature": {**_SIGNATURE, "kind": "alert-closure"}}),
        **error_responses(400, 401, 403, 404, 409),
    },
)
async def sign_alert(
    rt: RuntimeDep, principal: PrincipalDep, request: Request, key: str, body: Annotated[SignatureInput, Body()]
) -> dict[str, Any]:
    sig = _request(body, principal)
    signature = await _signing(
        rt, request, _signatures(rt, request).sign_alert_closure, key,
        meaning=sig.meaning, api_key=sig.api_key, reason=sig.reason, signed_in=principal,
    )  # fmt: skip
    return _signed(signature)


@router.post(
    "/signatures/releases/{key:path}",
    summary="Sign a release decision: a closed task and the stock it released (re-enter your API key)",
    responses={
        200: json_example({"signature": {**_SIGNATURE, "kind": "release"}}),
        **error_responses(400, 401, 403, 404, 409),
    },
)
async def sign_release(
    rt: RuntimeDep, principal: PrincipalDep, request: Request, key: str, body: Annotated[SignatureInput, Body()]
) -> dict[str, Any]:
    sig = _request(body, principal)
    signature = await _signing(
        rt, request, _signatures(rt, request).sign_release, key,
        meaning=sig.meaning, api_key=sig.api_key, reason=sig.reason, signed_in=principal,
    )  # fmt: skip
    return _signed(signature)


@router.post(
    "/signatures/reports",
    summary="Sign a recall report's JSON document (re-enter your API key); returns it with the signature",
    responses={
        200: json_example({"signature": _SIGNATURE, "report": {"format": FORMAT}}),
        **error_responses(400, 401, 403),
    },
)
async def sign_report(
    rt: RuntimeDep, principal: PrincipalDep, request: Request, body: Annotated[ReportSignatureInput, Body()]
) -> dict[str, Any]:
    """The signature binds to the document without its ``signatures`` field; render the returned
    document again (``tracegraph sign report`` does it for files) to show the signature on the PDF."""
    doc = body.report
    if doc.get("format") != FORMAT:
        raise InvalidInputError(f"report: not a TraceGraph recall report ({FORMAT})")
    signature = await _signing(
        rt, request, _signatures(rt, request).sign, SignedKind.RECALL_REPORT, record_key(doc), signed_content(doc),
        meaning=body.meaning, api_key=body.api_key, reason=body.reason, signed_in=principal,
    )  # fmt: skip
    signed = {**doc, "signatures": [*doc.get("signatures", []), signature.to_json()]}
    return {**_signed(signature), "report": signed}


@router.post(
    "/signatures/reports/verify",
    summary="Check the signatures on a recall report's JSON document against the audit trail",
    responses={
        200: json_example({"record": "report:recall:…", "valid": True, "signatures": []}),
        **error_responses(400),
    },
)
async def verify_report_signatures(
    rt: RuntimeDep, request: Request, report: Annotated[dict[str, Any], Body(embed=True)]
) -> dict[str, Any]:
    if report.get("format") != FORMAT:
        raise InvalidInputError(f"report: not a TraceGraph recall report ({FORMAT})")
    checks = await rt.run(verify_recall_signatures, _signatures(rt, request), report)
    return {
        "record": record_key(report),
        "valid": all(c.valid for c in checks) and bool(checks),
        "signatures": [c.to_json() for c in checks],
    }


@router.get(
    "/signatures",
    summary="Electronic signatures in the audit trail, oldest first (an auditor sees those shared with it)",
    responses={200: json_example({"signatures": [_SIGNATURE], "scoped": False}), **error_responses()},
)
async def signatures(
    rt: RuntimeDep,
    principal: PrincipalDep,
    request: Request,
    record: Annotated[str | None, Query(max_length=500, description="Only signatures on this record")] = None,
    kind: SignedKind | None = None,
) -> dict[str, Any]:
    found = await rt.run(_signatures(rt, request).all, kind=kind, record=record)
    visible = [s.to_json() for s in found if principal.may_see(subject_of(s.kind, s.record))]
    return {"signatures": visible, "scoped": principal.scoped}


_KPIS = {
    "generated_at": "2024-03-01T09:12:44Z",
    "time_to_trace": {
        "drills": 2,
        "median_seconds_to_consignee_list": 2.4,
        "median_seconds_to_signed_report": 41.0,
        "change_seconds_to_consignee_list": -0.6,
        "last_drill_at": "2024-03-01T08:00:00Z",
        "trend": [{"id": "drill-3f9a1c2b7d4e", "seconds_to_consignee_list": 2.7, "seconds_to_signed_report": 44.0}],
    },
    "open_alerts": {
        "total": 3,
        "overdue": 1,
        "by_grade": {"watch": 1, "warning": 1, "critical": 1, "recall-candidate": 0},
        "by_age": {"under_1_day": 1, "1_to_7_days": 2, "7_to_30_days": 0, "over_30_days": 0},
    },
    "supplier_scores": {"suppliers": 19, "by_grade": {"A": 18, "D": 1}, "scores": []},
    "audit_trail": {"exists": True, "intact": True, "entries": 42, "problem_count": 0},
}


@router.get(
    "/kpis",
    summary="Traceability KPIs: time to trace (drills), open alerts by grade and age, suppliers, audit trail",
    responses={200: json_example(_KPIS), **error_responses()},
)
async def kpi_values(rt: RuntimeDep) -> dict[str, Any]:
    """As ``tracegraph kpis --json``; field by field in docs/reference/api.md."""
    return await rt.run(kpis, rt.services)
