"""Where ``tracegraph sources`` ranks a planted source, on a few small scenarios.

``bench/sources_accuracy.py`` measures the same over 20 plants per defect kind and writes
``bench/results/sources_accuracy.json``; docs/reference/sources.md summarises it. The issue
asked for rank 1 in 90 % and the top 3 in 99 % of scenarios, with 10 complaints or fewer.
The synthetic plant does not allow it: a defect there spreads over 5 to 18 finished lots that
lots of other parts overlap, and even a ranking told the true share of background complaints
(the ``oracle``) puts the truth first in well under 90 % of the scenarios with 10 complaints.
What this test holds is what is measured, so that a change that makes it worse fails: with
20 complaints the truth is nearly always in the top 3, it is never missing, the ranking is
close to the oracle's, and the answer is surer of itself when it is right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sources_accuracy import KINDS, Scenario, measure_plant

SEEDS = (1, 2)
COUNTS = (10, 20)
DRAWS = 2


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> list[Scenario]:
    root = tmp_path_factory.mktemp("sources")
    rows: list[Scenario] = []
    for kind in KINDS:
        for seed in SEEDS:
            plant, measured = measure_plant(Path(root), seed, kind, counts=COUNTS, draws=DRAWS)
            assert plant.skipped is None, plant
            rows += measured
    return rows


def rate(rows: list[Scenario], *, top: int, oracle: bool = False) -> float:
    ranks = [r.oracle_rank if oracle else r.rank for r in rows]
    return sum(1 for r in ranks if r is not None and r <= top) / len(rows)


def test_every_scenario_was_measured(scenarios: list[Scenario]) -> None:
    assert len(scenarios) == len(KINDS) * len(SEEDS) * len(COUNTS) * DRAWS
    assert all(s.rank is not None for s in scenarios), "the planted source is always a candidate"


def test_with_20_complaints_the_source_is_in_the_top_3(scenarios: list[Scenario]) -> None:
    rows = [s for s in scenarios if s.cases == 20]
    assert rate(rows, top=3) >= FLOOR_TOP3_20
    assert rate(rows, top=1) >= FLOOR_RANK1_20


def test_with_10_complaints(scenarios: list[Scenario]) -> None:
    rows = [s for s in scenarios if s.cases == 10]
    assert rate(rows, top=3) >= FLOOR_TOP3_10
    assert rate(rows, top=1) >= FLOOR_RANK1_10


def test_the_ranking_is_close_to_what_the_counts_allow(scenarios: list[Scenario]) -> None:
    assert rate(scenarios, top=1) >= rate(scenarios, top=1, oracle=True) - 0.1
    assert rate(scenarios, top=3) >= rate(scenarios, top=3, oracle=True) - 0.2


def test_the_answer_is_surer_when_it_is_right(scenarios: list[Scenario]) -> None:
    """``top_share`` (how often the top candidate stays first over resampled cases) is what the
    notes report; it must be higher when the top candidate is the truth than when it is not,
    and an answer sure of itself (80 % or more) must not be wrong."""
    right = [s.top_share for s in scenarios if s.rank == 1 and s.top_share is not None]
    wrong = [s.top_share for s in scenarios if s.rank != 1 and s.top_share is not None]
    assert right and wrong
    assert sum(right) / len(right) > sum(wrong) / len(wrong)
    assert all(share < 0.8 for share in wrong)


#: Measured on these scenarios: 100 % and 83 % with 20 complaints, 75 % and 50 % with 10.
FLOOR_TOP3_20 = 0.9
FLOOR_RANK1_20 = 0.75
FLOOR_TOP3_10 = 0.7
FLOOR_RANK1_10 = 0.4
