"""How often does ``tracegraph sources`` put the true source first? Measured on ground truth.

    python -m bench.sources_accuracy [--seeds 20] [--draws 5] [--draw cluster|receipt|mixed]
                                     [--out bench/results/sources_accuracy.json]

A *plant* is the synthetic plant (``loaders.synthetic``) at the ``sources`` profile below,
with one defect planted at a known upstream node:

- ``bad_supplier_lot``: one lot of the male luer connector (a component lot);
- ``machine_drift``: an extruder drifting over four consecutive runs (a machine during a window);
- ``bad_supplier``: every luer lot of one of its two suppliers (a supplier; the pouch, when
  the luer's second source delivered fewer than two lots).

Affected devices draw complaints of the defect's failure mode at ``COMPLAINT_RATE``; every
device, affected or not, draws background complaints at the generator's rate (about
``complaints`` per plant), whose failure mode is one of its product's ordinary modes, the
defect's among them. A plant is kept when its defect is identifiable at all: the generator
could plant it, and it affects at most ``MAX_AFFECTED`` of the devices (a lot in every device
cannot be told from the plant itself).

A *scenario* is a plant and a case count ``n``: ``n`` complaints handed to
``Services.likely_sources`` with the automatic controls and the default knobs. How they are
drawn (``--draw``):

- ``cluster`` (the default, recorded): at random among the plant's complaints that report
  the defect's failure mode, caused and background alike, as an engineer sees the cluster a
  complaint signal raises; the background share is whatever the plant gives;
- ``receipt``: the first ``n`` complaints of that mode in order of receipt (one draw a plant);
- ``mixed``: the earlier, harder draw: a share ``--noise`` of background complaints of any
  mode, the rest caused by the defect.

The truth's *rank* is that of the candidate naming it (for a drifting machine: the machine,
with a window that overlaps the drift), counting candidates tied with it as ranked before
it; a truth that is one of a candidate's ``equivalent`` nodes (same cases, same controls: no
count can tell them apart) has that candidate's rank, and ``first_named`` says how often it
was also the name shown. ``cross_contamination`` is measured too, for information only: its residue
reaches runs the contaminated lot never touched, so the lot is one of two true answers.

``oracle_rank1`` and ``oracle_top3`` are the same rates for the Bayes-optimal ranking of the
same candidates by a reader of the counts alone who is also told how many of the cases the
defect caused (:func:`oracle_rank`): about as well as the counts can tell, whatever the
statistic.

Writes ``bench/results/sources_accuracy.json`` (seeds 1 to 20; seeds 21 on, held out from
development, go to ``sources_accuracy_heldout.json``); ``tests/unit/test_sources_accuracy.py``
asserts the rates on a few small scenarios.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loaders.synthetic import SCALES, Defect, DefectTruth, PlantManifest, ScaleProfile, generate_plant
from risk.sources import Candidate, LikelySources
from schema.errors import InvalidInputError
from schema.model import utc
from services.app import Services
from services.settings import Settings
from services.sources import likely_sources

#: ~3,000 devices in lots of ~100 over four months: enough lots per part that a lot, a
#: supplier or a machine window is a small share of production.
PROFILE = ScaleProfile(devices=3_000, lot_size=100, days=120, distributors=2, hospitals=10, complaints=15)
SCALE = "sources"
KINDS = ("bad_supplier_lot", "machine_drift", "bad_supplier")
EXTRA_KINDS = ("cross_contamination",)
CASE_COUNTS = (3, 5, 10, 20)
#: How a scenario's cases are drawn (see the module docstring).
DRAWS = ("cluster", "receipt", "mixed")
#: ``mixed`` draws: the share of background complaints among the cases.
NOISE = 0.2
COMPLAINT_RATE = 0.1
MAX_AFFECTED = 0.6
#: A top candidate first in at least this share of bootstrap resamples counts as "confident".
CONFIDENT = 0.8
#: Parts tried in turn for a bad supplier: two sources each.
SUPPLIER_PARTS = ("part:PC-LUER", "part:PK-POUCH")


@dataclass
class Scenario:
    seed: int
    defect: str
    truth: str
    cases: int
    noise: int
    draw: int
    affected_share: float
    rank: int | None
    first_named: bool
    group_rank: int | None
    oracle_rank: int | None
    candidates: int
    controls: int
    top: str
    top_group: str
    top_share: float | None
    seconds: float
    #: The truth's rank under other settings of ``likely_sources`` (``measure_plant(compare=...)``).
    variants: dict[str, int | None] = field(default_factory=dict)


@dataclass
class Plant:
    seed: int
    defect: str
    truth: str
    affected_share: float
    defect_complaints: int
    background_complaints: int
    #: Background complaints that report the defect's failure mode (on affected units or not).
    cluster_background: int = 0
    skipped: str | None = None


@contextmanager
def registered() -> Iterator[None]:
    """The ``sources`` profile known to the generator while it runs (``loaders.synthetic`` is
    left as it is, as ``bench/plants.py`` does for its own profile)."""
    if SCALE in SCALES:
        yield
        return
    SCALES[SCALE] = PROFILE
    try:
        yield
    finally:
        del SCALES[SCALE]


def plant(workdir: Path, seed: int, kind: str) -> tuple[Path, PlantManifest] | str:
    """Generate one plant with its defect; the reason when it cannot be planted identifiably."""
    parts = SUPPLIER_PARTS if kind == "bad_supplier" else (None,)
    reason = "not planted"
    for part in parts:
        spec: dict[str, object] = {"kind": kind, "complaint_rate": COMPLAINT_RATE}
        if part is not None:
            spec["part"] = part
        out = workdir / f"{kind}-{seed}-{(part or 'default').removeprefix('part:')}"
        try:
            with registered():
                manifest = generate_plant(out, scale=SCALE, seed=seed, inject=[Defect.model_validate(spec)])
        except InvalidInputError as exc:
            reason = str(exc)
            continue
        truth = manifest.defects[0]
        share = truth.device_count / max(1, manifest.devices)
        if share > MAX_AFFECTED:
            reason = f"affects {share:.0%} of the devices"
            continue
        return out, manifest
    return reason


def truth_key(truth: DefectTruth) -> str:
    if truth.kind in ("bad_supplier_lot", "cross_contamination"):
        return truth.lot
    if truth.kind == "bad_supplier":
        return truth.supplier
    return truth.roots[0]


def names_truth(candidate: Candidate, truth: DefectTruth) -> bool:
    """Whether the candidate (or a node equivalent to it) is the planted source."""
    key = truth_key(truth)
    if key != candidate.key and key not in candidate.equivalent:
        return False
    if truth.kind != "machine_drift":
        return True
    if candidate.window_start is None or truth.window_start is None or truth.window_end is None:
        return False
    end = candidate.window_end or candidate.window_start
    return candidate.window_start <= utc(truth.window_end) and utc(truth.window_start) <= end


def truth_rank(answer: LikelySources, truth: DefectTruth) -> tuple[int | None, bool]:
    """The truth's rank, ties counted before it, and whether it is the name shown."""
    for c in answer.candidates:
        if names_truth(c, truth):
            return sum(1 for other in answer.candidates if other.rank <= c.rank), c.key == truth_key(truth)
    return None, False


