"""``simulate validate-model``: the quick report through the command line, and every check shown to fail.

A check that cannot fail is worse than none, so each comparison is also
handed a deliberately broken reference (a perturbed matrix, a wrong correlation,
an unemployment path one month late, independent draws, arrays that differ) and
must fail; and a failing check must turn the report's verdict and the exit code.
"""
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import simulator.workflows.validation as validation
from simulator.cli import main
from simulator.model.engine import layout as L
from simulator.model.engine.simulate import simulate_paths
from simulator.model.macro import cycle_factor
from simulator.workflows.validation import (CHECKS, K_SE, MARKOV_MATRIX, OPENING_MIX, CheckResult, check_labour_market,
                                            check_markov_powers, check_vasicek, compare_to_reference,
                                            determinism_result, flat_book, labour_market_results,
                                            labour_market_scenario, markov_reference, markov_results, markov_shares,
                                            roll_rate_scenario, unemployment_path, validation_settings,
                                            variance_ratio_se, vasicek_reference, vasicek_results)
from tests.assertions import assert_clean_errors

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIO_OPTIONS = ("--baseline", SCENARIOS / "baseline.yaml", "--stress", SCENARIOS / "severe.yaml")
K_SE = 5.0


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def pdf_sections(path):
    return re.search(rb"/Keywords \(sections: ([a-z0-9_ ]+)\)", path.read_bytes()).group(1).decode().split()


def pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """The quick report written through the command line: ``(result, pdf path)``."""
    out = tmp_path_factory.mktemp("validation") / "validation.pdf"
    return cli("validate-model", "--quick", "-o", out, *SCENARIO_OPTIONS), out


@pytest.fixture(scope="module")
def settings():
    return validation_settings(SCENARIOS / "baseline.yaml", SCENARIOS / "severe.yaml", quick=True)


# ----------------------------------------------------------------------------- the report
def test_quick_report_exits_0_and_writes_the_pdf_with_every_section(quick_report):
    result, out = quick_report
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert out.read_bytes()[:5] == b"%PDF-"
    sections = pdf_sections(out)
    assert pdf_pages(out) == len(sections)
    assert sections[0] == "summary" and sections[-1] == "method"
    for check in ("markov_powers", "vasicek", "labour_market", "common_random_numbers", "determinism",
                  "ifrs9_closed_form", "stationarity"):
        assert check in sections, check
    passed, total = map(int, re.search(r"(\d+) of (\d+) figures pass", result.stdout).groups())
    assert passed == total >= 19


def test_markdown_twin_lists_every_check_and_every_figure_passes(quick_report):
    _, out = quick_report
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    for component in ("Roll-rate engine vs Markov matrix powers", "One-factor link vs the Vasicek distribution",
                      "Labour-market flow identity", "Common random numbers",
                      "Determinism across threads and block sizes"):
        assert f". {component}\n" in markdown, component
    summary = markdown.split("## Summary")[1].split("\n## ")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) >= 19
    assert all(line.endswith("| **pass** |") for line in rows), rows
    assert "FAIL" not in markdown
    assert f"**All {len(rows)} figures of {len(CHECKS)} checks pass.**" in markdown


def test_each_row_says_its_rule_so_a_one_sided_pass_does_not_read_as_a_failure(quick_report):
    """The common-random-numbers rows pass by exceeding k se (one-sided); the others by staying within k se."""
    result, out = quick_report
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    summary = markdown.split("## Summary")[1].split("\n## ")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line][1:]
    one_sided = [line for line in rows if "Common random numbers" in line]
    k = f"{K_SE:g}"
    assert len(one_sided) == 2 and all(f"| gap > {k} se |" in line for line in one_sided), one_sided
    assert all(f"| gap > {k} se |" not in line and (f"\u2264 {k} se |" in line or "| exact |" in line)
               for line in rows if line not in one_sided), rows
    assert f"(gap > {k} se)" in result.stdout and f"(|gap| \u2264 {k} se)" in result.stdout


def test_every_registered_check_is_in_the_report(quick_report):
    _, out = quick_report
    ids = set(pdf_sections(out)) - {"summary", "method"}
    assert len(ids) == len(CHECKS)
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    for check in ids:
        assert f"*Check `{check}`," in markdown


