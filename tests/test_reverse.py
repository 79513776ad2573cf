"""Reverse stress tests (``simulate reverse``) against closed forms, and their failure modes.

Closed form (one-factor roll-rate model, Belkin, Forest and Suchower 1998): with the
cycle's volatility 0, a one-month horizon and a book all current, a loan is charged
off in month 1 with probability

    p(s) = Phi(Phi^-1(PD) + sqrt(rho) k s u / sqrt(1 - rho)),

where ``u`` is a step shock on unemployment (pp), ``k`` the cycle index per point of
unemployment and ``s`` the severity multiplier (the engine's thresholds are
``Phi^-1(C) sqrt(1 - rho)`` at volatility 0 and the cycle index is ``k s u``). A
charge-off writes off the loan's balance, so the mean cumulative loss rate is
``p(s) (1 - R)`` with a debt sale at recovery rate ``R``: the severity at which the mean
crosses ``t`` solves ``p(s) (1 - R) = t`` (found here with scipy's ``brentq``, not by the
code under test). Its standard error: the loss rate of a path is
``sum_i b_i D_i / sum_i b_i`` with independent ``D_i ~ Bernoulli(p)``, variance
``p (1 - p) sum b^2 / (sum b)^2``, and ``se(s) = se(mean) / |d mean / ds|``.
"""
import json
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from scipy import optimize, stats

import simulator
from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.model.macro import central_path
from simulator.model.portfolio import build_book
from simulator.presentation.labels import text
from simulator.presentation.plots import house_style, reverse_curve
from simulator.workflows.reverse import Severity, order_statistic_ranks, parse_breach, reverse_stress

from tests.assertions import assert_clean_errors
from tests.conftest import SCENARIOS

K_SE = 5.0
SEEDS = [3, 17]
PD, RHO, K, U = 0.02, 0.2, 0.5, 2.0
LOANS, PATHS = 2000, 20


def roll_rate_dict(recovery_pct=0.0, size_pp=U, seed=3):
    """The closed-form scenario: one segment all current, PD to charge-off in one month, no cycle noise."""
    matrix = [[100 * (1 - PD), 0, 0, 0, 0, 0, 0, 100 * PD, 0]] + [[0] * i + [100] + [0] * (8 - i) for i in range(1, 7)]
    return {"name": "closed_form", "run": {"horizon_months": 1, "paths": PATHS, "seed": seed, "balance_sheet": "runoff"},
            "portfolio": {"n_loans": LOANS, "segments": [{
                "name": "book", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
                "term_months": [36], "income": {"median": 5000},
                "starting_dpd_pct": {"current": 100, "dpd_1_30": 0, "dpd_31_60": 0, "dpd_61_90": 0, "dpd_91_120": 0,
                                     "dpd_121_150": 0, "dpd_151_180": 0}}]},
            "macro": {"cycle": {"volatility": 0.0},
                      "shocks": [{"shape": "step", "variable": "unemployment", "size_pp": size_pp, "start_month": 1}]},
            "behaviour": {"model": "roll_rate", "penalty_rate_uplift_pct": 0, "prepayment_pct": None,
                          "recovery": {"rate_pct": recovery_pct, "months": 0},
                          "roll_rate": {"asset_correlation_pct": 100 * RHO, "cycle_per_unemployment_pp": K,
                                        "matrices": {"default": matrix}}},
            "provisioning": {"ifrs9": {"lifetime_months": 12}}}


def default_probability(s):
    return stats.norm.cdf(stats.norm.ppf(PD) + np.sqrt(RHO) * K * s * U / np.sqrt(1 - RHO))