def group_rank(answer: LikelySources, truth: DefectTruth) -> int | None:
    """The truth's rank among the candidates of its own kind (supplier, material lot, ...)."""
    for c in answer.candidates:
        if names_truth(c, truth):
            return sum(1 for o in answer.candidates if o.group == c.group and o.rank <= c.rank)
    return None


def oracle_rank(answer: LikelySources, truth: DefectTruth, noise: int) -> int | None:
    """The truth's rank by the Bayes-optimal rule for a ranking that knows how the cases were
    drawn but not where the defect is: ``n - noise`` of them caused by the defect, each on one
    of the source's units in proportion to their exposure, and ``noise`` background
    complaints on any unit (affected or not) alike, every candidate alike a priori.

    Given candidate ``v`` with exposure share ``f`` holding ``a`` of the ``n`` cases, the caused
    cases are ``c = n - noise`` of those ``a``, each with likelihood ``1 / (f N)`` against ``1 / N``
    for a background case, and which ones is unknown: the likelihood is proportional to
    ``C(a, c) * f ** -c``, and zero when ``a < c``. No ranking that reads the same counts and
    weighs every candidate alike does better on average (told less, it can only do worse), so
    ``oracle_*`` bounds what the counts can tell; a ranking that also reads other records
    (anomaly signals as prior weight) can exceed it. A drifting machine's window is the one
    the ranking chose, so for ``machine_drift`` the bound is approximate, and exposure only
    approximates the chance of a complaint."""
    n = len(answer.cases)
    caused = n - noise

    def score(c: Candidate) -> float:
        if c.explained < caused:
            return -math.inf
        share = min(max(c.exposure_share, 1e-12), 1.0)
        return math.log(math.comb(c.explained, caused)) - caused * math.log(share)

    scored = [(score(c), c) for c in answer.candidates]
    for value, c in scored:
        if names_truth(c, truth):
            return sum(1 for other, _ in scored if other >= value) if value > -math.inf else None
    return None


