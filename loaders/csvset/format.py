"""The recognised files of the CSV format: their columns, and the facts each row becomes.

``CSV_FILES`` is the single description of the format: the reader validates against it, the
synthetic plant writes it, and docs/reference/csv-format.md prints it (a unit test keeps
the document and this module in step). Each file's ``build`` turns one validated row into
facts exactly as DESIGN.md's graph has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from loaders.csvset.fields import Column, FieldError, plain_gs1_key
from loaders.csvset.fields import ColumnType as T
from schema.errors import InvalidKeyError
from schema.identifiers import canonical_key, gtin_key, ma_key
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, NodeFact, Provenance, iso

#: A validated row: every column of the file's spec, ``None`` where empty or absent.
Values = dict[str, Any]


class RowError(Exception):
    """A row whose fields are each fine but that cannot be accepted as a whole."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class RowSink:
    """Where a row's facts go, with the provenance they share and the file's memory.

    ``seen`` lets a file state a node once even when many rows name it (a case on every
    packing row of its devices).
    """

    nodes: list[NodeFact]
    edges: list[EdgeFact]
    seen: set[str]
    provenance: Provenance

    def node(self, key: str, kind: NodeKind, props: dict[str, Any]) -> None:
        self.nodes.append(NodeFact(key=key, kind=kind, props=props, provenance=self.provenance))

    def edge(
        self,
        type_: EdgeType,
        source: str,
        target: str,
        *,
        at: datetime | None = None,
        until: datetime | None = None,
        props: dict[str, Any] | None = None,
    ) -> None:
        self.edges.append(
            EdgeFact(
                type=type_,
                source=source,
                target=target,
                at=at,
                until=until,
                props=props or {},
                provenance=self.provenance,
            )
        )


Builder = Callable[[Values, RowSink], None]


@dataclass(frozen=True)
class CsvFile:
    """One recognised file: what a row means, its columns, and how a row becomes facts."""

    name: str
    title: str
    row: str
    facts: str
    columns: tuple[Column, ...]
    build: Builder

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def props(**values: Any) -> dict[str, Any]:
    """Props without the empty ones: an absent field must not erase what another source said."""
    return {k: v for k, v in values.items() if v is not None}


def _later(v: Values, earlier: str, later: str) -> None:
    """Reject a row whose ``later`` time or date comes before its ``earlier`` one."""
    a, b = v[earlier], v[later]
    if a is None or b is None:
        return
    if isinstance(a, datetime) and not isinstance(b, datetime):
        a = a.date().isoformat()  # a date column compared with a time column: compare days
    if b < a:
        shown_a = iso(a) if isinstance(a, datetime) else a
        shown_b = iso(b) if isinstance(b, datetime) else b
        raise RowError(later, f"{later} {shown_b} is before {earlier} {shown_a}")


def device_key(gtin: str, column: str, *, serial: str | None = None, lot: str | None = None) -> str:
    """The canonical key of a unit (``serial``) or lot of the validated GTIN-14 ``gtin``.

    The value is kept exactly; the key is checked by ``canonical_key`` (GS1 AI 21 and 10
    allow at most 20 characters of GS1's set 82), except in its plainest form, which
    :func:`plain_gs1_key` verifies at a fraction of the cost.
    """
    value = serial if serial is not None else lot
    ai = "21" if serial is not None else "10"
    plain = plain_gs1_key(f"01/{gtin}/{ai}/{value}")
    if plain is not None:
        return plain
    try:
        return canonical_key(gtin_key(gtin, serial=serial, lot=lot))
    except InvalidKeyError as exc:
        raise RowError(column, str(exc)) from None


def ma_device_key(di: str, column: str, *, serial: str | None = None, lot: str | None = None) -> str:
    """The canonical key ``ma/{DI}/21/{serial}`` (or ``/10/{lot}``) of an MA-coded unit or lot.

    ``di`` is checked as an MA (IDcode) device identifier; a wrong one is the ``ma_di``
    column's fault, a value the key cannot hold is ``column``'s.
    """
    try:
        ma_key(di)
    except InvalidKeyError as exc:
        raise RowError("ma_di", str(exc)) from None
    try:
        return ma_key(di, serial=serial, lot=lot)
    except InvalidKeyError as exc:
        raise RowError(column, str(exc)) from None


