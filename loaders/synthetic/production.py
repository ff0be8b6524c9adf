"""Production planning for the synthetic plant: receipts, work orders, consumption, lots.

A small MRP: finished-goods work orders are spread over the production period; every part
is then planned in low-level-code order (finished goods first, raw materials last), so
all demands on a part are known before its supply is planned. Each part keeps a FIFO
inventory of lots; a demand the inventory cannot meet creates a new lot — a receipt for
bought parts, a work order for made ones — sized for several future demands. That gives
the genealogy real plants have: a lot feeds several work orders, a work order consumes
several lots, and times are consistent by construction (received and inspected before
consumed, produced before consumed).

Everything here is in memory (a few thousand lots and work orders even for the large
plant); the per-device data is streamed by :mod:`loaders.synthetic.distribution`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field

from loaders.synthetic.catalogue import (
    BOM,
    MACHINE_TYPES,
    PARTS,
    PARTS_BY_CODE,
    PRODUCTS,
    Machine,
    Part,
    low_level_codes,
    machine_code,
)
from loaders.synthetic.clock import DAY, HOUR, MINUTE, day_code

#: Bought lots are sized for this many demands, made lots for that many (a lot feeds several WOs).
BOUGHT_LOT_DEMANDS = 4.0
MADE_LOT_DEMANDS = 2.5
#: Share of bought lots that fail incoming inspection (quarantined and replaced, never used).
INCOMING_FAIL_RATE = 0.025
#: Share of calibrations that find the equipment out of tolerance.
OUT_OF_TOLERANCE_RATE = 0.04
#: Finished goods are assembled at this many units per hour on top of the set-up time.
UNITS_PER_HOUR = 150.0
STERILISATION_HOURS = 16.0
#: Finished lots made in the last days of the period are still at the plant when it ends.
SHIPPING_CUTOFF_DAYS = 8


@dataclass
class Inspection:
    kind: str  # incoming | in_process | final
    target: Lot
    at: int
    result: str
    measurements: dict[str, float | int]
    notes: str | None = None
    key: str = ""


@dataclass
class Lot:
    """A material lot (bought) or product lot (made), before keys are given out."""

    part: Part
    quantity: float
    available_at: int
    remaining: float
    supplier: str | None = None  # supplier code, bought lots
    supplier_lot: str | None = None
    received_at: int = 0
    work_order: WorkOrder | None = None  # made lots
    quarantined: bool = False
    consumed_by: list[WorkOrder] = field(default_factory=list)
    inspection: Inspection | None = None
    key: str = ""
    #: Finished lots: the lot number on the label.
    lot_number: str = ""


@dataclass
class Consumption:
    lot: Lot
    quantity: float
    at: int


@dataclass
class WorkOrder:
    part: Part
    quantity: float
    start: int
    finish: int
    planned_start: int
    planned_finish: int
    consumed: list[Consumption] = field(default_factory=list)
    uses: list[tuple[Machine, int, int]] = field(default_factory=list)
    output: Lot | None = None
    #: Finished goods: when assembly ends (devices are made between start and this).
    assembled: int = 0
    key: str = ""


@dataclass
class Calibration:
    machine: Machine
    at: int
    result: str
    next_due: int
    key: str = ""


@dataclass
class Demand:
    at: int
    seq: int
    work_order: WorkOrder
    quantity: float


@dataclass
class ProductionPlan:
    receipts: list[Lot]
    work_orders: list[WorkOrder]
    product_lots: list[Lot]
    finished: list[WorkOrder]
    machines: list[Machine]
    calibrations: list[Calibration]
    inspections: list[Inspection]
    escaped_lot: Lot
    out_of_tolerance: Calibration
    #: Finished lots made after this are still at the plant when the period ends.
    shipping_cutoff: int

    def feeds_shipped_goods(self, lot: Lot) -> bool:
        """Whether some finished lot made from ``lot`` leaves the plant (so a trace reaches customers)."""
        return any(
            made.part.part_type == "finished"
            and made.work_order is not None
            and made.work_order.finish < self.shipping_cutoff
            and made.work_order is not self.finished[-1]
            for made in genealogy(lot)[1]
        )


def _nice(quantity: float, part: Part) -> float:
    """Round a lot size up the way purchasing and planning do (bags, reels, boxes)."""
    if part.unit == "kg":
        return float(max(25, math.ceil(quantity / 25) * 25))
    if part.unit == "m":
        return float(max(100, math.ceil(quantity / 100) * 100))
    return float(max(100, math.ceil(quantity / 100) * 100))


class Planner:
    """Plans the plant's production over ``[start, start + days)``; see the module docstring."""

    def __init__(self, rng: random.Random, *, start: int, days: int, devices: int, lot_size: int) -> None:
        self.rng = rng
        self.start = start
        self.end = start + days * DAY
        self.devices = devices
        self.lot_size = lot_size
        self.machines = self._machines()
        self.demands: dict[str, list[Demand]] = {p.code: [] for p in PARTS}
        self.receipts: list[Lot] = []
        self.product_lots: list[Lot] = []
        self.work_orders: list[WorkOrder] = []
        self.inspections: list[Inspection] = []
        self._seq = 0

    # -- equipment -----------------------------------------------------------------------
    def _machines(self) -> list[Machine]:
        machines = []
        for mtype in MACHINE_TYPES:
            for number in range(1, mtype.count + 1):
                code = machine_code(mtype.type, number)
                serial = f"{mtype.model}-{self.rng.randint(100000, 999999)}"
                machines.append(Machine(key=f"equipment:{code}", code=code, type=mtype, serial_number=serial))
        return machines

    def _book(self, work_order: WorkOrder, equipment_type: str, begin: int, end: int) -> None:
        """Put the work order on the least used machine of the type that is free then (else the least used)."""
        candidates = [m for m in self.machines if m.type.type == equipment_type]
        free = [m for m in candidates if all(end <= a or b <= begin for a, b in m.uses)]
        machine = min(free or candidates, key=lambda m: (len(m.uses), m.code))
        machine.uses.append((begin, end))
        work_order.uses.append((machine, begin, end))

    # -- finished goods ------------------------------------------------------------------
    def plan(self) -> ProductionPlan:
        self._plan_finished()
        levels = low_level_codes()
        for code in sorted((c for c in levels if levels[c] > 0), key=lambda c: (levels[c], c)):
            self._supply(PARTS_BY_CODE[code])
        calibrations, out_of_tolerance = self._calibrations()
        self._in_process_and_final_inspections()
        finished = sorted((w for w in self.work_orders if w.part.part_type == "finished"), key=lambda w: w.start)
        plan = ProductionPlan(
            receipts=sorted(self.receipts, key=lambda lot: (lot.received_at, lot.part.code)),
            work_orders=sorted(self.work_orders, key=lambda w: (w.start, w.part.code)),
            product_lots=self.product_lots,
            finished=finished,
            machines=self.machines,
            calibrations=calibrations,
            inspections=[],
            escaped_lot=self.receipts[0],
            out_of_tolerance=out_of_tolerance,
            shipping_cutoff=self.end - SHIPPING_CUTOFF_DAYS * DAY,
        )
        plan.escaped_lot = self._escape_a_failed_lot(plan)
        plan.inspections = sorted(self.inspections, key=lambda i: (i.at, i.kind))
        return plan

    def _plan_finished(self) -> None:
        rng = self.rng
        count = max(len(PRODUCTS), round(self.devices / self.lot_size))
        # Upstream work needs a few weeks before the first finished lot; the last days of the
        # period are left for distribution.
        first = self.start + 14 * DAY
        last = self.end - 7 * DAY
        step = (last - first) / count
        weights = [p.share for p in PRODUCTS]
        for i in range(count):
            product = PRODUCTS[i] if i < len(PRODUCTS) else rng.choices(PRODUCTS, weights)[0]
            part = PARTS_BY_CODE[product.part]
            quantity = max(product.case_size, round(self.lot_size * rng.uniform(0.8, 1.2)))
            begin = int(first + i * step + rng.uniform(0, 0.5) * step)
            begin -= begin % (15 * MINUTE)
            assembly = int((rng.uniform(*part.hours) + quantity / UNITS_PER_HOUR) * HOUR)
            assembly -= assembly % (5 * MINUTE)
            finish = begin + assembly + int(STERILISATION_HOURS * HOUR)
            work_order = self._work_order(part, quantity, begin, finish)
            work_order.assembled = begin + assembly
            tester = "pressure_tester" if "pressure_tester" in part.process else "leak_tester"
            self._book(work_order, "assembly_line", begin, begin + assembly)
            self._book(work_order, tester, begin + HOUR, begin + assembly)
            self._book(work_order, "steriliser", begin + assembly + HOUR, finish - 2 * HOUR)
            lot = Lot(part=part, quantity=quantity, available_at=finish, remaining=0.0, work_order=work_order)
            work_order.output = lot
            self.product_lots.append(lot)

    def _work_order(self, part: Part, quantity: float, begin: int, finish: int) -> WorkOrder:
        rng = self.rng
        planned_start = begin - int(rng.uniform(0, 4) * HOUR)
        planned_start -= planned_start % HOUR
        work_order = WorkOrder(
            part=part,
            quantity=quantity,
            start=begin,
            finish=finish,
            planned_start=planned_start,
            planned_finish=planned_start + (finish - begin),
        )
        self.work_orders.append(work_order)
        for parent, child, per in BOM:
            if parent == part.code:
                self._seq += 1
                at = begin + rng.randint(5, 40) * MINUTE
                self.demands[child].append(Demand(at, self._seq, work_order, quantity * per))
        return work_order

    # -- supply --------------------------------------------------------------------------
    def _supply(self, part: Part) -> None:
        """Meet every demand on ``part`` from a FIFO inventory, adding lots when it runs short."""
        inventory: list[Lot] = []
        demands = sorted(self.demands[part.code], key=lambda d: (d.at, d.seq))
        for demand in demands:
            need = demand.quantity
            while need > 1e-9:
                lot = next((lot for lot in inventory if lot.remaining > 1e-9 and lot.available_at <= demand.at), None)
                if lot is None:
                    lot = self._new_lot(part, demand, need)
                    inventory.append(lot)
                take = min(need, lot.remaining)
                lot.remaining -= take
                need -= take
                demand.work_order.consumed.append(Consumption(lot, round(take, 4), demand.at))
                if not lot.consumed_by or lot.consumed_by[-1] is not demand.work_order:
                    lot.consumed_by.append(demand.work_order)
            # Spent lots leave the inventory, which keeps the scan short.
            inventory = [lot for lot in inventory if lot.remaining > 1e-9]

    def _new_lot(self, part: Part, demand: Demand, need: float) -> Lot:
        factor = BOUGHT_LOT_DEMANDS if part.bought else MADE_LOT_DEMANDS
        quantity = _nice(max(need, demand.quantity * factor * self.rng.uniform(0.8, 1.25)), part)
        if part.bought:
            return self._receive(part, quantity, demand.at)
        return self._make(part, quantity, demand.at)

    def _receive(self, part: Part, quantity: float, needed_at: int) -> Lot:
        rng = self.rng
        if rng.random() < INCOMING_FAIL_RATE:
            # Received, failed incoming inspection, quarantined: never used. A replacement
            # (from the second source when there is one) arrives in time.
            received = needed_at - int(rng.uniform(4, 8) * DAY)
            failed = self._receipt(part, quantity, received, supplier=part.suppliers[0])
            failed.quarantined = True
            failed.remaining = 0.0
            self._incoming(failed, "fail", notes="Out of specification; lot quarantined and returned")
            replacement_supplier = part.suppliers[-1]
            lot = self._receipt(part, quantity, needed_at - int(rng.uniform(1, 2.5) * DAY), replacement_supplier)
        else:
            supplier = part.suppliers[0] if rng.random() < 0.7 else rng.choice(part.suppliers)
            lot = self._receipt(part, quantity, needed_at - int(rng.uniform(1, 6) * DAY), supplier)
        self._incoming(lot, "pass")
        return lot

    def _receipt(self, part: Part, quantity: float, received: int, supplier: str) -> Lot:
        rng = self.rng
        received -= received % (5 * MINUTE)
        received = max(received, self.start - 30 * DAY)
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        lot = Lot(
            part=part,
            quantity=quantity,
            available_at=received,
            remaining=quantity,
            supplier=supplier,
            supplier_lot=f"{letters}{day_code(received)[:2]}-{rng.randint(1000, 9999)}",
            received_at=received,
        )
        self.receipts.append(lot)
        return lot

    def _incoming(self, lot: Lot, result: str, notes: str | None = None) -> None:
        at = lot.received_at + self.rng.randint(2 * 12, 8 * 12) * 5 * MINUTE
        spread = 4.0 if result == "fail" else 1.0
        inspection = Inspection("incoming", lot, at, result, self._measure(lot.part, spread), notes)
        lot.inspection = inspection
        lot.available_at = at + HOUR  # released for use once inspected
        self.inspections.append(inspection)

    def _measure(self, part: Part, spread: float = 1.0) -> dict[str, float | int]:
        rng = self.rng
        values: dict[str, float | int] = {}
        for name, nominal, sigma in part.measurements:
            # Two significant digits of the spread: as precise as the gauge, no more.
            digits = max(0, 1 - math.floor(math.log10(sigma)))
            value = round(rng.gauss(nominal, sigma * spread), digits)
            values[name] = value if digits else int(value)
        return values

    def _make(self, part: Part, quantity: float, needed_at: int) -> Lot:
        rng = self.rng
        finish = needed_at - int(rng.uniform(4, 30) * HOUR)
        finish -= finish % (5 * MINUTE)
        begin = finish - int(rng.uniform(*part.hours) * HOUR)
        begin -= begin % (5 * MINUTE)
        work_order = self._work_order(part, quantity, begin, finish)
        if len(part.process) == 1:
            self._book(work_order, part.process[0], begin, finish)
        else:  # assemble, then test at the end
            self._book(work_order, part.process[0], begin, finish - 2 * HOUR)
            self._book(work_order, part.process[1], finish - 3 * HOUR, finish)
        lot = Lot(
            part=part,
            quantity=quantity,
            available_at=finish + 2 * HOUR,  # after in-process inspection
            remaining=quantity,
            work_order=work_order,
        )
        work_order.output = lot
        self.product_lots.append(lot)
        return lot

    # -- quality -------------------------------------------------------------------------
    def _escape_a_failed_lot(self, plan: ProductionPlan) -> Lot:
        """Make one used lot one whose incoming inspection failed: a quality escape for the tour.

        It is a needle-free valve lot near the middle of the period whose devices reach customers.
        """
        middle = (self.start + self.end) // 2
        used = [lot for lot in self.receipts if lot.part.code == "PC-NFV" and plan.feeds_shipped_goods(lot)]
        lot = min(used, key=lambda lot: (abs(lot.received_at - middle), lot.received_at))
        assert lot.inspection is not None
        lot.inspection.result = "fail"
        lot.inspection.measurements = self._measure(lot.part, 5.0)
        lot.inspection.notes = "Crack pressure out of specification; released under deviation by mistake"
        return lot

    def _in_process_and_final_inspections(self) -> None:
        rng = self.rng
        for lot in self.product_lots:
            assert lot.work_order is not None
            finished = lot.part.part_type == "finished"
            at = lot.work_order.finish + rng.randint(6, 18) * 5 * MINUTE
            result = "marginal" if rng.random() < 0.03 else "pass"
            inspection = Inspection(
                "final" if finished else "in_process",
                lot,
                at,
                result,
                self._measure(lot.part, 2.5 if result == "marginal" else 1.0),
            )
            lot.inspection = inspection
            self.inspections.append(inspection)

    def _calibrations(self) -> tuple[list[Calibration], Calibration]:
        rng = self.rng
        calibrations: list[Calibration] = []
        for machine in self.machines:
            interval = machine.type.calibration_days * DAY
            at = self.start - rng.randrange(machine.type.calibration_days) * DAY + 7 * HOUR
            while at < self.end:
                out = rng.random() < OUT_OF_TOLERANCE_RATE
                calibrations.append(Calibration(machine, at, "out_of_tolerance" if out else "pass", at + interval))
                if out:  # adjusted and recalibrated the next day
                    at += DAY
                    calibrations.append(Calibration(machine, at, "pass", at + interval))
                at += interval + rng.randint(-3, 1) * DAY
        # The tour needs one drifting machine: an unscheduled check finds the busiest leak
        # tester out of tolerance (it is adjusted and recalibrated the next day). The check
        # follows a use near the middle of the period that began after the calibration before,
        # so the drift window [previous calibration, check] holds work orders to look at.
        middle = (self.start + self.end) // 2
        testers = [m for m in self.machines if m.type.type == "leak_tester"]
        tester = max(testers, key=lambda m: (len(m.uses), m.code))
        interval = tester.type.calibration_days * DAY
        for begin, end in sorted(tester.uses, key=lambda use: (abs(use[0] - middle), use[0])):
            check = end - end % DAY + DAY + 7 * HOUR  # the next morning
            previous = max(c.at for c in calibrations if c.machine is tester and c.at < check)
            if previous < begin:
                break
        drift = Calibration(tester, check, "out_of_tolerance", check + DAY)
        calibrations += [drift, Calibration(tester, check + DAY, "pass", check + DAY + interval)]
        calibrations.sort(key=lambda c: (c.at, c.machine.code))
        return calibrations, drift