def complaints(out: Path) -> list[tuple[str, str]]:
    """The plant's complaints and their failure modes, in order of receipt."""
    with (out / "complaints.csv").open(newline="", encoding="utf-8") as f:
        return [(row["complaint"], row["failure_mode"]) for row in csv.DictReader(f)]


def draw_mixed(
    caused: Sequence[str], background: Sequence[str], n: int, rng: random.Random, *, noise_share: float = NOISE
) -> tuple[list[str], int]:
    """``n`` complaints, a share ``noise_share`` of them background (as many as there are)."""
    noise = min(len(background), round(noise_share * n))
    picked = rng.sample(list(background), noise) + rng.sample(list(caused), min(len(caused), n - noise))
    rng.shuffle(picked)
    return picked, noise


def draw_cluster(
    cluster: Sequence[str], caused: Collection[str], n: int, rng: random.Random | None
) -> tuple[list[str], int]:
    """``n`` complaints of the defect's failure mode: at random, or the first received
    (``rng`` None; ``cluster`` is in order of receipt); and how many are background."""
    picked = list(cluster[:n]) if rng is None else rng.sample(list(cluster), n)
    return picked, sum(1 for c in picked if c not in caused)


def draw_cases(
    how: str,
    caused: Sequence[str],
    background: Sequence[str],
    cluster: Sequence[str],
    n: int,
    rng: random.Random,
    *,
    noise_share: float = NOISE,
) -> tuple[list[str], int] | None:
    """A scenario's ``n`` cases drawn ``how`` (see the module docstring) and how many are
    background; None when the plant has too few complaints for ``n``."""
    if how == "mixed":
        if len(caused) < n - round(noise_share * n):
            return None
        return draw_mixed(caused, background, n, rng, noise_share=noise_share)
    if len(cluster) < n:
        return None
    return draw_cluster(cluster, set(caused), n, None if how == "receipt" else rng)


