"""Back-tests: the alignment and statistics on series whose answer is known, and `simulate backtest` end to end."""
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.inputs.series import read_series
from simulator.workflows.backtest import align, backtest, lag_errors, ratio_statistics
from tests.assertions import assert_clean_errors

HISTORY = Path(__file__).resolve().parents[1] / "scenarios" / "history"
UNRATE = HISTORY / "us_unemployment_2006_2013.csv"
CARD = HISTORY / "us_card_delinquency_2006_2013.csv"
SHAPE = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.1, 1.4, 1.7, 1.6, 1.3, 1.1, 0.9, 0.8, 0.8, 0.8, 0.8])
"""A delinquency shape flat at both ends, so a shifted copy keeps its first value."""


def test_a_series_against_itself_has_no_error_and_no_lag():
    labels = [f"p{i}" for i in range(len(SHAPE))]
    statistics = ratio_statistics(4.0 * SHAPE, 2.0 * SHAPE, labels)
    assert statistics["mean_abs_ratio_error"] == 0.0
    assert statistics["best_lag"] == 0
    assert statistics["model"] == statistics["observed"] == {"peak_ratio": 1.7, "peak_period": "p7",
                                                             "end_ratio": 0.8}


@pytest.mark.parametrize("k", [-3, -1, 1, 2, 4])
def test_a_series_shifted_by_k_periods_gives_lag_k(k):
    # the model moves k periods after the observed series (k > 0: late), padded with the flat ends
    model = (np.concatenate([np.full(k, SHAPE[0]), SHAPE[:-k]]) if k > 0
             else np.concatenate([SHAPE[-k:], np.full(-k, SHAPE[-1])]))
    statistics = ratio_statistics(SHAPE, model, [str(i) for i in range(len(SHAPE))])
    assert statistics["best_lag"] == k
    assert statistics["mean_abs_ratio_error_at_best_lag"] == 0.0
    assert statistics["mean_abs_ratio_error"] > 0.0


def test_lag_errors_by_hand():
    observed, model = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 2.0, 3.0])
    errors = lag_errors(model, observed, max_lag=1)
    assert errors == {-1: pytest.approx((1 + 2 + 2) / 3), 0: pytest.approx(3 / 4), 1: 0.0}


def test_alignment_stock_takes_the_last_month_flow_the_mean():
    monthly = np.arange(10.0)  # months 0..9 hold their own index
    first_month, quarters = 100, np.array([100, 103, 106])
    np.testing.assert_array_equal(align(monthly, first_month, quarters, 3, flow=False), [2.0, 5.0, 8.0])
    np.testing.assert_array_equal(align(monthly, first_month, quarters, 3, flow=True), [1.0, 4.0, 7.0])
    with_gap = monthly.copy()
    with_gap[0] = np.nan
    assert align(with_gap, first_month, quarters, 3, flow=True)[0] == 1.5


@pytest.fixture(scope="module")
def us_backtest():
    """The US card book through 2007-2009 at a small size."""
    macro, observed = read_series(UNRATE, "UNRATE"), read_series(CARD, "DRCCLACBS")
    return backtest("scenarios/us_card_2007.yaml", macro, observed, start=12 * 2007, end=12 * 2009 + 11,
                    paths=2, loans=1500, seed=5), macro, observed


def test_the_model_against_its_own_output_has_no_error_and_no_lag(us_backtest, tmp_path):
    first, macro, _ = us_backtest
    own = tmp_path / "own.csv"
    first.aligned.assign(date=[f"{p[:4]} Q{p[-1]}" for p in first.aligned["period"]])[["date", "model_pct"]].to_csv(
        own, index=False)
    again = backtest("scenarios/us_card_2007.yaml", macro, read_series(own, "model_pct"), paths=2, loans=1500,
                     seed=5)
    assert again.summary["from"] == "2007Q1" and again.summary["to"] == "2009Q4"
    assert again.summary["mean_abs_ratio_error"] == 0.0
    assert again.summary["best_lag"] == 0