def natural_part(key: str) -> str:
    """The lot or serial a key names, for props that label it: ``plot:X`` → ``X``,
    ``01/…/10/X`` → ``X``, ``ma/{DI}/10/X`` → ``X``."""
    if key.startswith("01/") and key[17:18] == "/":
        return unquote(key.rsplit("/", 1)[1])
    if key.startswith(("ma/", "hibc/")) and key.count("/") == 3:
        return unquote(key.rsplit("/", 1)[1])
    return key.split(":", 1)[1] if ":" in key else key


def _gtin_of(key: str) -> str | None:
    return key[3:17] if key.startswith("01/") else None


def _ma_di_of(key: str) -> str | None:
    return key.split("/", 2)[1] if key.startswith("ma/") else None


# -- the columns every file shares ------------------------------------------------------

_SUPPLIER = (NodeKind.SUPPLIER,)
_PART = (NodeKind.PART,)
_WORK_ORDER = (NodeKind.WORK_ORDER,)
_EQUIPMENT = (NodeKind.EQUIPMENT,)
_CONSIGNEE = (NodeKind.CONSIGNEE,)


def _part(meaning: str, example: str = "part:CMP-TUB") -> Column:
    return Column("part", T.KEY, True, meaning, example, kinds=_PART)


def _work_order(meaning: str, *, required: bool = True) -> Column:
    return Column("work_order", T.KEY, required, meaning, "wo:WO-000153", kinds=_WORK_ORDER)


# -- catalogue ---------------------------------------------------------------------------


def _build_supplier(v: Values, out: RowSink) -> None:
    out.node(v["supplier"], NodeKind.SUPPLIER, props(name=v["name"], country=v["country"], status=v["status"]))


def _build_part(v: Values, out: RowSink) -> None:
    out.node(
        v["part"],
        NodeKind.PART,
        props(
            name=v["name"],
            part_type=v["part_type"],
            unit=v["unit"],
            gtin=v["gtin"],
            shelf_life_days=v["shelf_life_days"],
        ),
    )


def _build_bom(v: Values, out: RowSink) -> None:
    if v["part"] == v["parent_part"]:
        raise RowError("part", f"{v['part']} cannot be a component of itself")
    out.edge(
        EdgeType.COMPONENT_OF, v["part"], v["parent_part"], props=props(quantity_per=v["quantity_per"], unit=v["unit"])
    )


def _build_equipment(v: Values, out: RowSink) -> None:
    out.node(
        v["equipment"],
        NodeKind.EQUIPMENT,
        props(
            name=v["name"],
            equipment_type=v["equipment_type"],
            serial_number=v["serial_number"],
            site=v["site"],
            calibration_interval_days=v["calibration_interval_days"],
        ),
    )


def _build_consignee(v: Values, out: RowSink) -> None:
    out.node(
        v["consignee"],
        NodeKind.CONSIGNEE,
        props(name=v["name"], consignee_type=v["consignee_type"], address=v["address"], country=v["country"]),
    )


# -- materials and production -------------------------------------------------------------


def _build_receipt(v: Values, out: RowSink) -> None:
    lot = v["lot"]
    received = v["received_at"]
    out.node(
        lot,
        NodeKind.MATERIAL_LOT,
        props(
            lot=natural_part(lot),
            part=v["part"],
            supplier=v["supplier"],
            supplier_lot=v["supplier_lot"],
            quantity=v["quantity"],
            unit=v["unit"],
            received_at=iso(received),
            expiry=v["expiry"],
        ),
    )
    out.edge(EdgeType.SUPPLIED, v["supplier"], lot, at=received, props=props(quantity=v["quantity"], unit=v["unit"]))
    out.edge(EdgeType.OF_PART, lot, v["part"])


def _build_calibration(v: Values, out: RowSink) -> None:
    _later(v, "calibrated_at", "next_due")
    at = v["calibrated_at"]
    out.node(
        v["calibration"],
        NodeKind.INSPECTION,
        props(
            type="calibration",
            result=v["result"],
            at=iso(at),
            next_due=v["next_due"],
            performed_by=v["performed_by"],
            certificate=v["certificate"],
            target=v["equipment"],
        ),
    )
    out.edge(EdgeType.INSPECTED, v["calibration"], v["equipment"], at=at)


