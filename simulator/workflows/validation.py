"""Model validation: the model's own checks against references nobody here wrote (report: docs/validation.md).

``simulate validate-model`` runs every function in :data:`CHECKS` and
:func:`simulator.presentation.validation_report.write_validation_report` writes
what they return as a PDF and a Markdown twin. Each check simulates something
small with a fixed seed, computes the same quantity independently (a closed form
or a separate implementation in numpy/scipy) and returns one
:class:`CheckResult` per figure it compares: the claim, the reference, the
measured figure with its Monte Carlo standard error, the tolerance
``k`` standard errors (computed, never a loose constant) and pass/fail.

The checks (each ``check_*`` simulates, then a pure ``*_results`` function
compares, so the tests can hand the comparison a broken reference and see it
fail):

1. :func:`check_markov_powers`: the roll-rate engine with a deterministic cycle
   against the Markov chain's matrix powers ``p0 P^t`` (state shares and
   cumulative charge-off by month);
2. :func:`check_vasicek`: the one-factor link's one-month default rate against
   the Vasicek distribution (mean, sd, 99% and 99.9% quantiles, the tail) and,
   given each path's factor draw, against ``p(Z)`` with binomial noise;
3. :func:`check_labour_market`: the structural engine's share of borrowers out of
   work on a closed book against the scenario's unemployment path (the flow
   identity of :func:`~simulator.model.engine.simulate.labour_market_rates`);
4. :func:`check_common_random_numbers`: the stress scenario minus the baseline on
   common random numbers, the paired standard error against the independent one
   (:class:`~simulator.workflows.comparison.Comparison`);
5. :func:`check_determinism`: aggregates bit-identical across thread counts and
   block sizes (pass/fail, no standard error);
6. :func:`check_ifrs9_default`: the IFRS 9 ECL (default at 90 DPD) of a book whose
   first miss always rolls to charge-off against its closed form, 12-month and
   lifetime;
7. :func:`check_stationarity`: the baseline without the cycle has no trend in any
   overdue rate, nor in the book's unemployment or balance (over independent books,
   so the standard error includes each book's own noise).

Back-tests against history (:mod:`simulator.workflows.backtest`) are not closed-form checks: every scenario given
(``--baseline``, ``--stress`` and each ``--backtest``) that names its history (a ``backtest`` section) is run through
it by :func:`validation_backtests`, and the report shows the statistics and the figure. Its acceptance criteria, when
the section gives them, are rows like the checks' (rule ``at_most``: the figure must not exceed its limit) and count
in the verdict; without criteria the back-test is information.

**Adding a check** is one function and one line. Write
``check_name(settings) -> list[CheckResult]``, using ``settings.pick(full=...,
quick=...)`` for its sizes (the full version should stay within a minute or so on
2 cores, the quick one within seconds), ``settings.seed`` for its draws,
``settings.k`` for its tolerance and :func:`compare_to_reference` for the
arithmetic; give its rows one ``check`` id (the PDF's section keyword) and one
``component`` name. Then append it to :data:`CHECKS`::

    def check_ifrs9_closed_form(settings):
        n_paths = settings.pick(full=400, quick=20)
        ...                                    # simulate; compute the closed form
        passed, z = compare_to_reference(measured, expected, se, settings.k)
        return [CheckResult(check="ifrs9_closed_form", component="IFRS 9 ECL vs closed form",
                            figure="12-month ECL, stage 1", claim=..., reference=..., measured=...,
                            expected=..., se=..., k=settings.k, tolerance=settings.k * se,
                            passed=bool(passed.all()), setup=f"{n_paths} paths ...")]

    CHECKS = [..., check_ifrs9_closed_form]

The report, its Markdown twin, the command's exit code and
``tests/test_validation.py`` (which runs the quick version and asserts that every
row of every registered check passes) pick it up with no other change; a test
that hands the new comparison a broken reference belongs beside the others
there (:func:`check_ifrs9_default` was added this way).
"""
import math
import time
from dataclasses import dataclass, field, replace
from datetime import date
from hashlib import sha256
from pathlib import Path
from typing import Optional

import numba
import numpy as np
import scipy
from scipy import integrate, stats

from ..inputs.errors import InputError, must_be
from ..inputs.loader import load_scenario, scenario_from_dict
from ..inputs.schema import Scenario
from ..model.engine import layout as L
from ..accounts.metrics import BUCKETS, path_series
from ..model.engine.simulate import settle_borrowers, simulate_paths
from ..model.macro import cycle_factor
from ..model.portfolio import LoanBook, build_book
from .backtest import DEFAULT_PATHS as BACKTEST_PATHS
from .backtest import scenario_backtest
from .comparison import compare
from .results import run, versions
from .settings import VALIDATION_BASELINE, VALIDATION_SEED, VALIDATION_STRESS

K_SE = 5.0
"""Default tolerance in standard errors: a two-sided false alarm about 1 in 1.7 million per comparison, so a check of
a few hundred comparisons (months x states) still fails by chance less than once in 5,000 runs."""

SEED = VALIDATION_SEED
"""Default seed of every check (:data:`.settings.VALIDATION_SEED`)."""

DEFAULT_BASELINE, DEFAULT_STRESS = VALIDATION_BASELINE, VALIDATION_STRESS

