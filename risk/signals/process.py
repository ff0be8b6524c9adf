"""Signals from process data: SPC per equipment and parameter over the runs it made.

Samples of one machine's parameter are charted in time order across its runs (each run
belongs to a work order). Sigma comes from moving ranges *within* runs, so a set-point
change between products does not inflate it. A sustained shift found by CUSUM becomes one
signal whose window runs from the estimated change point to the last shifted sample (what
propagation overlaps with each run's use of the machine); a Nelson rule break outside such
a shift becomes a weaker signal of its own; a sample outside the specification limits a
strong one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from risk.signals.base import Evidence, Severity, Signal, signal_id, window_of
from risk.signals.spc import D2, RuleBreak, ShiftAlarm, cusum, nelson_rules

#: Prior of a Nelson rule break on its own: shifts (2, 5, 6) weigh more than a lone point or
#: a pattern (trend, alternation, stratification), which are more often false alarms.
NELSON_PRIORS = {1: 0.3, 2: 0.5, 3: 0.2, 4: 0.1, 5: 0.5, 6: 0.5, 7: 0.1, 8: 0.2}


@dataclass(frozen=True)
class ProcessRun:
    """One run of a parameter on a machine: its samples, in time order."""

    key: str
    equipment: str
    parameter: str
    samples: tuple[tuple[datetime, float], ...]
    work_order: str | None = None
    target: float | None = None
    lsl: float | None = None
    usl: float | None = None
    source: str | None = None


@dataclass
class _Series:
    times: list[datetime] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    run_of: list[int] = field(default_factory=list)
    runs: list[ProcessRun] = field(default_factory=list)


def process_signals(
    runs: Iterable[ProcessRun], *, k: float = 0.5, h: float = 5.0, shift_probability: float = 0.9
) -> list[Signal]:
    """SPC signals over ``runs``, per (equipment, parameter).

    Parameters
    ----------
    runs : iterable of ProcessRun
        The runs, in any order.
    k, h : float, optional
        CUSUM reference value and decision interval, in sigmas.
    shift_probability : float, optional
        Prior of a CUSUM shift that a Nelson rule confirms (unconfirmed: 0.1 less).

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> import random
    >>> rng = random.Random(0)
    >>> def run(n, shift):  # twelve hourly samples a day, set point 195
    ...     return ProcessRun(
    ...         key=f"run:{n}", equipment="equipment:EXT-01", parameter="melt_temp_c", work_order=f"wo:{n}",
    ...         target=195.0, samples=tuple(
    ...             (t0 + timedelta(hours=24 * n + i), 195 + rng.gauss(0, 1) + shift) for i in range(12)))
    >>> runs = [run(n, 2.0 if n in (4, 5) else 0.0) for n in range(8)]  # runs 4 and 5: samples 48-71
    >>> [(s.rule, s.statistics["first_sample"], s.statistics["last_sample"]) for s in process_signals(runs)]
    [('spc.cusum', 45.0, 71.0)]
    """
    series: dict[tuple[str, str], _Series] = defaultdict(_Series)
    for run in sorted(runs, key=lambda r: (r.samples[0][0] if r.samples else datetime.min, r.key)):
        if not run.samples:
            continue
        s = series[(run.equipment, run.parameter)]
        s.runs.append(run)
        for at, value in run.samples:
            s.times.append(at)
            s.values.append(float(value))
            s.run_of.append(len(s.runs) - 1)
    signals: list[Signal] = []
    for (equipment, parameter), s in sorted(series.items()):
        signals.extend(_series_signals(equipment, parameter, s, k=k, h=h, shift_probability=shift_probability))
    return signals


def _series_signals(
    equipment: str, parameter: str, s: _Series, *, k: float, h: float, shift_probability: float
) -> list[Signal]:
    x = np.asarray(s.values, dtype=float)
    run_of = np.asarray(s.run_of)
    same_run = run_of[1:] == run_of[:-1]
    ranges = np.abs(np.diff(x))[same_run]
    if ranges.size < 2:
        return []
    sigma = float(np.mean(ranges)) / D2
    targets = [r.target for r in s.runs if r.target is not None]
    center = float(np.median(targets)) if targets else float(np.median(x))
    if sigma <= 0:
        return []
    breaks = nelson_rules(x, center, sigma)
    shifts = cusum(x, center, sigma, k=k, h=h)
    out: list[Signal] = []
    covered: list[tuple[int, int]] = []
    for alarm in shifts:
        confirming = [b for b in breaks if b.start <= alarm.end and b.end >= alarm.start and b.rule in (1, 2, 5, 6)]
        p = shift_probability if confirming else shift_probability - 0.1
        covered.append((alarm.start, alarm.end))
        out.append(_shift_signal(equipment, parameter, s, alarm, confirming, p, center, sigma, k, h))
    for b in breaks:
        if any(b.start >= lo and b.end <= hi for lo, hi in covered):
            continue
        out.append(_rule_signal(equipment, parameter, s, b, center, sigma))
    out.extend(_spec_signals(equipment, parameter, s))
    return out


def _runs_between(s: _Series, start: int, end: int) -> list[ProcessRun]:
    return [s.runs[i] for i in sorted(set(s.run_of[start : end + 1]))]


def _evidence(s: _Series, start: int, end: int) -> list[Evidence]:
    evidence = []
    for run in _runs_between(s, start, end):
        evidence.append(Evidence(key=run.key, role="process run", at=run.samples[0][0], source=run.source))
        if run.work_order:
            evidence.append(Evidence(key=run.work_order, role="work order", at=run.samples[0][0]))
    return evidence


def _shift_signal(
    equipment: str,
    parameter: str,
    s: _Series,
    alarm: ShiftAlarm,
    confirming: Sequence[RuleBreak],
    probability: float,
    center: float,
    sigma: float,
    k: float,
    h: float,
) -> Signal:
    window = window_of(s.times[alarm.start], s.times[alarm.end])
    rules = ", ".join(f"Nelson {b.rule} ({b.description}) on samples {b.start}-{b.end}" for b in confirming)
    direction = "up" if alarm.direction > 0 else "down"
    test = f"tabular CUSUM, k={k} sigma, h={h} sigma" + (f"; confirmed by {rules}" if rules else "")
    detail = [Evidence(key=equipment, role="equipment", detail={"parameter": parameter})]
    return Signal(
        id=signal_id("spc.cusum", equipment, window, parameter),
        rule="spc.cusum",
        test=test,
        node=equipment,
        probability=probability,
        severity=Severity.HIGH,
        summary=(
            f"{parameter} on {equipment} shifted {direction} from {s.times[alarm.start]:%Y-%m-%d %H:%M} to "
            f"{s.times[alarm.end]:%Y-%m-%d %H:%M} (samples {alarm.start}-{alarm.end}, "
            f"{len(_runs_between(s, alarm.start, alarm.end))} run(s))"
        ),
        window=window,
        statistics={
            "center": round(center, 4),
            "sigma": round(sigma, 4),
            "cusum_peak": round(alarm.peak, 3),
            "first_sample": alarm.start,
            "alarm_sample": alarm.alarm,
            "last_sample": alarm.end,
            "mean_shift_sigma": round(float(np.mean(s.values[alarm.start : alarm.end + 1]) - center) / sigma, 3),
        },
        evidence=tuple(detail + _evidence(s, alarm.start, alarm.end)),
    )


def _rule_signal(equipment: str, parameter: str, s: _Series, b: RuleBreak, center: float, sigma: float) -> Signal:
    window = window_of(s.times[b.start], s.times[b.end])
    rule = f"spc.nelson.{b.rule}"
    return Signal(
        id=signal_id(rule, equipment, window, parameter),
        rule=rule,
        test=f"Shewhart individuals chart, Nelson rule {b.rule}: {b.description}",
        node=equipment,
        probability=NELSON_PRIORS[b.rule],
        severity=Severity.MEDIUM if NELSON_PRIORS[b.rule] >= 0.5 else Severity.LOW,
        summary=f"{parameter} on {equipment}: Nelson rule {b.rule} ({b.description}) on samples {b.start}-{b.end}",
        window=window,
        statistics={
            "center": round(center, 4),
            "sigma": round(sigma, 4),
            "ucl": round(center + 3 * sigma, 4),
            "lcl": round(center - 3 * sigma, 4),
            "first_sample": b.start,
            "last_sample": b.end,
        },
        evidence=tuple(_evidence(s, b.start, b.end)),
    )


def _spec_signals(equipment: str, parameter: str, s: _Series) -> list[Signal]:
    out = []
    for run in s.runs:
        bad = [
            (at, v)
            for at, v in run.samples
            if (run.lsl is not None and v < run.lsl) or (run.usl is not None and v > run.usl)
        ]
        if not bad:
            continue
        window = window_of(bad[0][0], bad[-1][0])
        out.append(
            Signal(
                id=signal_id("spc.spec", equipment, window, run.key),
                rule="spc.spec",
                test=f"sample outside the specification limits [{run.lsl}, {run.usl}]",
                node=equipment,
                probability=0.8,
                severity=Severity.HIGH,
                summary=f"{len(bad)} sample(s) of {parameter} outside specification in {run.key}",
                window=window,
                statistics={"out_of_spec": float(len(bad))},
                evidence=(Evidence(key=run.key, role="process run", at=bad[0][0], source=run.source),)
                + ((Evidence(key=run.work_order, role="work order"),) if run.work_order else ()),
            )
        )
    return out