def _build_work_order(v: Values, out: RowSink) -> None:
    _later(v, "planned_start", "planned_finish")
    _later(v, "started_at", "finished_at")
    out.node(
        v["work_order"],
        NodeKind.WORK_ORDER,
        props(
            part=v["part"],
            site=v["site"],
            quantity=v["quantity"],
            planned_start=iso(v["planned_start"]),
            planned_finish=iso(v["planned_finish"]),
            started_at=iso(v["started_at"]),
            finished_at=iso(v["finished_at"]),
        ),
    )


def _build_consumption(v: Values, out: RowSink) -> None:
    out.edge(
        EdgeType.CONSUMED_BY,
        v["lot"],
        v["work_order"],
        at=v["consumed_at"],
        props=props(quantity=v["quantity"], unit=v["unit"]),
    )


def _build_equipment_use(v: Values, out: RowSink) -> None:
    _later(v, "from", "to")
    out.edge(EdgeType.USED_IN, v["equipment"], v["work_order"], at=v["from"], until=v["to"])


def _build_product_lot(v: Values, out: RowSink) -> None:
    _later(v, "manufactured", "expiry")
    lot = v["lot"]
    out.node(
        lot,
        NodeKind.PRODUCT_LOT,
        props(
            lot=natural_part(lot),
            gtin=_gtin_of(lot),
            di=_ma_di_of(lot),
            part=v["part"],
            quantity=v["quantity"],
            unit=v["unit"],
            manufactured=v["manufactured"],
            expiry=v["expiry"],
        ),
    )
    out.edge(EdgeType.PRODUCED, v["work_order"], lot, at=v["produced_at"], props=props(quantity=v["quantity"]))
    out.edge(EdgeType.OF_PART, lot, v["part"])


def _build_device(v: Values, out: RowSink) -> None:
    _later(v, "manufactured", "expiry")
    _later(v, "produced_at", "expiry")
    gtin, di, serial, lot = v["gtin"], v["ma_di"], v["serial"], v["lot"]
    if gtin is not None and di is not None:
        raise RowError("ma_di", "give the device identifier once: gtin or ma_di, not both")
    if gtin is not None:
        device = device_key(gtin, "serial", serial=serial)
        lot_key = device_key(gtin, "lot", lot=lot) if lot is not None else None
    elif di is not None:
        device = ma_device_key(di, "serial", serial=serial)
        lot_key = ma_device_key(di, "lot", lot=lot) if lot is not None else None
        di = di.upper()  # as the key has it: labels print the same DI in either case
    else:
        raise RowError("gtin", "missing value: a device needs its gtin or, for an MA-coded device, its ma_di")
    out.node(
        device,
        NodeKind.DEVICE,
        props(gtin=gtin, di=di, serial=serial, lot=lot, manufactured=v["manufactured"], expiry=v["expiry"]),
    )
    if lot_key is not None:
        out.edge(EdgeType.INCLUDES, lot_key, device)
    if v["work_order"] is not None:
        out.edge(EdgeType.PRODUCED, v["work_order"], device, at=v["produced_at"])


# -- packing and distribution ---------------------------------------------------------------


def _build_packing(v: Values, out: RowSink) -> None:
    item, container = v["item"], v["container"]
    if item == container:
        raise RowError("container", f"{item} cannot be packed into itself")
    _later(v, "packed_at", "unpacked_at")
    kind = v["container_type"]
    if kind is not None and container not in out.seen:
        out.seen.add(container)
        out.node(container, NodeKind.CONTAINER, {"container_type": kind})
    out.edge(EdgeType.PACKED_IN, item, container, at=v["packed_at"], until=v["unpacked_at"])


def _build_shipment(v: Values, out: RowSink) -> None:
    _later(v, "shipped_at", "delivered_at")
    shipment, delivered = v["shipment"], v["delivered_at"]
    out.node(
        shipment,
        NodeKind.SHIPMENT,
        props(
            from_site=v["from_site"],
            consignee=v["consignee"],
            shipped_at=iso(v["shipped_at"]),
            delivered_at=iso(delivered),
            carrier=v["carrier"],
        ),
    )
    out.edge(EdgeType.DELIVERED_TO, shipment, v["consignee"], at=delivered)


def _build_shipment_content(v: Values, out: RowSink) -> None:
    if v["item"] == v["shipment"]:
        raise RowError("item", "a shipment cannot contain itself")
    out.edge(EdgeType.SHIPPED_IN, v["item"], v["shipment"], at=v["shipped_at"], props=props(quantity=v["quantity"]))


# -- quality --------------------------------------------------------------------------------


