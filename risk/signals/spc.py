"""Statistical process control on process parameters: Shewhart individuals charts with the
Nelson (and Western Electric) run rules, and CUSUM and EWMA for small sustained shifts.

Why written here: of the packages on PyPI that apply Nelson rules, ``pyspc`` was last released
in 2016, ``nelsoncheck`` and ``nelson-rules`` are single-author snippets without tests of the
rule definitions, and ``shewhart``/``pyshewhart`` are months old. The rules are short; they are
written out below and tested against hand-made sequences (tests/unit/test_spc.py).

Every detector takes a 1-D sequence of values and the chart's centre and sigma, and returns
*runs*: the first and last index of the samples that broke a rule, so a signal can name
exactly which samples (and so which times, runs and work orders) are out of control.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: d2 for moving ranges of two: sigma = mean moving range / 1.128.
D2 = 1.128

NELSON_RULES: dict[int, str] = {
    1: "one point beyond 3 sigma",
    2: "nine points in a row on the same side of the centre line",
    3: "six points in a row steadily increasing or decreasing",
    4: "fourteen points in a row alternating up and down",
    5: "two out of three points in a row beyond 2 sigma on the same side",
    6: "four out of five points in a row beyond 1 sigma on the same side",
    7: "fifteen points in a row within 1 sigma of the centre line",
    8: "eight points in a row beyond 1 sigma, on either side",
}

#: The Western Electric rules as Nelson rules: WE 1-3 are Nelson 1, 5 and 6; WE 4 is
#: Nelson 2 with a run of eight instead of nine.
WESTERN_ELECTRIC_RULES: dict[int, str] = {
    1: "one point beyond 3 sigma",
    2: "two out of three points in a row beyond 2 sigma on the same side",
    3: "four out of five points in a row beyond 1 sigma on the same side",
    4: "eight points in a row on the same side of the centre line",
}

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ControlLimits:
    """An individuals chart: centre line, sigma, and the 3-sigma limits."""

    center: float
    sigma: float

    @property
    def lcl(self) -> float:
        return self.center - 3 * self.sigma

    @property
    def ucl(self) -> float:
        return self.center + 3 * self.sigma


@dataclass(frozen=True)
class RuleBreak:
    """A run of samples that broke a rule: indices ``start`` to ``end`` inclusive."""

    rule: int
    start: int
    end: int
    description: str


@dataclass(frozen=True)
class ShiftAlarm:
    """A CUSUM or EWMA alarm: a sustained shift from ``start`` (the estimated change point)
    to ``end`` (where the statistic peaked: the last shifted sample), first signalled at
    ``alarm``."""

    method: str
    direction: int  # +1 up, -1 down
    start: int
    alarm: int
    end: int
    peak: float


def individuals_limits(values: Sequence[float] | Array, *, center: float | None = None) -> ControlLimits:
    """Limits of an individuals chart: sigma from the mean moving range (MR-bar / d2).

    Parameters
    ----------
    values : sequence of float
        The samples, in time order.
    center : float, optional
        The centre line (a set point); default the mean of ``values``.

    Examples
    --------
    >>> limits = individuals_limits([10, 12, 11, 13, 12])
    >>> round(limits.center, 2), round(limits.sigma, 3), round(limits.ucl, 2)
    (11.6, 1.33, 15.59)
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        raise ValueError("an individuals chart needs at least two samples")
    sigma = float(np.mean(np.abs(np.diff(x)))) / D2
    return ControlLimits(float(np.mean(x)) if center is None else float(center), sigma)