MARKOV_MATRIX = [
    # cur  1-30 31-60 61-90 91-120 121-150 151-180  CO  closed
    [93.0, 5.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    [60.0, 20.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [20.0, 5.0, 15.0, 60.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [10.0, 0.0, 5.0, 10.0, 75.0, 0.0, 0.0, 0.0, 0.0],
    [5.0, 0.0, 0.0, 5.0, 5.0, 85.0, 0.0, 0.0, 0.0],
    [3.0, 0.0, 0.0, 0.0, 2.0, 5.0, 90.0, 0.0, 0.0],
    [2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 6.0, 90.0, 0.0],
]
"""A roll-rate matrix (percent; rows: live states, columns: live states, charged off, closed) with cures, rolls
and prepayments, used by the closed-form checks and their tests."""

OPENING_MIX = (0.7, 0.1, 0.06, 0.05, 0.04, 0.03, 0.02)
"""Probabilities of the live states in the Markov check's opening book."""

OUTCOME_LABELS = ("current", "1-30 DPD", "31-60 DPD", "61-90 DPD", "91-120 DPD", "121-150 DPD", "151-180 DPD",
                  "charged off (cumulative)")


# ----------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Curve:
    """A measured figure over a range (months, default rates) with its reference and standard error, for a chart.

    Attributes
    ----------
    x : array
    measured, expected, se : arrays like ``x``
    x_label, y_label : str
    log_y : bool
        Draw the y axis on a log scale (tail probabilities); else it is a share, shown in percent.
    x_percent : bool
        Show the x axis in percent.
    """

    x: np.ndarray
    measured: np.ndarray
    expected: np.ndarray
    se: np.ndarray
    x_label: str
    y_label: str
    log_y: bool = False
    x_percent: bool = False


@dataclass(frozen=True)
class CheckResult:
    """One figure a check compares with its reference.

    Attributes
    ----------
    check : str
        Snake-case id of the check that made the row (the report's section keyword).
    component : str
        What is checked, e.g. "Roll-rate engine vs Markov matrix powers".
    figure : str
        Which figure of the component this row is ("share 31-60 DPD, month 24").
    claim, reference : str
        What the model claims, and the independent reference it is compared with.
    measured, expected : float or None
        The simulated figure and the reference's value (``None`` for a pass/fail check).
    se : float or None
        Monte Carlo standard error of ``measured - expected`` (``None``: no sampling error).
    k : float or None
        Tolerance in standard errors.
    tolerance : float or None
        ``k * se`` (0 for an exact comparison).
    passed : bool
    note : str
        How this figure's comparison came out or was made (the worst month, the large-portfolio figure).
    setup : str
        What the check simulated (sizes, parameters), the same for all its rows.
    seconds : float
        Wall time of the check that made the row (all its rows).
    unit : str
        ``fraction`` (shown in percent), ``number`` or ``count``.
    rule : str
        How the row passes: ``within`` (two-sided, ``|measured - expected| <= k se``) or ``above`` (one-sided,
        ``measured - expected > k se``: the figure must move away from the reference); rows without ``se`` are exact,
        except ``at_most`` (a back-test's acceptance criterion: ``measured <= expected``, the limit).
    curve : Curve, optional
        The figure over months or levels, drawn in the PDF.
    """

    check: str
    component: str
    figure: str
    claim: str
    reference: str
    measured: Optional[float]
    expected: Optional[float]
    se: Optional[float]
    k: Optional[float]
    tolerance: Optional[float]
    passed: bool
    note: str = ""
    setup: str = ""
    seconds: float = 0.0
    unit: str = "fraction"
    rule: str = "within"
    curve: Optional[Curve] = None


@dataclass(frozen=True)
class ValidationSettings:
    """What every check is given.

    Attributes
    ----------
    quick : bool
        The small version (seconds; what the test suite runs) instead of the full one (minutes).
    seed : int
    k : float
        Tolerance in standard errors.
    threads : int, optional
        Engine threads (default: all cores).
    baseline, stress : Scenario
        The scenarios of the common-random-numbers and determinism checks.
    histories : tuple of Scenario
        The scenarios back-tested against the history they name (:func:`validation_backtests`).
    """

    baseline: Scenario
    stress: Scenario
    quick: bool = False
    seed: int = SEED
    k: float = K_SE
    threads: Optional[int] = None
    histories: tuple = ()

    def pick(self, full, quick):
        """``quick`` in the quick version, else ``full``."""
        return quick if self.quick else full

    @property
    def size(self):
        return "quick" if self.quick else "full"


@dataclass(frozen=True)
class Validation:
    """The outcome of :func:`validate_model`: every check's rows, in order, and how they were made."""

    results: tuple
    settings: ValidationSettings
    seconds: float
    versions: dict = field(default_factory=dict)
    day: str = ""
    backtests: tuple = ()
    """The ``backtest.json`` summaries of :func:`validation_backtests`, in the order of ``settings.histories``."""

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    @property
    def n_failed(self):
        return sum(not r.passed for r in self.results)


def compare_to_reference(measured, expected, se, k):
    """Whether ``measured`` is within ``k se`` of ``expected``, elementwise, and the worst ``|z|``.

    Where ``se`` is 0 (no sampling error, e.g. month 0) the figures must agree to rounding (1e-12).

    Returns
    -------
    passed : bool array
    z : float array
        ``(measured - expected) / se`` (0 where both the gap and ``se`` vanish).
    """
    measured, expected, se = (np.asarray(v, dtype=float) for v in (measured, expected, se))
    gap = measured - expected
    passed = np.abs(gap) <= k * se + 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, gap / np.where(se > 0, se, 1.0), np.where(np.abs(gap) <= 1e-12, 0.0, np.inf))
    return passed, z


# ----------------------------------------------------------------------------------------- shared helpers
def roll_rate_scenario(matrix, horizon, paths, volatility, persistence, rho_pct, chunk_paths=64, seed=1,
                       lifetime_months=24, penalty_pct=50.0, recovery_pct=9.4):
    """A run-off roll-rate scenario with one segment and one matrix (percent), for checks of the link and the chain.

    ``lifetime_months`` is the IFRS 9 window the engine runs past the horizon (12 at the least); checks that read
    no provision set it to 12 to save time. ``penalty_pct`` (the penalty-rate uplift) and ``recovery_pct`` (paid
    over 12 months) as in the scenario schema.
    """
    return scenario_from_dict({
        "name": "roll_rate_check",
        "run": {"horizon_months": horizon, "paths": paths, "seed": seed, "balance_sheet": "runoff",
                "chunk_paths": chunk_paths, "sampling": "mc"},
        "portfolio": {"n_loans": 10, "segments": [{
            "name": "book", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
            "term_months": [36], "income": {"median": 5000}}]},
        "macro": {"cycle": {"volatility": volatility, "persistence": persistence}},
        "behaviour": {"model": "roll_rate", "penalty_rate_uplift_pct": penalty_pct,
                      "recovery": {"rate_pct": recovery_pct, "months": 12},
                      "roll_rate": {"asset_correlation_pct": rho_pct, "matrices": {"default": matrix}}},
        "provisioning": {"ifrs9": {"lifetime_months": lifetime_months}},
    })


def flat_book(dpd_states, term=120, employed=None):
    """A book of identical loans in the given states (long terms, so no loan matures inside a check's horizon).

    Parameters
    ----------
    dpd_states : int array (n_loans,)
    term : int
        Remaining term, months.
    employed : bool array (n_loans,), optional
        Who is in work (default: everyone).
    """
    n = len(dpd_states)
    ones = np.ones(n)
    return LoanBook(
        segment=np.zeros(n, np.int32), principal=1000.0 * ones, arrears=np.zeros(n), apr=0.2 * ones,
        remaining_term=np.full(n, term, np.int32), amortisation=np.zeros(n, np.int8),
        dpd_state=np.asarray(dpd_states, np.int8), income=5000.0 * ones, savings=ones, other_debt=ones,
        employed=np.ones(n, bool) if employed is None else np.asarray(employed, bool), score=650.0 * ones,
        original_principal=1000.0 * ones, original_term=np.full(n, term, np.int32),
        original_income=5000.0 * ones, original_savings=ones, birth_month=np.zeros(n, np.int32),
        risk_scale=ones, segment_names=("book",))


def full_chain(matrix):
    """The 9 x 9 chain of a roll-rate matrix (percent), charged-off (7) and closed (8) absorbing."""
    chain = np.zeros((9, 9))
    chain[:7] = np.asarray(matrix, dtype=float) / 100.0
    chain[7, 7] = chain[8, 8] = 1.0
    return chain


def vasicek_conditional_pd(z, pd_, rho):
    """``p(Z) = Phi((Phi^-1(PD) + sqrt(rho) Z) / sqrt(1 - rho))``: the default probability given the factor."""
    return stats.norm.cdf((stats.norm.ppf(pd_) + np.sqrt(rho) * z) / np.sqrt(1.0 - rho))


def vasicek_mixture_cdf(d, pd_, rho, n):
    """``P(D <= d)`` for the default fraction ``D`` of ``n`` loans under the one-factor model."""
    def integrand(z):
        return stats.binom.cdf(np.floor(d * n + 1e-9), n, vasicek_conditional_pd(z, pd_, rho)) * stats.norm.pdf(z)

    return integrate.quad(integrand, -9, 9, limit=200)[0]


def vasicek_mixture_pmf(pd_, rho, n):
    """``P(D = j / n)``, j = 0..n: the Vasicek distribution mixed with the binomial noise of ``n`` loans.

    ``int Binom(j; n, p(z)) phi(z) dz`` by adaptive quadrature over z in [-10, 10].
    """
    j = np.arange(n + 1)

    def integrand(z):
        return stats.binom.pmf(j, n, vasicek_conditional_pd(z, pd_, rho)) * stats.norm.pdf(z)

    return integrate.quad_vec(integrand, -10.0, 10.0, epsabs=1e-13, epsrel=1e-10, limit=400)[0]


def vasicek_variance(pd_, rho, n=None):
    """Variance of the default fraction: ``Phi2(t, t; rho) - PD^2`` (Vasicek), plus the binomial noise of ``n`` loans,
    ``E[p(Z)(1 - p(Z))] / n = (PD - Phi2) / n``; ``t = Phi^-1(PD)``, ``Phi2`` the bivariate normal cdf."""
    t = stats.norm.ppf(pd_)
    joint = stats.multivariate_normal.cdf([t, t], mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]], abseps=1e-12,
                                          releps=1e-10)
    return (joint - pd_ ** 2) + (0.0 if n is None else (pd_ - joint) / n)


