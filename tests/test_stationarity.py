"""The baseline without the cycle is stationary: a settled synthetic book has no start-up transient.

``scenarios/baseline.yaml`` with cycle volatility 0 is the same economy every
month, and its segments' delinquency mixes are the model's own long-run mixes,
so nothing may trend: for each overdue rate (the buckets 1-30, 31-90, 90+ and
M1+, M3+, by balance and by count), the book's unemployment rate and its balance
(relative to month 0), the OLS slope over months 1..36 and the month-1 minus
month-36 difference are each within :data:`K_SE` standard errors of zero.

The standard errors must include the opening book's own sampling noise. A book
is one draw of 20,000 loans: its month-1 composition differs from the long run
by a few loans per bucket, and 400 paths on one book measure that to within one
loan (the 90+ count rate's month-1 minus month-36 difference has a standard
error of 0.0045 pp over 400 paths, one loan of the book is 0.005 pp). Books
whose every slot was an independent draw from its own long-run state failed a
one-book test at 13, 17 and 40 standard errors; the shipped book, settled as it
is now, fails it at 26 (its 90+ balance rate dips 0.1 pp in month 1: its
151-180 DPD loans are large). So the test runs :data:`BOOKS` books drawn as the
shipped one is (book 0 is the shipped book; the others differ in
``portfolio.seed``), each with its own path seed and :data:`PATHS_PER_BOOK`
paths: 400 paths in all. The books are independent, so each statistic is
computed per path, averaged within a book, and its standard error is the sd of
the book averages / sqrt(books); months within a path are correlated, which the
per-path statistics absorb.

One series has a small start-up transient that is bounded, not zero: the book's
unemployment rate opens about 0.04 points above its level from month 4 on (12
books x 20 paths: 4.128% at month 0, 4.114% at month 1, 4.086% from month 4,
standard errors 0.01-0.03), which reads as a slope of about -6e-6 a month over
months 1-36 (-3.0 standard errors with the recalibrated baseline; 2-3 before).
Its likely cause is the choice of opening states: the slots moved between
delinquency states to meet the stated counts are not typical in their employment
(docs/model.md). For that series the test asserts that the transient is
immaterial, :data:`MATERIAL` (0.1 points over the 36 months, 2.4% of the rate),
with K_SE standard errors to spare; every other series must show no trend.

On the code before the fix (states drawn loan by loan, 24 settling months on one
path with donors copied with replacement, uniform loan ages, the old near-prime
mix) the book's balance rose 1.14% from month 1 to month 36 (10 standard
errors). Its overdue rates stayed within 2.3 standard errors: most of what moved
the shipped baseline was that one book's own noise (its drawn mix, a few donors
copied many times, templates redrawn), not a bias common to all books;
:func:`test_opening_book_has_the_stated_mix_and_keeps_its_slots` fails on it.
"""
from pathlib import Path

import numpy as np
import pytest

from simulator.accounts.metrics import path_series
from simulator.inputs.loader import load_scenario
from simulator.model.engine.simulate import engine_months, settle_borrowers, simulate_paths
from simulator.model.macro import macro_paths
from simulator.model.sampling import resolve_sampling
from simulator.model.portfolio import build_book, systematic_counts
from simulator.workflows.validation import (STATIONARY_SERIES, stationarity_book_means, stationarity_results,
                                            trend_statistics)

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

BOOKS = 40
PATHS_PER_BOOK = 10
K_SE = 3.0
MATERIAL = {"book_unemployment_rate": {"slope": 0.001 / 35, "month 1 - 36": 0.001}}
"""Bounds (fractions; a slope per month) on series with a known, immaterial start-up transient (see above)."""


@pytest.fixture(scope="module")
def book_means():
    return stationarity_book_means(load_scenario(SCENARIOS / "baseline.yaml"), BOOKS, PATHS_PER_BOOK)


@pytest.mark.parametrize("statistic", ["slope", "month 1 - 36"])
@pytest.mark.parametrize("name", STATIONARY_SERIES)
def test_no_trend(book_means, name, statistic):
    values = book_means[(name, statistic)]
    mean, se = values.mean(), values.std(ddof=1) / np.sqrt(len(values))
    assert se > 0
    if name in MATERIAL:
        bound = MATERIAL[name][statistic]
        assert abs(mean) + K_SE * se <= bound, f"{name}: {statistic} {mean:+.3e} (se {se:.1e}) near its bound {bound:.1e}"
        return
    assert abs(mean) <= K_SE * se, f"{name}: {statistic} {mean:+.3e} is {mean / se:+.1f} standard errors from 0"


