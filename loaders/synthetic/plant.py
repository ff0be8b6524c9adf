"""``generate_plant``: a seeded, deterministic synthetic medical-device plant in the CSV format."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import orjson
import yaml

from loaders.synthetic.catalogue import (
    BOM,
    MA_DIS,
    MACHINE_TYPES,
    PARTS,
    PARTS_BY_CODE,
    PLANT_SITE,
    SUPPLIERS,
    ma_label,
)
from loaders.synthetic.clock import DAY, EPOCH, iso_date, iso_time
from loaders.synthetic.defects import inject_defect, write_process_data
from loaders.synthetic.distribution import Complaint, Distribution
from loaders.synthetic.manifest import (
    MARKETS,
    SCALES,
    Defect,
    DefectTruth,
    NmpaKeys,
    NotableKeys,
    PlantManifest,
)
from loaders.synthetic.output import PlantWriter
from loaders.synthetic.production import Planner, ProductionPlan, assign_keys, genealogy, product_gtins
from schema.errors import InvalidInputError
from schema.kinds import EdgeType, NodeKind
from schema.model import from_epoch


def generate_plant(
    out_dir: Path, *, scale: str = "small", seed: int = 0, inject: Sequence[Defect] = (), market: str = "eu"
) -> PlantManifest:
    """Write a synthetic plant's CSV files and ``manifest.json`` into ``out_dir``.

    The same ``scale``, ``seed``, ``inject`` and ``market`` give byte-identical files. ``inject``
    adds defects whose ground truth (which lots and devices they affect) the manifest states.
    ``market`` is where the plant sells (:data:`~loaders.synthetic.manifest.MARKETS`): ``cn``
    gives Chinese consignees, MA-coded infusion sets and an NMPA facts file, ``nmpa-facts.yaml``;
    the production side (lots, work orders, counts) is the same in every market.
    """
    profile = SCALES.get(scale)
    if profile is None:
        raise InvalidInputError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if market not in MARKETS:
        raise InvalidInputError(f"unknown market {market!r}; expected one of {', '.join(MARKETS)}")
    ma_dis = MA_DIS if market == "cn" else {}
    if len(inject) > 1:
        raise InvalidInputError("one injected defect per plant is supported")
    start, end = EPOCH, EPOCH + profile.days * DAY

    # Separate random streams per stage: a change in one stage leaves the others' output alone.
    plan = Planner(
        random.Random(f"tracegraph-plant:{seed}:production"),
        start=start,
        days=profile.days,
        devices=profile.devices,
        lot_size=profile.lot_size,
    ).plan()
    assign_keys(plan, product_gtins(), ma_dis)
    defect = inject[0] if inject else None
    injection = None
    if defect is not None and defect.kind != "bad_supplier_lot":
        injection = inject_defect(plan, defect, random.Random(f"tracegraph-plant:{seed}:defect"), start, end)
    truth = _inject(plan, defect, start, end) if defect is not None and injection is None else None
    truth = injection.truth if injection is not None else truth

    out_dir.mkdir(parents=True, exist_ok=True)
    with PlantWriter(out_dir) as out:
        _write_master_data(out, plan)
        _write_production(out, plan)
        write_process_data(
            out, plan, random.Random(f"tracegraph-plant:{seed}:process"), injection.drift if injection else None
        )
        distribution = Distribution(
            random.Random(f"tracegraph-plant:{seed}:distribution"),
            out,
            start=start,
            end=end,
            shipping_cutoff=plan.shipping_cutoff,
            profile=profile,
            defect=defect,
            affected_lots=frozenset(truth.finished_lots) if truth else frozenset(),
            market=market,
        )
        distribution.mislabel = injection.mislabel if injection else None
        distribution.run(plan.finished)
        complaints = _write_complaints(out, distribution)

    defects = []
    if truth is not None:
        defects.append(
            truth.model_copy(
                update={
                    "devices": sorted(distribution.affected_devices),
                    "device_count": len(distribution.affected_devices),
                    "complaints": [key for key, c in complaints if c.caused_by_defect],
                }
            )
        )
    manifest = PlantManifest(
        scale=scale,
        seed=seed,
        market=market,
        period_start=_dt(start),
        period_end=_dt(end),
        files=dict(out.rows),
        nodes_by_kind={k.value: n for k, n in sorted(out.nodes.items()) if n},
        edges_by_type={t.value: n for t, n in sorted(out.edges.items()) if n},
        notable=_notable(plan, distribution, complaints),
        defects=defects,
        nmpa=_nmpa_keys(plan, distribution) if market == "cn" else None,
    )
    if market == "cn":
        _write_nmpa_facts(out_dir / "nmpa-facts.yaml", distribution)
    (out_dir / "manifest.json").write_bytes(
        orjson.dumps(manifest.model_dump(mode="json"), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return manifest


def _dt(t: int) -> datetime:
    value = from_epoch(t)
    assert value is not None
    return value


def _quantity(value: float) -> str:
    """``12.5``, ``250``: no float noise, no exponent."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


