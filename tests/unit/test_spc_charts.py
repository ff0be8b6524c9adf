"""Control charts for the quality views: the same chart the SPC signals judge, with its breaks."""

from __future__ import annotations

import doctest
import random
from datetime import UTC, datetime, timedelta

import pytest

from risk.signals import charts as charts_module
from risk.signals.charts import RuleSystem, control_charts
from risk.signals.process import ProcessRun, process_signals

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _run(
    n: int, values: list[float], *, equipment: str = "equipment:IMM-01", target: float | None = 100.0
) -> ProcessRun:
    return ProcessRun(
        key=f"run:{n}",
        equipment=equipment,
        parameter="hold_pressure_bar",
        work_order=f"wo:{n}",
        target=target,
        lsl=90.0,
        usl=110.0,
        samples=tuple((T0 + timedelta(days=n, hours=i), v) for i, v in enumerate(values)),
    )


def _noise(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [100 + rng.gauss(0, 1) for _ in range(n)]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(charts_module).failed == 0


def test_a_point_beyond_three_sigma_is_rule_one_at_its_index() -> None:
    values = _noise(1, 12)
    values[7] = 100 + 8.0
    [chart] = control_charts([_run(0, values[:6]), _run(1, values[6:])])
    assert [p.run for p in chart.points] == ["run:0"] * 6 + ["run:1"] * 6
    ones = [b for b in chart.breaks if b.rule == 1]
    assert [(b.start, b.end) for b in ones] == [(7, 7)]
    assert chart.points[7].value > chart.ucl
    assert chart.center == 100.0 and chart.lsl == 90.0 and chart.usl == 110.0


def test_sigma_ignores_the_jump_between_runs() -> None:
    low, high = [100.0, 100.5, 99.5, 100.0], [120.0, 120.5, 119.5, 120.0]
    [chart] = control_charts([_run(0, low), _run(1, high)])
    # Moving ranges within runs only: 0.5, 1.0, 0.5 twice; the 20-unit step between runs is left out.
    assert chart.sigma == pytest.approx((2 / 3) / 1.128, rel=1e-6)


def test_western_electric_numbers_its_own_rules() -> None:
    eight_above = [101.5, 101.2, 101.8, 101.4, 101.6, 101.3, 101.7, 101.5]
    runs = [_run(0, _noise(2, 10)), _run(1, eight_above), _run(2, _noise(3, 10))]
    [nelson] = control_charts(runs, rules=RuleSystem.NELSON)
    [western] = control_charts(runs, rules=RuleSystem.WESTERN_ELECTRIC)
    # Nelson 6 (four of five beyond 1 sigma) is Western Electric 3; and every WE rule is 1-4.
    assert {b.rule for b in western.breaks} <= {1, 2, 3, 4}
    assert any(b.rule == 3 for b in western.breaks) == any(b.rule == 6 for b in nelson.breaks)
    assert western.breaks, "eight samples 1.5 sigma above the centre break a Western Electric rule"


def test_filters_and_too_short_series() -> None:
    runs = [_run(0, _noise(4, 8)), _run(1, _noise(5, 8), equipment="equipment:IMM-02"), _run(2, [100.0])]
    assert [c.equipment for c in control_charts(runs)] == ["equipment:IMM-01", "equipment:IMM-02"]
    assert [c.equipment for c in control_charts(runs, equipment="equipment:IMM-02")] == ["equipment:IMM-02"]
    assert control_charts(runs, parameter="melt_temp_c") == []
    assert control_charts([_run(0, [100.0, 101.0])]) == []  # one moving range: no sigma


def test_the_chart_shows_the_breaks_the_process_signals_raise() -> None:
    values = _noise(6, 24)
    values[5:11] = [99.0, 100.0, 101.0, 102.0, 103.0, 104.0]  # six rising: Nelson 3
    runs = [_run(0, values[:12], target=None), _run(1, values[12:], target=None)]
    [chart] = control_charts(runs)
    signalled = {
        (int(s.rule.rsplit(".", 1)[1]), int(s.statistics["first_sample"]), int(s.statistics["last_sample"]))
        for s in process_signals(runs)
        if s.rule.startswith("spc.nelson.")
    }
    assert signalled and signalled <= {(b.rule, b.start, b.end) for b in chart.breaks}
