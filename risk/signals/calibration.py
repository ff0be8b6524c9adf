"""Signals from equipment calibration: exposure windows and overdue calibrations.

A calibration that finds a machine out of tolerance (or failed) means it drifted at some
unknown time since the last calibration it passed: everything it worked on in between is
exposed. That window is the signal's; propagation overlaps it with each use of the machine.
A machine whose calibration fell due without a new one is overdue: a weaker signal from the
due date on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from risk.signals.base import Evidence, Severity, Signal, signal_id, window_of

BAD_RESULTS = frozenset({"out_of_tolerance", "fail"})


@dataclass(frozen=True)
class CalibrationRecord:
    key: str
    equipment: str
    at: datetime
    result: str
    next_due: date | None = None
    source: str | None = None


def calibration_signals(
    records: Iterable[CalibrationRecord],
    *,
    now: datetime,
    probability: float = 0.6,
    overdue_probability: float = 0.1,
) -> list[Signal]:
    """Exposure windows of out-of-tolerance calibrations, and overdue calibrations at ``now``.

    Examples
    --------
    >>> t = lambda d: datetime(2024, 1, d, tzinfo=UTC)
    >>> records = [CalibrationRecord("inspection:CAL-1", "equipment:LKT-01", t(1), "pass", date(2024, 1, 20)),
    ...            CalibrationRecord("inspection:CAL-2", "equipment:LKT-01", t(10), "out_of_tolerance"),
    ...            CalibrationRecord("inspection:CAL-3", "equipment:LKT-01", t(11), "pass", date(2024, 1, 15))]
    >>> [(s.rule, s.window.start.day, s.window.end.day) for s in calibration_signals(records, now=t(20))]
    [('calibration.out_of_tolerance', 1, 10), ('calibration.overdue', 15, 20)]
    """
    by_machine: dict[str, list[CalibrationRecord]] = defaultdict(list)
    for record in records:
        by_machine[record.equipment].append(record)
    signals: list[Signal] = []
    for equipment, history in sorted(by_machine.items()):
        history.sort(key=lambda r: (r.at, r.key))
        last_good: CalibrationRecord | None = None
        for record in history:
            if record.result in BAD_RESULTS:
                window = window_of(last_good.at if last_good else None, record.at)
                evidence = [
                    Evidence(key=record.key, role="calibration out of tolerance", at=record.at, source=record.source)
                ]
                if last_good is not None:
                    evidence.append(
                        Evidence(
                            key=last_good.key, role="last calibration passed", at=last_good.at, source=last_good.source
                        )
                    )
                since = f"since {last_good.at:%Y-%m-%d}" if last_good else "since it was first used"
                signals.append(
                    Signal(
                        id=signal_id("calibration.out_of_tolerance", equipment, window, record.key),
                        rule="calibration.out_of_tolerance",
                        test="calibration result out of tolerance: exposure back to the last passed calibration",
                        node=equipment,
                        probability=probability,
                        severity=Severity.HIGH,
                        summary=f"{equipment} found {record.result.replace('_', ' ')} on {record.at:%Y-%m-%d}: "
                        f"what it worked on {since} is exposed",
                        window=window,
                        evidence=tuple(evidence),
                    )
                )
            else:
                last_good = record
        latest = history[-1]
        due = latest.next_due
        if due is not None:
            due_at = datetime.combine(due, time(0), tzinfo=UTC)
            if due_at < now:
                window = window_of(due_at, now)
                days = (now - due_at).days
                signals.append(
                    Signal(
                        id=signal_id("calibration.overdue", equipment, window),
                        rule="calibration.overdue",
                        test="calibration due date passed without a calibration",
                        node=equipment,
                        probability=overdue_probability,
                        severity=Severity.MEDIUM if days > 30 else Severity.LOW,
                        summary=f"{equipment}: calibration due {due.isoformat()}, {days} day(s) overdue",
                        window=window,
                        statistics={"days_overdue": float(days)},
                        evidence=(
                            Evidence(key=latest.key, role="last calibration", at=latest.at, source=latest.source),
                        ),
                    )
                )
    return signals