def vasicek_quantile(alpha, pd_, rho):
    """The large-portfolio Vasicek quantile ``Phi((Phi^-1(PD) + sqrt(rho) Phi^-1(alpha)) / sqrt(1 - rho))``."""
    return float(vasicek_conditional_pd(stats.norm.ppf(alpha), pd_, rho))


def vasicek_cdf(x, pd_, rho):
    """The large-portfolio Vasicek distribution, ``P(L <= x) = Phi((sqrt(1-rho) Phi^-1(x) - Phi^-1(PD)) /
    sqrt(rho))``."""
    return stats.norm.cdf((np.sqrt(1.0 - rho) * stats.norm.ppf(x) - stats.norm.ppf(pd_)) / np.sqrt(rho))


def digest(*arrays):
    """Short SHA-256 of arrays' bytes."""
    hasher = sha256()
    for array in arrays:
        hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()[:12]


# ------------------------------------------------------------------------ 1. roll-rate vs matrix powers
MARKOV = ("markov_powers", "Roll-rate engine vs Markov matrix powers")


def markov_reference(matrix, start_states, horizon):
    """Expected state shares and cumulative charge-off by month, and each loan-path's variance, from ``P^t``.

    A loan starting in state ``i`` is in outcome ``j`` at month ``t`` with probability ``(P^t)[i, j]``
    (charged off is absorbing, so ``j = 7`` is the cumulative charge-off). The opening states are fixed, so a share
    over ``n`` loans and ``P`` paths is a sum of independent Bernoulli variables with variance
    ``sum_i q_i (1 - q_i) / (n P)^2``: the binomial variance conditional on each loan's opening state.

    Returns
    -------
    expected, variance : arrays (horizon + 1, 8)
        ``p0 P^t`` and the mean over loans of ``q (1 - q)``.
    """
    chain = full_chain(matrix)
    p0 = np.bincount(np.asarray(start_states), minlength=9) / len(start_states)
    expected = np.empty((horizon + 1, 8))
    variance = np.empty((horizon + 1, 8))
    power = np.eye(9)
    for t in range(horizon + 1):
        expected[t] = (p0 @ power)[:8]
        variance[t] = (p0 @ (power * (1.0 - power)))[:8]
        power = power @ chain
    return expected, variance


def markov_shares(aggregates, n_loans):
    """The engine's share of loan-paths in each live state at the end of each month, and the cumulative charge-off
    share (columns in :data:`OUTCOME_LABELS` order), shape (n_months + 1, 8)."""
    n = n_loans * aggregates.shape[0]
    live = aggregates[:, :, L.COUNT:L.COUNT + L.N_LIVE_STATES].sum(axis=0) / n
    charged_off = np.cumsum(aggregates[:, :, L.CHARGEOFF_COUNT].sum(axis=0)) / n
    return np.column_stack([live, charged_off])


def markov_results(measured, expected, variance, n_loan_paths, k, setup=""):
    """One row per outcome: measured shares (months x 8) against ``p0 P^t``; a row passes if every month does."""
    months = np.arange(measured.shape[0])
    se = np.sqrt(variance / n_loan_paths)
    rows = []
    for j, label in enumerate(OUTCOME_LABELS):
        passed, z = compare_to_reference(measured[:, j], expected[:, j], se[:, j], k)
        worst = int(np.argmax(np.abs(z)))
        last = months[-1]
        rows.append(CheckResult(
            check=MARKOV[0], component=MARKOV[1], figure=f"share {label}, month {last}",
            claim="With a deterministic cycle the roll-rate engine is the Markov chain of its matrix: the share of "
                  "loans in each state after t months is p0 P^t.",
            reference="p0 P^t, matrix powers in numpy (charged off absorbing)",
            measured=float(measured[last, j]), expected=float(expected[last, j]), se=float(se[last, j]), k=k,
            tolerance=float(k * se[last, j]), passed=bool(passed.all()),
            note=f"every month 0-{last} within {k:g} se; worst month {months[worst]}: z = {z[worst]:+.2f}",
            setup=setup, curve=Curve(months, measured[:, j], expected[:, j], se[:, j], "month", f"share {label}")))
    return rows


def check_markov_powers(settings):
    """The roll-rate engine (volatility 0) against the Markov chain's matrix powers, state by state and month by month.

    The cycle is switched off (volatility 0) but the asset correlation is 20%: with the factor at zero the
    one-factor link must hand back the base matrix for any rho, which this checks as well.
    """
    n_loans = settings.pick(full=20_000, quick=2_000)
    n_paths = settings.pick(full=400, quick=8)
    horizon = settings.pick(full=36, quick=6)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([settings.seed, 1])))
    start = rng.choice(len(OPENING_MIX), size=n_loans, p=OPENING_MIX)
    scenario = roll_rate_scenario(MARKOV_MATRIX, horizon, n_paths, volatility=0.0, persistence=0.5, rho_pct=20,
                                  lifetime_months=12)
    aggregates, *_ = simulate_paths(scenario, flat_book(start), settings.seed, threads=settings.threads)
    expected, variance = markov_reference(MARKOV_MATRIX, start, horizon)
    return markov_results(markov_shares(aggregates, n_loans), expected, variance, n_loans * n_paths, settings.k,
                          setup=f"{n_loans:,} loans x {n_paths} paths x {horizon} months, run-off, rho 20%, cycle "
                                "volatility 0, opening states drawn from " + ", ".join(f"{p:.0%}" for p in OPENING_MIX)
                                + "; se binomial over loan-paths given each loan's opening state.")


# -------------------------------------------------------------------- 2. one-factor link vs Vasicek
VASICEK = ("vasicek", "One-factor link vs the Vasicek distribution")
VASICEK_PD, VASICEK_RHO = 0.05, 0.10
QUANTILE_LEVELS = (0.99, 0.999)
DENSITY_WINDOW = 0.005
"""Half-width (in default rate) of the window over which the reference's density at a quantile is averaged (the
mixture's pmf lives on a lattice of step 1 / n)."""


def vasicek_reference(pd_, rho, n_loans):
    """The reference distribution of the one-month default fraction of ``n_loans`` loans: its pmf on the lattice
    ``j / n`` (:func:`vasicek_mixture_pmf`), mean ``PD`` and variance (:func:`vasicek_variance`)."""
    return {"pmf": vasicek_mixture_pmf(pd_, rho, n_loans), "mean": pd_, "variance": vasicek_variance(pd_, rho, n_loans)}