def genealogy(lot: Lot) -> tuple[list[WorkOrder], list[Lot]]:
    """The work orders and product lots made from ``lot``, directly or further down."""
    work_orders: list[WorkOrder] = []
    lots: list[Lot] = []
    seen: set[int] = set()
    frontier = [lot]
    while frontier:
        for work_order in frontier.pop().consumed_by:
            if id(work_order) in seen:
                continue
            seen.add(id(work_order))
            work_orders.append(work_order)
            if work_order.output is not None:
                lots.append(work_order.output)
                frontier.append(work_order.output)
    return work_orders, lots


def assign_keys(plan: ProductionPlan, gtins: dict[str, str], ma_dis: Mapping[str, str] | None = None) -> None:
    """Number everything in time order, as the plant's systems would have.

    Finished lots of a product in ``ma_dis`` (part code -> MA DI) are keyed ``ma/{DI}/10/{lot}``,
    their lot numbers ``{YYMMDD}{nn}``: an MA code's ``.L`` field holds letters and digits only.
    """
    ma_dis = ma_dis or {}
    for n, lot in enumerate(plan.receipts, 1):
        lot.key = f"lot:R-{n:06d}"
    for n, work_order in enumerate(plan.work_orders, 1):
        work_order.key = f"wo:WO-{n:06d}"
    per_part: dict[str, int] = {}
    per_day: dict[tuple[str, str], int] = {}
    for lot in sorted(plan.product_lots, key=lambda lot: (lot.available_at, lot.part.code)):
        assert lot.work_order is not None
        if lot.part.part_type == "finished":
            day = day_code(lot.work_order.start)
            n = per_day[(lot.part.code, day)] = per_day.get((lot.part.code, day), 0) + 1
            di = ma_dis.get(lot.part.code)
            if di is None:
                lot.lot_number = f"L{day}-{n:02d}"
                lot.key = f"01/{gtins[lot.part.code]}/10/{lot.lot_number}"
            else:
                lot.lot_number = f"{day}{n:02d}"
                lot.key = f"ma/{di}/10/{lot.lot_number}"
        else:
            n = per_part[lot.part.code] = per_part.get(lot.part.code, 0) + 1
            lot.key = f"plot:{lot.part.code}-{n:05d}"
    prefixes = {"incoming": "INC", "in_process": "IPQ", "final": "FQC"}
    counters: dict[str, int] = {}
    for inspection in plan.inspections:
        prefix = prefixes[inspection.kind]
        n = counters[prefix] = counters.get(prefix, 0) + 1
        inspection.key = f"inspection:{prefix}-{n:06d}"
    for n, calibration in enumerate(plan.calibrations, 1):
        calibration.key = f"inspection:CAL-{n:06d}"


def product_gtins() -> dict[str, str]:
    return {p.code: p.gtin for p in PARTS if p.gtin is not None}