def balance_concentration(scenario):
    """``sum b^2 / (sum b)^2`` of the opening book (the variance factor of a balance-weighted default rate)."""
    book = build_book(scenario, scenario.portfolio.seed)
    balance = book.principal + book.arrears
    return np.sum(balance ** 2) / np.sum(balance) ** 2


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_target_severity_matches_the_vasicek_closed_form(seed):
    scenario = scenario_from_dict(roll_rate_dict(seed=seed))
    threshold = 0.06
    found = reverse_stress(scenario, f"cumulative_loss_rate>{threshold}")
    expected = optimize.brentq(lambda s: default_probability(s) - threshold, 0.0, 3.0, xtol=1e-12)
    slope = (default_probability(expected + 1e-6) - default_probability(expected - 1e-6)) / 2e-6
    se_mean = np.sqrt(threshold * (1 - threshold) * balance_concentration(scenario) / PATHS)
    se = se_mean / slope
    summary = found.summary
    assert summary["target"]["kind"] == "mean" and summary["status"] == "breaks"
    assert abs(found.breaking_severity - expected) <= K_SE * se + summary["tolerance"], (found.breaking_severity,
                                                                                         expected, se)
    # the delta-method se agrees with the closed form's up to the sampling error of a standard deviation over the
    # paths (s / sigma ~ sqrt(chi2_{N-1} / (N - 1)); bounds at its 1e-4 and 1 - 1e-4 quantiles)
    bounds = np.sqrt(stats.chi2.ppf([1e-4, 1 - 1e-4], PATHS - 1) / (PATHS - 1))
    assert bounds[0] < summary["se"] / se < bounds[1], (summary["se"], se, bounds)
    low, high = summary["interval"]
    assert low < found.breaking_severity < high
    # the macro path at the breaking severity: the step shock scaled
    macro = summary["macro_at_run_severity"]
    assert macro["peak_unemployment_pct"] == pytest.approx(5.2 + found.breaking_severity * U)
    assert macro["peak_unemployment_month"] == 1


def test_key_search_finds_the_recovery_rate_of_the_closed_form():
    """Searching the recovery rate: the mean loss ``p(1) (1 - R)`` falls in ``R``, so the search runs downwards from
    the mild (high) end; the root is ``R* = 1 - t / p(1)``."""
    scenario = scenario_from_dict(roll_rate_dict())
    threshold = 0.03
    found = reverse_stress(scenario, f"cumulative_loss_rate>{threshold}", shock="behaviour.recovery.rate_pct",
                           severity_range="0,90", grid_points=4)
    p = default_probability(1.0)
    expected = 100 * optimize.brentq(lambda r: p * (1 - r) - threshold, 0.0, 1.0, xtol=1e-12)
    se_loss = np.sqrt(p * (1 - p) * balance_concentration(scenario) / PATHS)  # of the default rate
    se = 100 * threshold * se_loss / p ** 2  # R = 1 - t / L: dR/dL = t / L^2
    assert found.summary["shock"]["mild_end"] == 90.0 and found.summary["shock"]["severe_end"] == 0.0
    assert abs(found.breaking_severity - expected) <= K_SE * se + found.summary["tolerance"]


def test_probability_target_is_the_quantile_of_per_path_breaking_severities():
    """At the breaking severity at least P of the paths breach; a tolerance below it fewer do; the per-path breach
    indicators never fall as the severity rises."""
    scenario = scenario_from_dict(roll_rate_dict())
    found = reverse_stress(scenario, "cumulative_loss_rate>0.06", probability=0.25, tolerance=0.01)
    s = found.breaking_severity
    k = order_statistic_ranks(PATHS, 0.25, 0.95)[0]
    assert k == 5
    counts = {}
    for value in (s - found.summary["tolerance"], s):
        run = simulator.run(Severity("all", 0, 3).scenario_at(scenario, value))
        counts[value] = int((run.headline["cumulative_loss_rate"] > 0.06).sum())
    assert counts[s] >= k > counts[s - found.summary["tolerance"]]
    assert found.summary["monotonicity"]["paths_not_monotone"] == 0
    low, high = found.summary["interval"]
    assert low <= s <= high