def vasicek_results(default_rate, pd_, rho, n_loans, reference, k, setup="", factor=None):
    """Mean, sd, quantiles and tail of simulated default rates (one per path) against the reference distribution;
    given each path's factor draw ``factor`` (Z), also the link itself, conditionally on Z.

    Standard errors: the mean's ``sd / sqrt(N)``; the sd's by the delta method from the variance's
    ``sqrt((m4 - s^4) / N)``; a quantile's from the binomial count below it, ``sqrt(a (1 - a) / N) / f(q)``, with
    ``f`` the reference's density at its quantile ``q`` (its pmf averaged over +-:data:`DENSITY_WINDOW`); a tail
    probability's binomial over paths. Given Z the default count of a path is ``Binomial(n, p(Z))``, so
    ``mean(D - p(Z))`` has se ``sqrt(sum p (1 - p) / n) / N`` and the standardised residuals
    ``(D - p(Z)) / sqrt(p (1 - p) / n)`` have variance 1 (loans independent given the factor). These two rows
    test the link free of the sampling of Z, which moves the unconditional rows together (a seed whose draws of Z
    have a low sd gives a low sd of D and a thin tail).
    """
    default_rate = np.asarray(default_rate, dtype=float)
    n_paths = len(default_rate)
    pmf = reference["pmf"]
    lattice = np.arange(n_loans + 1) / n_loans
    cdf = np.cumsum(pmf)
    claim = ("Under the Belkin-Forest-Suchower link p(Z) = Phi((Phi^-1(PD) + sqrt(rho) Z) / sqrt(1 - rho)), the "
             "one-month default rate across paths follows the Vasicek distribution (mixed with the binomial noise "
             "of a finite book).")
    source = ("Vasicek: P(L <= x) = Phi((sqrt(1-rho) Phi^-1(x) - Phi^-1(PD)) / sqrt(rho)), mixed with "
              f"Binomial(n={n_loans:,}, p(Z)) by quadrature (scipy); given each path's factor draw Z, "
              "Binomial(n, p(Z)) itself")
    common = dict(check=VASICEK[0], component=VASICEK[1], claim=claim, reference=source, k=k, setup=setup)
    rows = []
    mean = default_rate.mean()
    se_mean = default_rate.std(ddof=1) / np.sqrt(n_paths)
    rows.append(CheckResult(figure="mean default rate", measured=float(mean), expected=pd_, se=float(se_mean),
                            tolerance=float(k * se_mean), passed=bool(abs(mean - pd_) <= k * se_mean),
                            note="E[D] = PD exactly; se = sd / sqrt(paths)", **common))
    centred = default_rate - mean
    variance = np.var(centred, ddof=1)
    se_variance = np.sqrt((np.mean(centred ** 4) - np.var(centred) ** 2) / n_paths)
    sd, sd_expected = np.sqrt(variance), np.sqrt(reference["variance"])
    se_sd = se_variance / (2.0 * sd)
    rows.append(CheckResult(
        figure="sd of the default rate", measured=float(sd), expected=float(sd_expected), se=float(se_sd),
        tolerance=float(k * se_sd), passed=bool(abs(sd - sd_expected) <= k * se_sd),
        note=f"Var = Phi2(t, t; rho) - PD^2 + (PD - Phi2) / n; large-portfolio sd "
             f"{np.sqrt(vasicek_variance(pd_, rho)):.4%}"
             + ("" if factor is None else f"; these paths' draws of Z have sd {np.std(factor, ddof=1):.4f} "
                f"(z = {(np.std(factor, ddof=1) - 1) * np.sqrt(2 * n_paths):+.2f} against N(0, 1))"), **common))
    window = max(1, int(round(DENSITY_WINDOW * n_loans)))
    for alpha in QUANTILE_LEVELS:
        j = int(np.searchsorted(cdf, alpha))
        expected = lattice[j]
        density = pmf[max(j - window, 0):j + window + 1].sum() * n_loans / (2 * window + 1)
        se = np.sqrt(alpha * (1 - alpha) / n_paths) / density
        measured = float(np.quantile(default_rate, alpha, method="inverted_cdf"))
        rows.append(CheckResult(
            figure=f"{alpha:.1%} quantile", measured=measured, expected=float(expected), se=float(se),
            tolerance=float(k * se), passed=bool(abs(measured - expected) <= k * se),
            note=f"{n_paths - int(round(alpha * n_paths))} of {n_paths:,} paths beyond it; large-portfolio Vasicek "
                 f"quantile {vasicek_quantile(alpha, pd_, rho):.4%}; reference density {density:.3g}.", **common))
    shown = (cdf > 0.5) & (cdf < 1 - 3.0 / n_paths)  # from the median to where about 3 paths lie beyond
    tail_x, tail_expected = lattice[shown], 1.0 - cdf[shown]
    ordered = np.sort(default_rate)
    tail_measured = 1.0 - np.searchsorted(ordered, tail_x + 0.5 / n_loans, side="right") / n_paths
    tail_se = np.sqrt(tail_expected * (1 - tail_expected) / n_paths)
    passed, z = compare_to_reference(tail_measured, tail_expected, tail_se, k)
    worst = int(np.argmax(np.abs(z)))
    rows.append(CheckResult(
        figure=f"P(default rate > x), x {tail_x[0]:.1%} to {tail_x[-1]:.1%}", measured=float(tail_measured[worst]),
        expected=float(tail_expected[worst]), se=float(tail_se[worst]), tolerance=float(k * tail_se[worst]),
        passed=bool(passed.all()),
        note=f"every x of the lattice within {k:g} se (binomial over paths); shown at the worst, x = "
             f"{tail_x[worst]:.2%}: z = {z[worst]:+.2f}",
        curve=Curve(tail_x, tail_measured, tail_expected, tail_se, "one-month default rate x", "P(default rate > x)",
                    log_y=True, x_percent=True), **common))
    if factor is not None:
        conditional = vasicek_conditional_pd(np.asarray(factor, dtype=float), pd_, rho)
        binomial_variance = conditional * (1 - conditional) / n_loans
        se_conditional = np.sqrt(binomial_variance.sum()) / n_paths
        gap = default_rate.mean() - conditional.mean()
        rows.append(CheckResult(
            figure="mean default rate given each path's Z", measured=float(default_rate.mean()),
            expected=float(conditional.mean()), se=float(se_conditional), tolerance=float(k * se_conditional),
            passed=bool(abs(gap) <= k * se_conditional),
            note="reference: mean of p(Z) over the paths' own factor draws; se binomial given Z", **common))
        standardised = (default_rate - conditional) / np.sqrt(binomial_variance)
        spread = np.var(standardised, ddof=1)
        se_spread = np.sqrt((np.mean((standardised - standardised.mean()) ** 4) - np.var(standardised) ** 2)
                            / n_paths)
        rows.append(CheckResult(
            figure="variance of (D - p(Z)) / binomial sd", measured=float(spread), expected=1.0, se=float(se_spread),
            tolerance=float(k * se_spread), passed=bool(abs(spread - 1.0) <= k * se_spread), unit="number",
            note="1 if loans default independently given the factor; se from the residuals' fourth moment",
            **common))
    return rows


def check_vasicek(settings):
    """The roll-rate engine's one-month default rate (current -> charged off with PD 5%, rho 10%, cycle volatility 1,
    no persistence, so the month's factor is N(0, 1)) against the Vasicek distribution."""
    n_loans = settings.pick(full=2_000, quick=500)
    n_paths = settings.pick(full=100_000, quick=4_000)
    matrix = [[100 * (1 - VASICEK_PD), 0, 0, 0, 0, 0, 0, 100 * VASICEK_PD, 0]] + MARKOV_MATRIX[1:]
    scenario = roll_rate_scenario(matrix, horizon=1, paths=n_paths, volatility=1.0, persistence=0.0,
                                  rho_pct=100 * VASICEK_RHO, chunk_paths=5_000, lifetime_months=12)
    aggregates, *_ = simulate_paths(scenario, flat_book(np.zeros(n_loans, int)), settings.seed,
                                    threads=settings.threads)
    default_rate = aggregates[:, 1, L.CHARGEOFF_COUNT] / n_loans
    factor = cycle_factor(scenario.macro.cycle, settings.seed, np.arange(n_paths), 1)[:, 1]  # the month's Z per path
    return vasicek_results(default_rate, VASICEK_PD, VASICEK_RHO, n_loans,
                           vasicek_reference(VASICEK_PD, VASICEK_RHO, n_loans), settings.k, factor=factor,
                           setup=f"{n_loans:,} loans x {n_paths:,} paths, one month, PD {VASICEK_PD:.0%} (current "
                                 f"-> charged off), rho {VASICEK_RHO:.0%}, cycle volatility 1 without persistence.")