def test_the_trend_statistics_see_a_trend():
    """A series rising 0.01 a month has slope 0.01 and month-1 minus month-36 difference -0.35 on every path."""
    x = np.tile(0.01 * np.arange(40.0), (5, 1))
    slope, difference = trend_statistics(x)
    np.testing.assert_allclose(slope, 0.01)
    np.testing.assert_allclose(difference, -0.35)
    rows = stationarity_results({("rising", "slope"): np.array([0.01, 0.011, 0.009])}, K_SE)
    assert not rows[0].passed


def test_labour_market_rate_is_the_segments_rate_on_each_path():
    """``labour_market_unemployment_rate`` against the segments' rates computed here from the macro paths: under
    the constant balance sheet every slot keeps its segment, so it is the segment-share-weighted ``u_t x sensitivity``
    of each path (a shock and the cycle make it differ by path and month). The book's rate sits below it: new loans
    go to applicants in work, who lose their jobs only at the separation rate, and a rise in unemployment reaches
    the book's borrowers over months (before replacements went to applicants in work it sat above, the delinquent
    loans of unemployed borrowers staying on the book longer)."""
    scenario = load_scenario(SCENARIOS / "severe.yaml").with_run(paths=6, horizon_months=12).with_loans(2000)
    book = settle_borrowers(scenario, build_book(scenario, scenario.portfolio.seed), scenario.portfolio.seed)
    aggregates, central, _ = simulate_paths(scenario, book, scenario.run.seed)
    series, _ = path_series(aggregates, scenario, central)
    macro = macro_paths(scenario.macro, scenario.run.seed, np.arange(6, dtype=np.int64), engine_months(scenario),
                        resolve_sampling(scenario.run))
    shares = np.bincount(book.segment) / book.n_loans
    sensitivity = np.array([s.unemployment_sensitivity for s in scenario.portfolio.segments])
    expected = (np.clip(macro.unemployment[:, :13, None] * sensitivity, 1e-4, 0.95) * shares).sum(axis=2)
    np.testing.assert_allclose(series["labour_market_unemployment_rate"], expected, rtol=1e-12)
    assert np.ptp(expected[:, 6]) > 0 and np.ptp(expected[0]) > 0
    assert 0 < series["book_unemployment_rate"][:, 1:].mean() < expected[:, 1:].mean()


def test_opening_book_has_the_stated_mix_and_keeps_its_slots():
    """The shipped book, built and settled, has each segment's ``starting_dpd_pct`` to within a loan per state
    (drawing each loan's state put its M1+ count rate at 7.43% against the stated 7.60%), and its slots keep
    their origination templates (a template copied into several slots moved the book's long-run level)."""
    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    book = build_book(scenario, scenario.portfolio.seed)
    settled = settle_borrowers(scenario, book, scenario.portfolio.seed)
    for k, segment in enumerate(scenario.portfolio.segments):
        stated = np.array(segment.resolved.starting_dpd.by_state) * np.count_nonzero(book.segment == k)
        for loans in (book, settled):
            counts = np.bincount(loans.dpd_state[loans.segment == k], minlength=7)
            assert np.all(np.abs(counts - stated) < 1), (segment.name, counts, stated)
    kept = np.mean((settled.original_principal == book.original_principal) & (settled.apr == book.apr))
    assert kept > 0.999
    assert not np.array_equal(settled.employed, book.employed)  # the borrowers are the settled ones


def test_systematic_counts_are_within_a_loan_and_unbiased():
    fractions = np.array([95.98, 3.58, 0.15, 0.10, 0.07, 0.06, 0.06]) / 100
    draws = np.array([systematic_counts(fractions, 8000, u) for u in (np.arange(1000) + 0.5) / 1000])
    assert np.all(draws.sum(axis=1) == 8000)
    assert np.all(np.abs(draws - 8000 * fractions) < 1)
    np.testing.assert_allclose(draws.mean(axis=0), 8000 * fractions, atol=1e-9)
