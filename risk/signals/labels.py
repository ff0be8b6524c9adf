"""Label reconciliation: devices whose label names another lot than the one their work order made.

A device is in a lot by its label (``INCLUDES``) and made by a work order (``PRODUCED``);
the work order made one lot. When the two disagree, labels of another lot were applied (a
line clearance failure at a lot change): those devices carry the wrong lot number and expiry.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from risk.signals.base import Evidence, Severity, Signal, signal_id


def label_signals(
    labelled: Mapping[str, str],
    made_by: Mapping[str, str],
    lot_of_work_order: Mapping[str, str],
    *,
    probability: float = 0.95,
) -> list[Signal]:
    """One signal per (work order, wrong lot): its devices labelled with that lot.

    Parameters
    ----------
    labelled : mapping
        Device → the lot its label names.
    made_by : mapping
        Device → the work order that made it.
    lot_of_work_order : mapping
        Work order → the lot it made.

    Examples
    --------
    >>> labelled = {"d1": "lot:A", "d2": "lot:A", "d3": "lot:B"}
    >>> made_by = {"d1": "wo:A", "d2": "wo:B", "d3": "wo:B"}
    >>> [(s.node, s.targets) for s in label_signals(labelled, made_by, {"wo:A": "lot:A", "wo:B": "lot:B"})]
    [('wo:B', ('d2',))]
    """
    wrong: dict[tuple[str, str], list[str]] = defaultdict(list)
    for device, lot in labelled.items():
        wo = made_by.get(device)
        made = lot_of_work_order.get(wo) if wo else None
        if wo is None or made is None or made == lot:
            continue
        wrong[(wo, lot)].append(device)
    signals = []
    for (wo, lot), devices in sorted(wrong.items()):
        devices.sort()
        made = lot_of_work_order[wo]
        signals.append(
            Signal(
                id=signal_id("labels.mismatch", wo, None, lot),
                rule="labels.mismatch",
                test="label reconciliation: the lot on the label against the lot the work order made",
                node=wo,
                probability=probability,
                severity=Severity.CRITICAL,
                summary=f"{len(devices)} device(s) made by {wo} (lot {made}) are labelled with lot {lot}",
                statistics={"devices": float(len(devices))},
                evidence=(
                    Evidence(key=lot, role="lot on the label"),
                    Evidence(key=made, role="lot the work order made"),
                    *(Evidence(key=d, role="mislabelled device") for d in devices[:50]),
                ),
                targets=tuple(devices),
            )
        )
    return signals