# ------------------------------------------------------------------ 3. labour-market flow identity
LABOUR = ("labour_market", "Labour-market flow identity")
UNEMPLOYMENT_BASE_PCT = 5.2


def unemployment_path(horizon):
    """Monthly unemployment (percent) for months 1..horizon: up 4 pp by month 8, held to month 12, back down by 3 pp
    over the next 12 months, then held."""
    t = np.arange(1, horizon + 1, dtype=float)
    rise = 4.0 * np.minimum(t / 8.0, 1.0)
    fall = 3.0 * np.clip((t - 12.0) / 12.0, 0.0, 1.0)
    return UNEMPLOYMENT_BASE_PCT + rise - fall


def labour_market_scenario(horizon, paths, levels_pct):
    """A closed book in the structural model: run-off, no prepayment, no missed payments (no essential spending, no
    payment friction or strategic default), so no loan leaves; one segment of sensitivity 1; unemployment follows
    ``levels_pct`` exactly (a monthly path shock, no cycle)."""
    return scenario_from_dict({
        "name": "labour_market_check",
        "run": {"horizon_months": horizon, "paths": paths, "seed": 1, "balance_sheet": "runoff", "chunk_paths": 16,
                "sampling": "mc"},
        "portfolio": {"n_loans": 10, "segments": [{
            "name": "book", "share_pct": 100, "principal": {"median": 1000}, "apr_pct": {"min": 20, "max": 20},
            "term_months": [36], "income": {"median": 5000}, "essential_spending_pct": 0,
            "other_debt_dti_pct": {"min": 0, "max": 0}, "unemployment_sensitivity": 1.0}]},
        "macro": {"baseline": {"unemployment_pct": UNEMPLOYMENT_BASE_PCT},
                  "shocks": [{"shape": "path", "variable": "unemployment", "frequency": "monthly",
                              "levels_pct": [float(v) for v in levels_pct]}],
                  "cycle": {"volatility": 0.0}},
        "behaviour": {"model": "structural", "prepayment_pct": 0.0,
                      "structural": {"strategic_default_pct": 0.0, "payment_friction_pct": 0.0}},
        "provisioning": {"ifrs9": {"lifetime_months": 12}},
    })


def labour_market_results(measured, expected, live, n_loan_paths, k, setup=""):
    """The share unemployed by month against the scenario's path; se binomial over loan-paths.

    ``live`` (months) is the share of loan-paths still on the book; it must be 1 (a closed population), else the
    identity does not apply and the row fails.
    """
    months = np.arange(len(measured))
    se = np.sqrt(expected * (1 - expected) / n_loan_paths)
    passed, z = compare_to_reference(measured, expected, se, k)
    closed = bool(np.all(live == 1.0))
    worst = int(np.argmax(np.abs(z)))
    peak = int(np.argmax(expected))
    return [CheckResult(
        check=LABOUR[0], component=LABOUR[1], figure=f"share unemployed, month {peak} (the peak)",
        claim="Job finding f_t = f0 (u0 / u_t)^elasticity and separation solving u_t = u_{t-1} (1 - f_t) + "
              "(1 - u_{t-1}) s_t make the share of borrowers out of work track the scenario's unemployment path.",
        reference="the scenario's unemployment path (monthly levels as given)",
        measured=float(measured[peak]), expected=float(expected[peak]), se=float(se[peak]), k=k,
        tolerance=float(k * se[peak]), passed=bool(passed.all() and closed),
        note=(f"every month 0-{months[-1]} within {k:g} se; worst month {months[worst]}: z = {z[worst]:+.2f}"
              + ("" if closed else "; LOANS LEFT THE BOOK, so it is not a closed population")
              + "; se sqrt(u (1 - u) / loan-paths), an upper bound (the opening employment is fixed, not drawn)"),
        setup=setup, curve=Curve(months, measured, expected, se, "month", "share unemployed"))]


def check_labour_market(settings):
    """The structural engine on a closed book: the share of borrowers out of work against the unemployment path.

    The opening book has exactly ``u_0 n`` borrowers out of work (n a multiple of 2,500, so 5.2% of it is whole).
    """
    n_loans = settings.pick(full=20_000, quick=2_500)
    n_paths = settings.pick(full=200, quick=8)
    horizon = settings.pick(full=36, quick=8)
    levels = unemployment_path(horizon)
    out_of_work = int(round(UNEMPLOYMENT_BASE_PCT / 100 * n_loans))
    if not math.isclose(out_of_work, UNEMPLOYMENT_BASE_PCT / 100 * n_loans):
        raise ValueError(f"check_labour_market: {n_loans} loans cannot start exactly {UNEMPLOYMENT_BASE_PCT}% out of "
                         "work; use a multiple of 2,500")
    employed = np.arange(n_loans) >= out_of_work
    scenario = labour_market_scenario(horizon, n_paths, levels)
    aggregates, *_ = simulate_paths(scenario, flat_book(np.zeros(n_loans, int), employed=employed), settings.seed,
                                    threads=settings.threads)
    n = n_loans * n_paths
    measured = aggregates[:, :, L.UNEMPLOYED].sum(axis=0) / n
    live = aggregates[:, :, L.COUNT:L.COUNT + L.N_LIVE_STATES].sum(axis=(0, 2)) / n
    expected = np.concatenate([[out_of_work / n_loans], levels / 100.0])
    return labour_market_results(measured, expected, live, n, settings.k,
                                 setup=f"{n_loans:,} loans x {n_paths} paths x {horizon} months, {out_of_work:,} "
                                       "borrowers out of work at the start; run-off, no prepayment, no missed "
                                       "payments, so nobody leaves the book.")


# ------------------------------------------------------------------- 4. common random numbers
CRN = ("common_random_numbers", "Common random numbers")


