"""How accurate is the recall scope? Measured against the synthetic plant's ground truth.

    python -m bench.recall_accuracy [--scale medium] [--seeds 1] [--out bench/results/recall_accuracy.json]

For each injected defect (a bad supplier lot, an extruder drifting over several runs, a
raw-material lot contaminating the runs after it on the same extruder, labels of the previous
lot left on the line) a plant is generated, loaded into a temporary SQLite store, and the
recall scope is computed at the default threshold from what an engineer would start from:

- bad supplier lot: ``recall --from LOT`` (the lot complaints and inspections point to);
- machine drift: ``recall --signal ID`` of the CUSUM shift on the drifting machine;
- cross-contamination: ``recall --from LOT --carryover 2``;
- mislabelled lot: ``recall --signal ID`` of the label-reconciliation signal.

Each scope is scored against the truth (recall and precision over devices) and compared
with what traces from the defect's roots reach: plain reachability, and a time-respecting
trace with the window the records give (for a drifting machine: from its last passed
calibration to the one that found it out of tolerance). Nothing asserts times; the test
``tests/unit/test_recall_accuracy.py`` asserts the accuracy on the small plant.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from loaders.synthetic import Defect, DefectTruth, generate_plant
from risk.recall import DEFAULT_THRESHOLD, RecallScope
from risk.signals.base import Signal
from schema.kinds import NodeKind
from schema.model import TimeWindow, TraceQuery, utc
from services.app import Services
from services.settings import Settings
from services.signals import detect

KINDS = ("bad_supplier_lot", "machine_drift", "cross_contamination", "mislabelled_lot")


@dataclass
class Measurement:
    scale: str
    seed: int
    defect: str
    truth_devices: int
    scope_devices: int
    recall: float
    precision: float
    expected_affected: float
    time_trace_devices: int
    plain_trace_devices: int
    time_trace_recall: float
    plain_trace_recall: float
    scope_vs_time_trace: float
    scope_vs_plain_trace: float
    started_from: str
    scope_seconds: float
    load_seconds: float


def _overlap(window: TimeWindow | None, truth: DefectTruth) -> float:
    if window is None or window.start is None or window.end is None:
        return 0.0
    if truth.window_start is None or truth.window_end is None:
        return 0.0
    lo = max(window.start, utc(truth.window_start))
    hi = min(window.end, utc(truth.window_end))
    return max(0.0, (hi - lo).total_seconds())


def recall_for(services: Services, truth: DefectTruth, signals: list[Signal]) -> tuple[RecallScope, str]:
    """The scope an engineer would ask for, given the defect's kind (see the module docstring)."""
    if truth.kind == "bad_supplier_lot":
        return services.recall_scope(starts=truth.roots), f"--from {truth.roots[0]}"
    if truth.kind == "cross_contamination":
        runs = truth.carryover_runs
        return services.recall_scope(
            starts=truth.roots, carryover_runs=runs
        ), f"--from {truth.roots[0]} --carryover {runs}"
    if truth.kind == "machine_drift":
        shifts = [s for s in signals if s.rule == "spc.cusum" and s.node == truth.roots[0]]
        chosen = max(shifts, key=lambda s: _overlap(s.window, truth))
        return services.recall_scope(signals=[chosen.id]), f"--signal {chosen.id} ({chosen.rule} on {chosen.node})"
    if truth.kind == "mislabelled_lot":
        labels = [s for s in signals if s.rule == "labels.mismatch"]
        return services.recall_scope(signals=[s.id for s in labels]), "--signal " + " ".join(s.id for s in labels)
    raise ValueError(truth.kind)


def trace_window(truth: DefectTruth, signals: list[Signal]) -> TimeWindow | None:
    """The window a trace-based recall would use: for a drifting machine, the calibration
    exposure window that holds the drift."""
    if truth.kind != "machine_drift":
        return None
    exposures = [s for s in signals if s.rule == "calibration.out_of_tolerance" and s.node == truth.roots[0]]
    holding = [s for s in exposures if _overlap(s.window, truth) > 0]
    return holding[0].window if holding else None


def traced_devices(services: Services, roots: list[str], *, window: TimeWindow | None, ignore_time: bool) -> set[str]:
    result = services.trace(
        TraceQuery(starts=tuple(roots), window=window, ignore_time=ignore_time, kinds=frozenset({NodeKind.DEVICE}))
    )
    return {n.key for n in result.nodes}


def measure(scale: str, seed: int, kind: str, workdir: Path) -> Measurement:
    plant = workdir / f"{scale}-{seed}-{kind}"
    manifest = generate_plant(plant, scale=scale, seed=seed, inject=[Defect.model_validate({"kind": kind})])
    truth = manifest.defects[0]
    services = Services.build(Settings(store=f"sqlite:///{plant}.db"), migrate=True)
    try:
        started = time.perf_counter()
        services.load_paths([plant])
        loaded = time.perf_counter() - started
        signals = detect(services.store)
        started = time.perf_counter()
        scope, how = recall_for(services, truth, signals)
        elapsed = time.perf_counter() - started
        window = trace_window(truth, signals)
        timed = traced_devices(services, truth.roots, window=window, ignore_time=False)
        plain = traced_devices(services, truth.roots, window=None, ignore_time=True)
    finally:
        services.close()
    wanted = set(truth.devices)
    got = {d.key for d in scope.devices}
    hit = len(wanted & got)
    return Measurement(
        scale=scale,
        seed=seed,
        defect=kind,
        truth_devices=len(wanted),
        scope_devices=len(got),
        recall=hit / len(wanted) if wanted else 1.0,
        precision=hit / len(got) if got else 0.0,
        expected_affected=round(scope.expected_in_scope, 1),
        time_trace_devices=len(timed),
        plain_trace_devices=len(plain),
        time_trace_recall=len(wanted & timed) / len(wanted) if wanted else 1.0,
        plain_trace_recall=len(wanted & plain) / len(wanted) if wanted else 1.0,
        scope_vs_time_trace=len(got) / len(timed) if timed else float("nan"),
        scope_vs_plain_trace=len(got) / len(plain) if plain else float("nan"),
        started_from=how,
        scope_seconds=round(elapsed, 3),
        load_seconds=round(loaded, 3),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--seeds", type=int, default=1, help="Seeds 1..N")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--out", type=Path, default=Path("bench/results/recall_accuracy.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="tracegraph-recall-") as tmp:
        for seed in range(1, args.seeds + 1):
            for kind in args.kinds.split(","):
                m = measure(args.scale, seed, kind, Path(tmp))
                rows.append(m)
                print(
                    f"{m.scale} seed {m.seed} {m.defect:20s} truth {m.truth_devices:6d}  scope {m.scope_devices:6d}  "
                    f"recall {m.recall:.4f}  precision {m.precision:.4f}  time trace {m.time_trace_devices:6d} "
                    f"(recall {m.time_trace_recall:.3f})  plain trace {m.plain_trace_devices:6d}  "
                    f"scope/time {m.scope_vs_time_trace:.3f}  scope/plain {m.scope_vs_plain_trace:.3f}  "
                    f"{m.scope_seconds:.1f}s",
                    flush=True,
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "what": "recall scope accuracy against the synthetic plant's ground truth (bench/recall_accuracy.py)",
        "threshold": DEFAULT_THRESHOLD,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": [asdict(m) for m in rows],
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