def test_a_failing_check_fails_the_report_and_the_exit_code(tmp_path, monkeypatch):
    def check_broken(settings):
        return [CheckResult(check="broken", component="A broken component", figure="some figure", claim="c",
                            reference="r", measured=1.0, expected=0.0, se=0.1, k=settings.k,
                            tolerance=settings.k * 0.1, passed=False, note="deliberately wrong")]

    monkeypatch.setattr(validation, "CHECKS", [check_broken])
    out = tmp_path / "validation.pdf"
    result = cli("validate-model", "--quick", "-o", out, *SCENARIO_OPTIONS)
    assert result.exit_code == 1
    assert "0 of 1 figures pass" in result.stdout
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| **FAIL** |" in markdown and "1 of 1 figures FAIL: A broken component: some figure" in markdown
    assert pdf_sections(out) == ["summary", "broken", "method"]


# -------------------------------------------------------------------------- bad options
def test_output_must_be_a_pdf_and_is_checked_before_any_check_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "CHECKS", [lambda settings: pytest.fail("ran a check before refusing -o")])
    result = cli("validate-model", "--quick", "-o", tmp_path / "validation.png", *SCENARIO_OPTIONS)
    assert_clean_errors(result, "the validation report is a PDF; got suffix '.png'")
    assert list(tmp_path.iterdir()) == []