def test_us_backtest_summary(us_backtest):
    result, _, _ = us_backtest
    summary = result.summary
    assert summary["observed"] == {"peak_ratio": pytest.approx(6.77 / 3.98), "peak_period": "2009Q2",
                                   "end_ratio": pytest.approx(6.33 / 3.98)}
    assert summary["horizon_months"] == 35 and summary["first_month"] == "2007-01"
    assert list(result.aligned["unemployment_pct"][:2]) == [4.4, 4.6]  # March and June 2007
    assert result.monthly["unemployment_pct"][0] == 4.6  # January 2007, the baseline
    json.dumps(summary, allow_nan=False)


# ------------------------------------------------------------------------- CLI
@pytest.fixture
def cli():
    runner = CliRunner()
    return lambda *args: runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_end_to_end_on_the_shipped_us_data(cli, tmp_path):
    out = tmp_path / "bt"
    result = cli("backtest", "scenarios/us_card_2007.yaml", "--macro", f"{UNRATE}:UNRATE", "--observed",
                 f"{CARD}:DRCCLACBS", "--from", "2007-01-01", "--to", "2012 Q4", "--paths", 2, "--loans", 1000,
                 "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "observed         1.70   2009Q2       0.68" in result.stdout
    assert f"back-test directory: {out}" in result.stdout
    summary = json.loads((out / "backtest.json").read_text())
    assert summary["from"] == "2007Q1" and summary["to"] == "2012Q4" and summary["rate"] == "30p"
    assert len((out / "backtest.csv").read_text().splitlines()) == 25
    assert (out / "plots" / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("macro, observed, extra, fragment", [
    (f"{UNRATE}:UNRAT", f"{CARD}:DRCCLACBS", (), "column must be a column of the file ('date', 'UNRATE'); got 'UNRAT'"),
    ("absent.csv:UNRATE", f"{CARD}:DRCCLACBS", (), "absent.csv: series file not found."),
    (f"{UNRATE}:UNRATE", f"{CARD}:DRCCLACBS", ("--from", "soon"), "backtest: --from must be a date such as"),
    (f"{UNRATE}:UNRATE", f"{CARD}:DRCCLACBS", ("--from", "2020-01"), "the back-test window must be at least two"),
])
def test_cli_bad_input_is_one_line_and_exit_2(cli, tmp_path, macro, observed, extra, fragment):
    result = cli("backtest", "scenarios/us_card_2007.yaml", "--macro", macro, "--observed", observed, *extra,
                 "--out", tmp_path / "bt")
    assert_clean_errors(result, fragment)
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "bt").exists()


def test_the_back_test_keeps_the_book_lending():
    """The observed series is an industry aggregate: the back-test's book keeps lending whatever its own cash."""
    from simulator.inputs.loader import load_scenario
    from simulator.workflows.backtest import backtest_scenario
    scenario = load_scenario(HISTORY.parent / "us_card_2007.yaml")
    assert scenario.funding.when_short == "stop_lending"
    macro = read_series(HISTORY / "us_unemployment_2006_2013.csv", "UNRATE")
    history = backtest_scenario(scenario, macro, macro.months[12], 24)
    assert history.funding.when_short == "keep_lending"
    assert history.macro.cycle.volatility == 0.0 and history.run.horizon_months == 24


# ------------------------------------------------------------------- the scenario's backtest section
US_CARD = HISTORY.parent / "us_card_2007.yaml"
SECTION = {"macro": {"file": str(UNRATE), "column": "UNRATE"}, "observed": {"file": str(CARD), "column": "DRCCLACBS"},
           "start": "2007-01", "end": "2009-12"}
"""A history on the shipped US data, 2007Q1-2009Q4."""


def scenario_with(tmp_path, **changes):
    """The baseline book with :data:`SECTION` (``changes`` replacing its keys) as its backtest section, in
    ``tmp_path``."""
    import yaml
    path = tmp_path / "history.yaml"
    path.write_text(f"extends: {HISTORY.parent / 'baseline.yaml'}\n" + yaml.safe_dump({"backtest": {**SECTION,
                                                                                                     **changes}}))
    return path


def test_the_section_loads_with_files_relative_to_the_scenario_and_dates_as_written():
    from simulator.inputs.loader import load_scenario
    spec = load_scenario(US_CARD).backtest
    assert Path(spec.macro.file) == UNRATE and Path(spec.observed.file) == CARD
    assert (spec.start, spec.end, spec.rate) == ("2007-01", "2012-12", "30p")
    assert spec.acceptance.model_dump() == {"peak_ratio_tolerance": 0.15, "peak_timing_periods": 1,
                                            "ratio_ceilings": {"2011Q4": 1.10}}


def test_the_schema_rates_are_the_backtest_rates():
    from simulator.inputs.schema import BACKTEST_RATE_NAMES
    from simulator.workflows.backtest import RATES
    assert tuple(RATES) == BACKTEST_RATE_NAMES


@pytest.mark.parametrize("change, fragment", [
    ({"macro": {"file": "absent.csv", "column": "UNRATE"}}, "backtest.macro: "),
    ({"observed": {"file": str(CARD), "column": "DRCCLACB"}},
     f"backtest.observed: {CARD}: column must be a column of the file"),
    ({"start": "soon"}, "backtest.start must be a date such as '2007-01-01', '2007-01' or '2007 Q1'; got 'soon'."),
    ({"rate": "60p"}, "backtest.rate must be '30p', '90p' or 'chargeoff'; got '60p'."),
    ({"acceptance": {"peak_ratio_tolerance": -0.1}}, "backtest.acceptance.peak_ratio_tolerance must be"),
    ({"acceptance": {"peak_timing_periods": 1.5}}, "backtest.acceptance.peak_timing_periods must be"),
    ({"acceptance": {"ratio_ceilings": {"2011Q4": 0}}}, "backtest.acceptance.ratio_ceilings"),
    ({"acceptance": {"ratio_ceilings": {"late": 1.1}}},
     "backtest.acceptance.ratio_ceilings must be a date such as '2007-01-01', '2007-01' or '2007 Q1'; got 'late'."),
    ({"acceptance": {}}, "backtest.acceptance must be at least one of peak_ratio_tolerance"),
    ({"colour": "red"}, "backtest.colour"),
])
def test_a_bad_section_is_one_line_and_exit_2(cli, tmp_path, change, fragment):
    result = cli("backtest", scenario_with(tmp_path, **change), "--paths", 1, "--loans", 100, "--out", tmp_path / "bt")
    assert_clean_errors(result, fragment)
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "bt").exists()