def test_order_statistic_interval_covers_a_known_quantile():
    """The rank interval holds the true median of uniform draws in about 95% of samples (at least, by construction)."""
    rng = np.random.default_rng(5)
    n, hits, trials = 40, 0, 2000
    k, r, u = order_statistic_ranks(n, 0.5, 0.95)
    for _ in range(trials):
        x = np.sort(rng.random(n))
        hits += x[r - 1] <= 0.5 <= x[u - 1]
    coverage = hits / trials
    exact = stats.binom.cdf(u - 1, n, 0.5) - stats.binom.cdf(r - 1, n, 0.5)
    assert exact >= 0.95
    assert abs(coverage - exact) <= K_SE * np.sqrt(exact * (1 - exact) / trials)


def test_per_path_breaches_are_monotone_in_severity_in_the_structural_model():
    """On common random numbers each path's breach indicator never falls as the shocks grow (severe's shocks on a
    small book; the threshold is the median path's value at s = 1, so paths breach at different severities).

    The credit figures are monotone with the lender lending on (``keep_lending``); once cash feeds back into
    lending they need not be: a harsher shock stops lending earlier, and fewer loans written lose less."""
    scenario = load_scenario(SCENARIOS / "severe.yaml").with_run(paths=16, seed=11, horizon_months=18).with_loans(1500)
    scenario = scenario.model_copy(update={"funding": scenario.funding.model_copy(update={"when_short": "keep_lending"})})
    severity = Severity("all", 0, 2)
    runs = [simulator.run(severity.scenario_at(scenario, s)).headline for s in (0.0, 0.5, 1.0, 1.5, 2.0)]
    for metric in ("peak_overdue_rate_90p", "cumulative_loss_rate"):
        threshold = np.median(runs[2][metric])
        breached = np.array([r[metric] > threshold for r in runs])
        assert 0 < breached[2].sum() < len(breached[2])
        assert not np.any(breached[:-1] & ~breached[1:]), metric


def test_scaled_scenario_scales_the_central_paths_deviation():
    scenario = load_scenario(SCENARIOS / "severe.yaml")
    horizon = scenario.run.horizon_months
    base, written = central_path(scenario.macro.model_copy(update={"shocks": []}), horizon), central_path(
        scenario.macro, horizon)
    for s in (0.0, 1.0, 2.5):
        scaled = central_path(Severity("all", 0, 3).scenario_at(scenario, s).macro, horizon)
        for variable in base:
            np.testing.assert_allclose(scaled[variable], base[variable] + s * (written[variable] - base[variable]))
    only = central_path(Severity("unemployment", 0, 3).scenario_at(scenario, 2.0).macro, horizon)
    np.testing.assert_allclose(only["income_growth"], written["income_growth"])
    np.testing.assert_allclose(only["unemployment"] - base["unemployment"],
                               2.0 * (written["unemployment"] - base["unemployment"]))