def variance_ratio_se(a, b):
    """The variance reduction ``r = (Var a + Var b) / Var(b - a)`` of paired per-path values and its delta-method
    standard error, from the per-path squared deviations (no resampling)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = len(a)
    both = (a - a.mean()) ** 2 + (b - b.mean()) ** 2
    paired = ((b - a) - (b - a).mean()) ** 2
    s, d = both.mean(), paired.mean()
    ratio = s / d
    covariance = np.cov(both, paired, ddof=1) / n
    relative = covariance[0, 0] / s ** 2 + covariance[1, 1] / d ** 2 - 2 * covariance[0, 1] / (s * d)
    return float(ratio), float(ratio * np.sqrt(max(relative, 0.0)))


def crn_results(table_row, reference_values, stress_values, k, names, setup=""):
    """Two rows from the comparison table's row of the cumulative loss rate: the paired difference is positive by
    ``k`` paired standard errors, and the variance reduction exceeds 1 by ``k`` of its standard errors."""
    ratio, se_ratio = variance_ratio_se(reference_values, stress_values)
    difference, se_paired, se_independent = (float(table_row[c]) for c in
                                             ("difference", "se_difference", "se_independent"))
    reference, stress = names
    common = dict(check=CRN[0], component=CRN[1], k=k, setup=setup,
                  claim=f"On common random numbers (the same draws in both scenarios) the stress scenario ({stress}) "
                        f"adds loss to the {reference}, and the paired standard error of that difference is well "
                        "below the one independent draws would give.",
                  reference="zero for the difference (one-sided); 1 for the variance reduction, i.e. independent "
                            "draws, whose se is sqrt(se_a^2 + se_b^2) (simulate compare's se_independent)")
    return [
        CheckResult(
            figure=f"mean cumulative loss rate, {stress} - {reference}", measured=difference, expected=0.0,
            se=se_paired, tolerance=k * se_paired, passed=bool(difference > k * se_paired), rule="above",
            note=f"must exceed k paired se; paired se {se_paired:.4%}, with independent draws it would be "
                 f"{se_independent:.4%}", **common),
        CheckResult(
            figure="variance reduction of the difference", measured=ratio, expected=1.0, se=se_ratio,
            tolerance=k * se_ratio, passed=bool(ratio - 1.0 > k * se_ratio), unit="number", rule="above",
            note=f"must exceed 1 by k se; (se independent / se paired)^2 = "
                 f"{float(table_row['variance_reduction']):.1f} in the comparison table; se by the delta method "
                 "over paths", **common)]


def check_common_random_numbers(settings):
    """The stress scenario against the baseline on common random numbers
    (:func:`simulator.workflows.comparison.compare`).

    Both lend as their credit needs whatever their cash (``funding.when_short: keep_lending``): the claim is about
    credit losses, and a stressed lender that reaches its cash floor stops lending, runs its book off and so loses
    less of its opening balance than the baseline's full book over 36 months (severe: 7.9% against 13.3%).
    """
    loans = settings.pick(full=20_000, quick=2_000)
    paths = settings.pick(full=1_000, quick=500)
    horizon = settings.pick(full=36, quick=12)
    scenarios = [s.with_loans(loans).with_run(horizon_months=min(horizon, s.run.horizon_months), sampling="mc")
                 .model_copy(update={"funding": s.funding.model_copy(update={"when_short": "keep_lending"})})
                 for s in (settings.baseline, settings.stress)]
    comparison = compare(scenarios, paths=paths, seed=settings.seed, threads=settings.threads)
    table = comparison.table
    names = [m.scenario.name for m in comparison.members]
    row = table[(table.scenario == names[1]) & (table.metric == "cumulative_loss_rate")].iloc[0]
    values = [m.headline["cumulative_loss_rate"] for m in comparison.members]
    return crn_results(row, values[0], values[1], settings.k, names,
                       setup=f"{names[1]} against {names[0]} (simulate compare), {loans:,} loans x {paths:,} paths x "
                             f"{scenarios[0].run.horizon_months} months, both lending whatever their cash.")


# -------------------------------------------------------------------------------- 5. determinism
DETERMINISM = ("determinism", "Determinism across threads and block sizes")


def determinism_result(model, what, first, second, other_seed):
    """One row: ``first`` and ``second`` (lists of arrays from two runs) are bit-identical, and a run with another
    seed (``other_seed``) is not (else the comparison could not fail)."""
    differing = sum(int(np.sum(~((a == b) | (np.isnan(a) & np.isnan(b))))) for a, b in zip(first, second))
    identical = digest(*first) == digest(*second)
    moved = digest(*first) != digest(*other_seed)
    return CheckResult(
        check=DETERMINISM[0], component=DETERMINISM[1], figure=f"{model}: {what}", measured=float(differing),
        expected=0.0, se=None, k=None, tolerance=0.0, passed=bool(identical and moved and differing == 0),
        claim="Every random number is a function of (seed, path, loan, month, draw) and each path sums its loans in a "
              "fixed order, so results do not depend on threads or block sizes.",
        reference="the same run with another thread count or block size (bit for bit)", unit="count",
        note=f"digests {digest(*first)} / {digest(*second)}; another seed "
             f"{'moves them' if moved else 'DOES NOT move them'} ({digest(*other_seed)})")


def check_determinism(settings):
    """Aggregates and vintages bit-identical for threads 1 vs 2 and blocks of 1 vs 7 paths, in both behaviour models
    (the stress scenario's structural book, and a roll-rate book with a stochastic cycle)."""
    loans = settings.pick(full=5_000, quick=600)
    paths = settings.pick(full=23, quick=9)
    horizon = settings.pick(full=24, quick=8)
    stress = settings.stress.with_loans(loans).with_run(paths=paths, horizon_months=horizon, seed=settings.seed,
                                                        sampling="mc")
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([settings.seed, 5])))
    roll_book = flat_book(rng.choice(len(OPENING_MIX), size=loans, p=OPENING_MIX))
    roll = roll_rate_scenario(MARKOV_MATRIX, horizon, paths, volatility=1.0, persistence=0.9, rho_pct=10,
                              seed=settings.seed)
    available = numba.config.NUMBA_NUM_THREADS

    def structural(threads, chunk, seed=settings.seed):
        results = run(stress.with_run(chunk_paths=chunk), seed=seed, threads=threads)
        return [results.aggregates, results.vintages]

    def roll_rate(threads, chunk, seed=settings.seed):
        aggregates, _, vintages = simulate_paths(roll.with_run(chunk_paths=chunk), roll_book, seed, threads=threads)
        return [aggregates, vintages]

    rows = []
    for model, simulate in ((f"structural ({settings.stress.name})", structural), ("roll-rate", roll_rate)):
        base = simulate(2, 32)
        other_seed = simulate(2, 32, seed=settings.seed + 1)
        rows.append(determinism_result(model, "threads 1 vs 2", simulate(1, 32), base, other_seed))
        rows.append(determinism_result(model, "blocks of 1 vs 7 paths", simulate(2, 1), simulate(2, 7), other_seed))
    setup = (f"{loans:,} loans x {paths} paths x {horizon} months in each model; the figure is the number of "
             f"values (aggregates and vintages) that differ; {available} engine threads available")
    if available < 2:
        setup += " (so 'threads 2' ran on 1)"
    return [replace(r, setup=setup + ".") for r in rows]


# ------------------------------------------------------------------------------------------ registry
# ------------------------------------------------------------ 6. IFRS 9 default at 90 DPD vs closed form
IFRS9 = ("ifrs9_closed_form", "IFRS 9 ECL (default at 90 DPD) vs closed form")
ROLL_THROUGH_MISS_PCT = 1.5
ROLL_THROUGH = ([[100 - ROLL_THROUGH_MISS_PCT, ROLL_THROUGH_MISS_PCT, 0, 0, 0, 0, 0, 0, 0]]
                + [[100.0 if j == k + 1 else 0.0 for j in range(9)] for k in range(1, 7)])
"""A first miss (1.5% a month) rolls through every bucket to charge-off: 1-30, 31-60, ..., 151-180, charged off."""
MONTHS_FIRST_MISS_TO_DEFAULT = 3
"""A first miss puts a loan 1-30 DPD; three more misses later it is 91-120 DPD, beyond the default definition."""
MONTHS_FIRST_MISS_TO_CHARGEOFF = 6


