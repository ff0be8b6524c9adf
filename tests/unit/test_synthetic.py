"""The synthetic plant: deterministic, valid, time-consistent, and interesting to trace."""

from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from graph.sqlite.store import SQLiteStore
from loaders.base import ParseResult
from loaders.csvset import CSV_FILES, parse_csv_path
from loaders.synthetic import Defect, PlantManifest, generate_plant
from schema.errors import InvalidInputError
from schema.kinds import NodeKind
from schema.model import FactBatch, TraceDirection, TraceQuery
from schema.udi import parse_udi
from services.nmpa import load_facts


@dataclass(frozen=True)
class Plant:
    path: Path
    manifest: PlantManifest
    parsed: ParseResult

    def rows(self, name: str) -> list[dict[str, str]]:
        with (self.path / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Plant:
    path = tmp_path_factory.mktemp("plant")
    manifest = generate_plant(path, scale="small", seed=7)
    return Plant(path, manifest, parse_csv_path(path))


@pytest.fixture(scope="module")
def store(plant: Plant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path_factory.mktemp("store") / "t.db")
    s.migrate()
    s.apply(FactBatch(source="small plant", nodes=tuple(plant.parsed.nodes), edges=tuple(plant.parsed.edges)))
    yield s
    s.close()


def t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def mod10_ok(number: str) -> bool:
    """GS1 check digit, written out independently of schema.identifiers."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(number[:-1])))
    return number.isdigit() and (10 - total % 10) % 10 == int(number[-1])


# -- determinism and validity ----------------------------------------------------------------------


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate_plant(tmp_path / "a", scale="small", seed=3)
    generate_plant(tmp_path / "b", scale="small", seed=3)
    generate_plant(tmp_path / "c", scale="small", seed=4)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([*CSV_FILES, "manifest.json"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / "devices.csv").read_bytes() != (tmp_path / "c" / "devices.csv").read_bytes()


def test_it_loads_with_no_reject_and_as_the_manifest_counts(plant: Plant) -> None:
    parsed, manifest = plant.parsed, plant.manifest
    assert parsed.rejects == []
    assert parsed.records == sum(manifest.files.values())
    for name, count in manifest.files.items():
        assert len(plant.rows(name)) == count, name
    distinct = {n.key: n.kind for n in parsed.nodes}
    assert dict(Counter(k.value for k in distinct.values())) == manifest.nodes_by_kind
    assert dict(Counter(e.type.value for e in parsed.edges)) == manifest.edges_by_type
    assert 800 <= manifest.devices <= 1200
    assert 10 <= manifest.nodes_by_kind["Supplier"] <= 40
    assert PlantManifest.model_validate_json((plant.path / "manifest.json").read_text()) == manifest


def test_gs1_numbers_carry_valid_check_digits(plant: Plant) -> None:
    gtins = {r["gtin"] for r in plant.rows("parts.csv") if r["gtin"]}
    assert len(gtins) == 3 and all(len(g) == 14 and mod10_ok(g) for g in gtins)
    assert {r["gtin"] for r in plant.rows("devices.csv")} == gtins
    containers = {r["container"] for r in plant.rows("packing.csv")}
    assert containers and all(len(c) == 21 and mod10_ok(c.removeprefix("00/")) for c in containers)
    glns = {r["consignee"] for r in plant.rows("consignees.csv")}
    glns |= {r["from_site"] for r in plant.rows("shipments.csv")}
    assert all(len(g) == 17 and mod10_ok(g.removeprefix("414/")) for g in glns)


def test_the_bom_has_several_levels_and_every_finished_product_is_made(plant: Plant) -> None:
    types = {r["part"]: r["part_type"] for r in plant.rows("parts.csv")}
    assert set(types.values()) == {"raw_material", "purchased_component", "component", "subassembly", "finished"}
    made = Counter(types[r["part"]] for r in plant.rows("work_orders.csv"))
    assert made["component"] and made["subassembly"] and made["finished"]
    assert len({r["part"] for r in plant.rows("product_lots.csv") if types[r["part"]] == "finished"}) == 3


def test_lots_feed_several_work_orders_and_work_orders_consume_several_lots(plant: Plant) -> None:
    consumption = plant.rows("consumption.csv")
    per_lot = Counter(r["lot"] for r in consumption)
    per_work_order = Counter(r["work_order"] for r in consumption)
    assert max(per_lot.values()) >= 2
    assert max(per_work_order.values()) >= 3


# -- time consistency ------------------------------------------------------------------------------


def test_material_is_received_or_made_before_it_is_consumed(plant: Plant) -> None:
    available = {r["lot"]: t(r["received_at"]) for r in plant.rows("receipts.csv")}
    available |= {r["lot"]: t(r["produced_at"]) for r in plant.rows("product_lots.csv")}
    inspected = {r["target"]: t(r["inspected_at"]) for r in plant.rows("inspections.csv")}
    work_orders = {r["work_order"]: r for r in plant.rows("work_orders.csv")}
    for row in plant.rows("consumption.csv"):
        at = t(row["consumed_at"])
        assert available[row["lot"]] < at
        assert inspected[row["lot"]] < at
        wo = work_orders[row["work_order"]]
        assert t(wo["started_at"]) <= at <= t(wo["finished_at"])


def test_devices_are_packed_after_they_are_made(plant: Plant) -> None:
    produced = {f"01/{r['gtin']}/21/{r['serial']}": t(r["produced_at"]) for r in plant.rows("devices.csv")}
    first_packed: dict[str, datetime] = {}
    for row in plant.rows("packing.csv"):
        if row["item"] in produced:
            packed = t(row["packed_at"])
            first_packed[row["item"]] = min(packed, first_packed.get(row["item"], packed))
    assert set(first_packed) == set(produced)
    assert all(produced[d] < first_packed[d] for d in produced)


def test_containers_ship_full_and_are_unpacked_only_after_delivery(plant: Plant) -> None:
    intervals: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    on: dict[str, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for row in plant.rows("packing.csv"):
        interval = (t(row["packed_at"]), t(row["unpacked_at"]) if row["unpacked_at"] else None)
        intervals[row["container"]].append(interval)
        on[row["container"]].append((row["item"], *interval))
    shipments = {r["shipment"]: r for r in plant.rows("shipments.csv")}
    checked = 0
    for row in plant.rows("shipment_contents.csv"):
        shipped = t(row["shipped_at"])
        delivered = t(shipments[row["shipment"]]["delivered_at"])
        assert t(shipments[row["shipment"]]["shipped_at"]) == shipped < delivered
        container = row["item"]
        # Whatever was inside at shipping stays inside until the shipment has arrived.
        inside = [(item, a, b) for item, a, b in on[container] if a <= shipped and (b is None or shipped < b)]
        assert inside, f"{container} shipped empty"
        for item, _packed, unpacked in inside:
            assert unpacked is None or unpacked > delivered
            for _sub, a, b in on.get(item, []):  # a case on a pallet: its devices too
                if a <= shipped and (b is None or shipped < b):
                    assert b is None or b > delivered
                    checked += 1
    assert checked > 0


def test_a_container_never_holds_the_same_item_twice_at_once(plant: Plant) -> None:
    by_pair: dict[tuple[str, str], list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for row in plant.rows("packing.csv"):
        until = t(row["unpacked_at"]) if row["unpacked_at"] else None
        by_pair[(row["item"], row["container"])].append((t(row["packed_at"]), until))
    for spans in by_pair.values():
        spans.sort()
        for (_a, b), (c, _d) in itertools.pairwise(spans):
            assert b is not None and b <= c


# -- what makes the plant worth tracing ------------------------------------------------------------


def test_a_case_is_emptied_and_reused_for_other_devices(plant: Plant) -> None:
    notable = plant.manifest.notable
    rows = [r for r in plant.rows("packing.csv") if r["container"] == notable.reused_case]
    first = [r for r in rows if r["item"] == notable.reused_case_earlier_device]
    later = [r for r in rows if r["item"] != notable.reused_case_earlier_device and r["unpacked_at"] == ""]
    assert first and first[0]["unpacked_at"]
    assert later and all(t(r["packed_at"]) > t(first[0]["unpacked_at"]) for r in later)


def test_a_failed_incoming_lot_went_into_production(plant: Plant) -> None:
    notable = plant.manifest.notable
    inspection = next(r for r in plant.rows("inspections.csv") if r["inspection"] == notable.failed_incoming_inspection)
    assert (inspection["target"], inspection["inspection_type"], inspection["result"]) == (
        notable.failed_incoming_lot,
        "incoming",
        "fail",
    )
    assert any(r["lot"] == notable.failed_incoming_lot for r in plant.rows("consumption.csv"))
    receipt = next(r for r in plant.rows("receipts.csv") if r["lot"] == notable.failed_incoming_lot)
    assert receipt["supplier"] == notable.failed_incoming_supplier


def test_some_stock_stays_on_hand(plant: Plant) -> None:
    shipped = {r["item"] for r in plant.rows("shipment_contents.csv")}
    assert plant.manifest.notable.on_hand_pallet not in shipped
    on_pallet = [r for r in plant.rows("packing.csv") if r["container"] == plant.manifest.notable.on_hand_pallet]
    assert on_pallet and all(r["unpacked_at"] == "" for r in on_pallet)


def test_a_machine_drifted_while_in_use(plant: Plant) -> None:
    notable = plant.manifest.notable
    calibrations = {r["calibration"]: r for r in plant.rows("calibrations.csv")}
    drift, before = calibrations[notable.out_of_tolerance_calibration], calibrations[notable.previous_calibration]
    assert drift["result"] == "out_of_tolerance" and drift["equipment"] == before["equipment"] == notable.equipment
    uses = [r for r in plant.rows("equipment_use.csv") if r["equipment"] == notable.equipment]
    assert any(t(before["calibrated_at"]) < t(u["from"]) < t(drift["calibrated_at"]) for u in uses)
    equipment = next(r for r in plant.rows("equipment.csv") if r["equipment"] == notable.equipment)
    assert equipment["serial_number"] == notable.equipment_serial


def test_every_notable_key_is_in_the_data(plant: Plant) -> None:
    keys = {n.key for n in plant.parsed.nodes} | {k for e in plant.parsed.edges for k in (e.source, e.target)}
    for name, key in plant.manifest.notable.model_dump().items():
        if name != "equipment_serial":
            assert key in keys, name


def test_an_unknown_scale_or_part_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown scale 'huge'"):
        generate_plant(tmp_path, scale="huge")
    with pytest.raises(InvalidInputError, match="no used lot of part:FG-IVS"):
        generate_plant(tmp_path, inject=[Defect(part="part:FG-IVS")])


# -- in a store ------------------------------------------------------------------------------------


def consignees(store: SQLiteStore, start: str, *, ignore_time: bool = False) -> set[str]:
    result = store.trace(TraceQuery(starts=(start,), direction=TraceDirection.FORWARD, ignore_time=ignore_time))
    return {n.key for n in result.nodes if n.kind is NodeKind.CONSIGNEE}


def test_a_trace_from_the_failed_lot_reaches_devices_and_consignees(plant: Plant, store: SQLiteStore) -> None:
    result = store.trace(
        TraceQuery(starts=(plant.manifest.notable.failed_incoming_lot,), direction=TraceDirection.FORWARD)
    )
    kinds = result.counts_by_kind()
    assert kinds["Device"] > 0 and kinds["Consignee"] > 0 and kinds["WorkOrder"] > 0
    assert not result.truncated and not result.is_partial


def test_ignoring_time_over_recalls_through_the_reused_case(plant: Plant, store: SQLiteStore) -> None:
    notable = plant.manifest.notable
    timed = consignees(store, notable.reused_case_earlier_device)
    plain = consignees(store, notable.reused_case_earlier_device, ignore_time=True)
    assert timed < plain
    assert notable.reused_case_later_consignee in plain - timed


def test_a_device_that_was_repacked_reaches_its_hospital(plant: Plant, store: SQLiteStore) -> None:
    notable = plant.manifest.notable
    assert notable.finished_device_hospital in consignees(store, notable.finished_device)


# -- injected defects ------------------------------------------------------------------------------


def test_a_bad_supplier_lot_comes_with_its_ground_truth(tmp_path: Path) -> None:
    manifest = generate_plant(tmp_path / "p", scale="small", seed=1, inject=[Defect(complaint_rate=0.5)])
    (truth,) = manifest.defects
    devices = plant_devices_of(tmp_path / "p", set(truth.finished_lots))
    assert truth.devices == sorted(devices) and truth.device_count == len(devices) > 0
    assert truth.part == "part:PC-LUER" and truth.lot != manifest.notable.failed_incoming_lot
    complaints = {r["complaint"]: r for r in rows_of(tmp_path / "p", "complaints.csv")}
    assert truth.complaints and all(complaints[c]["device"] in devices for c in truth.complaints)

    parsed = parse_csv_path(tmp_path / "p")
    assert parsed.rejects == []
    with SQLiteStore(tmp_path / "t.db") as store:
        store.migrate()
        store.apply(FactBatch(source="p", nodes=tuple(parsed.nodes), edges=tuple(parsed.edges)))
        result = store.trace(TraceQuery(starts=(truth.lot,), direction=TraceDirection.FORWARD))
    assert {n.key for n in result.nodes if n.kind is NodeKind.DEVICE} == devices

    again = generate_plant(tmp_path / "q", scale="small", seed=1, inject=[Defect(complaint_rate=0.5)])
    assert again == manifest


def rows_of(path: Path, name: str) -> list[dict[str, str]]:
    with (path / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def plant_devices_of(path: Path, lots: set[str]) -> set[str]:
    return {
        f"01/{r['gtin']}/21/{r['serial']}"
        for r in rows_of(path, "devices.csv")
        if f"01/{r['gtin']}/10/{r['lot']}" in lots
    }


@pytest.mark.slow
def test_the_medium_plant_loads_without_a_reject(tmp_path: Path) -> None:
    manifest = generate_plant(tmp_path, scale="medium", seed=0)
    assert 80_000 <= manifest.devices <= 120_000
    parsed = parse_csv_path(tmp_path)
    assert parsed.rejects == []
    assert parsed.records == sum(manifest.files.values())


# -- the Chinese market ------------------------------------------------------------------------------


def test_the_chinese_market_labels_the_infusion_set_with_an_ma_code(plant: Plant, tmp_path: Path) -> None:
    manifest = generate_plant(tmp_path / "a", scale="small", seed=7, market="cn")
    generate_plant(tmp_path / "b", scale="small", seed=7, market="cn")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([*CSV_FILES, "manifest.json", "nmpa-facts.yaml"])
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    parsed = parse_csv_path(tmp_path / "a")
    assert parsed.rejects == [] and parsed.records == sum(manifest.files.values())
    # Production is the same plant: every count, and every key that names no finished device or lot.
    assert (manifest.files, manifest.nodes_by_kind, manifest.edges_by_type) == (
        plant.manifest.files,
        plant.manifest.nodes_by_kind,
        plant.manifest.edges_by_type,
    )
    assert manifest.notable.failed_incoming_lot == plant.manifest.notable.failed_incoming_lot

    devices = {n.key: n.props for n in parsed.nodes if n.kind is NodeKind.DEVICE}
    coded = {key: props for key, props in devices.items() if key.startswith("ma/")}
    assert coded and len(coded) < len(devices)  # the infusion set only; the other products keep their GTIN
    for key, props in coded.items():
        assert "gtin" not in props and key == f"ma/{props['di']}/21/{props['serial']}"
        assert props["serial"].startswith("IVS")
    lots = {n.key for n in parsed.nodes if n.kind is NodeKind.PRODUCT_LOT and n.key.startswith("ma/")}
    assert lots and all(lot.split("/")[3].isalnum() for lot in lots)  # an MA code's .L: letters and digits

    assert manifest.market == "cn" and manifest.nmpa is not None and manifest.nmpa.ma_device in coded
    read = parse_udi(manifest.nmpa.ma_device_label)
    assert read.valid and read.issuer == "MA" and read.key == manifest.nmpa.ma_device
    assert read.lot == coded[manifest.nmpa.ma_device]["lot"]

    sites = {n.key: n.props for n in parsed.nodes if n.kind is NodeKind.CONSIGNEE}
    assert {p["country"] for p in sites.values()} == {"CN"}
    facts = load_facts(tmp_path / "a" / manifest.nmpa.facts)
    assert facts.consignees.keys() == sites.keys()
    assert all(f.licence and f.region for f in facts.consignees.values())
    assert facts.products["part:FG-IVS"].registration_number
    assert plant.manifest.nmpa is None and not any(n.key.startswith("ma/") for n in plant.parsed.nodes)


def test_an_unknown_market_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="unknown market 'us'"):
        generate_plant(tmp_path, market="us")