# -- master data ----------------------------------------------------------------------------


def _write_master_data(out: PlantWriter, plan: ProductionPlan) -> None:
    for supplier in SUPPLIERS:
        out.write("suppliers.csv", (supplier.key, supplier.name, supplier.country, supplier.status))
    out.nodes_added(NodeKind.SUPPLIER, len(SUPPLIERS))
    for part in PARTS:
        out.write("parts.csv", (part.key, part.name, part.part_type, part.unit, part.gtin, part.shelf_life_days))
    out.nodes_added(NodeKind.PART, len(PARTS))
    for parent, child, per in BOM:
        out.write("bom.csv", (f"part:{parent}", f"part:{child}", _quantity(per), PARTS_BY_CODE[child].unit))
    out.edges_added(EdgeType.COMPONENT_OF, len(BOM))
    labels = {m.type: m.label for m in MACHINE_TYPES}
    for machine in plan.machines:
        name = f"{labels[machine.type.type]} {machine.code[-2:].lstrip('0')}"
        out.write(
            "equipment.csv",
            (machine.key, name, machine.type.type, machine.serial_number, PLANT_SITE, machine.type.calibration_days),
        )
    out.nodes_added(NodeKind.EQUIPMENT, len(plan.machines))


# -- production -----------------------------------------------------------------------------


def _write_production(out: PlantWriter, plan: ProductionPlan) -> None:
    for lot in plan.receipts:
        expiry = iso_date(lot.received_at + 730 * DAY) if lot.part.part_type == "raw_material" else None
        assert lot.supplier is not None
        out.write(
            "receipts.csv",
            (
                lot.key,
                f"supplier:{lot.supplier}",
                lot.part.key,
                lot.supplier_lot,
                _quantity(lot.quantity),
                lot.part.unit,
                iso_time(lot.received_at),
                expiry,
            ),
        )
    out.nodes_added(NodeKind.MATERIAL_LOT, len(plan.receipts))
    out.edges_added(EdgeType.SUPPLIED, len(plan.receipts))

    for calibration in plan.calibrations:
        out.write(
            "calibrations.csv",
            (
                calibration.key,
                calibration.machine.key,
                iso_time(calibration.at),
                calibration.result,
                iso_date(calibration.next_due),
                "Metrology lab",
                "CERT-" + calibration.key.rsplit("-", 1)[1],
            ),
        )
    out.nodes_added(NodeKind.INSPECTION, len(plan.calibrations))
    out.edges_added(EdgeType.INSPECTED, len(plan.calibrations))

    for wo in plan.work_orders:
        out.write(
            "work_orders.csv",
            (
                wo.key,
                wo.part.key,
                PLANT_SITE,
                _quantity(wo.quantity),
                iso_time(wo.planned_start),
                iso_time(wo.planned_finish),
                iso_time(wo.start),
                iso_time(wo.finish),
            ),
        )
        for c in wo.consumed:
            out.write("consumption.csv", (c.lot.key, wo.key, _quantity(c.quantity), c.lot.part.unit, iso_time(c.at)))
        for machine, begin, finish in wo.uses:
            out.write("equipment_use.csv", (machine.key, wo.key, iso_time(begin), iso_time(finish)))
        out.edges_added(EdgeType.CONSUMED_BY, len(wo.consumed))
        out.edges_added(EdgeType.USED_IN, len(wo.uses))
    out.nodes_added(NodeKind.WORK_ORDER, len(plan.work_orders))

    for lot in sorted(plan.product_lots, key=lambda lot: lot.key):
        maker = lot.work_order
        assert maker is not None
        if lot.part.part_type == "finished":
            manufactured = iso_date(maker.start)
            expiry = iso_date(maker.start + (lot.part.shelf_life_days or 0) * DAY)
        else:
            manufactured, expiry = iso_date(maker.finish), None
        out.write(
            "product_lots.csv",
            (
                lot.key,
                lot.part.key,
                maker.key,
                _quantity(lot.quantity),
                lot.part.unit,
                iso_time(maker.finish),
                manufactured,
                expiry,
            ),
        )
    out.nodes_added(NodeKind.PRODUCT_LOT, len(plan.product_lots))
    out.edges_added(EdgeType.PRODUCED, len(plan.product_lots))
    out.edges_added(EdgeType.OF_PART, len(plan.product_lots) + len(plan.receipts))

    inspectors = {"incoming": "QC incoming", "in_process": "QC production", "final": "QA release"}
    for inspection in plan.inspections:
        measurements = ";".join(f"{name}={value}" for name, value in inspection.measurements.items())
        out.write(
            "inspections.csv",
            (
                inspection.key,
                inspection.target.key,
                inspection.kind,
                inspection.result,
                iso_time(inspection.at),
                measurements or None,
                inspectors[inspection.kind],
                inspection.notes,
            ),
        )
    out.nodes_added(NodeKind.INSPECTION, len(plan.inspections))
    out.edges_added(EdgeType.INSPECTED, len(plan.inspections))


