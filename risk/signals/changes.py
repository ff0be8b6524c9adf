"""Signals from change records that touch critical parts or processes."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from risk.signals.base import Evidence, Severity, Signal, signal_id, window_of


@dataclass(frozen=True)
class ChangeRecordInfo:
    key: str
    affects: tuple[str, ...]
    at: datetime | None = None
    status: str | None = None
    description: str | None = None
    source: str | None = None


def change_signals(
    changes: Iterable[ChangeRecordInfo], *, critical: Collection[str], probability: float = 0.2
) -> list[Signal]:
    """A signal on each critical part or machine a change touches, from the change on.

    >>> changes = [ChangeRecordInfo("change:CR-1", ("part:PC-LUER", "part:PK-LABEL"), description="new mould")]
    >>> [(s.node, s.rule) for s in change_signals(changes, critical={"part:PC-LUER"})]
    [('part:PC-LUER', 'change.critical')]
    """
    signals = []
    for change in sorted(changes, key=lambda c: c.key):
        if change.status in ("rejected", "cancelled"):
            continue
        for target in sorted(set(change.affects) & set(critical)):
            window = window_of(change.at, None)
            signals.append(
                Signal(
                    id=signal_id("change.critical", target, window, change.key),
                    rule="change.critical",
                    test="change record touching a part or process on the critical list",
                    node=target,
                    probability=probability,
                    severity=Severity.MEDIUM,
                    summary=f"{change.key} changes critical {target}"
                    + (f": {change.description}" if change.description else ""),
                    window=window,
                    evidence=(Evidence(key=change.key, role="change record", at=change.at, source=change.source),),
                )
            )
    return signals
