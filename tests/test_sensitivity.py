"""``simulate sensitivity``: parameters moved down and up on common random numbers.

The reference numbers are computed here from the base run's own aggregates, not by
the sensitivity code: with recoveries paid at charge-off (``recovery.months: 0``)
the charge-offs do not depend on the recovery rate, so on every path

    ``L'_p - L_p = -(r' - r) x CO_p / B_p``

(``L`` the cumulative loss rate, ``CO`` the charge-offs over the horizon, ``B`` the
opening balance, ``r`` the recovery rate as a fraction). The mean of those per-path
changes, their paired standard error ``sd / sqrt(n)`` and the elasticity with its
delta-method error are then computed by hand with numpy and compared with the table.
"""
import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.cli import main
from simulator.inputs.errors import InputError
from simulator.inputs.loader import load_scenario, scenario_from_dict
from simulator.accounts.names import metric_name
from simulator.workflows import sensitivity as sens
from tests.assertions import assert_clean_errors
from tests.conftest import SCENARIOS

PATHS, LOANS = 24, 800
PARAMS = ["behaviour.recovery.rate_pct", "macro.shocks.unemployment", "funding.liabilities.rollover_pct",
          "behaviour.roll_rate.asset_correlation_pct"]
K = 4.0
"""Tolerance of the sign checks, in standard errors of the paired difference."""


def severe_debt_sale():
    """``severe`` with recoveries paid at charge-off (debt sale), so the loss is exactly linear in the rate."""
    data = load_scenario(SCENARIOS / "severe.yaml").model_dump(mode="json")
    data["behaviour"]["recovery"]["months"] = 0
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def result():
    return sens.sensitivity(severe_debt_sale(), params=PARAMS, paths=PATHS, loans=LOANS)


def replicate_se(values, replicates):
    """The standard error of a mean over equal independent replicates (the scrambles of the default randomised
    QMC): ``sd(replicate means) / sqrt(G)``."""
    means = np.bincount(replicates, values) / np.bincount(replicates)
    assert len(set(np.bincount(replicates))) == 1  # equal replicates, else the formula is the ratio estimator's
    return means.std(ddof=1) / np.sqrt(len(means))


def rows(table, parameter, metric):
    selected = table[(table.parameter == parameter) & (table.metric == metric)]
    return {row.direction: row for row in selected.itertuples()}


def test_recovery_rate_moves_the_loss_by_minus_the_rate_change_times_charge_offs_on_every_path(result):
    series = result.base.series
    charge_offs = series["chargeoff"].sum(axis=1)
    opening = series["book_balance"][:, 0]
    loss = series["cumulative_loss_rate"][:, -1]
    rate = result.base.scenario.behaviour.recovery.rate_pct / 100.0
    found = rows(result.table, "behaviour.recovery.rate_pct", "cumulative_loss_rate")
    for direction, factor in (("down", 0.9), ("up", 1.1)):
        expected = -(factor * rate - rate) * charge_offs / opening  # per path
        row = found[direction]
        assert row.difference == pytest.approx(expected.mean(), rel=1e-9)
        assert row.se_difference == pytest.approx(replicate_se(expected, result.base.design.replicates), rel=1e-6)
        assert np.sign(row.difference) == (1 if direction == "down" else -1)
        # with L = (1 - r) CO / B the elasticity (dL / L) / (dr / r) is -r / (1 - r) on every path: no error
        assert row.parameter_change == pytest.approx(factor - 1.0, rel=1e-12)
        assert row.elasticity == pytest.approx(-rate / (1.0 - rate), rel=1e-9)
        assert row.se_elasticity < 1e-9
    assert loss == pytest.approx((1.0 - rate) * charge_offs / opening, rel=1e-9)