def _build_inspection(v: Values, out: RowSink) -> None:
    at = v["inspected_at"]
    out.node(
        v["inspection"],
        NodeKind.INSPECTION,
        props(
            type=v["inspection_type"],
            result=v["result"],
            at=iso(at),
            measurements=v["measurements"],
            inspector=v["inspector"],
            notes=v["notes"],
            target=v["target"],
        ),
    )
    out.edge(EdgeType.INSPECTED, v["inspection"], v["target"], at=at)


def _build_complaint(v: Values, out: RowSink) -> None:
    at = v["received_at"]
    out.node(
        v["complaint"],
        NodeKind.COMPLAINT,
        props(
            device=v["device"],
            received_at=iso(at),
            failure_mode=v["failure_mode"],
            severity=v["severity"],
            description=v["description"],
        ),
    )
    out.edge(EdgeType.CONCERNS, v["complaint"], v["device"], at=at)


def _build_process_run(v: Values, out: RowSink) -> None:
    _later(v, "started_at", "ended_at")
    samples: dict[str, float | int] = {}
    for at, value in v["samples"].items():
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            raise RowError("samples", f"sample time {at!r} is not an ISO 8601 time (write time=value)") from None
        samples[iso(when if when.tzinfo else when.replace(tzinfo=UTC)) or at] = value
    run, at = v["run"], v["started_at"]
    out.node(
        run,
        NodeKind.PROCESS_RUN,
        props(
            equipment=v["equipment"],
            work_order=v["work_order"],
            parameter=v["parameter"],
            unit=v["unit"],
            started_at=iso(at),
            ended_at=iso(v["ended_at"]),
            limits=v["limits"],
            samples=dict(sorted(samples.items())),
        ),
    )
    out.edge(EdgeType.INSPECTED, run, v["equipment"], at=at)
    if v["work_order"] is not None:
        out.edge(EdgeType.INSPECTED, run, v["work_order"], at=at)


