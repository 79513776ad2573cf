"""Macro paths: shock shapes exactly, and the AR(1) cycle factor against its closed-form variance."""
import numpy as np

from simulator.model.macro import central_path, cycle_factor, macro_paths
from simulator.inputs.schema import CycleSpec, MacroSpec

K_SE = 5.0


def test_shock_shapes_and_path_interpolation():
    macro = MacroSpec.model_validate({
        "baseline": {"unemployment_pct": 5.0, "income_growth_pct": 4.0, "policy_rate_pct": 2.0},
        "shocks": [
            {"shape": "hump", "variable": "unemployment", "size_pp": 4.0, "start_month": 1, "peak_month": 4,
             "hold_months": 2, "decay_months": 4},
            {"shape": "step", "variable": "policy_rate", "size_pp": 1.0, "start_month": 3, "end_month": 5},
            {"shape": "ramp", "variable": "policy_rate", "size_pp": -0.5, "start_month": 1, "end_month": 2},
            {"shape": "path", "variable": "income_growth", "frequency": "quarterly", "levels_pct": [1.0, 7.0]},
        ]})
    path = central_path(macro, 12)
    np.testing.assert_allclose(path["unemployment"],
                               5 + np.array([0, 1, 2, 3, 4, 4, 4, 3, 2, 1, 0, 0, 0]))
    np.testing.assert_allclose(path["policy_rate"],
                               2 + np.array([0, -0.25, -0.5, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5, -0.5, -0.5,
                                             -0.5]))
    np.testing.assert_allclose(path["income_growth"],
                               [4, 3, 2, 1, 3, 5, 7, 7, 7, 7, 7, 7, 7])


def test_zero_volatility_is_deterministic():
    x = cycle_factor(CycleSpec(volatility=0.0), seed=1, path_ids=np.arange(5), n_months=12)
    assert not x.any()


def test_cycle_variance_matches_ar1_closed_form():
    sigma, phi, n_paths, months = 1.3, 0.8, 20_000, 24
    x = cycle_factor(CycleSpec(volatility=sigma, persistence=phi), seed=9, path_ids=np.arange(n_paths),
                     n_months=months)
    assert np.all(x[:, 0] == 0.0)
    for t in (1, 6, 24):
        expected = sigma ** 2 * (1 - phi ** (2 * t))
        # Var of a sample variance of normals: 2 sigma^4 / (N - 1)
        se = np.sqrt(2.0 / (n_paths - 1)) * expected
        assert abs(x[:, t].var(ddof=1) - expected) <= K_SE * se
    # lag-1 autocorrelation at stationarity-ish months, against phi * sd_t-1 / sd_t
    t = 24
    corr = np.corrcoef(x[:, t - 1], x[:, t])[0, 1]
    expected_corr = phi * np.sqrt((1 - phi ** (2 * (t - 1))) / (1 - phi ** (2 * t)))
    assert abs(corr - expected_corr) <= K_SE * (1 - expected_corr ** 2) / np.sqrt(n_paths)


def test_macro_paths_do_not_depend_on_how_paths_are_grouped():
    macro = MacroSpec()
    whole = macro_paths(macro, 4, np.arange(10), 12).unemployment
    parts = np.vstack([macro_paths(macro, 4, np.arange(0, 3), 12).unemployment,
                       macro_paths(macro, 4, np.arange(3, 10), 12).unemployment])
    assert np.array_equal(whole, parts)


def test_a_start_of_k_sds_shifts_every_month_by_the_decayed_start():
    """``x_t(start=k) - x_t(start=0) = phi^t k sigma`` exactly: the recurrence is linear and the draws are shared."""
    sigma, phi, k = 1.2, 0.85, 2.0
    at_zero = cycle_factor(CycleSpec(volatility=sigma, persistence=phi), seed=3, path_ids=np.arange(50), n_months=24)
    started = cycle_factor(CycleSpec(volatility=sigma, persistence=phi, start=k), seed=3, path_ids=np.arange(50),
                           n_months=24)
    np.testing.assert_allclose(started - at_zero, np.broadcast_to(phi ** np.arange(25) * k * sigma, at_zero.shape),
                               rtol=1e-12, atol=1e-12)


def test_a_stationary_start_has_the_long_run_variance_in_every_month():
    """With ``start: stationary`` each ``x_t`` is N(0, sigma^2): the sample variance at months 0, 1, 12 and 36 is within
    K_SE standard errors (``sigma^2 sqrt(2 / (n - 1))`` for a normal sample) of sigma^2, for several seeds."""
    sigma, phi, n_paths = 1.3, 0.9, 8_000
    se = sigma ** 2 * np.sqrt(2.0 / (n_paths - 1))
    for seed in (0, 1, 2):
        x = cycle_factor(CycleSpec(volatility=sigma, persistence=phi, start="stationary"), seed=seed,
                         path_ids=np.arange(n_paths), n_months=36)
        for t in (0, 1, 12, 36):
            assert abs(x[:, t].var(ddof=1) - sigma ** 2) < K_SE * se, (seed, t, x[:, t].var(ddof=1))
        # the default start (0) has variance sigma^2 (1 - phi^(2t)) instead: far from sigma^2 early on
        assert abs(cycle_factor(CycleSpec(volatility=sigma, persistence=phi), seed=seed, path_ids=np.arange(n_paths),
                                n_months=36)[:, 1].var(ddof=1) - sigma ** 2) > K_SE * se
