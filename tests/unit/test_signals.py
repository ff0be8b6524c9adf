"""Signal detectors on records, and detection through the store on synthetic plants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from loaders.synthetic import Defect, PlantManifest, generate_plant
from risk.signals.base import Severity
from risk.signals.calibration import CalibrationRecord, calibration_signals
from risk.signals.changes import ChangeRecordInfo, change_signals
from risk.signals.complaints import ComplaintRecord, complaint_signals
from risk.signals.inspection import InspectionRecord, inspection_signals
from risk.signals.process import ProcessRun, process_signals
from risk.signals.supplier import Receipt, supplier_scorecard, supplier_signals
from services.app import Services
from services.settings import Settings
from services.signals import detect

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# -- detectors ------------------------------------------------------------------------------------


def test_inspections_fail_marginal_and_measurements_against_limits() -> None:
    records = [
        InspectionRecord("inspection:1", "lot:A", "incoming", "fail", used=True, at=day(0)),
        InspectionRecord("inspection:2", "lot:B", "incoming", "fail", used=False, at=day(0)),
        InspectionRecord(
            "inspection:3", "plot:C", "in_process", "pass", measurements={"od": 4.3}, limits={"od": (4.0, 4.2)}
        ),
        InspectionRecord(
            "inspection:4", "plot:D", "in_process", "pass", measurements={"od": 4.1}, limits={"od": (4.0, 4.2)}
        ),
        InspectionRecord(
            "inspection:5", "plot:E", "in_process", "marginal", notes="Black specks: particulate contamination"
        ),
    ]
    found = {s.node: s for s in inspection_signals(records)}
    assert set(found) == {"lot:A", "lot:B", "plot:C", "plot:E"}
    assert found["lot:A"].severity is Severity.CRITICAL and "used in production" in found["lot:A"].summary
    assert found["lot:B"].severity is Severity.HIGH
    assert found["plot:C"].rule == "inspection.fail" and "outside" in str(found["plot:C"].evidence[0].detail)
    assert found["plot:E"].rule == "inspection.contamination" and found["plot:E"].carryover_runs == 2
    assert found["plot:E"].seeds()[0].carryover_runs == 2


def test_calibration_exposure_runs_back_to_the_last_pass() -> None:
    records = [
        CalibrationRecord("inspection:CAL-1", "equipment:X", day(0), "pass", date(2024, 6, 1)),
        CalibrationRecord("inspection:CAL-2", "equipment:X", day(30), "pass", date(2024, 9, 1)),
        CalibrationRecord("inspection:CAL-3", "equipment:X", day(60), "out_of_tolerance", date(2024, 5, 1)),
        CalibrationRecord("inspection:CAL-4", "equipment:X", day(61), "pass", date(2024, 9, 1)),
    ]
    (exposure,) = calibration_signals(records, now=day(90))
    assert exposure.window is not None and (exposure.window.start, exposure.window.end) == (day(30), day(60))
    assert {e.key for e in exposure.evidence} == {"inspection:CAL-3", "inspection:CAL-2"}
    seed = exposure.seeds()[0]
    assert seed.node == "equipment:X" and seed.window == (day(30).timestamp(), day(60).timestamp())
    overdue = calibration_signals(records, now=datetime(2024, 10, 15, tzinfo=UTC))
    assert [s.rule for s in overdue] == ["calibration.out_of_tolerance", "calibration.overdue"]
    assert overdue[1].statistics["days_overdue"] == 44


def test_complaints_per_lot_component_lot_and_failure_mode() -> None:
    complaints = [ComplaintRecord(f"complaint:B{i}", f"dB{i}", day(95 + i), "leak", lot="lot:B") for i in range(10)]
    complaints += [ComplaintRecord(f"complaint:O{i}", f"dO{i}", day(5 * i), "leak", lot=f"lot:{i}") for i in range(3)]
    complaints += [ComplaintRecord(f"complaint:K{i}", f"dK{i}", day(14 * i), "kink", lot=f"lot:{i}") for i in range(8)]
    exposure = {"lot:B": 100, **{f"lot:{i}": 100 for i in range(9)}}
    alone = {(s.rule, s.node): s for s in complaint_signals(complaints, exposure=exposure, now=day(120))}
    lot = alone[("complaints.lot", "lot:B")]
    assert lot.statistics["complaints"] == 10 and lot.statistics["p_adjusted"] < 0.001
    assert "binomial" in lot.test and lot.severity in (Severity.HIGH, Severity.CRITICAL)
    # With the genealogy: R-3 went only into lot B, R-1 into lot B and a clean lot. R-3 is
    # chosen; R-1, tested again on what R-3 does not explain, is not; nor is lot B on its own.
    upstream = {"lot:R-1": {"lot:B", "lot:0"}, "lot:R-3": {"lot:B"}, "lot:R-2": {"lot:1"}}
    found = complaint_signals(complaints, exposure=exposure, now=day(120), upstream=upstream)
    by_rule = {(s.rule, s.node): s for s in found}
    assert [n for r, n in by_rule if r == "complaints.component_lot"] == ["lot:R-3"]
    assert ("complaints.lot", "lot:B") not in by_rule
    # Ten of thirteen leaks in the last quarter of the period: a trend (Art. 88), with its p-value.
    trend = [s for s in found if s.rule == "complaints.trend"]
    assert len(trend) == 1 and "'leak'" in trend[0].summary and trend[0].statistics["p_value"] < 0.001
    # Kinks are spread evenly over lots and time: neither a lot nor a trend.
    assert not any("kink" in s.summary for s in found)


def test_supplier_scorecard_and_trend() -> None:
    receipts = [Receipt(f"lot:{i}", f"supplier:{i % 4}", day(i), incoming="pass") for i in range(80)]
    receipts += [
        Receipt(f"lot:b{i}", "supplier:BAD", day(i), incoming="fail" if i >= 6 else "pass", due_at=day(i - 1))
        for i in range(10)
    ]
    scores = {s.supplier: s for s in supplier_scorecard(receipts)}
    bad = scores["supplier:BAD"]
    assert (bad.rejected, bad.late, bad.grade) == (4, 10, "D")
    assert bad.ewma_reject > scores["supplier:0"].ewma_reject
    assert scores["supplier:0"].grade == "A" and scores["supplier:0"].with_delivery_data == 0
    assert [s.node for s in supplier_signals(receipts)] == ["supplier:BAD"]


def test_changes_to_critical_parts_only() -> None:
    changes = [
        ChangeRecordInfo("change:1", ("part:PC-LUER",), at=day(1)),
        ChangeRecordInfo("change:2", ("part:PK-LABEL",), at=day(1)),
        ChangeRecordInfo("change:3", ("part:PC-LUER",), at=day(1), status="rejected"),
    ]
    assert [(s.node, s.evidence[0].key) for s in change_signals(changes, critical={"part:PC-LUER"})] == [
        ("part:PC-LUER", "change:1")
    ]


def test_process_spec_limits_raise_a_signal_of_their_own() -> None:
    samples = tuple((day(0) + timedelta(hours=h), 195.0 + (0.3 if h % 2 else -0.3)) for h in range(10))
    broken = (*samples[:5], (day(0) + timedelta(hours=5), 210.0), *samples[6:])
    runs = [
        ProcessRun("run:1", "equipment:E", "t", samples, work_order="wo:1", target=195.0, lsl=190.0, usl=200.0),
        ProcessRun(
            "run:2",
            "equipment:E",
            "t",
            tuple((a + timedelta(days=1), v) for a, v in broken),
            work_order="wo:2",
            target=195.0,
            lsl=190.0,
            usl=200.0,
        ),
    ]
    spec = [s for s in process_signals(runs) if s.rule == "spc.spec"]
    assert len(spec) == 1 and {e.key for e in spec[0].evidence} == {"run:2", "wo:2"}


# -- detection through the store ------------------------------------------------------------------


@pytest.fixture(scope="module")
def plants(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Services, PlantManifest]]]:
    out: dict[str, tuple[Services, PlantManifest]] = {}
    root = tmp_path_factory.mktemp("plants")
    for kind in ("machine_drift", "mislabelled_lot", "bad_supplier_lot"):
        path = root / kind
        manifest = generate_plant(path, scale="small", seed=5, inject=[Defect.model_validate({"kind": kind})])
        services = Services.build(Settings(store=f"sqlite:///{root / kind}.db"), migrate=True)
        services.load_paths([path])
        out[kind] = (services, manifest)
    yield out
    for services, _ in out.values():
        services.close()


def test_the_drifting_machine_raises_a_cusum_shift_over_the_drift(
    plants: dict[str, tuple[Services, PlantManifest]],
) -> None:
    services, manifest = plants["machine_drift"]
    truth = manifest.defects[0]
    shifts = [s for s in detect(services.store) if s.rule == "spc.cusum" and s.node == truth.roots[0]]
    assert shifts, "no shift found on the drifting machine"
    window = shifts[0].window
    assert window is not None and window.start is not None and window.end is not None
    assert truth.window_start is not None and truth.window_end is not None
    assert window.start < truth.window_end and truth.window_start < window.end
    drifted_orders = {e.key for e in shifts[0].evidence if e.role == "work order"}
    assert drifted_orders <= set(truth.work_orders)
    exposure = [
        s for s in detect(services.store) if s.rule == "calibration.out_of_tolerance" and s.node == truth.roots[0]
    ]
    assert exposure, "the calibration after the drift finds the machine out of tolerance"


def test_mislabelled_devices_are_found_by_label_reconciliation(
    plants: dict[str, tuple[Services, PlantManifest]],
) -> None:
    services, manifest = plants["mislabelled_lot"]
    (signal,) = [s for s in detect(services.store) if s.rule == "labels.mismatch"]
    assert sorted(signal.targets) == manifest.defects[0].devices
    assert signal.node == manifest.defects[0].work_orders[0]


def test_a_clean_plant_has_no_label_or_shift_signal_on_the_defect(
    plants: dict[str, tuple[Services, PlantManifest]],
) -> None:
    services, _ = plants["bad_supplier_lot"]
    found = detect(services.store)
    assert not [s for s in found if s.rule == "labels.mismatch"]
    assert [s.id for s in found] == [s.id for s in detect(services.store)]  # stable ids
    escaped = [s for s in found if s.rule == "inspection.fail" and s.severity is Severity.CRITICAL]
    assert escaped, "the escaped failed lot of the tour is flagged"


def test_the_scorecard_covers_every_supplier_that_delivered(plants: dict[str, tuple[Services, PlantManifest]]) -> None:
    services, _ = plants["bad_supplier_lot"]
    scores = services.supplier_scorecard()
    assert scores and all(s.lots >= 1 for s in scores)
    assert sum(s.rejected for s in scores) >= 1  # the plant rejects some incoming lots
    assert all(s.name for s in scores)


def test_signals_as_of_before_the_load_are_none(
    plants: dict[str, tuple[Services, PlantManifest]], tmp_path: Path
) -> None:
    services, _ = plants["bad_supplier_lot"]
    assert services.signals(as_of=datetime(2000, 1, 1, tzinfo=UTC)) == []