def test_missing_scenario_is_a_clean_error(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = cli("validate-model", "--quick", "-o", tmp_path / "v.pdf", "--baseline", missing)
    assert_clean_errors(result, f"error: validate-model: --baseline {missing} not found.")


def test_stress_on_another_book_is_a_clean_error(tmp_path, tiny_scenario_file):
    result = cli("validate-model", "--quick", "-o", tmp_path / "v.pdf", "--baseline", SCENARIOS / "baseline.yaml",
                 "--stress", tiny_scenario_file)
    assert_clean_errors(result, "error: validate-model: the stress scenario baseline must use the baseline's book")


def test_negative_seed_is_a_usage_error(tmp_path):
    result = cli("validate-model", "--quick", "-o", tmp_path / "v.pdf", "--seed", -1)
    assert result.exit_code == 2
    assert "--seed" in result.stderr


# ------------------------------------------------------------ statistical checks: any seed
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("check", [check_markov_powers, check_vasicek, check_labour_market,
                                   validation.check_ifrs9_default])
def test_statistical_checks_pass_for_any_seed(settings, check, seed):
    rows = check(replace(settings, seed=seed))
    assert all(row.passed for row in rows), [(row.figure, row.note) for row in rows if not row.passed]


# ------------------------------------------------------- each comparison fails when it should
def test_compare_to_reference_needs_exact_agreement_where_there_is_no_error():
    passed, z = compare_to_reference([0.5, 0.0, 0.1], [0.5, 0.0, 0.0], [0.1, 0.0, 0.0], K_SE)
    assert passed.tolist() == [True, True, False]
    assert z[:2].tolist() == [0.0, 0.0] and np.isinf(z[2])


@pytest.fixture(scope="module")
def markov_run():
    """The roll-rate engine on the Markov check's book: opening states and the shares by month."""
    rng = np.random.default_rng(7)
    start = rng.choice(7, size=3000, p=OPENING_MIX)
    scenario = roll_rate_scenario(MARKOV_MATRIX, 8, 20, volatility=0.0, persistence=0.5, rho_pct=20)
    aggregates, *_ = simulate_paths(scenario, flat_book(start), 7)
    return start, markov_shares(aggregates, len(start)), 3000 * 20


def test_markov_check_fails_against_a_perturbed_matrix(markov_run):
    start, shares, n = markov_run
    rows = markov_results(shares, *markov_reference(MARKOV_MATRIX, start, 8), n, K_SE)
    assert all(row.passed for row in rows)
    perturbed = [list(row) for row in MARKOV_MATRIX]
    perturbed[1][1:3] = [10.0, 30.0]  # 1-30 DPD rolls 30% instead of 20% to 31-60
    rows = markov_results(shares, *markov_reference(perturbed, start, 8), n, K_SE)
    failed = [row.figure for row in rows if not row.passed]
    assert any("31-60" in figure for figure in failed), failed


def test_vasicek_check_fails_against_a_wrong_correlation(settings):
    n_loans, n_paths, pd_ = 500, 4000, 0.05
    matrix = [[95.0, 0, 0, 0, 0, 0, 0, 5.0, 0]] + MARKOV_MATRIX[1:]
    scenario = roll_rate_scenario(matrix, horizon=1, paths=n_paths, volatility=1.0, persistence=0.0, rho_pct=10,
                                  chunk_paths=2000)
    aggregates, *_ = simulate_paths(scenario, flat_book(np.zeros(n_loans, int)), 3)
    default_rate = aggregates[:, 1, L.CHARGEOFF_COUNT] / n_loans
    factor = cycle_factor(scenario.macro.cycle, 3, np.arange(n_paths), 1)[:, 1]
    right = vasicek_results(default_rate, pd_, 0.10, n_loans, vasicek_reference(pd_, 0.10, n_loans), K_SE,
                            factor=factor)
    assert len(right) == 7 and all(row.passed for row in right)
    wrong = vasicek_results(default_rate, pd_, 0.16, n_loans, vasicek_reference(pd_, 0.16, n_loans), K_SE,
                            factor=factor)
    assert {row.figure for row in wrong if not row.passed} >= {"sd of the default rate", "99.0% quantile",
                                                                "variance of (D - p(Z)) / binomial sd"}
    last_month = vasicek_results(default_rate, pd_, 0.10, n_loans, vasicek_reference(pd_, 0.10, n_loans), K_SE,
                                 factor=np.zeros(n_paths))  # as if the link read month 0's factor
    assert not last_month[-1].passed
    shifted = vasicek_results(default_rate, 0.055, 0.10, n_loans, vasicek_reference(0.055, 0.10, n_loans), K_SE)
    assert not shifted[0].passed  # the mean against a PD of 5.5%


def test_labour_market_check_fails_one_month_late_and_on_an_open_book():
    n_loans, n_paths, horizon = 10_000, 16, 10
    levels = unemployment_path(horizon)
    employed = np.arange(n_loans) >= 520  # 5.2% out of work
    aggregates, *_ = simulate_paths(labour_market_scenario(horizon, n_paths, levels),
                                    flat_book(np.zeros(n_loans, int), employed=employed), 4)
    n = n_loans * n_paths
    measured = aggregates[:, :, L.UNEMPLOYED].sum(axis=0) / n
    live = aggregates[:, :, L.COUNT:L.COUNT + L.N_LIVE_STATES].sum(axis=(0, 2)) / n
    expected = np.concatenate([[0.052], levels / 100])
    assert labour_market_results(measured, expected, live, n, K_SE)[0].passed
    late = np.concatenate([[0.052, 0.052], levels[:-1] / 100])
    assert not labour_market_results(measured, late, live, n, K_SE)[0].passed
    leaking = live.copy()
    leaking[-1] = 0.99
    row = labour_market_results(measured, expected, leaking, n, K_SE)[0]
    assert not row.passed and "not a closed population" in row.note


def test_variance_reduction_fails_on_independent_draws_and_its_se_matches_replications():
    rng = np.random.default_rng(0)
    common = rng.normal(size=(2000, 300))
    a = common + 0.2 * rng.normal(size=common.shape)
    b = 1.1 * common + 0.2 * rng.normal(size=common.shape) + 0.3
    ratios, ses = np.array([variance_ratio_se(x, y) for x, y in zip(a, b)]).T
    assert np.std(ratios) == pytest.approx(np.mean(ses), rel=0.1)  # the delta method's se is the spread

    def table_row(x, y):
        d = y - x
        se_a, se_b = x.std(ddof=1) / np.sqrt(len(x)), y.std(ddof=1) / np.sqrt(len(y))
        se_d = d.std(ddof=1) / np.sqrt(len(d))
        return {"difference": d.mean(), "se_difference": se_d, "se_independent": np.hypot(se_a, se_b),
                "variance_reduction": (se_a ** 2 + se_b ** 2) / se_d ** 2}

    paired = validation.crn_results(table_row(a[0], b[0]), a[0], b[0], K_SE, ["base", "stress"])
    assert all(row.passed for row in paired)
    independent = rng.normal(size=300) * 1.1 + 0.3
    rows = validation.crn_results(table_row(a[0], independent), a[0], independent, K_SE, ["base", "stress"])
    assert not rows[1].passed  # no variance reduction without common random numbers
    same = validation.crn_results(table_row(a[0], a[0] + 1e-3 * rng.normal(size=300)), a[0],
                                  a[0] + 1e-3 * rng.normal(size=300), K_SE, ["base", "stress"])
    assert not same[0].passed  # a stress that adds no loss


def test_determinism_check_fails_on_one_differing_value_or_a_seed_that_moves_nothing():
    first = [np.arange(12.0).reshape(3, 4), np.zeros(5)]
    other = [first[0] + 1.0, first[1]]
    assert determinism_result("m", "w", first, [a.copy() for a in first], other).passed
    nudged = [first[0].copy(), first[1].copy()]
    nudged[0][2, 3] = np.nextafter(nudged[0][2, 3], np.inf)
    row = determinism_result("m", "w", first, nudged, other)
    assert not row.passed and row.measured == 1.0
    assert not determinism_result("m", "w", first, first, first).passed


def test_ifrs9_check_fails_against_the_charge_off_definition(settings):
    """The IFRS 9 rows pass on the engine; the comparison passes figures spread around the closed form and fails
    figures spread around the old, charge-off-based closed form (which the engine no longer follows) or 10% off."""
    rows = validation.check_ifrs9_default(settings)
    assert all(row.passed for row in rows) and len(rows) == 2
    q, r = validation.ROLL_THROUGH_MISS_PCT / 100.0, 0.20 / 12
    spread = np.linspace(-1e-3, 1e-3, 20)
    exact = {w: validation.roll_through_expected_loss(q, r, w, 3) + spread for w in (12, 24)}
    assert all(row.passed for row in validation.ifrs9_results(exact, q, r, K_SE))
    old = {12: validation.roll_through_expected_loss(q, r, 12, 6) + spread}
    assert not validation.ifrs9_results(old, q, r, K_SE)[0].passed
    assert not validation.ifrs9_results({12: exact[12] * 1.1}, q, r, K_SE)[0].passed


# -------------------------------------------------------------------------- back-tests against history
def test_no_backtest_section_when_no_scenario_names_a_history(settings):
    assert settings.histories == ()
    assert validation.validate_model(settings, checks=[]).backtests == ()


def history_without_acceptance(tmp_path):
    """The US card book with its history but no acceptance criteria."""
    path = tmp_path / "no_criteria.yaml"
    path.write_text(f"extends: {SCENARIOS / 'us_card_2007.yaml'}\n")
    scenario = validation.load_scenario(path)
    return scenario.model_copy(update={"backtest": scenario.backtest.model_copy(update={"acceptance": None})})


def test_a_history_with_criteria_is_a_counted_section_and_one_without_is_information(tmp_path, monkeypatch):
    """--backtest adds a "Back-test against history" section; its criteria are rows of the verdict (the
    summary's figures, pass or fail as backtest.json says) only when the scenario gives them."""
    monkeypatch.setattr(validation, "CHECKS", [])
    out = tmp_path / "validation.pdf"
    result = cli("validate-model", "--quick", "-o", out, *SCENARIO_OPTIONS, "--backtest",
                 SCENARIOS / "us_card_2007.yaml")
    assert result.exit_code in (0, 1), result.stderr
    sections = pdf_sections(out)
    assert sections == ["summary", "backtest_us_card_2007", "backtest", "method"]
    markdown = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Back-test against history: us_card_2007" in markdown
    criteria = re.findall(r"\| Back-test against history: us_card_2007 \| (.+?) \| .*\*\*(pass|FAIL)\*\* \|", markdown)
    assert [figure for figure, _ in criteria] == [
        "\\|model peak ratio - observed peak ratio\\|", "\\|model peak period - observed peak period\\|, periods",
        "model ratio in 2011Q4"]
    passed = sum(word == "pass" for _, word in criteria)
    assert f"{passed} of 3 figures pass" in result.stdout
    assert result.exit_code == (0 if passed == 3 else 1)

    quiet = validation_settings(SCENARIOS / "baseline.yaml", SCENARIOS / "severe.yaml", quick=True,
                                backtests=[history_without_acceptance(tmp_path)])
    done = validation.validate_model(quiet, checks=[])
    assert done.results == () and done.passed and len(done.backtests) == 1
    assert done.backtests[0]["paths"] == validation.BACKTEST_QUICK_PATHS
    assert done.backtests[0]["loans"] == validation.BACKTEST_QUICK_LOANS
    from simulator.presentation.validation_report import validation_markdown
    assert "this back-test is information" in validation_markdown(done)


def test_a_backtest_scenario_without_a_history_is_a_clean_error(tmp_path):
    result = cli("validate-model", "--quick", "-o", tmp_path / "v.pdf", *SCENARIO_OPTIONS, "--backtest",
                 SCENARIOS / "severe.yaml")
    assert_clean_errors(result, "error: validate-model --backtest severe: backtest must be a section naming the "
                                "scenario's history; got None.")
    assert len(result.stderr.splitlines()) == 1 and not (tmp_path / "v.pdf").exists()
