"""SPC: the Nelson and Western Electric rules, CUSUM and EWMA against hand-made sequences."""

from __future__ import annotations

import random

import pytest

from risk.signals.spc import cusum, ewma, individuals_limits, nelson_rules, western_electric_rules


def breaks(values: list[float], rule: int) -> list[tuple[int, int]]:
    return [(b.start, b.end) for b in nelson_rules(values, 0.0, 1.0, rules=[rule])]


def test_in_control_noise_breaks_no_rule() -> None:
    values = [0.2, -0.4, 0.7, -0.1, 0.3, -0.6, 0.5, -0.2, 0.1, -0.3]
    assert nelson_rules(values, 0.0, 1.0) == []


@pytest.mark.parametrize(
    ("rule", "values", "expected"),
    [
        # 1: one point beyond 3 sigma (either side).
        (1, [0, 0.5, 3.2, 0, -3.1], [(2, 2), (4, 4)]),
        (1, [0, 2.99, -2.99], []),
        # 2: nine in a row on one side; eight is not enough.
        (2, [-0.5] + [0.1] * 9 + [-0.2], [(1, 9)]),
        (2, [0.1] * 8 + [-0.1], []),
        # 3: six steadily increasing (five rises); five points are not enough.
        (3, [0, -1, -0.8, -0.5, 0, 0.3, 0.9, 0.2], [(1, 6)]),
        (3, [0, 0.1, 0.2, 0.3, 0.4, 0.3], []),
        # 4: fourteen alternating up and down.
        (4, [0.5 if i % 2 else -0.5 for i in range(14)], [(0, 13)]),
        (4, [0.5 if i % 2 else -0.5 for i in range(13)], []),
        # 5: two of three beyond 2 sigma on the same side; on opposite sides it is not.
        (5, [0, 2.1, 0.3, 2.4, 0], [(1, 3)]),
        (5, [0, 2.1, -2.2, 0], []),
        # 6: four of five beyond 1 sigma on one side.
        (6, [0, 1.2, 1.5, 0.2, 1.1, 1.3, 0], [(1, 5)]),
        (6, [0, 1.2, 1.5, 0.2, 1.1, -1.3, 0], []),
        # 7: fifteen within 1 sigma (stratification).
        (7, [0.5, -0.5] * 7 + [0.1], [(0, 14)]),
        (7, [0.5, -0.5] * 7, []),
        # 8: eight beyond 1 sigma on either side, none within.
        (8, [1.5, -1.5, 1.2, -1.2, 1.1, -1.1, 2.0, -2.0], [(0, 7)]),
        (8, [1.5, -1.5, 1.2, -1.2, 0.5, -1.1, 2.0, -2.0], []),
    ],
)
def test_each_nelson_rule_on_a_known_sequence(rule: int, values: list[float], expected: list[tuple[int, int]]) -> None:
    assert breaks(values, rule) == expected


def test_a_break_names_its_rule_and_run() -> None:
    found = nelson_rules([0.1] * 10, 0.0, 1.0, rules=[2])
    assert found[0].rule == 2 and "nine points" in found[0].description
    assert (found[0].start, found[0].end) == (0, 9)


def test_western_electric_numbers_its_own_rules() -> None:
    found = western_electric_rules([0.0, 3.5] + [0.4] * 8, 0.0, 1.0)
    assert [(b.rule, b.start, b.end) for b in found] == [(1, 1, 1), (4, 1, 9)]
    assert "eight points" in found[1].description


def test_individuals_limits_use_the_mean_moving_range() -> None:
    limits = individuals_limits([10.0, 12.0, 11.0, 13.0, 12.0], center=11.0)
    # moving ranges 2, 1, 2, 1: mean 1.5, sigma 1.5 / 1.128
    assert limits.sigma == pytest.approx(1.5 / 1.128)
    assert (limits.lcl, limits.ucl) == pytest.approx((11 - 3 * 1.5 / 1.128, 11 + 3 * 1.5 / 1.128))
    with pytest.raises(ValueError):
        individuals_limits([1.0])


def test_cusum_finds_a_small_sustained_shift_and_dates_it() -> None:
    rng = random.Random(4)
    values = (
        [rng.gauss(0, 1) for _ in range(60)]
        + [rng.gauss(1.0, 1) for _ in range(40)]
        + [rng.gauss(0, 1) for _ in range(40)]
    )
    # A one-sigma shift hides from rule 1 but not from CUSUM.
    up = [a for a in cusum(values, 0.0, 1.0) if a.direction == 1]
    assert len(up) == 1
    assert 55 <= up[0].start <= 66 and up[0].alarm > up[0].start
    assert 92 <= up[0].end <= 106


def test_cusum_is_quiet_in_control_and_sees_both_directions() -> None:
    assert cusum([0.0] * 50, 0.0, 1.0) == []
    down = cusum([0.0] * 10 + [-2.0] * 10, 0.0, 1.0)
    assert [(a.direction, a.start, a.end) for a in down] == [(-1, 10, 19)]


def test_ewma_limits_widen_to_their_asymptote() -> None:
    # With lambda 0.2 the asymptotic limit is 3 * sqrt(0.2 / 1.8) = 1 sigma: a 0.9 sigma
    # shift never crosses it, a 1.5 sigma shift does after four samples.
    assert ewma([0.9] * 50, 0.0, 1.0) == []
    alarms = ewma([0.0] * 10 + [1.5] * 10, 0.0, 1.0)
    assert [(a.direction, a.start, a.end) for a in alarms] == [(1, 14, 19)]