def test_cli_writes_a_reverse_directory_that_loads_runs_and_reports(tmp_path, write_yaml):
    scenario_file = write_yaml(roll_rate_dict(), "closed.yaml")
    out = tmp_path / "reverse"
    result = CliRunner().invoke(main, ["reverse", str(scenario_file), "--breach", "cumulative_loss_rate>0.06",
                                       "--probability", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "first reached at" in result.stdout
    summary = json.loads((out / "reverse.json").read_text())
    assert summary["breaking_severity"] is not None
    assert [row["severity"] for row in summary["curve"]] == sorted(row["severity"] for row in summary["curve"])
    point = load_scenario(out / "breaking_point.yaml")
    central = central_path(point.macro, 1)
    assert central["unemployment"][1] == pytest.approx(5.2 + summary["breaking_severity"] * U)
    rerun = simulator.run(point)
    share = np.mean(rerun.headline["cumulative_loss_rate"] > 0.06)
    assert share == summary["breach_at_run_severity"]["breach_probability"] >= 0.5
    assert (out / "plots" / "breach_probability.png").is_file()
    with house_style("zh") as lang:
        figure = reverse_curve(summary, lang)
        assert figure.axes[0].get_ylabel() == text("reverse_probability_axis", lang)
        plt.close(figure)
    pdf = tmp_path / "board.pdf"
    report = CliRunner().invoke(main, ["report", str(out), "-o", str(pdf)])
    assert report.exit_code == 0, report.output
    sections = re.search(rb"/Keywords \(sections: ([a-z_ ]+)\)", pdf.read_bytes()).group(1).decode().split()
    assert sections[:4] == ["cover", "findings", "reverse", "overdue"]


def test_nothing_breaking_and_everything_breaking_are_stated(tmp_path, write_yaml):
    scenario_file = write_yaml(roll_rate_dict(), "closed.yaml")
    never = CliRunner().invoke(main, ["reverse", str(scenario_file), "--breach", "cumulative_loss_rate>0.9",
                                      "--out", str(tmp_path / "never"), "--no-plots"])
    assert never.exit_code == 0, never.output
    assert "Nothing breaks within the range" in never.stdout
    summary = json.loads((tmp_path / "never" / "reverse.json").read_text())
    assert summary["breaking_severity"] is None and summary["status"] == "never"
    assert not (tmp_path / "never" / "breaking_point.yaml").exists()
    always = reverse_stress(scenario_from_dict(roll_rate_dict()), "cumulative_loss_rate>0.001", probability=1.0)
    assert always.summary["status"] == "at_mild_end" and always.breaking_severity == 0.0
    assert "already at the mild end" in always.summary["statement"]


@pytest.mark.parametrize("arguments, fragments", [
    (["--breach", "peak_overdue_rate_99p>0.05"], ["the metric must be a headline metric", "peak_overdue_rate_90p"]),
    (["--breach", "peak_overdue_rate_90p=0.05"], ["METRIC OP NUMBER", "'peak_overdue_rate_90p>0.05'"]),
    (["--breach", "liquidty"], ["Did you mean 'liquidity'?"]),
    (["--breach", "liquidity", "--probability", "0"], ["--probability must be a finite number in (0, 1]"]),
    (["--breach", "liquidity", "--probability", "1.5"], ["in (0, 1]"]),
    (["--breach", "liquidity", "--range", "3,0"], ["LO,HI with LO < HI", "--range 0,3"]),
    (["--breach", "liquidity", "--range", "a,b"], ["two numbers LO,HI"]),
    (["--breach", "liquidity", "--shock", "behaviour.model", "--range", "0,1"], ["a numeric scenario key"]),
    (["--breach", "liquidity", "--shock", "behaviour.recovery.rate"], ["Did you mean 'rate_pct'?"]),
    (["--breach", "liquidity", "--shock", "behaviour.recovery.rate_pct"], ["--range", "given when --shock"]),
    (["--breach", "liquidity", "--shock", "policy_rate"], ["no policy_rate shock", "--shocks-from"]),
    (["--breach", "capital", "--within", "3"], ["--within must be given only with --breach liquidity"]),
    (["--breach", "liquidity", "--within", "30"], ["a month from 1 to the horizon (1)"]),
    (["--breach", "liquidity", "--range", "0,80"], ["size_pp"]),
])
def test_bad_requests_are_refused_cleanly_before_any_run(tmp_path, write_yaml, arguments, fragments):
    scenario_file = write_yaml(roll_rate_dict(), "closed.yaml")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["reverse", str(scenario_file), *arguments, "--out", str(out)])
    assert_clean_errors(result, *fragments)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["closed.yaml"]


def test_a_scenario_without_shocks_points_to_shocks_from():
    with pytest.raises(InputError, match="shocks_from='scenarios/severe.yaml'"):
        reverse_stress(SCENARIOS / "baseline.yaml", "liquidity")


def test_parse_breach_reads_every_operator_without_eval():
    for op in (">", ">=", "<", "<="):
        breach = parse_breach(f"min_capital_ratio {op} 1e-1")
        assert (breach.metric, breach.comparison, breach.threshold) == ("min_capital_ratio", op, 0.1)
    with pytest.raises(InputError):
        parse_breach("__import__('os')>0")