def test_paired_and_delta_method_errors_match_a_hand_computation_on_a_separate_run(result):
    """The unemployment shock x1.1 run again here by hand (same book, same seed): the table's change, its paired se
    and the elasticity's delta-method se, ``Var(a/b) ~ (Var a - 2R Cov(a, b) + R^2 Var b) / b^2`` on the means."""
    data = result.base.scenario.model_dump(mode="json")
    data["macro"]["shocks"][0]["size_pp"] = 4.0 * 1.1
    assert data["macro"]["shocks"][0]["variable"] == "unemployment" and len(data["macro"]["shocks"]) == 3
    moved = simulator.run(scenario_from_dict(data), loans=LOANS)
    base = result.base.headline["cumulative_loss_rate"]
    change = moved.headline["cumulative_loss_rate"] - base
    row = rows(result.table, "macro.shocks.unemployment", "cumulative_loss_rate")["up"]
    assert row.difference == pytest.approx(change.mean(), rel=1e-12)
    assert row.se_difference == pytest.approx(replicate_se(change, result.base.design.replicates), rel=1e-9)
    ratio = change.mean() / base.mean()
    replicates = result.base.design.replicates  # on the replicates' means (the scrambles of randomised QMC)
    cov = np.cov(np.bincount(replicates, change), np.bincount(replicates, base), ddof=1) / np.bincount(
        replicates)[0] ** 2 / len(set(replicates))
    se_ratio = np.sqrt(cov[0, 0] - 2 * ratio * cov[0, 1] + ratio ** 2 * cov[1, 1]) / abs(base.mean())
    assert row.elasticity == pytest.approx(ratio / 0.1, rel=1e-9)
    assert row.se_elasticity == pytest.approx(se_ratio / 0.1, rel=1e-9)


def test_a_larger_unemployment_shock_raises_the_loss_beyond_k_standard_errors(result):
    found = rows(result.table, "macro.shocks.unemployment", "cumulative_loss_rate")
    assert found["up"].difference > K * found["up"].se_difference
    assert found["down"].difference < -K * found["down"].se_difference


def test_paired_standard_error_is_below_the_independent_one(result):
    found = rows(result.table, "macro.shocks.unemployment", "cumulative_loss_rate")
    assert all(row.se_difference < row.se_independent for row in found.values())


def test_clipped_and_skipped_parameters_are_noted(result):
    rollover = rows(result.table, "funding.liabilities.rollover_pct", "cumulative_loss_rate")
    assert "clipped to 100" in rollover["up"].note  # 95% x 1.1 is beyond the 100% bound
    assert np.isnan(rollover["up"].parameter_change) and np.isnan(rollover["up"].elasticity)
    assert rollover["down"].parameter_change == pytest.approx(-0.1)
    # funding feeds back into lending (funding.when_short: stop_lending), so a rollover change may move credit
    # figures; the down move must still be a number with its error
    assert np.isfinite(rollover["down"].difference) and np.isfinite(rollover["down"].se_independent)
    assert result.settings["skipped"] == [{"parameter": "behaviour.roll_rate.asset_correlation_pct",
                                           "reason": "not used by the structural model (behaviour.model)"}]


def test_willingness_odds_and_path_shock_deviations_move_as_documented():
    data = load_scenario(SCENARIOS / "baseline.yaml").model_dump(mode="json")
    data["macro"]["shocks"] = [{"shape": "path", "variable": "unemployment", "frequency": "quarterly",
                                "levels_pct": [6.2, 7.2, 5.2]}]
    scenario = scenario_from_dict(data)
    moved, change, notes = sens.move(scenario, sens.PARAMETERS["macro.shocks.unemployment"], 1.1)
    assert moved.macro.shocks[0].levels_pct == pytest.approx([5.2 + 1.1, 5.2 + 2.2, 5.2])
    assert change == pytest.approx(0.1) and notes == []
    moved, change, _ = sens.move(scenario, sens.PARAMETERS["behaviour.structural.willingness"], 1.1)
    base = scenario.behaviour.structural.willingness.dpd_31_60 / 100.0
    odds = base / (1.0 - base) * 1.1
    assert moved.behaviour.structural.willingness.dpd_31_60 == pytest.approx(100 * odds / (1 + odds))
    assert moved.behaviour.structural.willingness.dpd_1_30 < 100.0 and change == pytest.approx(0.1)


