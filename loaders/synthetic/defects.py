"""Injected defects beyond the bad supplier lot, and the process data that can reveal them.

Each injection changes the plan the way the defect would have changed the plant's records
(an inspection reads marginal, a calibration finds the machine out of tolerance, labels of
the previous lot stay on the line) and states its ground truth from the generator's own
genealogy, never from a trace:

``machine_drift``
    A machine (an extruder by default) drifts over several consecutive runs: its process
    parameter shifts (``process_data.csv`` shows it), the lots it made then inspect
    marginal, and a calibration the morning after finds it out of tolerance. Affected: the
    drifting runs and everything made from their lots.
``cross_contamination``
    A raw-material lot (PVC by default) carries foreign particles. The work orders that
    consume it are contaminated, and so are the next ``runs`` runs on every machine those
    work orders ran on (residue until the line is cleaned), though they never touched the lot.
``mislabelled_lot``
    At a lot change, labels of the previous lot stay on the line: the first devices of a
    finished lot carry the previous lot's number and expiry. Affected: those devices only.
``bad_supplier``
    Every lot of a bought part (the male luer by default) that one supplier delivered is bad,
    as when the supplier changed its process without notice. Affected: every device built
    from any of those lots. The supplier has at least two used lots, so the supplier, not
    one of its lots, is the source.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from loaders.synthetic.catalogue import PARTS_BY_CODE, PRODUCTS, Machine
from loaders.synthetic.clock import DAY, HOUR, MINUTE, iso_date, iso_time
from loaders.synthetic.manifest import Defect, DefectTruth
from loaders.synthetic.output import PlantWriter
from loaders.synthetic.production import Calibration, Lot, ProductionPlan, WorkOrder, genealogy
from schema.errors import InvalidInputError
from schema.kinds import EdgeType, NodeKind
from schema.model import from_epoch


@dataclass
class Drift:
    machine: Machine
    start: int
    end: int
    #: Keys of the drifting runs' work orders: only their samples shift.
    work_orders: frozenset[str]
    #: Mean shift of the process parameter while drifting, in standard deviations.
    shift: float = 2.0


@dataclass
class Mislabel:
    work_order: str
    lot_number: str
    manufactured: str
    expiry: str
    count: int


@dataclass
class Injection:
    truth: DefectTruth
    drift: Drift | None = None
    mislabel: Mislabel | None = None


def inject_defect(plan: ProductionPlan, defect: Defect, rng: random.Random, start: int, end: int) -> Injection:
    """Apply ``defect`` (any kind but ``bad_supplier_lot``) to ``plan`` and state its truth."""
    if defect.kind == "machine_drift":
        return _machine_drift(plan, defect, start, end)
    if defect.kind == "cross_contamination":
        return _cross_contamination(plan, defect, start, end)
    if defect.kind == "mislabelled_lot":
        return _mislabelled_lot(plan, defect, start, end)
    if defect.kind == "bad_supplier":
        return _bad_supplier(plan, defect)
    raise InvalidInputError(f"unknown defect kind {defect.kind!r}")


def _uses_of(plan: ProductionPlan, machine: Machine) -> list[tuple[int, int, WorkOrder]]:
    return sorted(
        ((begin, finish, wo) for wo in plan.work_orders for m, begin, finish in wo.uses if m is machine),
        key=lambda use: (use[0], use[2].key),
    )


def _downstream(work_orders: list[WorkOrder]) -> tuple[list[WorkOrder], list[Lot]]:
    """The work orders given, and every work order and lot made from their output."""
    wos: dict[int, WorkOrder] = {id(w): w for w in work_orders}
    lots: dict[int, Lot] = {}
    for wo in work_orders:
        if wo.output is None:
            continue
        lots[id(wo.output)] = wo.output
        below_wos, below_lots = genealogy(wo.output)
        wos.update((id(w), w) for w in below_wos)
        lots.update((id(lot), lot) for lot in below_lots)
    return list(wos.values()), list(lots.values())


def _truth(
    defect: Defect,
    *,
    lot: str,
    part: str,
    supplier: str,
    work_orders: list[WorkOrder],
    lots: list[Lot],
    roots: list[str],
    window: tuple[int, int] | None = None,
    carryover_runs: int = 0,
) -> DefectTruth:
    return DefectTruth(
        kind=defect.kind,
        lot=lot,
        part=part,
        supplier=supplier,
        work_orders=sorted(wo.key for wo in work_orders),
        lots=sorted(x.key for x in lots),
        finished_lots=sorted(x.key for x in lots if x.part.part_type == "finished"),
        devices=[],
        device_count=0,
        complaints=[],
        roots=roots,
        window_start=None if window is None else from_epoch(window[0]),
        window_end=None if window is None else from_epoch(window[1]),
        carryover_runs=carryover_runs,
    )


def _ships(plan: ProductionPlan, work_order: WorkOrder) -> bool:
    return work_order.output is not None and plan.feeds_shipped_goods(work_order.output)


def _machine_drift(plan: ProductionPlan, defect: Defect, start: int, end: int) -> Injection:
    machines = [m for m in plan.machines if m.type.type == defect.equipment_type]
    if not machines:
        raise InvalidInputError(f"the plant has no {defect.equipment_type!r}")
    target = start + (end - start) * 9 // 20
    # The longest drift the plant allows, up to ``runs``: a small plant has few runs per machine.
    best: tuple[bool, int, str, int, int] | None = None
    for runs in range(max(1, defect.runs), 0, -1):
        for candidate in machines:
            uses = _uses_of(plan, candidate)
            calibrations = sorted(c.at for c in plan.calibrations if c.machine is candidate)
            for i in range(len(uses) - runs + 1):
                chosen = uses[i : i + runs]
                first, last = chosen[0][0], chosen[-1][1]
                check = last - last % DAY + DAY + 7 * HOUR
                if not all(_ships(plan, wo) for _b, _e, wo in chosen):
                    continue
                # A calibration passed while the machine drifted would contradict the drift.
                if any(first <= at <= check for at in calibrations) or not any(at < first for at in calibrations):
                    continue
                # Drift starts some runs after the last passed calibration, as drift does: the
                # calibration's exposure window then holds good runs too (when the plant has them).
                passed = max(at for at in calibrations if at < first)
                clean_runs = sum(1 for b, _e, _w in uses[:i] if b > passed)
                rank = (clean_runs < 2, abs(first - target), candidate.code, i, runs)
                if best is None or rank < best:
                    best = rank
        if best is not None:
            break
    if best is None:
        raise InvalidInputError(f"no run of a {defect.equipment_type} to let drift")
    _few_clean_runs, _distance, code, index, runs = best
    machine = next(m for m in machines if m.code == code)
    uses = _uses_of(plan, machine)
    chosen = uses[index : index + runs]
    first, last = chosen[0][0], chosen[-1][1]
    drifting = [wo for _b, _e, wo in chosen]
    for wo in drifting:
        if wo.output is not None and wo.output.inspection is not None:
            wo.output.inspection.result = "marginal"
    check = last - last % DAY + DAY + 7 * HOUR
    interval = machine.type.calibration_days * DAY
    found = Calibration(machine, check, "out_of_tolerance", check + DAY)
    fixed = Calibration(machine, check + DAY, "pass", check + DAY + interval)
    numbered = len(plan.calibrations)
    for n, calibration in enumerate((found, fixed), numbered + 1):
        calibration.key = f"inspection:CAL-{n:06d}"
    plan.calibrations = sorted([*plan.calibrations, found, fixed], key=lambda c: (c.at, c.machine.code))
    work_orders, lots = _downstream(drifting)
    truth = _truth(
        defect,
        lot=drifting[0].output.key if drifting[0].output is not None else "",
        part=drifting[0].part.key,
        supplier="",
        work_orders=work_orders,
        lots=lots,
        roots=[machine.key],
        window=(first, last),
    )
    drift = Drift(machine, first, last, frozenset(wo.key for wo in drifting), defect.shift)
    return Injection(truth=truth, drift=drift)


def _cross_contamination(plan: ProductionPlan, defect: Defect, start: int, end: int) -> Injection:
    code = defect.part.removeprefix("part:")
    target = start + (end - start) * 2 // 5
    candidates = [
        lot
        for lot in plan.receipts
        if lot.part.code == code and lot is not plan.escaped_lot and lot.consumed_by and plan.feeds_shipped_goods(lot)
    ]
    if not candidates:
        raise InvalidInputError(f"no used lot of {defect.part} to contaminate")
    bad = min(candidates, key=lambda lot: (abs(lot.received_at - target), lot.key))
    contaminated = list(bad.consumed_by)
    carried: dict[int, WorkOrder] = {}
    for wo in contaminated:
        for machine, _begin, _end in wo.uses:
            uses = _uses_of(plan, machine)
            index = max(i for i, use in enumerate(uses) if use[2] is wo)
            for _b, _e, later in uses[index + 1 : index + 1 + defect.runs]:
                carried[id(later)] = later
    runs = contaminated + [wo for wo in carried.values() if wo not in contaminated]
    for wo in contaminated:
        if wo.output is not None and wo.output.inspection is not None:
            wo.output.inspection.result = "marginal"
            wo.output.inspection.notes = "Black specks in the wall; particulate contamination suspected"
    work_orders, lots = _downstream(runs)
    assert bad.supplier is not None
    truth = _truth(
        defect,
        lot=bad.key,
        part=bad.part.key,
        supplier=f"supplier:{bad.supplier}",
        work_orders=work_orders,
        lots=lots,
        roots=[bad.key],
        carryover_runs=defect.runs,
    )
    return Injection(truth=truth)


def _mislabelled_lot(plan: ProductionPlan, defect: Defect, start: int, end: int) -> Injection:
    target = start + (end - start) * 9 // 20
    shipped = [
        wo
        for wo in plan.finished
        if wo.finish < plan.shipping_cutoff and wo is not plan.finished[-1] and wo.output is not None
    ]
    pairs = []
    for wo in shipped:
        earlier = [w for w in plan.finished if w.part is wo.part and w.start < wo.start and w.output is not None]
        if earlier:
            pairs.append((max(earlier, key=lambda w: w.start), wo))
    if not pairs:
        raise InvalidInputError("no finished lot follows another of the same product")
    previous, labelled = min(pairs, key=lambda pair: (abs(pair[1].start - target), pair[1].start))
    assert previous.output is not None and labelled.output is not None
    product = next(p for p in PRODUCTS if p.part == labelled.part.code)
    count = min(int(labelled.quantity) // 2, max(1, defect.runs) * product.case_size)
    shelf = (PARTS_BY_CODE[labelled.part.code].shelf_life_days or 0) * DAY
    mislabel = Mislabel(
        work_order=labelled.key,
        lot_number=previous.output.lot_number,
        manufactured=iso_date(previous.start),
        expiry=iso_date(previous.start + shelf),
        count=count,
    )
    truth = _truth(
        defect,
        lot=previous.output.key,
        part=labelled.part.key,
        supplier="",
        work_orders=[labelled],
        lots=[],
        roots=[previous.output.key, labelled.output.key],
    )
    return Injection(truth=truth, mislabel=mislabel)


def _bad_supplier(plan: ProductionPlan, defect: Defect) -> Injection:
    code = defect.part.removeprefix("part:")
    used: dict[str, list[Lot]] = {}
    for lot in plan.receipts:
        if lot.part.code == code and lot.supplier is not None and lot.consumed_by:
            used.setdefault(f"supplier:{lot.supplier}", []).append(lot)
    shipped = {s: [lot for lot in lots if plan.feeds_shipped_goods(lot)] for s, lots in used.items()}
    if defect.supplier:
        if not shipped.get(defect.supplier):
            raise InvalidInputError(f"{defect.supplier} delivered no used lot of {defect.part}")
        chosen = defect.supplier
    else:
        # Two lots or more, and not every used lot: else no lot or device tells the supplier apart.
        several = sorted(s for s, lots in shipped.items() if len(lots) >= 2 and len(used) > 1)
        if not several:
            raise InvalidInputError(f"no second source delivered two used lots of {defect.part}")
        chosen = min(several, key=lambda s: (len(shipped[s]), s))
    bad = used[chosen]
    wos: dict[int, WorkOrder] = {}
    lots: dict[int, Lot] = {}
    for lot in bad:
        below_wos, below_lots = genealogy(lot)
        wos.update((id(w), w) for w in below_wos)
        lots.update((id(x), x) for x in below_lots)
    truth = _truth(
        defect,
        lot=shipped[chosen][0].key,
        part=bad[0].part.key,
        supplier=chosen,
        work_orders=list(wos.values()),
        lots=list(lots.values()),
        roots=[chosen],
    )
    return Injection(truth=truth)


# -- process data ---------------------------------------------------------------------------

#: Equipment types with a monitored process parameter: name, unit, set point, spread.
MONITORED: dict[str, tuple[str, str, float, float]] = {
    "extruder": ("melt_temp_c", "°C", 195.0, 0.8),
    "moulding_machine": ("hold_pressure_bar", "bar", 620.0, 4.0),
}
SAMPLE_EVERY = 30 * MINUTE
MAX_SAMPLES = 24


def write_process_data(out: PlantWriter, plan: ProductionPlan, rng: random.Random, drift: Drift | None = None) -> None:
    """One ``process_data.csv`` row per run of a monitored machine: its parameter samples."""
    rows = []
    for machine in plan.machines:
        monitored = MONITORED.get(machine.type.type)
        if monitored is None:
            continue
        parameter, unit, nominal, sigma = monitored
        set_point = round(nominal + rng.uniform(-2, 2) * sigma, 1)
        limits = f"lsl={_num(set_point - 6 * sigma)};target={_num(set_point)};usl={_num(set_point + 6 * sigma)}"
        for begin, finish, wo in _uses_of(plan, machine):
            span = max(finish - begin - 30 * MINUTE, 0)
            count = max(1, min(MAX_SAMPLES, span // SAMPLE_EVERY + 1))
            step = span / max(1, count - 1) if count > 1 else 0
            samples = []
            for k in range(count):
                at = begin + 15 * MINUTE + int(k * step)
                at -= at % 60
                value = rng.gauss(set_point, sigma)
                if drift is not None and machine is drift.machine and wo.key in drift.work_orders:
                    value += drift.shift * sigma
                samples.append(f"{iso_time(at)}={_num(value)}")
            first = samples[0].split("=", 1)[0]
            last = samples[-1].split("=", 1)[0]
            rows.append((begin, machine.code, wo.key, machine.key, parameter, unit, first, last, samples, limits))
    rows.sort(key=lambda r: (r[0], r[1]))
    for n, (_begin, _code, wo_key, machine_key, parameter, unit, first, last, samples, limits) in enumerate(rows, 1):
        out.write(
            "process_data.csv",
            (f"run:PR-{n:06d}", machine_key, wo_key, parameter, unit, first, last, ";".join(samples), limits),
        )
    out.nodes_added(NodeKind.PROCESS_RUN, len(rows))
    out.edges_added(EdgeType.INSPECTED, 2 * len(rows))


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def drift_sigma(equipment_type: str) -> float:
    """The spread of a monitored machine type's parameter (for tests)."""
    return MONITORED[equipment_type][3] if equipment_type in MONITORED else math.nan
