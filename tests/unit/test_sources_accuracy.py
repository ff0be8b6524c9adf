"""Where ``tracegraph sources`` ranks a planted source, on a few small seeded scenarios.

``bench/sources_accuracy.py`` measures the same over 20 plants per defect kind (seeds 1 to
20, and seeds 21 to 40 held out from development) and records it in
``bench/results/sources_accuracy.json``, ``sources_accuracy_heldout.json`` and
``bench/RESULTS.md``. The ranking was developed on seeds 101 and up, its misses analysed and
its prior chosen on seeds 1 to 20; this test uses seeds 301 and up, so that neither the
development nor this test chose what the held-out benchmark records.

A scenario's cases are complaints of the defect's failure mode drawn at random, as an engineer
sees the cluster a complaint signal raises: caused by the defect and background alike.

The issue's target (rank 1 in 90 % and the top 3 in 99 % of scenarios with 10 complaints or
fewer) is asserted too, as a strict expected failure. Measured with 10 complaints or fewer:
rank 1 in 62 % and the top 3 in 87 % (held out: 71 % and 88 %); with 10 complaints, 85 % and
98 % (held out: 90 % and 99 %). It is out of reach of the counts themselves: the Bayes-optimal
ranking of the same candidates, told how many of the cases the defect caused, reaches 62 % and
87 % with 10 or fewer (held out: 65 % and 90 %). Three to five complaints cannot single out a
lot among the work orders it fed and the lots and machines used over the same weeks
(docs/reference/sources.md, "Measured accuracy"). The day it passes, the strict marker fails
and the target becomes a plain test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sources_accuracy import KINDS, Scenario, measure_plant

SEEDS = (301, 302, 303)
PLANTS_PER_KIND = 2
COUNTS = (3, 5, 10, 20)
DRAWS = 2
#: Counts alone: no prior from signals, no parsimony, every unit exposed alike.
COUNTS_ALONE = {"use_signals": False, "parsimony": 1.0, "maturity_days": 0.0}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> list[Scenario]:
    root = tmp_path_factory.mktemp("sources")
    rows: list[Scenario] = []
    for kind in KINDS:
        planted = 0
        for seed in SEEDS:
            plant, measured = measure_plant(
                Path(root), seed, kind, counts=COUNTS, draws=DRAWS, compare={"counts": COUNTS_ALONE}
            )
            if plant.skipped is None:
                rows += measured
                planted += 1
            if planted == PLANTS_PER_KIND:
                break
        assert planted == PLANTS_PER_KIND, f"{kind}: too few plants could hold the defect"
    return rows


def rate(ranks: list[int | None], *, top: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= top) / len(ranks)


def ranks(rows: list[Scenario], variant: str | None = None) -> list[int | None]:
    return [r.variants[variant] if variant else r.rank for r in rows]


def test_every_scenario_was_measured(scenarios: list[Scenario]) -> None:
    assert len(scenarios) == len(KINDS) * PLANTS_PER_KIND * len(COUNTS) * DRAWS
    found = sum(1 for s in scenarios if s.rank is not None) / len(scenarios)
    assert found >= 0.95, "the planted source is a candidate (or the same candidate as one)"


def test_with_20_complaints(scenarios: list[Scenario]) -> None:
    rows = [s for s in scenarios if s.cases == 20]
    assert rate(ranks(rows), top=3) >= FLOOR_TOP3_20
    assert rate(ranks(rows), top=1) >= FLOOR_RANK1_20


def test_with_10_complaints(scenarios: list[Scenario]) -> None:
    rows = [s for s in scenarios if s.cases == 10]
    assert rate(ranks(rows), top=3) >= FLOOR_TOP3_10
    assert rate(ranks(rows), top=1) >= FLOOR_RANK1_10


def test_evidence_parsimony_and_exposure_do_better_than_counts_alone(scenarios: list[Scenario]) -> None:
    full, alone = ranks(scenarios), ranks(scenarios, "counts")
    assert rate(full, top=1) > rate(alone, top=1)
    assert rate(full, top=3) >= rate(alone, top=3)


@pytest.mark.xfail(
    strict=True,
    reason="not met: 62 % first, 87 % in the top 3 with <= 10 complaints (bound 62 %, 87 %): see the docstring",
)
def test_the_issue_target_with_10_complaints(scenarios: list[Scenario]) -> None:
    rows = [s for s in scenarios if s.cases <= 10]
    assert rate(ranks(rows), top=1) >= 0.9 and rate(ranks(rows), top=3) >= 0.99


#: One scenario under what these scenarios measure (12 per case count: with 10 complaints
#: 83 % first and 100 % in the top 3, with 20 both 100 %; counts alone, 56 % and 83 % with 10
#: or fewer against 58 % and 86 %), so that a change that makes the ranking worse fails.
FLOOR_TOP3_20 = 0.91
FLOOR_RANK1_20 = 0.91
FLOOR_TOP3_10 = 0.91
FLOOR_RANK1_10 = 0.75