def nelson_rules(
    values: Sequence[float] | Array,
    center: float,
    sigma: float,
    *,
    rules: Iterable[int] = NELSON_RULES,
    same_side_run: int = 9,
) -> list[RuleBreak]:
    """The runs of samples that break each Nelson rule, overlapping runs of a rule merged.

    Parameters
    ----------
    values : sequence of float
        The samples, in time order.
    center, sigma : float
        The chart's centre line and sigma.
    rules : iterable of int, optional
        Which of the eight rules to apply (default all).
    same_side_run : int, optional
        Run length of rule 2 (9 for Nelson, 8 for Western Electric rule 4).

    Examples
    --------
    >>> [(b.rule, b.start, b.end) for b in nelson_rules([0, 0.5, -0.2, 3.4, 0.1], 0.0, 1.0)]
    [(1, 3, 3)]
    >>> [(b.rule, b.start, b.end) for b in nelson_rules([0.5] * 9, 0.0, 1.0, rules=[2])]
    [(2, 0, 8)]
    """
    x = np.asarray(values, dtype=float)
    if sigma <= 0 or x.size == 0:
        return []
    z = (x - center) / sigma
    found: list[RuleBreak] = []
    for rule in sorted(set(rules)):
        runs = _RULES[rule](z, same_side_run)
        for start, end in _merge(runs):
            description = NELSON_RULES[rule]
            if rule == 2 and same_side_run != 9:
                description = f"{same_side_run} points in a row on the same side of the centre line"
            found.append(RuleBreak(rule, start, end, description))
    found.sort(key=lambda b: (b.start, b.rule))
    return found


def western_electric_rules(values: Sequence[float] | Array, center: float, sigma: float) -> list[RuleBreak]:
    """The Western Electric rules (numbered 1-4 as WE numbers them).

    >>> [(b.rule, b.start, b.end) for b in western_electric_rules([0.5] * 8, 0.0, 1.0)]
    [(4, 0, 7)]
    """
    mapping = {1: 1, 5: 2, 6: 3, 2: 4}
    breaks = nelson_rules(values, center, sigma, rules=mapping, same_side_run=8)
    return [RuleBreak(mapping[b.rule], b.start, b.end, WESTERN_ELECTRIC_RULES[mapping[b.rule]]) for b in breaks]


def _windows(mask: npt.NDArray[np.bool_], length: int, need: int) -> list[tuple[int, int]]:
    """Windows of ``length`` consecutive samples in which at least ``need`` satisfy ``mask``,
    reported from the first to the last sample that satisfies it."""
    out = []
    n = mask.size
    for i in range(0, n - length + 1):
        window = mask[i : i + length]
        if int(window.sum()) >= need:
            hits = np.flatnonzero(window)
            out.append((i + int(hits[0]), i + int(hits[-1])))
    return out


def _rule1(z: Array, _run: int) -> list[tuple[int, int]]:
    return [(int(i), int(i)) for i in np.flatnonzero(np.abs(z) > 3)]


def _rule2(z: Array, run: int) -> list[tuple[int, int]]:
    return _same_sign_runs(np.sign(z), run)


def _same_sign_runs(sign: Array, run: int) -> list[tuple[int, int]]:
    out = []
    start = 0
    for i in range(1, sign.size + 1):
        if i == sign.size or sign[i] != sign[start] or sign[i] == 0:
            if sign[start] != 0 and i - start >= run:
                out.append((start, i - 1))
            start = i
    return out


def _rule3(z: Array, _run: int) -> list[tuple[int, int]]:
    # Six points steadily increasing (or decreasing): five differences of one sign.
    d = np.sign(np.diff(z))
    return [(s, e + 1) for s, e in _same_sign_runs(d, 5)]


def _rule4(z: Array, _run: int) -> list[tuple[int, int]]:
    # Fourteen points alternating: thirteen differences whose signs alternate.
    d = np.sign(np.diff(z))
    out = []
    start = 0
    for i in range(1, d.size + 1):
        if i == d.size or d[i] == 0 or d[i] != -d[i - 1]:
            if d.size and d[start] != 0 and i - start >= 13:
                out.append((start, i))
            start = i
    return out


def _rule5(z: Array, _run: int) -> list[tuple[int, int]]:
    return _windows(z > 2, 3, 2) + _windows(z < -2, 3, 2)


def _rule6(z: Array, _run: int) -> list[tuple[int, int]]:
    return _windows(z > 1, 5, 4) + _windows(z < -1, 5, 4)


def _rule7(z: Array, _run: int) -> list[tuple[int, int]]:
    return _same_sign_runs((np.abs(z) < 1).astype(float), 15)


def _rule8(z: Array, _run: int) -> list[tuple[int, int]]:
    return _same_sign_runs((np.abs(z) > 1).astype(float), 8)


