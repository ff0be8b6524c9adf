"""Signals from inspections: results against specification (fail, marginal) per lot or work order.

An inspection's own verdict counts first. Where measurements come with specification limits
(``limits``: name → (lower, upper)), a value outside them is a fail and one within the outer
tenth of the tolerance a marginal, whatever the verdict says. Several inspections of one
target combine as a noisy-OR. Notes that speak of contamination mark a contaminated run, whose
residue reaches the next runs on the same machines (``carryover_runs``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from risk.signals.base import Evidence, Severity, Signal, signal_id

#: Words in an inspection's notes that say the material was contaminated.
CONTAMINATION_WORDS = ("contamina", "particulate", "foreign matter", "black speck")


@dataclass(frozen=True)
class InspectionRecord:
    key: str
    target: str
    stage: str  # incoming | in_process | final
    result: str  # pass | marginal | fail
    at: datetime | None = None
    measurements: Mapping[str, float] = field(default_factory=dict)
    limits: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    notes: str | None = None
    source: str | None = None
    #: Whether the target went on to be used (a failed lot that was consumed is an escape).
    used: bool | None = None


def verdict(record: InspectionRecord) -> tuple[str, list[str]]:
    """The worse of the recorded result and the measurements against their limits.

    >>> verdict(InspectionRecord("i", "lot:A", "incoming", "pass", measurements={"od": 4.2},
    ...                          limits={"od": (4.0, 4.21)}))
    ('marginal', ['od=4.2 within 10% of the limit 4.21'])
    """
    rank = {"pass": 0, "marginal": 1, "fail": 2}
    worst = record.result if record.result in rank else "pass"
    reasons: list[str] = []
    for name, (low, high) in record.limits.items():
        value = record.measurements.get(name)
        if value is None:
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            reasons.append(f"{name}={value} outside [{low}, {high}]")
            worst = "fail"
            continue
        if low is not None and high is not None:
            margin = 0.1 * (high - low)
            near = high if high - value <= value - low else low
            if abs(value - near) <= margin:
                reasons.append(f"{name}={value} within 10% of the limit {near}")
                worst = max(worst, "marginal", key=rank.__getitem__)
    return worst, reasons


def inspection_signals(
    records: Iterable[InspectionRecord],
    *,
    fail_probability: float = 0.7,
    marginal_probability: float = 0.3,
    carryover_runs: int = 2,
) -> list[Signal]:
    """One signal per inspected target with a fail or marginal result.

    Examples
    --------
    >>> records = [InspectionRecord("inspection:IPQ-1", "plot:TUB-1", "in_process", "marginal"),
    ...            InspectionRecord("inspection:IPQ-2", "plot:TUB-1", "final", "marginal"),
    ...            InspectionRecord("inspection:IPQ-3", "plot:TUB-2", "in_process", "pass")]
    >>> [(s.node, round(s.probability, 2), s.severity.value) for s in inspection_signals(records)]
    [('plot:TUB-1', 0.51, 'medium')]
    """
    by_target: dict[str, list[tuple[InspectionRecord, str, list[str]]]] = defaultdict(list)
    for record in records:
        result, reasons = verdict(record)
        if result in ("fail", "marginal"):
            by_target[record.target].append((record, result, reasons))
    signals = []
    for target, found in sorted(by_target.items()):
        miss = 1.0
        fails = [r for r, result, _ in found if result == "fail"]
        for _record, result, _reasons in found:
            miss *= 1.0 - (fail_probability if result == "fail" else marginal_probability)
        contaminated = any(
            word in (r.notes or "").lower() for r, _result, _reasons in found for word in CONTAMINATION_WORDS
        )
        escaped = any(r.used for r in fails)
        if escaped:
            severity = Severity.CRITICAL
        elif fails or contaminated:
            severity = Severity.HIGH
        else:
            severity = Severity.MEDIUM
        rule = "inspection.contamination" if contaminated else "inspection.fail" if fails else "inspection.marginal"
        words = f"{len(fails)} fail(s), {len(found) - len(fails)} marginal"
        summary = f"{target}: {words}" + (" (used in production although it failed)" if escaped else "")
        if contaminated:
            summary += "; contamination noted: the next runs on the same machines are suspect"
        signals.append(
            Signal(
                id=signal_id(rule, target),
                rule=rule,
                test="inspection result and measurements against specification limits",
                node=target,
                probability=1.0 - miss,
                severity=severity,
                summary=summary,
                statistics={"fails": float(len(fails)), "marginal": float(len(found) - len(fails))},
                evidence=tuple(
                    Evidence(
                        key=r.key,
                        role=f"{r.stage} inspection",
                        at=r.at,
                        source=r.source,
                        detail={"result": result, "reasons": reasons, "notes": r.notes},
                    )
                    for r, result, reasons in found
                ),
                carryover_runs=carryover_runs if contaminated else 0,
            )
        )
    return signals
