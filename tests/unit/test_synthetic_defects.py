"""Injected defects beyond the bad supplier lot: the ground truth matches the records."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from loaders.csvset import parse_csv_path
from loaders.synthetic import Defect, PlantManifest, generate_plant


def rows(path: Path, name: str) -> list[dict[str, str]]:
    with (path / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def plant(tmp_path: Path, kind: str, scale: str = "small", seed: int = 2) -> tuple[Path, PlantManifest]:
    path = tmp_path / kind
    return path, generate_plant(path, scale=scale, seed=seed, inject=[Defect.model_validate({"kind": kind})])


def test_defaults_depend_on_the_kind() -> None:
    assert Defect().failure_mode == "leak at luer connector" and Defect().part == "part:PC-LUER"
    assert Defect(kind="cross_contamination").part == "part:RM-PVC"
    assert Defect(kind="machine_drift").runs == 4
    assert Defect(kind="machine_drift", runs=2).runs == 2


def test_a_plant_without_defects_is_unchanged_by_the_process_data(tmp_path: Path) -> None:
    a = generate_plant(tmp_path / "a", scale="small", seed=9)
    b = generate_plant(tmp_path / "b", scale="small", seed=9)
    assert a == b and a.files["process_data.csv"] > 0
    parsed = parse_csv_path(tmp_path / "a")
    assert parsed.rejects == []
    runs = [n for n in parsed.nodes if n.kind.value == "ProcessRun"]
    assert len(runs) == a.nodes_by_kind["ProcessRun"]
    assert all(run.props["samples"] and run.props["limits"]["target"] for run in runs)


def test_machine_drift_shifts_exactly_the_drifting_runs(tmp_path: Path) -> None:
    path, manifest = plant(tmp_path, "machine_drift", seed=4)
    truth = manifest.defects[0]
    assert truth.roots and truth.window_start and truth.window_end and truth.device_count > 0
    machine = truth.roots[0]
    runs = [r for r in rows(path, "process_data.csv") if r["equipment"] == machine]
    mean: dict[str, float] = {}
    for r in runs:
        values = [float(p.split("=", 1)[1]) for p in r["samples"].split(";")]
        mean[r["work_order"]] = sum(values) / len(values)
    target = float(runs[0]["limits"].split("target=")[1].split(";")[0])
    drifted = {wo for wo, m in mean.items() if m - target > 1.0}  # shift 2 sigma of 0.8
    assert drifted and drifted <= set(truth.work_orders)
    uses = [r for r in rows(path, "equipment_use.csv") if r["equipment"] == machine and r["work_order"] in drifted]
    start = min(datetime.fromisoformat(u["from"]) for u in uses)
    assert start == truth.window_start
    found = [
        c for c in rows(path, "calibrations.csv") if c["equipment"] == machine and c["result"] == "out_of_tolerance"
    ]
    assert any(datetime.fromisoformat(c["calibrated_at"]) > truth.window_end for c in found)


def test_cross_contamination_reaches_the_next_runs_on_the_machine(tmp_path: Path) -> None:
    path, manifest = plant(tmp_path, "cross_contamination", scale="medium", seed=1)
    truth = manifest.defects[0]
    consumed_by = {r["work_order"] for r in rows(path, "consumption.csv") if r["lot"] == truth.lot}
    uses: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for u in rows(path, "equipment_use.csv"):
        uses[u["equipment"]].append((u["from"], u["work_order"]))
    carried = set()
    for history in uses.values():
        history.sort()
        order = [wo for _at, wo in history]
        for i, wo in enumerate(order):
            if wo in consumed_by:
                carried.update(order[i + 1 : i + 1 + truth.carryover_runs])
    carried -= consumed_by
    assert carried, "the contamination carries over to runs that never consumed the lot"
    assert consumed_by | carried <= set(truth.work_orders)
    assert truth.carryover_runs == 2 and truth.roots == [truth.lot]


def test_mislabelled_lot_labels_the_first_devices_with_the_previous_lot(tmp_path: Path) -> None:
    path, manifest = plant(tmp_path, "mislabelled_lot")
    truth = manifest.defects[0]
    devices = rows(path, "devices.csv")
    wrong = [d for d in devices if d["work_order"] == truth.work_orders[0] and f"/10/{d['lot']}" in truth.lot]
    assert len(wrong) == truth.device_count == len(truth.devices) > 0
    lots = {r["work_order"]: r["lot"] for r in rows(path, "product_lots.csv")}
    assert lots[truth.work_orders[0]] == truth.roots[1] != truth.lot
    assert truth.finished_lots == []  # no whole lot is affected, only the relabelled devices


@pytest.mark.parametrize("kind", ["machine_drift", "cross_contamination", "mislabelled_lot"])
def test_every_defect_plant_loads_without_a_reject(tmp_path: Path, kind: str) -> None:
    path, manifest = plant(tmp_path, kind)
    assert parse_csv_path(path).rejects == []
    assert manifest.defects[0].kind == kind