# -- defects --------------------------------------------------------------------------------


def _inject(plan: ProductionPlan, defect: Defect, start: int, end: int) -> DefectTruth:
    """Pick the bad lot and follow the genealogy down to finished lots (devices come later)."""
    code = defect.part.removeprefix("part:")
    target = start + (end - start) * 2 // 5
    candidates = [
        lot
        for lot in plan.receipts
        if lot.part.code == code and lot is not plan.escaped_lot and plan.feeds_shipped_goods(lot)
    ]
    if not candidates:
        raise InvalidInputError(f"no used lot of {defect.part} to make bad: it must be a bought part of the BOM")
    bad = min(candidates, key=lambda lot: (abs(lot.received_at - target), lot.key))
    work_orders, lots = genealogy(bad)
    # A subtle signal for risk scoring: lots made straight from the bad lot inspect marginal.
    for wo in bad.consumed_by:
        if wo.output is not None and wo.output.inspection is not None:
            wo.output.inspection.result = "marginal"
    assert bad.supplier is not None
    return DefectTruth(
        kind=defect.kind,
        lot=bad.key,
        part=bad.part.key,
        supplier=f"supplier:{bad.supplier}",
        work_orders=sorted(wo.key for wo in work_orders),
        lots=sorted(lot.key for lot in lots),
        finished_lots=sorted(lot.key for lot in lots if lot.part.part_type == "finished"),
        devices=[],
        device_count=0,
        complaints=[],
        roots=[bad.key],
    )


# -- complaints and the tour ----------------------------------------------------------------


def _write_complaints(out: PlantWriter, distribution: Distribution) -> list[tuple[str, Complaint]]:
    """Complaints in the order they were received, numbered so."""
    distribution.ensure_a_complaint()
    numbered = []
    ordered = sorted(distribution.complaints, key=lambda c: (c.received_at, c.device))
    for n, complaint in enumerate(ordered, 1):
        key = f"complaint:CMP-{n:06d}"
        out.write(
            "complaints.csv",
            (
                key,
                complaint.device,
                iso_time(complaint.received_at),
                complaint.failure_mode,
                complaint.severity,
                complaint.description,
            ),
        )
        numbered.append((key, complaint))
    out.nodes_added(NodeKind.COMPLAINT, len(numbered))
    out.edges_added(EdgeType.CONCERNS, len(numbered))
    return numbered


