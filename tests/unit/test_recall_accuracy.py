"""The recall scope's measured accuracy on the small plant, for every kind of injected defect.

At the default threshold the scope must find at least 99 % of the truly affected devices
with at least 90 % precision (bench/recall_accuracy.py measures the same on the medium plant).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.recall_accuracy import KINDS, Measurement, measure


@pytest.fixture(scope="module")
def measurements(tmp_path_factory: pytest.TempPathFactory) -> list[Measurement]:
    root = tmp_path_factory.mktemp("accuracy")
    return [measure("small", seed, kind, Path(root)) for seed in (1, 2, 3) for kind in KINDS]


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_recall_and_precision_at_the_default_threshold(measurements: list[Measurement], kind: str) -> None:
    for m in (m for m in measurements if m.defect == kind):
        assert m.truth_devices > 0
        assert m.recall >= 0.99, m
        assert m.precision >= 0.90, m


@pytest.mark.slow
def test_the_scope_is_never_larger_than_a_plain_trace_from_the_roots(measurements: list[Measurement]) -> None:
    for m in measurements:
        if m.defect != "cross_contamination":  # carry-over reaches past what a trace from the lot sees
            assert m.scope_devices <= m.plain_trace_devices, m


@pytest.mark.slow
def test_mislabelled_devices_are_a_fraction_of_what_tracing_the_lots_recalls(measurements: list[Measurement]) -> None:
    for m in (m for m in measurements if m.defect == "mislabelled_lot"):
        assert m.scope_devices == m.truth_devices
        assert m.scope_vs_time_trace < 0.5, m
