"""What every signal is: a prior anomaly probability on a node, with its evidence and test.

A :class:`Signal` says "this node (over this window) is anomalous with probability p,
because of these records, by this rule". It is what alert rules grade and what a recall
scope starts from (:meth:`Signal.seed`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schema.model import TimeWindow, content_hash, iso, to_epoch, utc


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Seed(_Frozen):
    """A prior for propagation: a node, its anomaly probability, and when it was anomalous.

    ``window`` is in epoch seconds (an equipment anomaly window); ``carryover_runs`` marks a
    contaminated work order whose residue reaches the next runs of the machines it ran on.
    """

    node: str
    probability: float = Field(..., ge=0.0, le=1.0)
    window: tuple[float, float] | None = None
    carryover_runs: int = Field(0, ge=0)


class Evidence(_Frozen):
    """One record behind a signal: the node it is, and where it came from."""

    key: str
    role: str = Field(description="What the record is to the signal: sample, inspection, complaint, ...")
    at: datetime | None = None
    source: str | None = Field(None, description="Source file or message and line, when known")
    detail: dict[str, Any] = Field(default_factory=dict)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc(value)


class Signal(_Frozen):
    """An anomaly signal."""

    id: str = Field(description="Stable id: the same rule on the same node and window gives the same id")
    rule: str = Field(description="Which detector and rule raised it, e.g. spc.nelson.1, complaints.poisson")
    test: str = Field(description="The rule or test in words, e.g. 'Nelson rule 2: nine points on one side'")
    node: str
    probability: float = Field(..., ge=0.0, le=1.0)
    severity: Severity
    summary: str
    window: TimeWindow | None = None
    statistics: dict[str, float] = Field(default_factory=dict, description="p-value, rate, limits, ...")
    evidence: tuple[Evidence, ...] = ()
    carryover_runs: int = Field(0, description="A contamination: later runs on the same machines it reaches")
    targets: tuple[str, ...] = Field(
        (), description="Nodes that carry the prior when not the node itself (e.g. the mislabelled devices)"
    )

    def seeds(self) -> list[Seed]:
        """Where a recall scope from this signal starts."""
        window = None
        if self.window is not None:
            lo = to_epoch(self.window.start)
            hi = to_epoch(self.window.end)
            window = (float("-inf") if lo is None else lo, float("inf") if hi is None else hi)
        return [
            Seed(node=n, probability=self.probability, window=window, carryover_runs=self.carryover_runs)
            for n in (self.targets or (self.node,))
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule": self.rule,
            "test": self.test,
            "node": self.node,
            "probability": round(self.probability, 6),
            "severity": self.severity.value,
            "summary": self.summary,
            "window": None if self.window is None else {"start": iso(self.window.start), "end": iso(self.window.end)},
            "statistics": self.statistics,
            "evidence": [e.model_dump(mode="json") for e in self.evidence],
            "targets": list(self.targets),
            "carryover_runs": self.carryover_runs,
        }


def signal_id(rule: str, node: str, window: TimeWindow | None = None, qualifier: str = "") -> str:
    """``sig-`` and 12 hex digits of the hash of what identifies a signal.

    >>> signal_id("spc.nelson.1", "equipment:EXT-01") == signal_id("spc.nelson.1", "equipment:EXT-01")
    True
    >>> signal_id("a", "n").startswith("sig-")
    True
    """
    start = iso(window.start) if window is not None else None
    return "sig-" + content_hash([rule, node, start, qualifier])[:12]


def window_of(start: datetime | None, end: datetime | None) -> TimeWindow | None:
    return None if start is None and end is None else TimeWindow(start=start, end=end)


def binomial_p(k: int, n: int, p: float) -> float:
    """One-sided exact binomial test: P(X >= k) for X ~ Binomial(n, p), by scipy (imported on
    first use: it takes a while to import, and most commands never test anything).

    >>> round(binomial_p(3, 10, 0.1), 4)  # 3 or more of 10 when 1 in 10 is expected
    0.0702
    """
    from scipy.stats import binomtest

    return float(binomtest(k, n, p, alternative="greater").pvalue)


def prior_from_p(p_value: float, alpha: float = 0.05) -> float:
    """A prior anomaly probability from a (multiplicity-adjusted) p-value: the stronger the
    evidence, the higher, but never certainty from statistics alone.

    >>> prior_from_p(1e-9), prior_from_p(0.0005), prior_from_p(0.03), prior_from_p(0.2)
    (0.9, 0.75, 0.5, 0.0)
    """
    if p_value < 1e-6:
        return 0.9
    if p_value < 1e-3:
        return 0.75
    if p_value < alpha:
        return 0.5
    return 0.0
