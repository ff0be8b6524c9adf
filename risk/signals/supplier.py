"""Supplier performance: incoming-inspection rejects, late and short deliveries, as a
scorecard per supplier and as signals when a supplier is significantly worse than the rest
or trending worse (EWMA of its reject indicator over its lots in delivery order)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from risk.signals.base import Evidence, Severity, Signal, binomial_p, prior_from_p, signal_id


@dataclass(frozen=True)
class Receipt:
    lot: str
    supplier: str
    at: datetime
    part: str | None = None
    quantity: float | None = None
    incoming: str | None = None  # pass | marginal | fail (None: not inspected)
    due_at: datetime | None = None
    ordered_quantity: float | None = None
    source: str | None = None


class SupplierScore(BaseModel):
    """One row of ``tracegraph suppliers scorecard``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    supplier: str
    name: str | None = None
    lots: int
    inspected: int
    rejected: int
    marginal: int
    reject_rate: float
    late: int
    short: int
    with_delivery_data: int
    ewma_reject: float
    p_value: float
    grade: str


def ewma_series(values: Iterable[float], *, lam: float = 0.3, start: float = 0.0) -> list[float]:
    """Exponentially weighted moving average.

    >>> [round(v, 3) for v in ewma_series([0, 1, 1], lam=0.5)]
    [0.0, 0.5, 0.75]
    """
    out, z = [], start
    for v in values:
        z = lam * v + (1 - lam) * z
        out.append(z)
    return out


def supplier_scorecard(
    receipts: Iterable[Receipt], *, names: Mapping[str, str] | None = None, lam: float = 0.3
) -> list[SupplierScore]:
    """A scorecard per supplier, worst first.

    Grades: A (no rejects, on time), B (reject rate at most the plant's), C (above it),
    D (significantly above it, p < 0.05 by a one-sided binomial test).

    Examples
    --------
    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> receipts = [Receipt(f"lot:{i}", "supplier:A", t, incoming="pass") for i in range(20)]
    >>> receipts += [Receipt(f"lot:b{i}", "supplier:B", t, incoming="fail" if i < 4 else "pass") for i in range(8)]
    >>> [(s.supplier, s.rejected, s.grade) for s in supplier_scorecard(receipts)]
    [('supplier:B', 4, 'D'), ('supplier:A', 0, 'A')]
    """
    names = names or {}
    by_supplier: dict[str, list[Receipt]] = defaultdict(list)
    for r in receipts:
        by_supplier[r.supplier].append(r)
    inspected_all = sum(1 for r in by_supplier.values() for x in r if x.incoming is not None)
    rejected_all = sum(1 for r in by_supplier.values() for x in r if x.incoming == "fail")
    scores = []
    for supplier, lots in by_supplier.items():
        lots.sort(key=lambda r: (r.at, r.lot))
        inspected = [r for r in lots if r.incoming is not None]
        rejected = sum(1 for r in inspected if r.incoming == "fail")
        marginal = sum(1 for r in inspected if r.incoming == "marginal")
        with_data = [r for r in lots if r.due_at is not None or r.ordered_quantity is not None]
        late = sum(1 for r in lots if r.due_at is not None and r.at > r.due_at)
        short = sum(
            1
            for r in lots
            if r.ordered_quantity is not None and r.quantity is not None and r.quantity < r.ordered_quantity
        )
        others_inspected = inspected_all - len(inspected)
        others_rejected = rejected_all - rejected
        base = max(others_rejected, 0.5) / others_inspected if others_inspected > 0 else 0.0
        p_value = 1.0
        if inspected and 0 < base < 1:
            p_value = binomial_p(rejected, len(inspected), base)
        trend = ewma_series((1.0 if r.incoming == "fail" else 0.0 for r in inspected), lam=lam, start=base)
        rate = rejected / len(inspected) if inspected else 0.0
        if rejected == 0 and late == 0 and short == 0:
            grade = "A"
        elif p_value < 0.05:
            grade = "D"
        elif rate <= base:
            grade = "B"
        else:
            grade = "C"
        scores.append(
            SupplierScore(
                supplier=supplier,
                name=names.get(supplier),
                lots=len(lots),
                inspected=len(inspected),
                rejected=rejected,
                marginal=marginal,
                reject_rate=round(rate, 4),
                late=late,
                short=short,
                with_delivery_data=len(with_data),
                ewma_reject=round(trend[-1], 4) if trend else 0.0,
                p_value=p_value,
                grade=grade,
            )
        )
    scores.sort(key=lambda s: ("DCBA".index(s.grade), -s.reject_rate, s.supplier))
    return scores