def roll_through_expected_loss(q, r, window, months_to_event):
    """Expected discounted loss per unit of balance of a current interest-only loan of monthly rate ``r`` (no
    penalty uplift, no recoveries) whose first miss rolls through to charge-off, counting the losses of the events
    within ``window`` months.

    The first miss ``k`` months ahead has probability ``(1 - q)^(k - 1) q``; the arrears then grow as
    ``B ((1 + r)^j - 1)``, so the charge-off 6 months after the first miss writes off ``B (1 + r)^7``, worth
    ``B (1 + r)^(1 - k)`` today. The event is the default (``months_to_event = 3`` after the first miss) or, as in
    versions that defaulted at charge-off, the charge-off (6); it must fall within the window:
    ``k <= window - months_to_event``.
    """
    k = np.arange(1, window - months_to_event + 1)
    return float(np.sum((1 - q) ** (k - 1) * q * (1 + r) ** (1 - k)))


def ifrs9_results(per_path, q, r, k, setup=""):
    """Rows comparing each window's per-path ECL rates of current loans (``{window: array (n_paths,)}``) with the
    roll-through closed form; se from the spread over paths."""
    rows = []
    for window, values in per_path.items():
        expected = roll_through_expected_loss(q, r, window, MONTHS_FIRST_MISS_TO_DEFAULT)
        old = roll_through_expected_loss(q, r, window, MONTHS_FIRST_MISS_TO_CHARGEOFF)
        measured = float(np.mean(values))
        se = float(np.std(values, ddof=1) / np.sqrt(len(values)))
        passed, z = compare_to_reference(measured, expected, se, k)
        label = "12-month" if window == 12 else f"lifetime ({window} months)"
        rows.append(CheckResult(
            check=IFRS9[0], component=IFRS9[1], figure=f"{label} ECL rate of a current loan",
            claim="the engine's ECL counts the defaults (beyond 90 DPD) within the window and whatever each goes "
                  "on to lose, discounted at the effective interest rate",
            reference=f"sum over first misses k <= {window - MONTHS_FIRST_MISS_TO_DEFAULT} months ahead of "
                      "(1-q)^(k-1) q (1+r)^(1-k)",
            measured=measured, expected=expected, se=se, k=k, tolerance=k * se, passed=bool(passed),
            note=f"{float(z):+.2f} se; with charge-off as the event the closed form would be {old:.4%} "
                 f"({1 - old / expected:.0%} lower)", setup=setup))
    return rows


def check_ifrs9_default(settings):
    """The IFRS 9 ECL of a roll-through book (every first miss rolls to charge-off) against its closed form."""
    q, r = ROLL_THROUGH_MISS_PCT / 100.0, 0.20 / 12
    n_loans = settings.pick(full=5_000, quick=1_000)
    n_paths = settings.pick(full=400, quick=20)
    scenario = roll_rate_scenario(ROLL_THROUGH, 1, n_paths, volatility=0.0, persistence=0.5, rho_pct=10,
                                  seed=settings.seed, penalty_pct=0.0, recovery_pct=0.0)
    book = replace(flat_book(np.zeros(n_loans, int), term=600), amortisation=np.full(n_loans, 2, np.int8))
    aggregates, *_ = simulate_paths(scenario, book, settings.seed, threads=settings.threads)
    balance = aggregates[:, 0, L.BALANCE]
    per_path = {12: aggregates[:, 0, L.FORWARD_LOSS_12M] / balance, 24: aggregates[:, 0, L.FORWARD_LOSS_LIFE] / balance}
    return ifrs9_results(per_path, q, r, settings.k,
                         setup=f"{n_loans:,} current interest-only loans x {n_paths} paths, 20% APR, monthly first "
                               f"miss {ROLL_THROUGH_MISS_PCT}%, then a roll through every bucket to charge-off at "
                               "180 DPD; no penalty uplift, no recoveries; se from the spread over paths.")


# ------------------------------------------------------------------------ 7. baseline stationarity
STATIONARITY = ("stationarity", "Baseline without the cycle is stationary")
STATIONARY_FIRST, STATIONARY_LAST = 1, 36
STATIONARY_SERIES = tuple(f"overdue_rate_{bucket}{kind}" for bucket in BUCKETS for kind in ("", "_count")) + (
    "book_unemployment_rate", "book_balance_relative")
"""The overdue rates (each bucket, by balance and by count), the book's unemployment, and its balance relative to
month 0 (the constant balance sheet keeps the number of loans; their balance must not trend either)."""


def calm_baseline(baseline, book, paths):
    """``baseline`` without the cycle, its ``book``-th synthetic book (0: its own) and path seed, ``paths`` paths."""
    macro = baseline.macro.model_copy(update={"cycle": baseline.macro.cycle.model_copy(update={"volatility": 0.0})})
    portfolio = baseline.portfolio.model_copy(update={"seed": baseline.portfolio.seed + book})
    return baseline.model_copy(update={"macro": macro, "portfolio": portfolio}).with_run(
        paths=paths, seed=(baseline.run.seed or SEED) + book, sampling="mc")


def trend_statistics(x, first=STATIONARY_FIRST, last=STATIONARY_LAST):
    """Per path: the OLS slope of ``x[:, first..last]`` on the month, and ``x[:, first] - x[:, last]``."""
    months = np.arange(first, last + 1)
    centred = months - months.mean()
    y = x[:, first:last + 1]
    return (y * centred).sum(axis=1) / (centred ** 2).sum(), y[:, 0] - y[:, -1]


def stationarity_book_means(baseline, books, paths_per_book, threads=None):
    """For each series of :data:`STATIONARY_SERIES` and statistic (``slope``, ``month 1 - month 36``), the per-book
    means of the per-path statistics, ``{(series, statistic): array (books,)}``.

    Books are independent draws (book 0 is the baseline's own), each settled and run
    on its own paths, so the standard error of a statistic is the sd of its book
    means over sqrt(books): that includes each book's own sampling noise, which a
    test on one book at many paths would mistake for a trend.
    """
    means = {}
    for book in range(books):
        scenario = calm_baseline(baseline, book, paths_per_book)
        seed = scenario.portfolio.seed
        loans = settle_borrowers(scenario, build_book(scenario, seed), seed)
        aggregates, central, _ = simulate_paths(scenario, loans, scenario.run.seed, threads=threads)
        series, _ = path_series(aggregates, scenario, central)
        series["book_balance_relative"] = series["book_balance"] / series["book_balance"][:, :1]
        for name in STATIONARY_SERIES:
            for statistic, values in zip(("slope", "month 1 - 36"), trend_statistics(series[name])):
                means.setdefault((name, statistic), []).append(values.mean())
    return {key: np.array(values) for key, values in means.items()}


def _series_label(name):
    """A short label of a stationarity series: ``overdue_rate_90p_count`` -> ``90+ rate, count``."""
    if not name.startswith("overdue_rate_"):
        return name.replace("_", " ")
    bucket = name[len("overdue_rate_"):]
    kind = "count" if bucket.endswith("_count") else "balance"
    bucket = bucket.removesuffix("_count").replace("_", "-").replace("90p", "90+").replace("m1p", "M1+") \
        .replace("m3p", "M3+")
    return f"{bucket} rate, {kind}"


def stationarity_results(book_means, k, setup=""):
    """One row per statistic: ``|mean| <= k se`` with ``se = sd(book means) / sqrt(books)``."""
    rows = []
    for (name, statistic), values in book_means.items():
        mean, se = float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))
        passed, z = compare_to_reference(mean, 0.0, se, k)
        rows.append(CheckResult(
            check=STATIONARITY[0], component=STATIONARITY[1], figure=f"{_series_label(name)}: {statistic}",
            claim="with no shock and no cycle the book's rates do not trend (no start-up transient)",
            reference="0 (the same economy every month)", measured=mean, expected=0.0, se=se, k=k,
            tolerance=k * se, passed=bool(passed), note=f"{float(z):+.2f} se", setup=setup, unit="number"))
    return rows


