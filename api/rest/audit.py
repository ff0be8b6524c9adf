"""``GET /api/v1/audit``: the audit trail for those who check it, as ``tracegraph audit`` shows it.

An auditor's key reads only the entries whose subject was shared with it
(``tracegraph keys share ID 'report:*'``); the chain's verification (counts and hashes, no
content) is for every reader of the trail.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from api.deps import PrincipalDep, RuntimeDep
from api.errors import error_responses
from api.rest import API_V1
from api.rest.examples import json_example
from services.audit import AuditFilter, AuditTrail

router = APIRouter(prefix=API_V1, tags=["audit"])

#: Stored entries one page reads at most, whatever it finds: a scoped reader's page may be short.
SCAN_LIMIT = 10_000

_ENTRY = {
    "seq": 42,
    "at": "2024-03-01T09:12:44.120Z",
    "actor": "key:3f9a1c2b7d4e (recall desk)",
    "action": "report.generated",
    "subject": "report:trace:lot:RESIN-7",
    "old": None,
    "new": {"nodes": 19},
    "reason": None,
    "details": {},
    "prev_hash": "9c1e…",
    "hash": "4b7d…",
}


def _page(trail: AuditTrail, after: int, limit: int, where: AuditFilter, visible: Any) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    last = after
    for scanned, row in enumerate(trail.rows(start=after + 1), 1):
        last = row.seq
        try:
            body = orjson.loads(row.text)
        except orjson.JSONDecodeError:
            body = {"unreadable": row.text}
        body = body if isinstance(body, dict) else {"unreadable": row.text}
        subject = str(body.get("subject", ""))
        if where.matches(body) and visible(subject):
            entries.append({**body, "seq": row.seq, "hash": row.hash})
        if len(entries) >= limit or scanned >= SCAN_LIMIT:
            break
    else:
        return {"entries": entries, "next_after": None}
    return {"entries": entries, "next_after": last}


@router.get(
    "/audit",
    summary="Audit trail entries, oldest first (an auditor sees those shared with it)",
    responses={200: json_example({"entries": [_ENTRY], "next_after": 42, "scoped": False}), **error_responses()},
)
async def audit_entries(
    rt: RuntimeDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, description="Entries after this position (next_after of the last page)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Entries on this page at most")] = 100,
    action: Annotated[str | None, Query(max_length=100, description="Only this action, e.g. load")] = None,
    actor: Annotated[
        str | None, Query(max_length=200, description="Only actors containing this, ignoring case, e.g. recall desk")
    ] = None,
    subject: Annotated[
        str | None,
        Query(max_length=500, description="Only this subject, or ending in * every subject starting so: lot:*"),
    ] = None,
    since: Annotated[
        datetime | None, Query(description="Only entries recorded at or after this time (ISO 8601)")
    ] = None,
    until: Annotated[datetime | None, Query(description="Only entries recorded before this time (ISO 8601)")] = None,
) -> dict[str, Any]:
    """``next_after`` is null on the last page; pages of a filtered or scoped reader may hold
    fewer entries than ``limit`` and still not be the last. Naive times are UTC."""
    where = AuditFilter(action=action, actor=actor, subject=subject, since=since, until=until)
    trail = rt.services.audit_trail()
    page = await rt.run(_page, trail, after, limit, where, principal.may_see)
    return {**page, "scoped": principal.scoped}


@router.get(
    "/audit/verify",
    summary="Verify the audit trail's hash chain",
    responses={
        200: json_example({"exists": True, "intact": True, "entries": 42, "head": {"seq": 42, "hash": "4b7d…"}}),
        **error_responses(),
    },
)
async def audit_verify(rt: RuntimeDep) -> dict[str, Any]:
    """As ``tracegraph audit verify``: every entry's hash, the chain, the positions and the head.
    The file's location is left out (the operator's business)."""
    verification = await rt.run(rt.services.audit_trail().verify)
    body = verification.to_json()
    body.pop("path", None)
    return body
