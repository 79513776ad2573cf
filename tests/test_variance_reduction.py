"""Variance reduction: the sampling schemes draw what they should, and the weighted estimators are right.

Closed forms nobody here wrote are the references:

* the one-factor (Vasicek 1987/2002) loss ``L(Z) = Phi((Phi^-1(p) + sqrt(rho) Z) / sqrt(1 - rho))``
  has mean ``p``, quantiles ``L(Phi^-1(q))`` and expected shortfall
  ``int_{z_q}^inf L(z) phi(z) dz / (1 - q)`` (by quadrature);
* under importance sampling ``Z ~ N(theta, 1)`` with weights ``w = exp(theta^2/2 - theta Z)``,
  the estimators' asymptotic variances are integrals against ``phi(z)^2 / phi(z - theta)``
  (Glasserman 2003, 4.6 and 9.1; Hong and Liu 2009 for ES), also by quadrature.

Every tolerance is k computed standard errors (k = 4: a failure is a 1-in-15,000
event for any seed).
"""
import numpy as np
import pytest
from click.testing import CliRunner
from scipy import integrate, stats

import simulator
from simulator.accounts.metrics import describe, expected_shortfall, tail_risk, value_at_risk, weighted_percentiles
from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario
from simulator.inputs.schema import CycleSpec, RunSpec
from simulator.model.sampling import cycle_innovations, loss_direction, path_design

from conftest import SCENARIOS

K = 4.0
P_DEFAULT, RHO = 0.03, 0.12


def vasicek_loss(z):
    return stats.norm.cdf((stats.norm.ppf(P_DEFAULT) + np.sqrt(RHO) * z) / np.sqrt(1.0 - RHO))


def vasicek_density(x):
    """Density of the Vasicek loss distribution at ``x``."""
    a = (np.sqrt(1.0 - RHO) * stats.norm.ppf(x) - stats.norm.ppf(P_DEFAULT)) / np.sqrt(RHO)
    return stats.norm.pdf(a) * np.sqrt(1.0 - RHO) / (np.sqrt(RHO) * stats.norm.pdf(stats.norm.ppf(x)))


def second_moment_under_shift(g, theta, lower=-np.inf):
    """``E_IS[w^2 g(Z)^2] = int phi(z)^2 / phi(z - theta) g(z)^2 dz`` over ``z > lower``, with
    ``phi(z)^2 / phi(z - theta) = exp(theta^2) phi(z + theta)``."""
    value, _ = integrate.quad(lambda z: np.exp(theta ** 2) * stats.norm.pdf(z + theta) * g(z) ** 2, lower,
                              np.inf, limit=200)
    return value


def shifted_sample(seed, n, theta):
    rng = np.random.Generator(np.random.PCG64(seed))
    z = rng.standard_normal(n) + theta
    return vasicek_loss(z), np.exp(0.5 * theta ** 2 - theta * z)


class Design:
    """A stand-in for :class:`simulator.model.sampling.PathDesign`: weights, one replicate per path."""

    def __init__(self, weights, replicates=None):
        self.weights = weights
        self.replicates = np.arange(len(weights)) if replicates is None else replicates
        self.n_replicates = int(self.replicates.max()) + 1


@pytest.mark.parametrize("seed", [1, 2])
def test_weighted_quantiles_match_the_vasicek_quantiles(seed):
    theta, n = 2.0, 40_000
    losses, weights = shifted_sample(seed, n, theta)
    for q in (0.99, 0.999):
        z_q = stats.norm.ppf(q)
        truth = vasicek_loss(z_q)
        variance = (np.exp(theta ** 2) * stats.norm.sf(z_q + theta) - (1 - q) ** 2) / n
        se = np.sqrt(variance) / vasicek_density(truth)
        assert abs(value_at_risk(losses, q, weights) - truth) < K * se
        assert weighted_percentiles(losses, [100 * q], weights)[0] == value_at_risk(losses, q, weights)


@pytest.mark.parametrize("seed", [3, 4])
def test_weighted_expected_shortfall_matches_the_vasicek_integral(seed):
    theta, n, q = 2.0, 40_000, 0.99
    losses, weights = shifted_sample(seed, n, theta)
    z_q = stats.norm.ppf(q)
    var_q = vasicek_loss(z_q)
    tail, _ = integrate.quad(lambda z: vasicek_loss(z) * stats.norm.pdf(z), z_q, np.inf)
    truth = tail / (1 - q)
    excess = second_moment_under_shift(lambda z: np.maximum(vasicek_loss(z) - var_q, 0.0), theta, z_q)
    mean_excess = (truth - var_q) * (1 - q)
    se = np.sqrt((excess - mean_excess ** 2) / n) / (1 - q)  # Hong and Liu (2009): VaR's error is second order
    assert abs(expected_shortfall(losses, q, weights) - truth) < K * se