def test_unknown_parameters_and_no_applicable_parameter_are_input_errors():
    with pytest.raises(InputError, match=r"unknown parameter\(s\) 'recovery'. Valid parameters: "
                                         r"behaviour.structural.job_finding_pct"):
        sens.choose_parameters(["recovery"])
    with pytest.raises(InputError, match="none of the parameters applies"):
        sens.sensitivity(SCENARIOS / "baseline.yaml", params=["macro.shocks.unemployment"], paths=2, loans=50)


@pytest.mark.parametrize("step, fragment", [("1pp", "Absolute steps are not offered"), ("0%", "above 0%"),
                                            ("150%", "below 100%"), ("ten", "got 'ten'"), ("10", "percent sign")])
def test_bad_step_exits_2(step, fragment, tmp_path):
    result = CliRunner().invoke(main, ["sensitivity", str(SCENARIOS / "baseline.yaml"), "--step", step,
                                       "--out", str(tmp_path / "out")])
    assert_clean_errors(result, "--step", fragment)
    assert not (tmp_path / "out").exists()


def test_bad_params_exit_2_listing_the_valid_ones(tmp_path):
    result = CliRunner().invoke(main, ["sensitivity", str(SCENARIOS / "baseline.yaml"), "--params",
                                       "behaviour.recovery.rate,macro.cycle.volatility", "--out", str(tmp_path / "o")])
    assert_clean_errors(result, "unknown parameter(s) 'behaviour.recovery.rate'", "behaviour.recovery.rate_pct")
    assert not (tmp_path / "o").exists()


def test_output_files_agree_and_the_report_has_the_tornado_pages(result, tmp_path):
    out = tmp_path / "sens"
    result.save(out)
    table = result.table
    csv = pd.read_csv(out / "sensitivity.csv", keep_default_na=False, na_values=[""])
    parquet = pd.read_parquet(out / "sensitivity.parquet")
    xlsx = pd.read_excel(out / "sensitivity.xlsx", sheet_name="table", keep_default_na=False, na_values=[""])
    stored = json.loads((out / sens.MARKER).read_text(encoding="utf-8"))
    records = pd.DataFrame(stored["table"]).astype({"parameter_change": float, "elasticity": float,
                                                    "se_elasticity": float})
    for frame in (csv, parquet, xlsx, records):
        pd.testing.assert_frame_equal(frame[table.columns].fillna({"note": ""}), table.fillna({"note": ""}),
                                      check_dtype=False, rtol=1e-12)
    assert stored["paths"] == PATHS and stored["step"] == 0.1 and stored["seed"] == result.base.seed
    sheets = pd.read_excel(out / "sensitivity.xlsx", sheet_name=None)
    ranked = sheets[metric_name("cumulative_loss_rate")]
    assert list(ranked.parameter) == list(result.ranked("cumulative_loss_rate").parameter)
    assert (out / "plots" / "tornado_cumulative_loss_rate.png").is_file()
    assert (out / "runs" / "base" / "summary.json").is_file()
    loaded = sens.load_sensitivity(out)
    pd.testing.assert_frame_equal(loaded.ranked("peak_overdue_rate_90p"), result.ranked("peak_overdue_rate_90p"))
    board = tmp_path / "board.pdf"
    report = CliRunner().invoke(main, ["report", str(out), "-o", str(board)])
    assert report.exit_code == 0, report.output
    sections = re.search(rb"/Keywords \(sections: ([a-z_ ]+)\)", board.read_bytes()).group(1).decode().split()
    assert sections.count("sensitivity") == len(sens.TORNADO_METRICS) and sections[0] == "cover"


def test_cli_runs_a_small_sensitivity_and_says_the_paths_are_reduced(tmp_path):
    out = tmp_path / "cli"
    result = CliRunner().invoke(main, ["sensitivity", str(SCENARIOS / "severe.yaml"), "--params",
                                       "behaviour.recovery.rate_pct", "--loans", "200", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{sens.DEFAULT_PATHS} paths per run (the scenario asks 1000; --paths to change)" in result.stderr
    assert "behaviour.recovery.rate_pct" in result.stdout and (out / "sensitivity.xlsx").is_file()
    assert json.loads((out / sens.MARKER).read_text(encoding="utf-8"))["paths"] == sens.DEFAULT_PATHS