def check_stationarity(settings):
    """The baseline without the cycle: no overdue rate, nor the book's unemployment or balance, trends."""
    books = settings.pick(full=40, quick=12)  # books, not paths, carry the error: keep a dozen even when quick
    paths = settings.pick(full=10, quick=2)
    means = stationarity_book_means(settings.baseline, books, paths, settings.threads)
    return stationarity_results(means, settings.k,
                                setup=f"{settings.baseline.name} with cycle volatility 0: {books} books (book 0 its "
                                      f"own) x {paths} paths x {STATIONARY_LAST} months; per-path slope and month-1 "
                                      "minus month-36 difference, averaged per book; se over books.")


CHECKS = [
    check_markov_powers,
    check_vasicek,
    check_labour_market,
    check_common_random_numbers,
    check_determinism,
    check_ifrs9_default,
    check_stationarity,
]
"""The checks, in report order: each ``check(settings) -> list[CheckResult]``. Add a check by appending its function."""


def validation_settings(baseline=DEFAULT_BASELINE, stress=DEFAULT_STRESS, quick=False, seed=SEED, k=K_SE,
                        threads=None, backtests=()):
    """Settings with the baseline and stress scenarios loaded (files or :class:`Scenario` objects).

    ``backtests`` are more scenarios (files or objects) to back-test; each must name its history. The settings'
    ``histories`` are the baseline, the stress and these, those that name a history, each name once.

    Raises
    ------
    InputError
        If a scenario file is missing or invalid, the baseline is shorter than the stationarity check's
        :data:`STATIONARY_LAST` months, the two do not share a book (common random numbers need one), or a
        ``backtests`` scenario names no history.
    """
    loaded = []
    for role, scenario in (("baseline=", baseline), ("stress=", stress)):
        if not isinstance(scenario, Scenario):
            if not Path(scenario).is_file():
                raise InputError(f"validate-model: {role} {scenario} not found. Run from the project folder (which "
                                 f"holds scenarios/) or give the scenario file with {role}.")
            scenario = load_scenario(scenario)
        loaded.append(scenario)
    if loaded[0].run.horizon_months < STATIONARY_LAST:
        raise InputError(must_be(f"validate-model --baseline {loaded[0].name}", "run.horizon_months",
                                 f"at least {STATIONARY_LAST} (the stationarity check compares month 1 with month "
                                 f"{STATIONARY_LAST})", loaded[0].run.horizon_months,
                                 f"Give a baseline of {STATIONARY_LAST} months or more (scenarios/baseline.yaml)."))
    if loaded[0].portfolio != loaded[1].portfolio:
        raise InputError(f"validate-model: the stress scenario {loaded[1].name} must use the baseline's book "
                         f"({loaded[0].name}); it does not. Give a stress scenario that extends the baseline.")
    if not math.isfinite(k) or k <= 0:
        raise InputError(f"validate-model: k must be a positive number of standard errors; got {k}.")
    extra = []
    for scenario in backtests:
        if not isinstance(scenario, Scenario):
            if not Path(scenario).is_file():
                raise InputError(f"validate-model: --backtest {scenario} not found. Give the scenario file's path.")
            scenario = load_scenario(scenario)
        if scenario.backtest is None:
            raise InputError(must_be(f"validate-model --backtest {scenario.name}", "backtest", "a section naming the "
                                     "scenario's history", None, "Add a backtest section (docs/backtest.md), or leave "
                                     "the scenario out."))
        extra.append(scenario)
    histories = {s.name: s for s in loaded + extra if s.backtest is not None}
    return ValidationSettings(baseline=loaded[0], stress=loaded[1], quick=quick, seed=seed, k=k, threads=threads,
                              histories=tuple(histories.values()))


BACKTEST_QUICK_PATHS, BACKTEST_QUICK_LOANS = 2, 2_000
"""Paths and loans of a back-test in the quick version (the full one runs :data:`.backtest.DEFAULT_PATHS` paths of
the scenario's own book)."""


BACKTEST_COMPONENT = "Back-test against history"
"""The component name of a back-test's rows (followed by the scenario's name), and the report's section heading."""


def backtest_rows(summary, setup=""):
    """A back-test's acceptance criteria as report rows (rule ``at_most``); none when it gives no criteria."""
    if "acceptance" not in summary:
        return []
    claim = (f"Fed the unemployment that happened ({Path(summary['macro_series']).name}), the model's "
             f"{summary['rate_definition']} moves like the observed one, as ratios to {summary['from']}.")
    reference = f"{Path(summary['observed_series']).name}, {summary['from']} to {summary['to']}."
    return [CheckResult(check=f"backtest_{summary['scenario']}",
                        component=f"{BACKTEST_COMPONENT}: {summary['scenario']}",
                        figure=row["description"], claim=claim, reference=reference, measured=float(row["value"]),
                        expected=float(row["limit"]), se=None, k=None, tolerance=None, passed=row["passed"],
                        setup=setup, unit="number", rule="at_most")
            for row in summary["acceptance"]["criteria"]]


def validation_backtests(settings, progress=None):
    """Back-test every scenario of ``settings.histories`` against the history it names.

    Quick: :data:`BACKTEST_QUICK_PATHS` paths of :data:`BACKTEST_QUICK_LOANS` loans; full:
    :data:`.backtest.DEFAULT_PATHS` paths of the scenario's own book. Seed ``settings.seed``.

    Returns
    -------
    summaries : tuple of dict
        Each back-test's ``backtest.json`` summary.
    rows : list of CheckResult
        The acceptance criteria (:func:`backtest_rows`), each with its back-test's wall time.
    """
    summaries, rows = [], []
    for scenario in settings.histories:
        if progress is not None:
            progress(f"backtest {scenario.name}")
        began = time.perf_counter()
        done = scenario_backtest(scenario, paths=settings.pick(full=BACKTEST_PATHS, quick=BACKTEST_QUICK_PATHS),
                                 loans=settings.pick(full=None, quick=BACKTEST_QUICK_LOANS), seed=settings.seed,
                                 threads=settings.threads)
        seconds = time.perf_counter() - began
        summary = done.summary
        setup = (f"{summary['paths']} paths x {summary['loans']:,} loans, seed {summary['seed']}, "
                 f"{summary['from']} to {summary['to']}, cycle off")
        summaries.append(summary)
        rows += [replace(row, seconds=seconds) for row in backtest_rows(summary, setup)]
    return tuple(summaries), rows


def validate_model(settings, checks=None, progress=None):
    """Run ``checks`` (default :data:`CHECKS`) and collect their rows.

    Parameters
    ----------
    settings : ValidationSettings
        See :func:`validation_settings`.
    checks : list of callables, optional
    progress : callable, optional
        Called with each check's name before it runs.

    Returns
    -------
    Validation
        With the back-tests of ``settings.histories`` (:func:`validation_backtests`) after the checks.
    """
    started = time.perf_counter()
    results = []
    for check in CHECKS if checks is None else checks:
        if progress is not None:
            progress(check.__name__)
        began = time.perf_counter()
        rows = check(settings)
        seconds = time.perf_counter() - began
        results.extend(replace(row, seconds=seconds) for row in rows)
    backtests, rows = validation_backtests(settings, progress)
    return Validation(results=tuple(results + rows), settings=settings, seconds=time.perf_counter() - started,
                      versions={**versions(), "scipy": scipy.__version__}, day=date.today().isoformat(),
                      backtests=backtests)