def test_plain_and_weighted_estimators_agree_for_equal_weights():
    rng = np.random.Generator(np.random.PCG64(5))
    losses = rng.standard_normal(999)
    ones = np.ones_like(losses)
    for q in (0.9, 0.99, 0.999):
        assert value_at_risk(losses, q, ones) == value_at_risk(losses, q)
        assert expected_shortfall(losses, q, ones) == pytest.approx(expected_shortfall(losses, q), rel=1e-12)


@pytest.mark.parametrize("seed", [6, 7])
def test_weighted_mean_and_its_standard_error(seed):
    """The self-normalised mean is unbiased for ``E[L] = p``; its reported se matches the delta-method one."""
    theta, n = 1.5, 50_000
    losses, weights = shifted_sample(seed, n, theta)
    stats_ = describe(losses, Design(weights))
    true_variance = second_moment_under_shift(lambda z: vasicek_loss(z) - P_DEFAULT, theta) / n
    assert abs(stats_["mean"] - P_DEFAULT) < K * np.sqrt(true_variance)
    assert 0.8 < stats_["se"] / np.sqrt(true_variance) < 1.25


def test_replicate_standard_error_reduces_to_the_plain_one():
    rng = np.random.Generator(np.random.PCG64(8))
    values = rng.standard_normal((500, 3))
    plain = describe(values)
    general = describe(values, Design(np.ones(500)))
    np.testing.assert_allclose(general["se"], plain["se"], rtol=1e-12)
    np.testing.assert_allclose(general["mean"], plain["mean"], rtol=1e-12)


def test_replicate_standard_error_of_grouped_paths():
    """Paths grouped in replicates: the se is that of the replicates' means, ``sd(group means) / sqrt(G)``."""
    rng = np.random.Generator(np.random.PCG64(9))
    values = rng.standard_normal(64) + np.repeat(rng.standard_normal(8), 8)
    groups = np.repeat(np.arange(8), 8)
    result = describe(values, Design(None, groups))
    group_means = values.reshape(8, 8).mean(axis=1)
    assert result["se"] == pytest.approx(group_means.std(ddof=1) / np.sqrt(8), rel=1e-12)


# --------------------------------------------------------------------- the sampling schemes
def run_spec(**changes):
    return RunSpec(horizon_months=24, paths=512, **changes)


def test_rqmc_innovations_are_standard_normal_and_pure():
    run, cycle = run_spec(sampling="rqmc", rqmc_points=32), CycleSpec()
    eps = cycle_innovations(run, cycle, 11, np.arange(512), 40)
    design = path_design(run, cycle, 11, 40)
    moments = describe(np.hstack([eps, eps ** 2]), design)
    z = np.concatenate([moments["mean"][:41] / moments["se"][:41], (moments["mean"][41:] - 1) / moments["se"][41:]])
    assert np.all(np.abs(z) < 5.0)  # 82 statistics, t with 15 dof: beyond 5 is a 1-in-6,000 event each
    parts = np.vstack([cycle_innovations(run, cycle, 11, np.arange(0, 77), 40),
                       cycle_innovations(run, cycle, 11, np.arange(77, 512), 40)])
    assert np.array_equal(parts, eps)


def test_rqmc_stratifies_the_loss_direction():
    """Projected on the loss direction, one scramble's 32 points put exactly one point in each 1/32 of the normal."""
    run, cycle = run_spec(sampling="rqmc", rqmc_points=32), CycleSpec()
    eps = cycle_innovations(run, cycle, 12, np.arange(32), 40)
    projected = eps @ loss_direction(cycle, 24, 40)
    cells = np.floor(stats.norm.cdf(projected) * 32).astype(int)
    assert sorted(cells) == list(range(32))


def test_antithetic_pairs_are_opposite():
    run, cycle = run_spec(sampling="antithetic"), CycleSpec()
    eps = cycle_innovations(run, cycle, 13, np.arange(10), 30)
    np.testing.assert_array_equal(eps[0::2], -eps[1::2])