def measure_plant(
    workdir: Path,
    seed: int,
    kind: str,
    *,
    counts: Sequence[int] = CASE_COUNTS,
    draws: int = 5,
    how: str = "cluster",
    noise_share: float = NOISE,
    options: dict[str, Any] | None = None,
    compare: dict[str, dict[str, Any]] | None = None,
) -> tuple[Plant, list[Scenario]]:
    """Plant the defect, load the plant, and rank the sources of ``draws`` case sets of each
    size in ``counts``, drawn ``how`` (``"cluster"``, ``"receipt"``: one draw, or ``"mixed"``;
    see the module docstring; ``options``: more keywords for ``likely_sources``; ``compare``:
    named alternative keywords, whose ranks of the truth each scenario records in ``variants``)."""
    if how not in DRAWS:
        raise ValueError(f"how: one of {', '.join(DRAWS)}, not {how!r}")
    made = plant(workdir, seed, kind)
    if isinstance(made, str):
        return Plant(seed, kind, "", 0.0, 0, 0, skipped=made), []
    out, manifest = made
    truth = manifest.defects[0]
    caused = list(truth.complaints)
    received = complaints(out)
    background = [c for c, _mode in received if c not in set(caused)]
    mode = defect_mode(caused, received)
    cluster = [c for c, m in received if m == mode]
    record = Plant(
        seed,
        kind,
        truth_key(truth),
        truth.device_count / max(1, manifest.devices),
        len(caused),
        len(background),
        cluster_background=len(set(cluster) - set(caused)),
    )
    scenarios: list[Scenario] = []
    services = Services.build(Settings(store=f"sqlite:///{out}.db"), migrate=True)
    try:
        services.load_paths([out])
        for n in counts:
            for draw in range(1 if how == "receipt" else draws):
                rng = random.Random(f"sources:{seed}:{kind}:{n}:{draw}")
                drawn = draw_cases(how, caused, background, cluster, n, rng, noise_share=noise_share)
                if drawn is None:
                    break
                cases, noise = drawn
                started = time.perf_counter()
                answer = likely_sources(services, cases, limit=1_000_000, evidence=0, **(options or {}))
                elapsed = time.perf_counter() - started
                rank, first_named = truth_rank(answer, truth)
                variants = {
                    name: truth_rank(
                        likely_sources(services, cases, limit=1_000_000, evidence=0, resamples=0, **other), truth
                    )[0]
                    for name, other in (compare or {}).items()
                }
                top = answer.candidates[0] if answer.candidates else None
                scenarios.append(
                    Scenario(
                        seed=seed,
                        defect=kind,
                        truth=truth_key(truth),
                        cases=n,
                        noise=noise,
                        draw=draw,
                        affected_share=round(record.affected_share, 3),
                        rank=rank,
                        first_named=first_named and rank == 1,
                        group_rank=group_rank(answer, truth),
                        oracle_rank=oracle_rank(answer, truth, noise),
                        candidates=answer.total,
                        controls=answer.controls,
                        top=top.key if top else "",
                        top_group=top.group if top else "",
                        top_share=top.top_share if top else None,
                        seconds=round(elapsed, 3),
                        variants=variants,
                    )
                )
    finally:
        services.close()
    return record, scenarios


def defect_mode(caused: Collection[str], received: Sequence[tuple[str, str]]) -> str | None:
    """The defect's failure mode: the one its complaints report (None when it caused none)."""
    found = {mode for c, mode in received if c in caused}
    if len(found) > 1:
        raise ValueError(f"the defect's complaints report {len(found)} failure modes")
    return found.pop() if found else None