def _notable(plan: ProductionPlan, distribution: Distribution, complaints: list[tuple[str, Complaint]]) -> NotableKeys:
    tour = distribution.tour
    case, earlier, later = _reused_case(distribution)
    repacking = max(distribution.distributors, key=lambda d: d.repacked_cases)
    drift = plan.out_of_tolerance
    previous = max((c for c in plan.calibrations if c.machine is drift.machine and c.at < drift.at), key=lambda c: c.at)
    escaped = plan.escaped_lot
    assert escaped.inspection is not None and escaped.supplier is not None
    return NotableKeys(
        failed_incoming_lot=escaped.key,
        failed_incoming_inspection=escaped.inspection.key,
        failed_incoming_supplier=f"supplier:{escaped.supplier}",
        finished_lot=distribution.lot_of(tour.finished_device),
        finished_device=tour.finished_device,
        finished_device_hospital=tour.finished_device_hospital,
        repacking_distributor=repacking.site.key,
        reused_case=case,
        reused_case_earlier_device=earlier,
        reused_case_later_consignee=later,
        on_hand_pallet=tour.on_hand_pallet,
        equipment=drift.machine.key,
        equipment_serial=drift.machine.serial_number,
        out_of_tolerance_calibration=drift.key,
        previous_calibration=previous.key,
        complaint=complaints[0][0],
    )


def _nmpa_keys(plan: ProductionPlan, distribution: Distribution) -> NmpaKeys:
    """An MA-coded device at a hospital, from a lot the failed incoming lot went into if one did."""
    reached = distribution.tour.ma_devices
    if not reached:
        raise RuntimeError("no MA-coded device reached a hospital; the distribution parameters are off")
    _work_orders, lots = genealogy(plan.escaped_lot)
    downstream = sorted(lot.key for lot in lots if lot.key in reached)
    device = reached[downstream[0] if downstream else min(reached)]
    lot = next(lot for lot in plan.product_lots if lot.key == distribution.lot_of(device))
    maker = lot.work_order
    assert maker is not None
    label = ma_label(
        device.split("/")[1],
        serial=device.rsplit("/", 1)[1],
        lot=lot.lot_number,
        manufactured=iso_date(maker.start),
        expiry=iso_date(maker.start + (lot.part.shelf_life_days or 0) * DAY),
    )
    return NmpaKeys(ma_device=device, ma_device_label=label)


# -- the NMPA facts file ---------------------------------------------------------------------------

#: What the graph cannot know about the plant's Chinese business (all fictional), for the NMPA
#: documents; the recall's own facts (reason, measures, handling) are the recall manager's to add.
_NMPA_COMPANY = {
    "name": "阿尔彭医疗器械（上海）有限公司",
    "address": "上海市浦东新区张江路 100 号",
    "contact": "王敏",
    "phone": "021-55550100",
    "licence": "沪药监械生产许20240001号",
    "regulator": "上海市药品监督管理局",
}
_NMPA_PRODUCTS = {
    "part:FG-IVS": {"name": "一次性使用输液器", "registration_number": "国械注进20243140001", "model": "IVS-180"},
    "part:FG-CVC": {
        "name": "中心静脉导管包",
        "registration_number": "国械注进20233030002",
        "model": "CVC-7F3L",
    },
    "part:FG-PTX": {"name": "一次性使用压力传感器", "registration_number": "国械注进20233070003", "model": "PTX-01"},
}


def _write_nmpa_facts(path: Path, distribution: Distribution) -> None:
    consignees = {
        site.key: {"licence": site.licence, "region": site.region}
        for d in distribution.distributors
        for site in (d.site, *d.site.hospitals)
    }
    facts = {"nmpa": {"company": _NMPA_COMPANY, "products": _NMPA_PRODUCTS, "consignees": consignees}}
    header = (
        "# NMPA facts of the synthetic plant (fictional): registrant, registered products, and the\n"
        "# consignees' licence numbers and provinces. Add the recall's reason, measures and handling\n"
        "# under nmpa.recall before writing the recall documents (docs/guides/nmpa.md).\n"
    )
    path.write_text(header + yaml.safe_dump(facts, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")


def _reused_case(distribution: Distribution) -> tuple[str, str, str]:
    """A reused case, a device it held before, and where the case went later — chosen so the
    device itself went elsewhere (or stayed in stock), which makes the over-recall visible."""
    tour = distribution.tour
    fallback: tuple[str, str, str] | None = None
    for case, later in tour.reuses:
        for device in tour.pooled[case]:
            went = tour.watched.get(device, "")
            if went != later:
                if went:
                    return case, device, later
                fallback = fallback or (case, device, later)
    if fallback is None:
        raise RuntimeError("the generated plant has no reused case; the distribution parameters are off")
    return fallback
