"""Mock recalls (drills) and the key performance indicators of traceability.

A **drill** answers a recall question the way a real recall would be answered, against the clock:
from the question (a suspect key) to the complete consignee list, then to the signed recall report.
Each drill is logged in the audit trail (a ``report.generated`` entry on ``drill:<id>``, with its
timings), so the time-to-trace trend reads from the same tamper-evident record as everything else.

The **KPIs** (:func:`kpis`): time to trace (the drills' trend), open alerts by grade and age,
supplier scores, and the audit trail's health.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from schema.alerts import AlertGrade, AlertState
from schema.audit import AuditAction
from schema.errors import InvalidInputError
from schema.model import iso
from services.app import Services

DRILL_PREFIX = "drill:"

#: Age buckets of open alerts: (label, up to this many days).
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under_1_day", 1.0),
    ("1_to_7_days", 7.0),
    ("7_to_30_days", 30.0),
    ("over_30_days", float("inf")),
)


@dataclass
class Drill:
    """One mock recall and how long each step took (seconds, monotonic clock)."""

    id: str
    starts: tuple[str, ...]
    started_at: datetime
    seconds_to_scope: float | None = None
    seconds_to_consignee_list: float | None = None
    seconds_to_signed_report: float | None = None
    devices: int = 0
    consignees: int = 0
    deliveries: int = 0
    signed: bool = False
    report: str | None = None
    files: list[str] = field(default_factory=list)
    audit_seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "starts": list(self.starts),
            "started_at": iso(self.started_at),
            "seconds_to_scope": _round(self.seconds_to_scope),
            "seconds_to_consignee_list": _round(self.seconds_to_consignee_list),
            "seconds_to_signed_report": _round(self.seconds_to_signed_report),
            "devices": self.devices,
            "consignees": self.consignees,
            "deliveries": self.deliveries,
            "signed": self.signed,
            "report": self.report,
            "files": self.files,
            "audit_seq": self.audit_seq,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class DrillClock:
    """Times a drill's steps from the moment the question is asked."""

    def __init__(self, starts: Sequence[str]) -> None:
        if not starts:
            raise InvalidInputError("a drill needs the key the recall question starts from (--from KEY)")
        self.drill = Drill(id=f"drill-{secrets.token_hex(6)}", starts=tuple(starts), started_at=datetime.now(UTC))
        self._t0 = time.monotonic()

    def lap(self) -> float:
        return time.monotonic() - self._t0

    def scoped(self) -> None:
        self.drill.seconds_to_scope = self.lap()

    def consignee_list(self, *, devices: int, consignees: int, deliveries: int) -> None:
        self.drill.seconds_to_consignee_list = self.lap()
        self.drill.devices, self.drill.consignees, self.drill.deliveries = devices, consignees, deliveries

    def signed_report(self, *, signed: bool) -> None:
        self.drill.signed = signed
        if signed:
            self.drill.seconds_to_signed_report = self.lap()


def log_drill(services: Services, drill: Drill) -> Drill:
    """Append the drill and its timings to the audit trail."""
    entry = services.record(
        AuditAction.REPORT,
        f"{DRILL_PREFIX}{drill.id}",
        new=drill.to_json(),
        details={"drill": True},
    )
    drill.audit_seq = entry.seq
    return drill


def run_drill(services: Services, starts: Sequence[str], steps: Callable[[DrillClock], None]) -> Drill:
    """Time ``steps`` (which call the clock's ``scoped``, ``consignee_list`` and ``signed_report``
    as they finish each step) and log the drill, finished or not."""
    clock = DrillClock(starts)
    try:
        steps(clock)
    finally:
        log_drill(services, clock.drill)
    return clock.drill


def drills(services: Services) -> list[dict[str, Any]]:
    """Every logged drill, oldest first."""
    return list(_logged_drills(services))


def _logged_drills(services: Services) -> Iterator[dict[str, Any]]:
    for row in services.audit_trail().rows():
        try:
            body = orjson.loads(row.text)
        except orjson.JSONDecodeError:
            continue
        if (
            isinstance(body, dict)
            and body.get("action") == AuditAction.REPORT.value
            and str(body.get("subject", "")).startswith(DRILL_PREFIX)
            and isinstance(body.get("new"), dict)
        ):
            yield {**body["new"], "audit_seq": row.seq}


# -- KPIs -----------------------------------------------------------------------------------