def summarise(scenarios: Sequence[Scenario]) -> dict[str, dict[str, float | int]]:
    """Rank-1 and top-3 rates overall, per defect kind, per case count, per both."""
    buckets: dict[str, list[Scenario]] = defaultdict(list)
    for s in scenarios:
        footprint = (
            "footprint <=20%"
            if s.affected_share <= 0.2
            else ("footprint 20-40%" if s.affected_share <= 0.4 else "footprint >40%")
        )
        names = ["all", s.defect, f"n={s.cases}", f"{s.defect} n={s.cases}", "n<=10" if s.cases <= 10 else ""]
        names += [footprint, f"{footprint} n={s.cases}"]
        for name in names:
            if name:
                buckets[name].append(s)
    out: dict[str, dict[str, float | int]] = {}
    for name, rows in buckets.items():
        sure = [r for r in rows if r.top_share is not None and r.top_share >= CONFIDENT]
        out[name] = {
            "scenarios": len(rows),
            "rank1": sum(1 for r in rows if r.rank == 1) / len(rows),
            "top3": sum(1 for r in rows if r.rank is not None and r.rank <= 3) / len(rows),
            "first_named": sum(1 for r in rows if r.first_named) / len(rows),
            "found": sum(1 for r in rows if r.rank is not None) / len(rows),
            "first_of_its_kind": sum(1 for r in rows if r.group_rank == 1) / len(rows),
            "oracle_rank1": sum(1 for r in rows if r.oracle_rank == 1) / len(rows),
            "oracle_top3": sum(1 for r in rows if r.oracle_rank is not None and r.oracle_rank <= 3) / len(rows),
            # When the answer says it is sure (first in >= 80 % of bootstrap resamples), is it right?
            "confident": len(sure) / len(rows),
            "confident_rank1": sum(1 for r in sure if r.rank == 1) / len(sure) if sure else float("nan"),
        }
    return dict(sorted(out.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="Seeds per defect kind")
    parser.add_argument(
        "--first-seed",
        type=int,
        default=1,
        help="The first seed (1: the recorded measurement; 21 on: held out from development)",
    )
    parser.add_argument("--jobs", type=int, default=2, help="Plants measured at once")
    parser.add_argument("--draws", type=int, default=5, help="Case draws per plant and case count")
    parser.add_argument("--kinds", default=",".join(KINDS + EXTRA_KINDS))
    parser.add_argument(
        "--draw",
        choices=DRAWS,
        default="cluster",
        help="How cases are drawn (cluster: at random, of its mode)",
    )
    parser.add_argument(
        "--noise", type=float, default=NOISE, help="--draw mixed: share of background complaints among the cases"
    )
    parser.add_argument("--counts", default=",".join(map(str, CASE_COUNTS)), help="Case counts")
    parser.add_argument("--out", type=Path, default=Path("bench/results/sources_accuracy.json"))
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    plants: list[Plant] = []
    scenarios: list[Scenario] = []
    started = time.perf_counter()
    first = args.first_seed
    jobs = [(kind, seed) for kind in args.kinds.split(",") for seed in range(first, first + args.seeds)]
    with (
        tempfile.TemporaryDirectory(prefix="tracegraph-sources-") as tmp,
        ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool,
    ):
        futures = [
            pool.submit(
                measure_plant,
                Path(tmp),
                seed,
                kind,
                counts=counts,
                draws=args.draws,
                how=args.draw,
                noise_share=args.noise,
            )
            for kind, seed in jobs
        ]
        for (kind, seed), future in zip(jobs, futures, strict=True):
            record, rows = future.result()
            plants.append(record)
            scenarios.extend(rows)
            ranks = [r.rank for r in rows]
            print(
                f"{kind:20s} seed {seed:3d}  "
                + (
                    f"skipped: {record.skipped}"
                    if record.skipped
                    else f"truth {record.truth:22s} affected {record.affected_share:.0%}  "
                    f"rank1 {sum(1 for r in ranks if r == 1)}/{len(ranks)}  "
                    f"top3 {sum(1 for r in ranks if r is not None and r <= 3)}/{len(ranks)}  "
                    f"misses {[(r.cases, r.rank, r.top) for r in rows if r.rank != 1][:4]}"
                ),
                flush=True,
            )
    planted = [s for s in scenarios if s.defect in KINDS]
    payload = {
        "what": "rank of the planted source among `tracegraph sources` candidates (bench/sources_accuracy.py)",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.perf_counter() - started, 1),
        "profile": asdict(PROFILE),
        "complaint_rate": COMPLAINT_RATE,
        "draw": args.draw,
        "noise": args.noise if args.draw == "mixed" else None,
        "case_counts": counts,
        "draws": args.draws,
        "seeds": [first, first + args.seeds - 1],
        "max_affected": MAX_AFFECTED,
        "summary": summarise(planted),
        "summary_information_only": summarise([s for s in scenarios if s.defect not in KINDS]),
        "plants": [asdict(p) for p in plants],
        "scenarios": [asdict(s) for s in scenarios],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    for name, row in summarise(planted).items():
        print(f"{name:32s} {row}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