def supplier_signals(
    receipts: Iterable[Receipt],
    *,
    names: Mapping[str, str] | None = None,
    alpha: float = 0.05,
    lam: float = 0.3,
    width: float = 3.0,
) -> list[Signal]:
    """A signal per supplier significantly worse than the others (Bonferroni over suppliers),
    or whose reject EWMA is above its upper control limit at its latest lot, or that delivered
    late or short in more than a third of the deliveries with data.

    >>> from datetime import UTC
    >>> t = datetime(2024, 1, 1, tzinfo=UTC)
    >>> receipts = [Receipt(f"lot:{i}", f"supplier:{i % 5}", t, incoming="pass") for i in range(100)]
    >>> receipts += [Receipt(f"lot:b{i}", "supplier:B", t, incoming="fail" if i < 6 else "pass") for i in range(10)]
    >>> [(s.node, s.rule) for s in supplier_signals(receipts)]
    [('supplier:B', 'supplier.rejects')]
    """
    all_receipts = list(receipts)
    scores = supplier_scorecard(all_receipts, names=names, lam=lam)
    m = max(1, len(scores))
    inspected_all = sum(s.inspected for s in scores)
    rejected_all = sum(s.rejected for s in scores)
    plant_rate = rejected_all / inspected_all if inspected_all else 0.0
    by_supplier: dict[str, list[Receipt]] = defaultdict(list)
    for r in all_receipts:
        by_supplier[r.supplier].append(r)
    signals = []
    for score in scores:
        evidence = tuple(
            Evidence(key=r.lot, role="rejected lot", at=r.at, source=r.source)
            for r in sorted(by_supplier[score.supplier], key=lambda r: r.at)
            if r.incoming == "fail"
        )
        p_adj = min(1.0, score.p_value * m)
        sigma = (lam / (2 - lam) * plant_rate * (1 - plant_rate)) ** 0.5
        ucl = plant_rate + width * sigma
        rule = None
        if prior_from_p(p_adj, alpha) > 0:
            rule, prior = "supplier.rejects", prior_from_p(p_adj, alpha)
        elif score.inspected >= 5 and sigma > 0 and score.ewma_reject > ucl:
            rule, prior = "supplier.reject_trend", 0.3
        late_short = score.late + score.short
        if rule is None and score.with_delivery_data >= 3 and late_short * 3 > score.with_delivery_data:
            rule, prior = "supplier.delivery", 0.1
        if rule is None:
            continue
        signals.append(
            Signal(
                id=signal_id(rule, score.supplier),
                rule=rule,
                test={
                    "supplier.rejects": f"one-sided exact binomial test of the reject rate against the other "
                    f"suppliers', Bonferroni over {m} supplier(s)",
                    "supplier.reject_trend": f"EWMA (lambda={lam}) of the reject indicator above its "
                    f"{width}-sigma limit",
                    "supplier.delivery": "more than a third of deliveries late or short",
                }[rule],
                node=score.supplier,
                probability=prior,
                severity=Severity.HIGH if rule == "supplier.rejects" else Severity.MEDIUM,
                summary=f"{score.supplier}: {score.rejected} of {score.inspected} lot(s) rejected "
                f"({score.reject_rate:.1%} against {plant_rate:.1%}), {score.late} late, {score.short} short",
                statistics={
                    "reject_rate": score.reject_rate,
                    "plant_rate": plant_rate,
                    "p_value": score.p_value,
                    "p_adjusted": p_adj,
                    "ewma": score.ewma_reject,
                    "ewma_ucl": ucl,
                },
                evidence=evidence,
            )
        )
    return signals