_RULES = {1: _rule1, 2: _rule2, 3: _rule3, 4: _rule4, 5: _rule5, 6: _rule6, 7: _rule7, 8: _rule8}


def _merge(runs: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def cusum(
    values: Sequence[float] | Array, target: float, sigma: float, *, k: float = 0.5, h: float = 5.0
) -> list[ShiftAlarm]:
    """Tabular CUSUM (Page): alarms for sustained shifts of about ``2k`` sigma or more.

    ``C+ = max(0, C+ + z - k)`` and ``C- = max(0, C- - z - k)`` on standardised values; an
    alarm when either exceeds ``h``. Each alarm reports the change point (the sample after
    the statistic last stood at zero) and the shift's last sample (the change point of the
    same CUSUM run backwards over the episode); the statistic restarts from zero after the
    episode, when it has fallen back to zero.

    Examples
    --------
    Ten in-control samples, then a shift of two sigma for ten samples, then back:

    >>> x = [0.0] * 10 + [2.0] * 10 + [0.0] * 10
    >>> [(a.direction, a.start, a.alarm, a.end) for a in cusum(x, 0.0, 1.0)]
    [(1, 10, 13, 19)]
    """
    x = np.asarray(values, dtype=float)
    if sigma <= 0:
        return []
    z = (x - target) / sigma
    alarms: list[ShiftAlarm] = []
    for direction in (1, -1):
        c = 0.0
        last_zero = -1
        i = 0
        while i < z.size:
            c = max(0.0, c + direction * z[i] - k)
            if c == 0.0:
                last_zero = i
            elif c > h:
                alarm = i
                peak, peak_at = c, i
                j = i + 1
                while j < z.size:
                    c = max(0.0, c + direction * z[j] - k)
                    if c >= peak:
                        peak, peak_at = c, j
                    if c == 0.0:
                        break
                    j += 1
                start = last_zero + 1
                end = _last_shifted(z[start : min(j, z.size - 1) + 1], direction, k, h)
                end = peak_at if end is None else start + end
                alarms.append(ShiftAlarm("cusum", direction, start, alarm, end, float(peak)))
                c, last_zero, i = 0.0, j, j
            i += 1
    alarms.sort(key=lambda a: (a.start, a.direction))
    return alarms


def _last_shifted(z: Array, direction: int, k: float, h: float) -> int | None:
    """The last shifted sample of an episode: the change point of the same CUSUM run
    backwards from the episode's end (the in-control tail keeps it at zero)."""
    c = 0.0
    last_zero = -1
    for r, value in enumerate(z[::-1]):
        c = max(0.0, c + direction * value - k)
        if c == 0.0:
            last_zero = r
        elif c > h:
            return int(z.size - 1 - (last_zero + 1))
    return None


def ewma(
    values: Sequence[float] | Array, target: float, sigma: float, *, lam: float = 0.2, width: float = 3.0
) -> list[ShiftAlarm]:
    """EWMA chart with exact (time-varying) limits: alarms where the smoothed statistic
    leaves ``target ± width * sigma_z``; each alarm spans the consecutive samples beyond it.

    >>> x = [0.0] * 10 + [1.5] * 10
    >>> [(a.direction, a.start, a.end) for a in ewma(x, 0.0, 1.0)]
    [(1, 14, 19)]
    """
    x = np.asarray(values, dtype=float)
    if sigma <= 0 or not 0 < lam <= 1:
        return []
    alarms: list[ShiftAlarm] = []
    z = target
    outside_from: int | None = None
    direction = 0
    peak = 0.0
    for i, value in enumerate(x):
        z = lam * value + (1 - lam) * z
        spread = width * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * (i + 1))))
        side = 1 if z > target + spread else -1 if z < target - spread else 0
        if side != 0 and outside_from is None:
            outside_from, direction, peak = i, side, abs(z - target) / sigma
        elif side != 0 and side == direction:
            peak = max(peak, abs(z - target) / sigma)
        if outside_from is not None and (side != direction or i == x.size - 1):
            end = i if side == direction else i - 1
            alarms.append(ShiftAlarm("ewma", direction, outside_from, outside_from, end, float(peak)))
            outside_from = None
            if side != 0:
                outside_from, direction, peak = i, side, abs(z - target) / sigma
    return alarms
