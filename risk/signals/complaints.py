"""Complaint trends (EU MDR Art. 88): is there a statistically significant increase?

Three questions, each answered with an exact test (scipy) and its p-value, Bonferroni-adjusted
for the number of lots or modes tested:

- per failure mode: more complaints of that mode in the recent window than its earlier rate
  predicts? Conditional binomial test of two Poisson rates: given ``n`` complaints of the
  mode in all, the number in the window is Binomial(n, window / whole period) when the rate
  is constant.
- per finished lot and failure mode: a lot whose devices draw that mode more often than the
  other lots of the product? One-sided binomial test of ``k`` complaints among the lot's
  ``N`` devices against the others' rate.
- per component lot and failure mode: the same over every device made from the lot
  (``upstream`` maps a component lot to the finished lots it went into), explaining away:
  once the most significant lot is chosen, its finished lots' complaints are its, and the
  other lots are tested on the rest (otherwise every lot that shared finished lots with a bad
  one would look bad too). A finished lot a chosen component lot explains raises no signal
  of its own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from risk.signals.base import Evidence, Severity, Signal, binomial_p, prior_from_p, signal_id, window_of


@dataclass(frozen=True)
class ComplaintRecord:
    key: str
    device: str
    at: datetime
    failure_mode: str
    severity: str = "medium"
    lot: str | None = None  # the finished lot of the device
    product: str | None = None  # the part (or GTIN) of the device
    source: str | None = None


def _severity(p_adj: float, worst: str) -> Severity:
    if worst == "critical" or p_adj < 1e-6:
        return Severity.CRITICAL if worst in ("critical", "high") else Severity.HIGH
    if p_adj < 1e-3:
        return Severity.HIGH
    return Severity.MEDIUM


def complaint_signals(
    complaints: Iterable[ComplaintRecord],
    *,
    exposure: Mapping[str, int],
    now: datetime,
    window: timedelta = timedelta(days=30),
    upstream: Mapping[str, Collection[str]] | None = None,
    alpha: float = 0.05,
    min_count: int = 3,
) -> list[Signal]:
    """Significant complaint increases per failure mode, finished lot and component lot.

    Parameters
    ----------
    complaints : iterable of ComplaintRecord
    exposure : mapping
        Finished lot → its number of devices.
    now : datetime
        The end of the trend window.
    window : timedelta, optional
        The recent window of the failure-mode trend test.
    upstream : mapping, optional
        Component lot → the finished lots made from it.
    alpha : float, optional
        Family-wise significance level (Bonferroni).
    min_count : int, optional
        Groups with fewer complaints are not tested (no signal can come of two complaints).

    Examples
    --------
    Lot B's 100 devices drew 8 leaks, the other 900 devices 2:

    >>> from datetime import UTC
    >>> t = datetime(2024, 6, 1, tzinfo=UTC)
    >>> complaints = [ComplaintRecord(f"complaint:{i}", f"d{i}", t, "leak", lot="lot:B") for i in range(8)]
    >>> complaints += [ComplaintRecord(f"complaint:x{i}", f"x{i}", t, "leak", lot=f"lot:{i}") for i in range(2)]
    >>> exposure = {"lot:B": 100, **{f"lot:{i}": 100 for i in range(9)}}
    >>> found = [s for s in complaint_signals(complaints, exposure=exposure, now=t) if s.rule == "complaints.lot"]
    >>> [(s.node, s.statistics["complaints"], s.statistics["p_value"] < 1e-5) for s in found]
    [('lot:B', 8.0, True)]
    """
    records = sorted(complaints, key=lambda c: (c.at, c.key))
    signals: list[Signal] = []
    signals += _mode_trends(records, now=now, window=window, alpha=alpha, min_count=min_count)
    total_devices = sum(exposure.values())
    by_mode: dict[str, list[ComplaintRecord]] = defaultdict(list)
    for c in records:
        by_mode[c.failure_mode].append(c)

    # Per component lot and mode, explaining away: the most significant lot takes its
    # finished lots' complaints; the others are tested again on what is left, so the lots
    # that merely shared finished lots with a bad one do not raise signals of their own.
    explained: dict[str, set[str]] = defaultdict(set)  # mode -> finished lots explained
    if upstream:
        signals += _explain_away(
            by_mode, upstream, exposure, total_devices, explained, alpha=alpha, min_count=min_count
        )

    # Per finished lot and mode, for lots no component lot explains.
    tests: list[tuple[str, str, int, int, float, list[ComplaintRecord]]] = []
    for mode, found in by_mode.items():
        per_lot: dict[str, list[ComplaintRecord]] = defaultdict(list)
        for c in found:
            if c.lot is not None:
                per_lot[c.lot].append(c)
        for lot, mine in per_lot.items():
            n = exposure.get(lot, 0)
            others = total_devices - n
            if len(mine) < min_count or n <= 0 or others <= 0:
                continue
            base = max(len(found) - len(mine), 0.5) / others  # half a complaint when none: no zero rate
            tests.append((lot, mode, len(mine), n, base, mine))
    m = len(tests)
    tests = [t for t in tests if t[0] not in explained[t[1]]]
    signals += _binomial_signals("complaints.lot", tests, alpha=alpha, m=m)
    return signals


def _explain_away(
    by_mode: Mapping[str, list[ComplaintRecord]],
    upstream: Mapping[str, Collection[str]],
    exposure: Mapping[str, int],
    total_devices: int,
    explained: dict[str, set[str]],
    *,
    alpha: float,
    min_count: int,
) -> list[Signal]:
    chosen: list[tuple[str, str, int, int, float, list[ComplaintRecord]]] = []
    candidates = [(component, set(lots)) for component, lots in sorted(upstream.items()) if lots]
    m = max(1, len(candidates) * max(1, len(by_mode)))
    for mode, found in sorted(by_mode.items()):
        taken: set[str] = set()
        while True:
            best: tuple[float, str, int, int, float, list[ComplaintRecord], set[str]] | None = None
            left = [c for c in found if c.lot not in taken]
            exposed = total_devices - sum(exposure.get(lot, 0) for lot in taken)
            for component, made in candidates:
                fresh = made - taken
                mine = [c for c in left if c.lot in fresh]
                n = sum(exposure.get(lot, 0) for lot in fresh)
                others = exposed - n
                if len(mine) < min_count or n <= 0 or others <= 0:
                    continue
                base = max(len(left) - len(mine), 0.5) / others
                p_value = binomial_p(len(mine), n, min(base, 1.0))
                if best is None or (p_value, component) < (best[0], best[1]):
                    best = (p_value, component, len(mine), n, base, mine, fresh)
            if best is None or prior_from_p(min(1.0, best[0] * m), alpha) <= 0:
                break
            _p, component, k, n, base, mine, fresh = best
            chosen.append((component, mode, k, n, base, mine))
            taken |= fresh
        explained[mode] |= taken
    return _binomial_signals("complaints.component_lot", chosen, alpha=alpha, m=m)


def _binomial_signals(
    rule: str, tests: list[tuple[str, str, int, int, float, list[ComplaintRecord]]], *, alpha: float, m: int
) -> list[Signal]:
    signals = []
    m = max(1, m)
    for node, mode, k, n, base, mine in sorted(tests, key=lambda t: (t[0], t[1])):
        p_value = binomial_p(k, n, min(base, 1.0))
        p_adj = min(1.0, p_value * m)
        prior = prior_from_p(p_adj, alpha)
        if prior <= 0:
            continue
        worst = max((c.severity for c in mine), key=["low", "medium", "high", "critical"].index)
        what = "lot" if rule == "complaints.lot" else "component lot"
        signals.append(
            Signal(
                id=signal_id(rule, node, None, mode),
                rule=rule,
                test=f"one-sided exact binomial test against the other devices' rate, Bonferroni over {m} test(s)",
                node=node,
                probability=prior,
                severity=_severity(p_adj, worst),
                summary=f"{k} '{mode}' complaint(s) on {n} device(s) of {what} {node} "
                f"(expected {base * n:.2f}; p={p_value:.2e}, adjusted {p_adj:.2e})",
                window=window_of(mine[0].at, mine[-1].at),
                statistics={
                    "complaints": float(k),
                    "devices": float(n),
                    "rate": k / n,
                    "baseline_rate": base,
                    "p_value": p_value,
                    "p_adjusted": p_adj,
                },
                evidence=tuple(
                    Evidence(key=c.key, role="complaint", at=c.at, source=c.source, detail={"device": c.device})
                    for c in mine[:100]
                ),
            )
        )
    return signals


def _mode_trends(
    records: list[ComplaintRecord], *, now: datetime, window: timedelta, alpha: float, min_count: int
) -> list[Signal]:
    if not records:
        return []
    first = records[0].at
    span = (now - first).total_seconds()
    recent_from = now - window
    if span <= window.total_seconds():
        return []
    share = window.total_seconds() / span
    counts = Counter(c.failure_mode for c in records if c.at <= now)
    modes = sorted(counts)
    signals = []
    for mode in modes:
        mine = [c for c in records if c.failure_mode == mode and c.at <= now]
        recent = [c for c in mine if c.at >= recent_from]
        if len(recent) < min_count:
            continue
        p_value = binomial_p(len(recent), len(mine), share)
        p_adj = min(1.0, p_value * len(modes))
        prior = prior_from_p(p_adj, alpha)
        if prior <= 0:
            continue
        products = Counter(c.product or c.lot or "" for c in recent)
        node = products.most_common(1)[0][0] or recent[0].device
        worst = max((c.severity for c in recent), key=["low", "medium", "high", "critical"].index)
        signals.append(
            Signal(
                id=signal_id("complaints.trend", node, None, mode),
                rule="complaints.trend",
                test="conditional exact binomial test of two Poisson rates (recent window against the period "
                f"before), Bonferroni over {len(modes)} failure mode(s)",
                node=node,
                probability=min(prior, 0.5),  # a trend says something is wrong, not where
                severity=_severity(p_adj, worst),
                summary=f"'{mode}': {len(recent)} of {len(mine)} complaint(s) in the last {window.days} days "
                f"(expected {share * len(mine):.1f}; p={p_value:.2e}, adjusted {p_adj:.2e})",
                window=window_of(recent_from, now),
                statistics={
                    "recent": float(len(recent)),
                    "total": float(len(mine)),
                    "expected": share * len(mine),
                    "p_value": p_value,
                    "p_adjusted": p_adj,
                },
                evidence=tuple(
                    Evidence(key=c.key, role="complaint", at=c.at, source=c.source, detail={"device": c.device})
                    for c in recent[:100]
                ),
            )
        )
    return signals