def test_importance_weights_have_mean_one_and_half_the_paths_are_shifted():
    run = RunSpec(horizon_months=24, paths=20_000, sampling="mc", tail_sampling="importance", importance_shift=1.5)
    cycle = CycleSpec()
    design = path_design(run, cycle, 14, 40)
    w = design.weights
    assert abs(w.mean() - 1.0) < K * w.std(ddof=1) / np.sqrt(len(w))
    assert w.max() < 2.0 and design.n_replicates == 10_000
    eps = cycle_innovations(run, cycle, 14, np.arange(4000), 40)
    projected = eps @ loss_direction(cycle, 24, 40)
    assert abs(projected[1::2].mean() - 1.5) < K / np.sqrt(2000)
    assert abs(projected[0::2].mean()) < K / np.sqrt(2000)


def test_mixture_weights_give_the_vasicek_tail():
    """The engine's weights, on the engine's draws, estimate the Vasicek 99.9% quantile of the loss direction's
    factor within k se (se from the replicate bootstrap the runs report)."""
    run = RunSpec(horizon_months=24, paths=40_000, sampling="mc", tail_sampling="importance", importance_shift=3.0)
    cycle = CycleSpec()
    design = path_design(run, cycle, 15, 30)
    z = cycle_innovations(run, cycle, 15, np.arange(run.paths), 30) @ loss_direction(cycle, 24, 30)
    losses = vasicek_loss(z)
    tail = tail_risk(losses, 15, design, n_boot=100)["loss_var_999"]
    assert abs(tail["value"] - vasicek_loss(stats.norm.ppf(0.999))) < K * tail["se"]


def test_loss_direction_is_the_gradient_of_the_average_cycle():
    """Against a direct computation: the AR(1) average's response to each innovation, by finite differences."""
    cycle = CycleSpec(persistence=0.8, start="stationary")
    horizon, n_months = 12, 20
    base = np.zeros((1, n_months + 1))

    def average_cycle(eps):
        x = np.zeros(n_months + 1)
        x[0] = eps[0]
        for t in range(1, n_months + 1):
            x[t] = 0.8 * x[t - 1] + np.sqrt(1 - 0.8 ** 2) * eps[t]
        return x[1:horizon + 1].mean()

    gradient = np.array([average_cycle(np.eye(n_months + 1)[j]) - average_cycle(base[0])
                         for j in range(n_months + 1)])
    np.testing.assert_allclose(loss_direction(cycle, horizon, n_months), gradient / np.linalg.norm(gradient),
                               atol=1e-12)


# --------------------------------------------------------------------- end to end
def small(name, **run):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_run(horizon_months=12, **run).with_loans(1000)


SCHEMES = ({"sampling": "rqmc", "rqmc_points": 32}, {"sampling": "antithetic"},
           {"tail_sampling": "importance", "importance_shift": 2.0})


def test_each_scheme_estimates_the_same_mean_loss():
    """Against plain Monte Carlo on other paths, each with its reported standard error."""
    reference = simulator.run(small("severe", sampling="mc"), paths=256, seed=21).summary["metrics"]
    for settings in SCHEMES:
        other = simulator.run(small("severe", **settings), paths=256, seed=22).summary["metrics"]
        mine, base = other["cumulative_loss_rate"], reference["cumulative_loss_rate"]
        assert abs(mine["mean"] - base["mean"]) < K * np.hypot(mine["se"], base["se"]), settings


ECL_RUNS = 6


def test_each_scheme_estimates_the_same_peak_ecl():
    """The peak ECL, whose rates are pooled over the paths with their weights (an unweighted pool would overstate
    it under importance sampling), against plain Monte Carlo.

    Its reported standard error leaves out the error of the pooled rates, which every path shares: on this
    1,000-loan book the means of 16 plain runs of 256 paths spread with sd 2,170 against a reported se of 1,490
    (docs/variance-reduction.md). So the error here is measured: each scheme's mean is the average of
    ``ECL_RUNS`` independent runs, its standard error the spread of those runs / sqrt(runs), and the tolerance is
    the Student-t quantile (Welch-Satterthwaite degrees of freedom) of the same two-sided tail as k = 4 normal
    errors.
    """
    def run_means(settings, first_seed):
        return np.array([simulator.run(small("severe", **settings), paths=128, seed=first_seed + k)
                         .summary["metrics"]["peak_ifrs9_ecl"]["mean"] for k in range(ECL_RUNS)])

    tail = 2.0 * stats.norm.sf(K)
    reference = run_means({"sampling": "mc"}, 100)
    for n, settings in enumerate(SCHEMES):
        other = run_means(settings, 200 + 10 * n)
        v_mine, v_base = other.var(ddof=1) / ECL_RUNS, reference.var(ddof=1) / ECL_RUNS
        dof = (v_mine + v_base) ** 2 / (v_mine ** 2 / (ECL_RUNS - 1) + v_base ** 2 / (ECL_RUNS - 1))
        limit = stats.t.isf(tail / 2.0, dof) * np.sqrt(v_mine + v_base)
        assert abs(other.mean() - reference.mean()) < limit, (settings, other.mean(), reference.mean(), limit)


