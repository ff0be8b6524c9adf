"""Control charts to look at: the individuals chart of one machine's parameter across its runs,
with its centre line, control and specification limits, and the run rules it breaks.

The chart is the one :func:`risk.signals.process.process_signals` judges: samples in time
order across runs, sigma from the moving ranges *within* runs, the centre at the median set
point (else the median sample). Rule breaks are reported per rule system: the eight Nelson rules,
or the four Western Electric rules numbered as Western Electric numbers them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from risk.signals.process import ProcessRun
from risk.signals.spc import D2, WESTERN_ELECTRIC_RULES, RuleBreak, nelson_rules


class RuleSystem(StrEnum):
    """Which run rules a chart is read with."""

    NELSON = "nelson"
    WESTERN_ELECTRIC = "western-electric"


#: Western Electric rule -> the Nelson rule that states it (WE 4 is Nelson 2 over a run of eight).
_WE_AS_NELSON = {1: 1, 2: 5, 3: 6, 4: 2}


@dataclass(frozen=True)
class ChartPoint:
    """One sample on the chart, with the run (and work order) it was taken in."""

    at: datetime
    value: float
    run: str
    work_order: str | None


@dataclass(frozen=True)
class ControlChart:
    """An individuals chart of ``parameter`` on ``equipment``; ``breaks`` index into ``points``."""

    equipment: str
    parameter: str
    rules: RuleSystem
    points: tuple[ChartPoint, ...]
    center: float
    sigma: float
    lsl: float | None
    usl: float | None
    breaks: tuple[RuleBreak, ...]

    @property
    def lcl(self) -> float:
        return self.center - 3 * self.sigma

    @property
    def ucl(self) -> float:
        return self.center + 3 * self.sigma

    @property
    def runs(self) -> int:
        return len({p.run for p in self.points})

    def to_json(self, *, with_points: bool = True) -> dict[str, object]:
        body: dict[str, object] = {
            "equipment": self.equipment,
            "parameter": self.parameter,
            "rules": self.rules.value,
            "samples": len(self.points),
            "runs": self.runs,
            "first": self.points[0].at.isoformat() if self.points else None,
            "last": self.points[-1].at.isoformat() if self.points else None,
            "center": round(self.center, 4),
            "sigma": round(self.sigma, 4),
            "lcl": round(self.lcl, 4),
            "ucl": round(self.ucl, 4),
            "lsl": self.lsl,
            "usl": self.usl,
            "breaks": [
                {"rule": b.rule, "start": b.start, "end": b.end, "description": b.description} for b in self.breaks
            ],
        }
        if with_points:
            body["points"] = [
                {"at": p.at.isoformat(), "value": p.value, "run": p.run, "work_order": p.work_order}
                for p in self.points
            ]
        return body


def control_charts(
    runs: Iterable[ProcessRun],
    *,
    equipment: str | None = None,
    parameter: str | None = None,
    rules: RuleSystem = RuleSystem.NELSON,
) -> list[ControlChart]:
    """The control chart of every (equipment, parameter) in ``runs``, or of the one asked for.

    Parameters
    ----------
    runs : iterable of ProcessRun
        Process runs, in any order.
    equipment, parameter : str, optional
        Only the charts of this machine and/or parameter.
    rules : RuleSystem, optional
        Read the charts with the Nelson rules (default) or the Western Electric rules.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2024, 1, 1, tzinfo=UTC)
    >>> values = [10.0, 10.4, 9.7, 10.1, 9.9, 10.2, 9.8, 10.0, 14.0, 10.1]
    >>> run = ProcessRun(key="run:1", equipment="equipment:EXT-01", parameter="melt_temp_c", target=10.0,
    ...     samples=tuple((t0 + timedelta(hours=i), v) for i, v in enumerate(values)))
    >>> [chart] = control_charts([run])
    >>> round(chart.center, 1), [(b.rule, b.start, b.end) for b in chart.breaks]
    (10.0, [(1, 8, 8)])
    """
    series: dict[tuple[str, str], list[ProcessRun]] = defaultdict(list)
    for run in runs:
        if not run.samples:
            continue
        if (equipment is None or run.equipment == equipment) and (parameter is None or run.parameter == parameter):
            series[(run.equipment, run.parameter)].append(run)
    charts = []
    for (eq, param), chosen in sorted(series.items()):
        chart = _chart(eq, param, chosen, rules)
        if chart is not None:
            charts.append(chart)
    return charts


def _chart(equipment: str, parameter: str, runs: list[ProcessRun], rules: RuleSystem) -> ControlChart | None:
    runs = sorted(runs, key=lambda r: (r.samples[0][0], r.key))
    points = [
        ChartPoint(at=at, value=float(value), run=run.key, work_order=run.work_order)
        for run in runs
        for at, value in run.samples
    ]
    x = np.asarray([p.value for p in points], dtype=float)
    run_of = np.asarray([p.run for p in points])
    ranges = np.abs(np.diff(x))[run_of[1:] == run_of[:-1]]
    if ranges.size < 2:
        return None  # too few samples within runs to estimate sigma
    sigma = float(np.mean(ranges)) / D2
    targets = [r.target for r in runs if r.target is not None]
    center = float(np.median(targets)) if targets else float(np.median(x))
    lsls = [r.lsl for r in runs if r.lsl is not None]
    usls = [r.usl for r in runs if r.usl is not None]
    return ControlChart(
        equipment=equipment,
        parameter=parameter,
        rules=rules,
        points=tuple(points),
        center=center,
        sigma=sigma,
        lsl=float(np.median(lsls)) if lsls else None,
        usl=float(np.median(usls)) if usls else None,
        breaks=tuple(_breaks(x, center, sigma, rules)),
    )


def _breaks(x: np.ndarray, center: float, sigma: float, rules: RuleSystem) -> list[RuleBreak]:
    if rules is RuleSystem.NELSON:
        return nelson_rules(x, center, sigma)
    nelson_to_we = {n: w for w, n in _WE_AS_NELSON.items()}
    found = nelson_rules(x, center, sigma, rules=_WE_AS_NELSON.values(), same_side_run=8)
    out = [RuleBreak(nelson_to_we[b.rule], b.start, b.end, WESTERN_ELECTRIC_RULES[nelson_to_we[b.rule]]) for b in found]
    return sorted(out, key=lambda b: (b.rule, b.start))