def test_a_ceiling_outside_the_window_compared_is_refused_before_the_run(cli, tmp_path):
    result = cli("backtest", US_CARD, "--to", "2009-12", "--paths", 1, "--loans", 100, "--out", tmp_path / "bt")
    assert_clean_errors(result, "backtest.acceptance.ratio_ceilings must be periods the back-test compares "
                                "(2007Q1 to 2009Q4); got '2011-10'.")
    assert not (tmp_path / "bt").exists()


def test_without_a_section_or_the_options_it_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("backtest", HISTORY.parent / "baseline.yaml", "--observed", f"{CARD}:DRCCLACBS", "--out",
                 tmp_path / "bt")
    assert_clean_errors(result, "baseline: --macro must be given (the scenario has no backtest section naming its "
                                "history); got None.")
    assert len(result.stderr.splitlines()) == 1


def test_the_section_gives_what_the_options_give(cli, tmp_path):
    """``backtest SCENARIO`` equals the run with the same history, window and rate given as options."""
    scenario = scenario_with(tmp_path, rate="90p")
    common = ("--paths", 2, "--loans", 2000, "--seed", 11)
    assert cli("backtest", scenario, *common, "--out", tmp_path / "section", "--no-plots").exit_code == 0
    assert cli("backtest", scenario, "--macro", f"{UNRATE}:UNRATE", "--observed", f"{CARD}:DRCCLACBS",
               "--from", "2007-01", "--to", "2009-12", "--rate", "90p", *common, "--out", tmp_path / "options",
               "--no-plots").exit_code == 0
    section, options = (json.loads((tmp_path / d / "backtest.json").read_text()) for d in ("section", "options"))
    assert section["rate"] == "90p" and section["to"] == "2009Q4"
    assert {k: v for k, v in section.items() if k != "versions"} == {k: v for k, v in options.items()
                                                                     if k != "versions"}
    assert "acceptance" not in section