_FILES: tuple[CsvFile, ...] = (
    CsvFile(
        "suppliers.csv",
        "Suppliers",
        "one supplier",
        "a `Supplier` node",
        (
            Column("supplier", T.KEY, True, "The supplier", "supplier:SUP-001", kinds=_SUPPLIER),
            Column("name", T.TEXT, True, "Company name", "Polymed Compounds GmbH"),
            Column("country", T.TEXT, False, "ISO 3166-1 alpha-2 country code", "DE"),
            Column(
                "status",
                T.CHOICE,
                False,
                "Approval status on the approved supplier list",
                "approved",
                choices=("approved", "conditional", "disqualified"),
            ),
        ),
        _build_supplier,
    ),
    CsvFile(
        "parts.csv",
        "Parts",
        "one part number of the item master: raw material, component, subassembly or finished device",
        "a `Part` node",
        (
            _part("The part", "part:FG-IVS"),
            Column("name", T.TEXT, True, "Description", "Infusion set, 180 cm, needle-free valve"),
            Column(
                "part_type",
                T.CHOICE,
                True,
                "Where the part sits in the BOM: bought (raw material, purchased component) or made",
                "finished",
                choices=("raw_material", "purchased_component", "component", "subassembly", "finished"),
            ),
            Column("unit", T.TEXT, False, "Unit quantities of this part are counted in", "ea"),
            Column(
                "gtin",
                T.GTIN,
                False,
                "GTIN of a finished device (8, 12, 13 or 14 digits; stored as GTIN-14)",
                "07612345000107",
            ),
            Column("shelf_life_days", T.INTEGER, False, "Shelf life from manufacture, in days", "1095"),
        ),
        _build_part,
    ),
    CsvFile(
        "bom.csv",
        "Bill of materials",
        "one component line of a part's bill of materials",
        "`COMPONENT_OF` (part → parent part), props `quantity_per`, `unit`",
        (
            Column("parent_part", T.KEY, True, "The part being built", "part:SA-DCA", kinds=_PART),
            _part("The component that goes into it", "part:CMP-DCH"),
            Column("quantity_per", T.QUANTITY, True, "Quantity of the component per one parent part", "1"),
            Column("unit", T.TEXT, False, "Unit of `quantity_per`", "ea"),
        ),
        _build_bom,
    ),
    CsvFile(
        "receipts.csv",
        "Material lots and receipts",
        "one receipt of a supplier lot of a raw material or purchased component",
        "a `MaterialLot` node; `SUPPLIED` (supplier → lot, at `received_at`, props `quantity`, `unit`); "
        "`OF_PART` (lot → part)",
        (
            Column(
                "lot",
                T.KEY,
                True,
                "The material lot as the plant identifies it (a GS1 lot key of a purchased component is accepted; "
                "the node is a MaterialLot either way)",
                "lot:R-000123",
                kinds=(NodeKind.MATERIAL_LOT, NodeKind.PRODUCT_LOT),
            ),
            Column("supplier", T.KEY, True, "Who supplied it", "supplier:SUP-001", kinds=_SUPPLIER),
            _part("What it is a lot of", "part:RM-PVC"),
            Column("supplier_lot", T.TEXT, False, "The supplier's own lot number", "PC-24-0871"),
            Column("quantity", T.QUANTITY, True, "Quantity received", "250"),
            Column("unit", T.TEXT, True, "Unit of `quantity`", "kg"),
            Column("received_at", T.TIME, True, "When it was received at the plant", "2024-01-08T09:15:00Z"),
            Column("expiry", T.DATE, False, "Expiry or retest date", "2026-01-31"),
        ),
        _build_receipt,
    ),
    CsvFile(
        "equipment.csv",
        "Equipment",
        "one machine, tool or instrument",
        "an `Equipment` node",
        (
            Column("equipment", T.KEY, True, "The equipment", "equipment:EXT-01", kinds=_EQUIPMENT),
            Column("name", T.TEXT, True, "Description", "Tubing extruder 1"),
            Column("equipment_type", T.TEXT, True, "Kind of equipment", "extruder"),
            Column("serial_number", T.TEXT, False, "Manufacturer's serial number", "EX45-118734"),
            Column("site", T.TEXT, False, "Site or hall where it stands", "Plant 1, hall B"),
            Column("calibration_interval_days", T.INTEGER, False, "Required calibration interval, in days", "180"),
        ),
        _build_equipment,
    ),
    CsvFile(
        "calibrations.csv",
        "Calibrations",
        "one calibration of a piece of equipment",
        "an `Inspection` node with `type` = `calibration`; `INSPECTED` (calibration → equipment, at `calibrated_at`)",
        (
            Column(
                "calibration",
                T.KEY,
                True,
                "The calibration record",
                "inspection:CAL-000042",
                kinds=(NodeKind.INSPECTION,),
            ),
            Column("equipment", T.KEY, True, "What was calibrated", "equipment:EXT-01", kinds=_EQUIPMENT),
            Column("calibrated_at", T.TIME, True, "When", "2024-02-01T07:30:00Z"),
            Column(
                "result",
                T.CHOICE,
                True,
                "Outcome; `out_of_tolerance` means it had drifted since the last calibration",
                "pass",
                choices=("pass", "fail", "out_of_tolerance"),
            ),
            Column(
                "next_due", T.DATE, False, "When the next calibration is due (not before `calibrated_at`)", "2024-07-30"
            ),
            Column("performed_by", T.TEXT, False, "Technician or calibration lab", "Metrology lab"),
            Column("certificate", T.TEXT, False, "Certificate number", "CERT-24-0042"),
        ),
        _build_calibration,
    ),
    CsvFile(
        "work_orders.csv",
        "Work orders",
        "one work order (production order) making a part",
        "a `WorkOrder` node",
        (
            _work_order("The work order"),
            _part("The part it makes"),
            Column("site", T.TEXT, False, "Where it ran", "Plant 1"),
            Column("quantity", T.QUANTITY, False, "Planned quantity", "2000"),
            Column("planned_start", T.TIME, False, "Planned start", "2024-03-04T06:00:00Z"),
            Column(
                "planned_finish", T.TIME, False, "Planned finish (not before `planned_start`)", "2024-03-05T14:00:00Z"
            ),
            Column("started_at", T.TIME, False, "Actual start", "2024-03-04T06:20:00Z"),
            Column(
                "finished_at",
                T.TIME,
                False,
                "Actual finish (not before `started_at`); empty while running",
                "2024-03-05T15:10:00Z",
            ),
        ),
        _build_work_order,
    ),
    CsvFile(
        "consumption.csv",
        "Consumption",
        "one issue of a lot to a work order",
        "`CONSUMED_BY` (lot → work order, at `consumed_at`, props `quantity`, `unit`)",
        (
            Column(
                "lot",
                T.KEY,
                True,
                "The material or product lot consumed",
                "lot:R-000123",
                kinds=(NodeKind.MATERIAL_LOT, NodeKind.PRODUCT_LOT),
            ),
            _work_order("The work order that consumed it"),
            Column("quantity", T.QUANTITY, True, "Quantity consumed", "12.5"),
            Column("unit", T.TEXT, False, "Unit of `quantity`", "kg"),
            Column("consumed_at", T.TIME, True, "When it was issued to the work order", "2024-03-04T06:25:00Z"),
        ),
        _build_consumption,
    ),
    CsvFile(
        "equipment_use.csv",
        "Equipment use",
        "one period during which a work order ran on a piece of equipment",
        "`USED_IN` (equipment → work order, `at` = `from`, `until` = `to`)",
        (
            Column("equipment", T.KEY, True, "The equipment", "equipment:EXT-01", kinds=_EQUIPMENT),
            _work_order("The work order that ran on it"),
            Column("from", T.TIME, True, "Start of use", "2024-03-04T06:20:00Z"),
            Column("to", T.TIME, False, "End of use (not before `from`); empty while in use", "2024-03-04T18:05:00Z"),
        ),
        _build_equipment_use,
    ),
    CsvFile(
        "product_lots.csv",
        "Product lots",
        "one lot produced by a work order: an internal component or subassembly lot, or a finished GS1 lot",
        "a `ProductLot` node; `PRODUCED` (work order → lot, at `produced_at`, prop `quantity`); `OF_PART` (lot → part)",
        (
            Column(
                "lot",
                T.KEY,
                True,
                "The lot: `plot:…` for internal lots, `01/{GTIN-14}/10/{lot}` (or any form of it) for finished lots",
                "01/07612345000107/10/L240305-01",
                kinds=(NodeKind.PRODUCT_LOT,),
            ),
            _part("What it is a lot of", "part:FG-IVS"),
            _work_order("The work order that produced it"),
            Column("quantity", T.QUANTITY, False, "Quantity produced", "2000"),
            Column("unit", T.TEXT, False, "Unit of `quantity`", "ea"),
            Column("produced_at", T.TIME, False, "When the lot was complete", "2024-03-05T15:10:00Z"),
            Column("manufactured", T.DATE, True, "Date of manufacture (as on the label)", "2024-03-05"),
            Column("expiry", T.DATE, False, "Expiry date (not before `manufactured`)", "2027-03-04"),
        ),
        _build_product_lot,
    ),
    CsvFile(
        "devices.csv",
        "Devices",
        "one serialised unit, identified by a GTIN (GS1) or an MA device identifier (China IDcode), and its serial",
        "a `Device` node `01/{GTIN-14}/21/{serial}` (`ma/{MA DI}/21/{serial}` for an MA-coded device); `INCLUDES` "
        "(lot `01/{GTIN-14}/10/{lot}` or `ma/{MA DI}/10/{lot}` → device) when `lot` is given; `PRODUCED` (work "
        "order → device, at `produced_at`) when `work_order` is given",
        (
            Column(
                "gtin",
                T.GTIN,
                False,
                "GTIN of the device (8, 12, 13 or 14 digits); every row gives either `gtin` or `ma_di`",
                "07612345000107",
            ),
            Column(
                "ma_di",
                T.TEXT,
                False,
                "Instead of `gtin`: the MA (IDcode) device identifier of an MA-coded device, "
                "`MA.156.M0.{registrant}.{packaging level}{item}{check}`, e.g. `MA.156.M0.100888.100001017`",
                "",
            ),
            Column(
                "serial", T.TEXT, True, "Serial number (GS1 AI 21, MA `.S`), kept exactly as written", "IVS000012345"
            ),
            Column("lot", T.TEXT, False, "Lot number (GS1 AI 10, MA `.L`) the device belongs to", "L240305-01"),
            _work_order("The work order that produced it", required=False),
            Column("produced_at", T.TIME, False, "When it was made", "2024-03-04T11:42:10Z"),
            Column("manufactured", T.DATE, False, "Date of manufacture", "2024-03-04"),
            Column("expiry", T.DATE, False, "Expiry date (not before `manufactured`)", "2027-03-04"),
        ),
        _build_device,
    ),
    CsvFile(
        "packing.csv",
        "Packing",
        "one stay of an item in a container, from packing to unpacking",
        "`PACKED_IN` (item → container, `at` = `packed_at`, `until` = `unpacked_at`); a `Container` node with "
        "`container_type` the first time the file names the container with a type",
        (
            Column(
                "item",
                T.KEY,
                True,
                "What was packed: a device or a smaller container",
                "01/07612345000107/21/IVS000012345",
                kinds=(NodeKind.DEVICE, NodeKind.CONTAINER),
            ),
            Column(
                "container",
                T.KEY,
                True,
                "The container: a case or pallet (`00/{SSCC-18}` or any form of it)",
                "00/076123450000001234",
                kinds=(NodeKind.CONTAINER,),
            ),
            Column("packed_at", T.TIME, True, "When it was packed", "2024-03-06T08:00:00Z"),
            Column(
                "unpacked_at",
                T.TIME,
                False,
                "When it was taken out (not before `packed_at`); empty while inside",
                "2024-03-11T13:20:00Z",
            ),
            Column("container_type", T.TEXT, False, "Kind of container", "case"),
        ),
        _build_packing,
    ),
    CsvFile(
        "shipments.csv",
        "Shipments",
        "one shipment from a site to a consignee",
        "a `Shipment` node; `DELIVERED_TO` (shipment → consignee, at `delivered_at`)",
        (
            Column("shipment", T.KEY, True, "The shipment", "shipment:SH-0000042", kinds=(NodeKind.SHIPMENT,)),
            Column(
                "from_site",
                T.KEY,
                True,
                "The shipping site: the plant's or a distributor's location",
                "414/7612345000015",
                kinds=_CONSIGNEE,
            ),
            Column("consignee", T.KEY, True, "Where it goes", "414/4012345000016", kinds=_CONSIGNEE),
            Column("shipped_at", T.TIME, True, "When it left", "2024-03-08T16:00:00Z"),
            Column(
                "delivered_at",
                T.TIME,
                False,
                "When it arrived (not before `shipped_at`); empty in transit",
                "2024-03-10T09:30:00Z",
            ),
            Column("carrier", T.TEXT, False, "Carrier", "Alpine Freight"),
        ),
        _build_shipment,
    ),
    CsvFile(
        "shipment_contents.csv",
        "Shipment contents",
        "one item or container loaded into a shipment",
        "`SHIPPED_IN` (item → shipment, at `shipped_at`, prop `quantity`)",
        (
            Column("shipment", T.KEY, True, "The shipment", "shipment:SH-0000042", kinds=(NodeKind.SHIPMENT,)),
            Column(
                "item",
                T.KEY,
                True,
                "What was loaded: a container (pallet, case), a device, or a lot",
                "00/076123450000009872",
                kinds=(NodeKind.CONTAINER, NodeKind.DEVICE, NodeKind.PRODUCT_LOT),
            ),
            Column("shipped_at", T.TIME, True, "When it was loaded and shipped", "2024-03-08T16:00:00Z"),
            Column("quantity", T.QUANTITY, False, "Quantity, when a lot is shipped in bulk", "500"),
        ),
        _build_shipment_content,
    ),
    CsvFile(
        "consignees.csv",
        "Consignees",
        "one customer location: a distributor's warehouse or a hospital",
        "a `Consignee` node",
        (
            Column(
                "consignee",
                T.KEY,
                True,
                "The location: `414/{GLN}` (or any form of it) or `consignee:{code}`",
                "414/4012345000016",
                kinds=_CONSIGNEE,
            ),
            Column("name", T.TEXT, True, "Name", "MedLog Distribution Süd"),
            Column(
                "consignee_type",
                T.CHOICE,
                True,
                "What kind of consignee",
                "distributor",
                choices=("distributor", "hospital", "clinic", "pharmacy", "other"),
            ),
            Column("address", T.TEXT, False, "Postal address", "Industriestraße 12, 80939 München"),
            Column("country", T.TEXT, False, "ISO 3166-1 alpha-2 country code", "DE"),
        ),
        _build_consignee,
    ),
    CsvFile(
        "inspections.csv",
        "Inspections",
        "one quality inspection of a lot, work order, device or other target",
        "an `Inspection` node; `INSPECTED` (inspection → target, at `inspected_at`)",
        (
            Column(
                "inspection",
                T.KEY,
                True,
                "The inspection record",
                "inspection:INC-000017",
                kinds=(NodeKind.INSPECTION,),
            ),
            Column("target", T.KEY, True, "What was inspected (any key)", "lot:R-000123"),
            Column(
                "inspection_type",
                T.CHOICE,
                True,
                "Stage of the inspection",
                "incoming",
                choices=("incoming", "in_process", "final", "calibration"),
            ),
            Column("result", T.CHOICE, True, "Outcome", "fail", choices=("pass", "fail", "marginal")),
            Column("inspected_at", T.TIME, True, "When", "2024-01-08T14:00:00Z"),
            Column(
                "measurements",
                T.MEASUREMENTS,
                False,
                "Measured values as `name=value` pairs separated by `;`",
                "shore_a=82.5;melt_flow=14.1",
            ),
            Column("inspector", T.TEXT, False, "Who inspected", "QC incoming"),
            Column("notes", T.TEXT, False, "Free text", "Hardness above specification"),
        ),
        _build_inspection,
    ),
    CsvFile(
        "complaints.csv",
        "Complaints",
        "one complaint about a device",
        "a `Complaint` node; `CONCERNS` (complaint → device, at `received_at`)",
        (
            Column("complaint", T.KEY, True, "The complaint", "complaint:CMP-000007", kinds=(NodeKind.COMPLAINT,)),
            Column(
                "device",
                T.KEY,
                True,
                "The device complained about",
                "01/07612345000107/21/IVS000012345",
                kinds=(NodeKind.DEVICE,),
            ),
            Column("received_at", T.TIME, True, "When the complaint was received", "2024-05-02T10:00:00Z"),
            Column("failure_mode", T.TEXT, True, "Reported failure mode", "leak at luer connector"),
            Column(
                "severity",
                T.CHOICE,
                True,
                "Severity as triaged",
                "high",
                choices=("low", "medium", "high", "critical"),
            ),
            Column("description", T.TEXT, False, "Free text", "Leak noticed during priming"),
        ),
        _build_complaint,
    ),
    CsvFile(
        "process_data.csv",
        "Process data",
        "one run of a process parameter on a piece of equipment (for a work order): its sample series",
        "a `ProcessRun` node with the samples in `samples`; `INSPECTED` (run → equipment, and run → work order "
        "when given, at `started_at`)",
        (
            Column("run", T.KEY, True, "The run of samples", "run:PR-000001", kinds=(NodeKind.PROCESS_RUN,)),
            Column("equipment", T.KEY, True, "Where the parameter was measured", "equipment:EXT-01", kinds=_EQUIPMENT),
            _work_order("The work order running meanwhile", required=False),
            Column("parameter", T.TEXT, True, "Process parameter", "melt_temp_c"),
            Column("unit", T.TEXT, False, "Unit of the values", "°C"),
            Column("started_at", T.TIME, True, "First sample", "2024-03-04T06:30:00Z"),
            Column("ended_at", T.TIME, False, "Last sample (not before `started_at`)", "2024-03-04T07:30:00Z"),
            Column(
                "samples",
                T.MEASUREMENTS,
                True,
                "The samples as `time=value` pairs separated by `;` (ISO 8601 times)",
                "2024-03-04T06:30:00Z=190.2;2024-03-04T07:00:00Z=189.6;2024-03-04T07:30:00Z=190.9",
            ),
            Column(
                "limits",
                T.MEASUREMENTS,
                False,
                "Specification limits and set point as `lsl`, `target`, `usl` pairs",
                "lsl=185;target=190;usl=195",
            ),
        ),
        _build_process_run,
    ),
)

#: Every recognised file by name, in the order a directory is read (catalogue first).
CSV_FILES: dict[str, CsvFile] = {f.name: f for f in _FILES}

#: Files a plant directory may hold besides the recognised ones, without a reject.
IGNORED_NAMES = ("manifest.json", "nmpa-facts.yaml")
IGNORED_PREFIXES = ("README",)

#: Columns starting with this are extensions of the exporting system, read past without a reject.
EXTENSION_PREFIX = "x_"


def _check_spec() -> None:
    """Keep the specs honest at import: unique names, and every example valid."""
    for spec in _FILES:
        names = spec.column_names
        assert len(set(names)) == len(names), spec.name
        for column in spec.columns:
            if column.type is T.CHOICE:
                assert column.example in column.choices, (spec.name, column.name)


_check_spec()

__all__ = ["CSV_FILES", "EXTENSION_PREFIX", "IGNORED_NAMES", "IGNORED_PREFIXES", "CsvFile", "FieldError", "RowError"]
