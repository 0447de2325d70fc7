"""One Student t quantile for every confidence interval, checked against scipy."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from valueroute.sim.metrics import student_t_quantile


@given(
    p=st.floats(0.0005, 0.9995),
    df=st.one_of(st.integers(1, 400), st.integers(401, 10**9)),
)
def test_student_t_quantile_matches_scipy(p: float, df: int) -> None:
    expected = float(stats.t.ppf(p, df))
    assert student_t_quantile(p, df) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 19, 29, 59, 61, 120, 199, 201])
def test_the_usual_interval_quantiles_are_exact(df: int) -> None:
    for p in (0.9, 0.95, 0.975, 0.995):
        assert student_t_quantile(p, df) == pytest.approx(float(stats.t.ppf(p, df)), rel=1e-10)


def test_staffing_and_kpis_share_the_quantile() -> None:
    import valueroute.sim.staffing as staffing

    assert not hasattr(staffing, "_t_quantile")
    assert staffing.student_t_quantile is student_t_quantile