def time_to_trace(logged: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The drills' trend: each drill's seconds to the consignee list and to the signed report,
    their median, and the change from the first half of the drills to the second (negative:
    getting faster)."""
    to_list = [d["seconds_to_consignee_list"] for d in logged if d.get("seconds_to_consignee_list") is not None]
    to_signed = [d["seconds_to_signed_report"] for d in logged if d.get("seconds_to_signed_report") is not None]

    def change(values: list[float]) -> float | None:
        if len(values) < 2:
            return None
        half = len(values) // 2
        return round(statistics.median(values[half:]) - statistics.median(values[:half]), 3)

    return {
        "drills": len(logged),
        "median_seconds_to_consignee_list": round(statistics.median(to_list), 3) if to_list else None,
        "median_seconds_to_signed_report": round(statistics.median(to_signed), 3) if to_signed else None,
        "change_seconds_to_consignee_list": change(to_list),
        "last_drill_at": logged[-1]["started_at"] if logged else None,
        "trend": [
            {
                "id": d["id"],
                "started_at": d["started_at"],
                "starts": d["starts"],
                "seconds_to_consignee_list": d.get("seconds_to_consignee_list"),
                "seconds_to_signed_report": d.get("seconds_to_signed_report"),
                "devices": d.get("devices"),
                "consignees": d.get("consignees"),
                "signed": d.get("signed"),
            }
            for d in logged
        ],
    }


def open_alerts(services: Services, *, now: datetime | None = None) -> dict[str, Any]:
    """Open alerts by grade and by age (days since opened), and how many are past due."""
    now = now or datetime.now(UTC)
    alerts = services.alerts(state=AlertState.OPEN)
    by_grade = Counter(a.grade.value for a in alerts)
    by_age: Counter[str] = Counter()
    by_grade_and_age: dict[str, Counter[str]] = {g.value: Counter() for g in AlertGrade}
    for a in alerts:
        days = (now - a.opened_at).total_seconds() / 86_400
        label = next(name for name, limit in AGE_BUCKETS if days < limit)
        by_age[label] += 1
        by_grade_and_age[a.grade.value][label] += 1
    return {
        "total": len(alerts),
        "overdue": sum(1 for a in alerts if a.due_at is not None and a.due_at < now),
        "by_grade": {g.value: by_grade.get(g.value, 0) for g in AlertGrade},
        "by_age": {name: by_age.get(name, 0) for name, _ in AGE_BUCKETS},
        "by_grade_and_age": {
            g: {name: counts.get(name, 0) for name, _ in AGE_BUCKETS} for g, counts in by_grade_and_age.items()
        },
        "oldest_opened_at": iso(min((a.opened_at for a in alerts), default=None)),
    }


def supplier_scores(services: Services) -> dict[str, Any]:
    """Supplier grades (count per grade) and every supplier's score."""
    scores = services.supplier_scorecard()
    return {
        "suppliers": len(scores),
        "by_grade": dict(sorted(Counter(s.grade for s in scores).items())),
        "scores": [
            {
                "supplier": s.supplier,
                "name": s.name,
                "grade": s.grade,
                "lots": s.lots,
                "reject_rate": round(s.reject_rate, 4),
                "ewma_reject": round(s.ewma_reject, 4),
                "late": s.late,
                "short": s.short,
            }
            for s in scores
        ],
    }


def audit_health(services: Services) -> dict[str, Any]:
    """The audit trail's chain: intact or not, entries, head, problems (without the file path)."""
    verification = services.audit_trail().verify()
    body = verification.to_json()
    body.pop("path", None)
    last_at = None
    if verification.head is not None:
        entry = services.audit_trail().rows(start=verification.head.seq, end=verification.head.seq)
        for row in entry:
            try:
                last_at = orjson.loads(row.text).get("at")
            except (orjson.JSONDecodeError, AttributeError):
                last_at = None
    return {**body, "problem_count": len(verification.problems) + verification.more_problems, "last_entry_at": last_at}


def kpis(services: Services, *, now: datetime | None = None) -> dict[str, Any]:
    """The traceability KPIs, as ``tracegraph kpis`` prints them and ``GET /api/v1/kpis`` returns."""
    now = now or datetime.now(UTC)
    return {
        "generated_at": iso(now),
        "time_to_trace": time_to_trace(drills(services)),
        "open_alerts": open_alerts(services, now=now),
        "supplier_scores": supplier_scores(services),
        "audit_trail": audit_health(services),
    }