def test_the_options_override_the_section(cli, tmp_path):
    scenario = scenario_with(tmp_path)
    result = cli("backtest", scenario, "--to", "2008-12", "--paths", 1, "--loans", 2000, "--out", tmp_path / "bt",
                 "--no-plots")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "bt" / "backtest.json").read_text())["to"] == "2008Q4"


def test_the_acceptance_goes_into_backtest_json_and_the_console(cli, tmp_path):
    scenario = scenario_with(tmp_path, acceptance={"peak_ratio_tolerance": 9, "ratio_ceilings": {"2009-06": 0.01}})
    result = cli("backtest", scenario, "--paths", 1, "--loans", 2000, "--out", tmp_path / "bt", "--no-plots")
    assert result.exit_code == 0, result.stderr
    summary = json.loads((tmp_path / "bt" / "backtest.json").read_text())
    peak, ceiling = summary["acceptance"]["criteria"]
    assert summary["acceptance"]["passed"] is False
    assert peak == {"criterion": "peak_ratio", "description": "|model peak ratio - observed peak ratio|",
                    "value": pytest.approx(abs(summary["model"]["peak_ratio"] - summary["observed"]["peak_ratio"])),
                    "limit": 9.0, "passed": True}
    assert ceiling["criterion"] == "ratio_2009Q2" and ceiling["limit"] == 0.01 and not ceiling["passed"]
    assert ceiling["value"] == summary["series"]["model_ratio"][summary["series"]["period"].index("2009Q2")]
    assert "acceptance: FAIL" in result.stdout
    assert f"  pass  |model peak ratio - observed peak ratio|: {peak['value']:.2f} (limit 9.00)" in result.stdout
    assert f"  FAIL  model ratio in 2009Q2: {ceiling['value']:.2f} (limit 0.01)" in result.stdout


# ------------------------------------------------------------------- acceptance on statistics made by hand
def hand_summary(observed_peak=1.70, observed_period="2009Q2", model_peak=1.85, model_period="2009Q3",
                 model_ratios=(1.0, 1.4, 1.85, 1.10)):
    """A back-test's statistics written by hand: observed peak 1.70 in 2009Q2, four model periods."""
    return {"observed": {"peak_ratio": observed_peak, "peak_period": observed_period},
            "model": {"peak_ratio": model_peak, "peak_period": model_period},
            "series": {"period": ["2009Q1", "2009Q2", "2009Q3", "2009Q4"], "model_ratio": list(model_ratios)}}


CRITERIA = {"peak_ratio_tolerance": 0.15, "peak_timing_periods": 1, "ratio_ceilings": {"2009Q4": 1.10}}


def test_acceptance_on_the_boundary_passes():
    from simulator.workflows.backtest import acceptance_results
    rows = acceptance_results(hand_summary(), CRITERIA)
    assert [(r["criterion"], r["value"], r["limit"], r["passed"]) for r in rows] == [
        ("peak_ratio", pytest.approx(0.15), 0.15, True), ("peak_timing", 1, 1, True),
        ("ratio_2009Q4", 1.10, 1.10, True)]


@pytest.mark.parametrize("change, failing", [
    ({"model_peak": 1.8501}, "peak_ratio"),
    ({"model_peak": 1.5499}, "peak_ratio"),
    ({"model_period": "2009Q4", "model_ratios": (1.0, 1.4, 1.5, 1.85)}, "peak_timing"),
    ({"model_period": "2009Q4", "model_ratios": (1.0, 1.4, 1.5, 1.85)}, "ratio_2009Q4"),
    ({"model_ratios": (1.0, 1.4, 1.85, 1.1001)}, "ratio_2009Q4"),
])
def test_acceptance_just_past_the_boundary_fails(change, failing):
    from simulator.workflows.backtest import acceptance_results
    rows = {r["criterion"]: r for r in acceptance_results(hand_summary(**change), CRITERIA)}
    assert not rows[failing]["passed"], rows[failing]


def test_only_the_criteria_given_are_evaluated():
    from simulator.workflows.backtest import acceptance_results
    rows = acceptance_results(hand_summary(), {"peak_ratio_tolerance": None, "peak_timing_periods": 0,
                                               "ratio_ceilings": {}})
    assert [(r["criterion"], r["value"], r["passed"]) for r in rows] == [("peak_timing", 1, False)]
