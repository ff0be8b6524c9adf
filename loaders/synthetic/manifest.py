"""What a generated plant is: its scale, its counts, keys worth a look, and injected defects.

``PlantManifest`` is returned by ``generate_plant`` and written beside the CSV files as
``manifest.json`` (which the CSV loader knows to skip).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


@dataclass(frozen=True)
class ScaleProfile:
    """How big a plant is. Device counts are targets: lot sizes vary by ±20 %."""

    devices: int
    lot_size: int  # devices per finished lot, on average
    days: int  # production period
    distributors: int
    hospitals: int
    complaints: int  # background complaints (not caused by an injected defect), about


#: Markets a plant sells into. ``eu``: European distributors and hospitals, every device GS1-coded.
#: ``cn``: Chinese distributors and hospitals, and the infusion set registered with the NMPA and
#: labelled with an MA (IDcode) code; the plant also gets the NMPA facts file its recall documents
#: need (``nmpa-facts.yaml``).
MARKETS: tuple[str, ...] = ("eu", "cn")

SCALES: dict[str, ScaleProfile] = {
    "small": ScaleProfile(devices=1_000, lot_size=100, days=60, distributors=2, hospitals=8, complaints=4),
    "medium": ScaleProfile(devices=100_000, lot_size=1_000, days=180, distributors=4, hospitals=40, complaints=40),
    "large": ScaleProfile(devices=1_000_000, lot_size=2_000, days=365, distributors=8, hospitals=160, complaints=200),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: Per defect kind: the part, failure mode and run count a defect has unless told otherwise.
_DEFECT_DEFAULTS: dict[str, dict[str, object]] = {
    "bad_supplier_lot": {"part": "part:PC-LUER", "failure_mode": "leak at luer connector", "runs": 1},
    "machine_drift": {"part": "part:PC-LUER", "failure_mode": "tubing kinks and occludes", "runs": 4},
    "cross_contamination": {"part": "part:RM-PVC", "failure_mode": "particulate matter in fluid path", "runs": 2},
    "mislabelled_lot": {"part": "part:PC-LUER", "failure_mode": "label shows wrong lot and expiry", "runs": 2},
    "bad_supplier": {"part": "part:PC-LUER", "failure_mode": "luer thread cracks when connected", "runs": 1},
}


class Defect(_Model):
    """A defect to inject, whose consequences the manifest then states as ground truth.

    ``bad_supplier_lot``: one supplier lot of ``part`` (default: the male luer connector,
    which goes into every product) is bad although it passed incoming inspection. Every
    device built from it is affected; affected devices at hospitals draw complaints at
    ``complaint_rate``, and in-process inspections of lots made from it read marginal.

    ``machine_drift``, ``cross_contamination`` and ``mislabelled_lot`` are described in
    :mod:`loaders.synthetic.defects`; ``runs`` is how many runs drift, how many later runs
    a contamination carries over to, or how many cases carry the wrong label.

    ``bad_supplier``: every lot of ``part`` that one supplier (``supplier``, default the
    part's source with the fewest used lots, at least two, of a part with two sources)
    delivered is bad, as when a supplier changed its process; see :mod:`loaders.synthetic.defects`.
    """

    kind: Literal["bad_supplier_lot", "machine_drift", "cross_contamination", "mislabelled_lot", "bad_supplier"] = (
        "bad_supplier_lot"
    )
    part: str = Field("part:PC-LUER", description="Part key of the bought part whose lot is bad (or contaminated)")
    complaint_rate: float = Field(0.05, ge=0.0, le=1.0)
    failure_mode: str = "leak at luer connector"
    equipment_type: str = Field("extruder", description="machine_drift: the type of machine that drifts")
    runs: int = Field(1, ge=1, description="Drifting runs, carry-over runs, or mislabelled cases")
    shift: float = Field(2.0, gt=0.0, description="machine_drift: mean shift of the parameter, in standard deviations")
    supplier: str = Field("", description="bad_supplier: key of the supplier whose lots are bad (default: chosen)")

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            defaults = _DEFECT_DEFAULTS.get(str(data.get("kind", "bad_supplier_lot")), {})
            data = {**defaults, **data}
        return data


class DefectTruth(_Model):
    """What an injected defect affects, from the generator's own genealogy (not from a trace)."""

    kind: str
    lot: str
    part: str
    supplier: str
    work_orders: list[str]
    lots: list[str] = Field(description="Product lots made from the bad lot, directly or further down")
    finished_lots: list[str]
    devices: list[str] = Field(description="Every device built from the bad lot, sorted")
    device_count: int
    complaints: list[str]
    roots: list[str] = Field(
        default_factory=list, description="Where the defect enters the graph: the keys a trace-based recall starts from"
    )
    window_start: datetime | None = Field(None, description="machine_drift: when the first drifting run began")
    window_end: datetime | None = Field(None, description="machine_drift: when the last drifting run ended")
    carryover_runs: int = Field(0, description="cross_contamination: later runs on the same machines reached")


class NotableKeys(_Model):
    """Keys for a guided tour of the plant."""

    failed_incoming_lot: str = Field(
        description="Supplier lot that failed incoming inspection yet went into production"
    )
    failed_incoming_inspection: str
    failed_incoming_supplier: str
    finished_lot: str
    finished_device: str = Field(description="A device that reached a hospital after its distributor repacked it")
    finished_device_hospital: str
    repacking_distributor: str
    reused_case: str = Field(description="A case emptied at a distributor and reused for other devices")
    reused_case_earlier_device: str = Field(description="A device that was in the reused case before it was emptied")
    reused_case_later_consignee: str = Field(
        description="Where the reused case went later: reached from the earlier device only when time is ignored"
    )
    on_hand_pallet: str = Field(description="A pallet still at the plant, never shipped")
    equipment: str = Field(description="A leak tester found out of tolerance at a calibration")
    equipment_serial: str
    out_of_tolerance_calibration: str
    previous_calibration: str = Field(description="The calibration before: the drift happened in between")
    complaint: str


class NmpaKeys(_Model):
    """Market ``cn``: where the Chinese recall manager's tour starts."""

    ma_device: str = Field(
        description="An MA-coded device at a hospital, downstream of the failed incoming lot when one is"
    )
    ma_device_label: str = Field(description="The MA code on that device's label, as a scanner reads it")
    facts: str = Field("nmpa-facts.yaml", description="The NMPA facts file beside the CSV files")


class PlantManifest(_Model):
    """The manifest of a generated plant (``manifest.json``)."""

    generator: str = "tracegraph.synthetic/1"
    scale: str
    seed: int
    market: str = "eu"
    period_start: datetime
    period_end: datetime
    files: dict[str, int] = Field(description="Data rows per file (header not counted)")
    nodes_by_kind: dict[str, int] = Field(description="Distinct nodes the files load as, per kind")
    edges_by_type: dict[str, int] = Field(description="Edges the files load as, per type")
    notable: NotableKeys
    defects: list[DefectTruth] = Field(default_factory=list)
    nmpa: NmpaKeys | None = Field(None, description="Market cn only: keys for the NMPA recall tour")

    @property
    def devices(self) -> int:
        return self.nodes_by_kind.get("Device", 0)
