"""Signals as a use case: read the records each detector needs through the port, run the
detectors of :mod:`risk.signals`, and hand back the signals (stable ids, so ``recall --signal
ID`` and alerts can name them).

Listing the nodes of a kind goes through ``search`` (by key prefix), as ``Services.events``
does, until the port can list the nodes of a kind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import networkx as nx

from graph.port import GraphStore
from risk.signals.base import Signal
from risk.signals.calibration import CalibrationRecord, calibration_signals
from risk.signals.changes import ChangeRecordInfo, change_signals
from risk.signals.complaints import ComplaintRecord, complaint_signals
from risk.signals.inspection import InspectionRecord, inspection_signals
from risk.signals.labels import label_signals
from risk.signals.process import ProcessRun, process_signals
from risk.signals.supplier import Receipt, SupplierScore, supplier_scorecard, supplier_signals
from schema.errors import NotFoundError
from schema.kinds import EdgeType, NodeKind
from schema.model import NodeView, TraceDirection

_ALL = 10_000_000
_CHUNK = 5_000


@dataclass
class SignalOptions:
    """Knobs of detection, from the alert configuration."""

    critical: frozenset[str] = frozenset()
    complaint_window_days: int = 30
    alpha: float = 0.05
    detectors: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"inspection", "process", "calibration", "complaints", "supplier", "changes", "labels"}
        )
    )


class _Reader:
    """Reads and caches what the detectors need, as of one moment."""

    def __init__(self, store: GraphStore, as_of: datetime | None) -> None:
        self.store = store
        self.as_of = as_of
        self._views: dict[str, NodeView | None] = {}
        self.latest: datetime | None = None

    def keys(self, text: str, kind: NodeKind) -> list[str]:
        return sorted(h.key for h in self.store.search(text, kinds=[kind], limit=_ALL) if h.kind is kind)

    def view(self, key: str) -> NodeView | None:
        if key not in self._views:
            try:
                self._views[key] = self.store.node(key, as_of=self.as_of, edge_limit=0)
            except NotFoundError:
                self._views[key] = None
        return self._views[key]

    def props(self, key: str) -> dict[str, Any]:
        view = self.view(key)
        return dict(view.props) if view is not None else {}

    def source(self, key: str) -> str | None:
        view = self.view(key)
        if view is None or not view.versions:
            return None
        p = view.versions[-1].provenance
        return p.source + (f":{p.line}" if p.line else "")

    def seen(self, at: datetime | None) -> datetime | None:
        if at is not None and (self.latest is None or at > self.latest):
            self.latest = at
        return at

    def expand(self, keys: Sequence[str], direction: TraceDirection) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = defaultdict(list)
        for i in range(0, len(keys), _CHUNK):
            for key, steps in self.store.expand(keys[i : i + _CHUNK], direction, as_of=self.as_of).items():
                out[key].extend(steps)
        return out


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# -- records ----------------------------------------------------------------------------------


def _inspections(r: _Reader) -> tuple[list[InspectionRecord], list[CalibrationRecord]]:
    inspections: list[InspectionRecord] = []
    calibrations: list[CalibrationRecord] = []
    for key in r.keys("inspection:", NodeKind.INSPECTION):
        props = r.props(key)
        at = r.seen(_time(props.get("at")))
        target = props.get("target")
        if not isinstance(target, str):
            continue
        if props.get("type") == "calibration":
            if at is not None:
                calibrations.append(
                    CalibrationRecord(
                        key=key,
                        equipment=target,
                        at=at,
                        result=str(props.get("result", "")),
                        next_due=_date(props.get("next_due")),
                        source=r.source(key),
                    )
                )
            continue
        measurements = props.get("measurements") or {}
        limits = props.get("limits") or {}
        inspections.append(
            InspectionRecord(
                key=key,
                target=target,
                stage=str(props.get("type", "")),
                result=str(props.get("result", "")),
                at=at,
                measurements={k: float(v) for k, v in measurements.items() if _number(v) is not None},
                limits={
                    k: (_number(v[0]), _number(v[1]))
                    for k, v in limits.items()
                    if isinstance(v, list | tuple) and len(v) == 2
                },
                notes=props.get("notes"),
                source=r.source(key),
            )
        )
    failed = sorted({i.target for i in inspections if i.result == "fail"})
    used = {
        k
        for k, steps in r.expand(failed, TraceDirection.FORWARD).items()
        if any(s.type is EdgeType.CONSUMED_BY for s in steps)
    }
    inspections = [
        InspectionRecord(**{**i.__dict__, "used": i.target in used}) if i.result == "fail" else i for i in inspections
    ]
    return inspections, calibrations


def process_runs(store: GraphStore, *, as_of: datetime | None = None) -> list[ProcessRun]:
    """Every process run with its measurements, as the SPC detectors read them."""
    return _process_runs(_Reader(store, as_of))


def _process_runs(r: _Reader) -> list[ProcessRun]:
    runs = []
    for key in r.keys("run:", NodeKind.PROCESS_RUN):
        props = r.props(key)
        samples = []
        for at_text, value in (props.get("samples") or {}).items():
            at = _time(at_text)
            if at is not None and _number(value) is not None:
                samples.append((at, float(value)))
        if not samples or not isinstance(props.get("equipment"), str):
            continue
        samples.sort()
        r.seen(samples[-1][0])
        limits = props.get("limits") or {}
        runs.append(
            ProcessRun(
                key=key,
                equipment=props["equipment"],
                parameter=str(props.get("parameter", "")),
                samples=tuple(samples),
                work_order=props.get("work_order"),
                target=_number(limits.get("target")),
                lsl=_number(limits.get("lsl")),
                usl=_number(limits.get("usl")),
                source=r.source(key),
            )
        )
    return runs


def _finished_lots(r: _Reader) -> list[str]:
    found = set()
    for text in ("/10/",):
        found.update(r.keys(text, NodeKind.PRODUCT_LOT))
    return sorted(found)


def _complaints(r: _Reader) -> tuple[list[ComplaintRecord], dict[str, int]]:
    keys = r.keys("complaint:", NodeKind.COMPLAINT)
    raw = []
    for key in keys:
        props = r.props(key)
        at = r.seen(_time(props.get("received_at")))
        device = props.get("device")
        if at is None or not isinstance(device, str):
            continue
        raw.append((key, device, at, props))
    devices = sorted({d for _k, d, _a, _p in raw})
    lot_of: dict[str, str] = {}
    for device, steps in r.expand(devices, TraceDirection.BACKWARD).items():
        for step in steps:
            if step.type is EdgeType.INCLUDES:
                lot_of[device] = step.neighbour
    records = [
        ComplaintRecord(
            key=key,
            device=device,
            at=at,
            failure_mode=str(props.get("failure_mode", "")),
            severity=str(props.get("severity", "medium")),
            lot=lot_of.get(device),
            product=r.props(lot_of[device]).get("part") if device in lot_of else None,
            source=r.source(key),
        )
        for key, device, at, props in raw
    ]
    exposure: dict[str, int] = {}
    lots = _finished_lots(r)
    missing = []
    for lot in lots:
        quantity = _number(r.props(lot).get("quantity"))
        if quantity is not None:
            exposure[lot] = int(quantity)
        else:
            missing.append(lot)
    for lot, steps in r.expand(missing, TraceDirection.FORWARD).items():
        exposure[lot] = sum(1 for s in steps if s.type is EdgeType.INCLUDES)
    return records, exposure


def _upstream(r: _Reader, finished: Iterable[str]) -> dict[str, set[str]]:
    """Component lot → the finished lots made from it, through work orders and internal lots."""
    finished = set(finished)
    lots = r.keys("lot:", NodeKind.MATERIAL_LOT) + r.keys("plot:", NodeKind.PRODUCT_LOT)
    work_orders = r.keys("wo:", NodeKind.WORK_ORDER)
    G = nx.DiGraph()
    keep = {EdgeType.CONSUMED_BY, EdgeType.PRODUCED, EdgeType.TRANSFORMED_INTO}
    for key, steps in r.expand(lots + work_orders, TraceDirection.FORWARD).items():
        for s in steps:
            if s.type in keep and s.neighbour_kind is not NodeKind.DEVICE:
                G.add_edge(key, s.neighbour)
    return {lot: set(nx.descendants(G, lot)) & finished for lot in lots if lot in G}


def _receipts(r: _Reader, inspections: Sequence[InspectionRecord]) -> tuple[list[Receipt], dict[str, str]]:
    incoming = {i.target: i.result for i in inspections if i.stage == "incoming"}
    receipts = []
    for key in r.keys("lot:", NodeKind.MATERIAL_LOT):
        props = r.props(key)
        supplier = props.get("supplier")
        at = _time(props.get("received_at"))
        if not isinstance(supplier, str) or at is None:
            continue
        receipts.append(
            Receipt(
                lot=key,
                supplier=supplier,
                at=at,
                part=props.get("part"),
                quantity=_number(props.get("quantity")),
                incoming=incoming.get(key),
                due_at=_time(props.get("due_at")),
                ordered_quantity=_number(props.get("ordered_quantity")),
                source=r.source(key),
            )
        )
    names = {k: str(r.props(k).get("name")) for k in {x.supplier for x in receipts} if r.props(k).get("name")}
    return receipts, names


def _changes(r: _Reader) -> list[ChangeRecordInfo]:
    keys = r.keys("change:", NodeKind.CHANGE_RECORD)
    affects = r.expand(keys, TraceDirection.FORWARD)
    out = []
    for key in keys:
        props = r.props(key)
        out.append(
            ChangeRecordInfo(
                key=key,
                affects=tuple(sorted(s.neighbour for s in affects.get(key, ()) if s.type is EdgeType.AFFECTS)),
                at=_time(props.get("at") or props.get("effective_at") or props.get("created_at")),
                status=props.get("status"),
                description=props.get("description") or props.get("title"),
                source=r.source(key),
            )
        )
    return out


def _labels(r: _Reader, finished: Sequence[str]) -> list[Signal]:
    labelled: dict[str, str] = {}
    for lot, steps in r.expand(list(finished), TraceDirection.FORWARD).items():
        for s in steps:
            if s.type is EdgeType.INCLUDES:
                labelled[s.neighbour] = lot
    lot_of_wo: dict[str, str] = {}
    for lot, steps in r.expand(list(finished), TraceDirection.BACKWARD).items():
        for s in steps:
            if s.type is EdgeType.PRODUCED:
                lot_of_wo[s.neighbour] = lot
    made_by: dict[str, str] = {}
    for wo, steps in r.expand(sorted(lot_of_wo), TraceDirection.FORWARD).items():
        for s in steps:
            if s.type is EdgeType.PRODUCED and s.neighbour_kind is NodeKind.DEVICE:
                made_by[s.neighbour] = wo
    return label_signals(labelled, made_by, lot_of_wo)


# -- use cases ----------------------------------------------------------------------------------


def detect(
    store: GraphStore,
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
    options: SignalOptions | None = None,
) -> list[Signal]:
    """Every signal the store's records raise, as of ``as_of``.

    ``now`` ends trend windows and dates overdue calibrations; by default it is ``as_of`` or,
    failing that, the latest record time seen (signals describe the data as of its horizon,
    so an old data set does not make every calibration overdue).
    """
    options = options or SignalOptions()
    r = _Reader(store, as_of)
    wanted = options.detectors
    inspections, calibrations = _inspections(r)
    runs = _process_runs(r) if "process" in wanted else []
    complaints, exposure = _complaints(r) if "complaints" in wanted else ([], {})
    horizon = now or as_of or r.latest or datetime.now(UTC)
    signals: list[Signal] = []
    if "inspection" in wanted:
        signals += inspection_signals(inspections)
    if "process" in wanted:
        signals += process_signals(runs)
    if "calibration" in wanted:
        signals += calibration_signals(calibrations, now=horizon)
    if "complaints" in wanted and complaints:
        signals += complaint_signals(
            complaints,
            exposure=exposure,
            now=horizon,
            window=timedelta(days=options.complaint_window_days),
            upstream=_upstream(r, exposure),
            alpha=options.alpha,
        )
    if "supplier" in wanted:
        receipts, names = _receipts(r, inspections)
        signals += supplier_signals(receipts, names=names, alpha=options.alpha)
    if "changes" in wanted:
        signals += change_signals(_changes(r), critical=options.critical)
    if "labels" in wanted:
        signals += _labels(r, _finished_lots(r))
    signals.sort(key=lambda s: (-s.severity.rank, -s.probability, s.rule, s.node, s.id))
    return signals


def find(store: GraphStore, ids: Sequence[str], *, as_of: datetime | None = None) -> list[Signal]:
    """The signals with these ids; NotFoundError naming any that is not raised (now)."""
    signals = {s.id: s for s in detect(store, as_of=as_of)}
    missing = [i for i in ids if i not in signals]
    if missing:
        raise NotFoundError(f"no signal {', '.join(missing)}" + (f" as of {as_of.isoformat()}" if as_of else ""))
    return [signals[i] for i in dict.fromkeys(ids)]


def scorecard(store: GraphStore, *, as_of: datetime | None = None) -> list[SupplierScore]:
    r = _Reader(store, as_of)
    inspections, _ = _inspections(r)
    receipts, names = _receipts(r, inspections)
    return supplier_scorecard(receipts, names=names)
