"""Background complaints of a plant with an injected defect: its failure mode is an ordinary
one of the products it reaches, and a unit it reached can still draw an unrelated complaint."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from loaders.synthetic import SCALES, Defect, ScaleProfile, generate_plant
from loaders.synthetic.distribution import _FAILURE_MODES

#: Small, with many background complaints, so that every kind of complaint occurs.
NOISY = ScaleProfile(devices=1_000, lot_size=100, days=60, distributors=2, hospitals=8, complaints=300)


@pytest.fixture
def noisy(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(SCALES, "noisy", NOISY)
    return "noisy"


def rows_of(path: Path, name: str) -> list[dict[str, str]]:
    with (path / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_background_complaints_share_the_defects_mode_and_its_units(tmp_path: Path, noisy: str) -> None:
    defect = Defect(complaint_rate=0.1)
    manifest = generate_plant(tmp_path / "p", scale=noisy, seed=1, inject=[defect])
    (truth,) = manifest.defects
    affected, caused = set(truth.devices), set(truth.complaints)
    rows = rows_of(tmp_path / "p", "complaints.csv")
    background = [r for r in rows if r["complaint"] not in caused]

    assert caused and all(r["failure_mode"] == defect.failure_mode for r in rows if r["complaint"] in caused)
    assert all(r["device"] in affected for r in rows if r["complaint"] in caused)
    # The defect's mode is drawn as often as any ordinary mode (1 in 5 for the infusion set,
    # which takes most of production): neither never nor mostly.
    modes = Counter(r["failure_mode"] for r in background)
    assert 0.05 < modes[defect.failure_mode] / len(background) < 0.4
    assert set(modes) <= {m for ms in _FAILURE_MODES.values() for m, _ in ms} | {defect.failure_mode}
    # Units the defect reached draw unrelated complaints too, about as often as the others.
    on_affected = sum(1 for r in background if r["device"] in affected)
    assert 0 < on_affected < len(background)
    # Only the defect's complaints are its ground truth; a background one of its mode is not.
    assert any(r["failure_mode"] == defect.failure_mode for r in background)


def test_the_added_draws_leave_the_rest_of_the_plant_alone(tmp_path: Path) -> None:
    # A defect whose mode is already an ordinary one of the infusion set adds no mode there; a
    # new mode does, and draws for it, from a stream of its own: the devices, their way to
    # hospitals and the defect's own complaints stay the same.
    ordinary = Defect(complaint_rate=0.2, failure_mode="packaging seal open")
    new = Defect(complaint_rate=0.2, failure_mode="leak at luer connector")
    one = generate_plant(tmp_path / "a", scale="small", seed=2, inject=[ordinary])
    other = generate_plant(tmp_path / "b", scale="small", seed=2, inject=[new])
    for name in ("devices.csv", "packing.csv", "shipments.csv", "shipment_contents.csv"):
        assert rows_of(tmp_path / "a", name) == rows_of(tmp_path / "b", name)
    assert one.nodes_by_kind.keys() == other.nodes_by_kind.keys()
    assert {k: v for k, v in one.nodes_by_kind.items() if k != "Complaint"} == {
        k: v for k, v in other.nodes_by_kind.items() if k != "Complaint"
    }

    def caused(path: Path, keys: list[str]) -> list[tuple[str, str]]:
        return [(r["device"], r["received_at"]) for r in rows_of(path, "complaints.csv") if r["complaint"] in keys]

    assert caused(tmp_path / "a", one.defects[0].complaints) == caused(tmp_path / "b", other.defects[0].complaints)
    assert one.defects[0].complaints