def test_sampled_runs_do_not_depend_on_the_block_size():
    for settings in ({"sampling": "rqmc", "rqmc_points": 16}, {"sampling": "antithetic"},
                     {"tail_sampling": "importance"}):
        one = simulator.run(small("severe", chunk_paths=7, **settings), paths=64, seed=23)
        other = simulator.run(small("severe", chunk_paths=32, **settings), paths=64, seed=23)
        assert np.array_equal(one.aggregates, other.aggregates), settings


def test_a_target_run_equals_a_plain_run_of_as_many_paths():
    scenario = small("severe", rqmc_points=8)  # 'auto' would pick the points from the first batch's paths
    target = simulator.run(scenario, paths=32, seed=24, target_se={"cumulative_loss_rate": 1e-9}, max_paths=80)
    assert target.scenario.run.paths == 80
    assert target.summary["target_se"]["all_met"] is False
    plain = simulator.run(scenario, paths=80, seed=24)
    assert np.array_equal(target.aggregates, plain.aggregates)
    assert np.array_equal(target.vintages, plain.vintages)


def test_a_target_that_is_met_stops_early():
    """Plain Monte Carlo, so that the first batch's se has 63 degrees of freedom (a few scrambles' would be too
    noisy a start: with 2 scrambles the run can need more than the cap)."""
    scenario = small("severe", sampling="mc")
    first = simulator.run(scenario, paths=64, seed=25)
    se = first.summary["metrics"]["cumulative_loss_rate"]["se"]
    target = simulator.run(scenario, paths=64, seed=25, target_se={"cumulative_loss_rate": se / 1.5})
    report = target.summary["target_se"]["metrics"]["cumulative_loss_rate"]
    n_paths = target.scenario.run.paths
    assert 64 < n_paths < 16 * 64  # paths added, stopped before the cap
    assert report["met"] and target.summary["target_se"]["all_met"]
    plain = simulator.run(scenario, paths=n_paths, seed=25)  # the same run made in one go
    assert report["se"] == plain.summary["metrics"]["cumulative_loss_rate"]["se"] <= se / 1.5
    assert np.array_equal(target.aggregates, plain.aggregates)


@pytest.mark.parametrize("settings, field", [
    ({"sampling": "rqmc", "rqmc_points": 48}, "run.rqmc_points"),
    ({"sampling": "rqmc", "rqmc_points": 32}, "run.paths"),
    ({"sampling": "antithetic"}, "run.paths"),
])
def test_inconsistent_sampling_is_refused(settings, field):
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        simulator.run(small("severe", **settings), paths=33, seed=1)


def test_importance_sampling_needs_a_cycle(tiny_scenario_dict, write_yaml):
    tiny_scenario_dict["macro"]["cycle"] = {"volatility": 0.0}
    tiny_scenario_dict["run"]["tail_sampling"] = "importance"
    result = CliRunner().invoke(main, ["run", str(write_yaml(tiny_scenario_dict)), "--no-plots", "-q"])
    assert result.exit_code == 2 and "run.tail_sampling" in result.output and "Traceback" not in result.output


def test_cli_target_se_errors(tiny_scenario_file, tmp_path):
    runner = CliRunner()
    unknown = runner.invoke(main, ["run", str(tiny_scenario_file), "--target-se", "loss=0.1", "--out",
                                   str(tmp_path / "a"), "-q"])
    assert unknown.exit_code == 2 and "cumulative_loss_rate" in unknown.output
    malformed = runner.invoke(main, ["run", str(tiny_scenario_file), "--target-se", "cumulative_loss_rate",
                                     "--out", str(tmp_path / "b"), "-q"])
    assert malformed.exit_code == 2 and "METRIC=SE" in malformed.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
