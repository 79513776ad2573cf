"""The loan book: a struct of arrays, built from segment definitions or read from a loan tape.

Each loan slot carries the loan's state at month 0 (scheduled principal, arrears,
delinquency state, remaining term) and its borrower (monthly permanent income,
savings, other lenders' debt service, employment, risk score). It also carries
the slot's *origination template* (original principal and term, the borrower's
income and savings at origination): under the ``constant`` balance sheet a
loan that matures, prepays or is charged off is replaced by a new loan of the
same segment built from that template with a fresh borrower.

Loan tape columns (CSV or Parquet, one row per loan):

========================  ========  ==================================================
column                    required  meaning
========================  ========  ==================================================
``balance``               yes       outstanding balance incl. overdue amounts, currency
``annual_rate_pct``       yes       contractual APR, percent
``remaining_term``        yes       instalments left (months), >= 0
``dpd``                   yes       days past due, 0-180
``segment``               no        segment name (default: the first segment)
``income``                no        borrower's monthly income (default: segment median)
``savings``               no        liquid savings (default: segment ``savings_months``)
``other_debt``            no        monthly debt service to other lenders (default: mid DTI)
``amortisation``          no        equal_instalment / equal_principal / interest_first
``score``                 no        risk score (default: segment mean)
``original_principal``    no        replacement loan size (default: ``balance``)
``original_term``         no        replacement loan term (default: ``remaining_term``)
========================  ========  ==================================================
"""
import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs.errors import InputError, must_be
from ..inputs.schema import MAX_MONEY
from ..inputs.tables import cell_text, numeric_column_problem, read_table
from . import fdlibm, portable
from .engine.amortisation import AMORTISATION_CODES, current_instalment, scheduled_principal_after

BOOK_STREAM = 1
"""Key of the seed sequence that generates a synthetic book (independent of the paths)."""

DISTRESSED_SHARE_1_30 = 0.25
"""Share of 1-30 DPD loans whose borrower is in distress at month 0 (the rest are payment slips).

About 1 - (M1 cure rate) of the model's steady state; every loan 31+ DPD is in distress."""

DISTRESSED_UNEMPLOYED = 0.85
"""Share of distressed borrowers who are out of work at month 0 (the model's steady state: most
31+ DPD borrowers have lost their job; the others cannot yet cover their arrears)."""

SAVINGS_LOG_SD = 1.0
"""Dispersion (sd of log) of savings around the segment's ``savings_months``; assumed."""

TAPE_REQUIRED = ("balance", "annual_rate_pct", "remaining_term", "dpd")
TAPE_OPTIONAL = ("segment", "arrears", "income", "savings", "other_debt", "amortisation", "score",
                 "original_principal", "original_term", "loan_id")


@dataclass(frozen=True)
class LoanBook:
    """All loans of a book as parallel arrays (length ``n_loans``); money in book currency.

    Attributes
    ----------
    segment : int32 array, index into ``segment_names``
    principal : float64 array, scheduled principal outstanding ``B``
    arrears : float64 array, overdue amount ``A`` (missed instalments plus penalty interest)
    apr : float64 array, annual rate as a fraction
    remaining_term : int32 array
    amortisation : int8 array, codes of :mod:`simulator.model.engine.amortisation`
    dpd_state : int8 array, 0 = current, k = (30(k-1), 30k] days past due, k = 1..6
    income : float64 array, monthly permanent income
    savings : float64 array
    other_debt : float64 array, monthly debt service to other lenders
    employed : bool array, employment at month 0
    score : float64 array
    original_principal, original_term, original_income, original_savings : arrays
        The slot's origination template for like-for-like replacement.
    birth_month : int32 array
        Month the loan is written: 0 for the opening book, later for new lending
        (:func:`originations`); the engine leaves a slot empty before it.
    risk_scale : float64 array
        Multiplies the borrower's job-loss hazard and payment friction (1 for the
        opening book; ``1 - pd_improvement`` for new vintages under better scoring).
    segment_names : tuple of str
    """

    segment: np.ndarray
    principal: np.ndarray
    arrears: np.ndarray
    apr: np.ndarray
    remaining_term: np.ndarray
    amortisation: np.ndarray
    dpd_state: np.ndarray
    income: np.ndarray
    savings: np.ndarray
    other_debt: np.ndarray
    employed: np.ndarray
    score: np.ndarray
    original_principal: np.ndarray
    original_term: np.ndarray
    original_income: np.ndarray
    original_savings: np.ndarray
    birth_month: np.ndarray
    risk_scale: np.ndarray
    segment_names: tuple

    @property
    def n_loans(self):
        return self.segment.shape[0]

    @property
    def balance(self):
        """Outstanding balance per loan, ``B + A``."""
        return self.principal + self.arrears

    def to_frame(self):
        """The book as a pandas DataFrame (one row per loan)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "segment_names"}
        frame = pd.DataFrame(data)
        frame["segment"] = pd.Categorical.from_codes(self.segment, categories=list(self.segment_names))
        return frame


def segment_loan_counts(shares, n_loans):
    """Split ``n_loans`` by shares (fractions) with the largest-remainder rule."""
    shares = np.asarray(shares, dtype=float)
    exact = shares / shares.sum() * n_loans
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n_loans - counts.sum()]] += 1
    return counts


def systematic_counts(fractions, n, u):
    """Split ``n`` items by ``fractions`` with systematic rounding: each count is within 1 of
    ``n x fraction`` and equal to it on average over the uniform ``u``.

    The counts are the numbers of the points ``u, u + 1, ..., u + n - 1`` that fall in
    each fraction's stretch of ``[0, n)``. A fixed rounding rule (largest remainder)
    rounds a small share the same way in every book of the same size, which would
    bias a state of a few loans by up to a loan.
    """
    edges = np.cumsum(np.asarray(fractions, dtype=float))
    edges = n * edges / edges[-1]
    below = np.clip(np.ceil(edges - u), 0, n).astype(np.int64)
    below[-1] = n
    return np.diff(np.concatenate([[0], below]))


def _arrears_for_state(dpd_state, principal, apr, remaining_term, amortisation):
    """Overdue amount of a loan that has missed ``dpd_state`` instalments: that many current instalments."""
    instalment = np.empty(principal.shape[0])
    current_instalment(principal, apr / 12.0, np.maximum(remaining_term, 1).astype(np.int32),
                       amortisation, instalment)
    return dpd_state * instalment


def _split_tape_balance(balance, dpd_state, apr, remaining_term, amortisation):
    """Scheduled principal ``B`` and arrears ``A`` of tape loans given only their balance ``B + A``.

    A loan ``d`` instalments behind owes ``A = d I(B)``, where ``I(B)`` is the
    instalment on the scheduled principal alone. ``I`` is linear in ``B`` for every
    amortisation type (``I = c B``, with ``c`` the instalment of a unit principal),
    so ``B = balance / (1 + d c)`` and ``A = balance - B``.
    """
    per_unit = _arrears_for_state(np.ones(balance.shape[0], dtype=np.int8), np.ones(balance.shape[0]), apr,
                                  remaining_term, amortisation)
    principal = balance / (1.0 + dpd_state * per_unit)
    return principal, balance - principal


def _cap_to_affordability(principal, apr, term, income, instalment_share):
    """Cut principals so the first instalment is at most ``instalment_share`` of income.

    Uses the annuity instalment ``B r / (1 - (1 + r)^-n)`` (``B / n`` at r = 0) for every
    amortisation type, the underwriter's usual affordability test; a share below 1%
    of income is lifted to 1% so no loan is cut to nothing.
    """
    r = apr / 12.0
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = np.where(r > 0, r / (1.0 - portable.power(1.0 + r, -term.astype(float))), 1.0 / term)
    cap = np.maximum(instalment_share, 0.01) * income / per_unit
    return np.minimum(principal, cap)


def synthetic_book(portfolio, seed, unemployment0, prepayment=None):
    """Generate a synthetic book from the portfolio's segments, deterministically from ``seed``.

    Per borrower a latent quality ``q ~ N(0, 1)`` links the risk score
    (``mean + sd q``), the APR (risk-based pricing: ``Phi(-0.8 q + 0.6 e)`` across the
    segment's range), the other-debt DTI (``Phi(-0.7 q + 0.71 e)`` across its range)
    and savings (log-normal around ``savings_months`` of essential spending, log-sd 1,
    shifted by ``q``), so a score cut-off selects safer borrowers. Loans are seasoned
    over their term as a book under a constant balance sheet is in the long run: a
    slot's loan is ``a`` months old with probability proportional to ``(1 - pi)^a``,
    ``pi`` the monthly prepayment rate (:func:`seasoning`); uniform ages, right only
    without prepayment, left a 36-month book's balance about 0.5% below its long-run
    level, which it then took years to reach.
    Each segment's delinquency states are its ``starting_dpd_pct`` mix to within a
    loan (:func:`systematic_counts`, in random order): a draw of each loan's state
    would put a 20,000-loan book's M1+ rate about 0.2 pp (one sd) away from the stated
    mix, and the model would then move it back over the first months. Delinquent
    loans start with their arrears; their borrowers' hidden state is set by
    :func:`opening_distress` (and replaced by a settled one in
    :func:`simulator.model.engine.simulate.settle_borrowers`).

    Parameters
    ----------
    portfolio : PortfolioSpec
    seed : int
    unemployment0 : float
        Today's unemployment rate (fraction), before segment sensitivity.
    prepayment : sequence of float, optional
        Each segment's monthly prepayment probability of a current loan (fraction; default 0:
        uniform ages).
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, BOOK_STREAM])))
    counts = segment_loan_counts([s.share_pct for s in portfolio.segments], portfolio.n_loans)
    prepayment = np.zeros(len(portfolio.segments)) if prepayment is None else prepayment
    parts = [_segment_loans(spec, k, int(n), rng, unemployment0, prepayment=prepayment[k])
             for k, (spec, n) in enumerate(zip(portfolio.segments, counts))]
    columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return LoanBook(**columns, segment_names=tuple(s.name for s in portfolio.segments))


def opening_distress(dpd_state, unemployment, rng):
    """Hidden borrower state behind an observed delinquency state at month 0.

    A loan 31+ DPD, and a share :data:`DISTRESSED_SHARE_1_30` of loans 1-30 DPD, has
    a borrower in distress: no savings and out of work with probability
    :data:`DISTRESSED_UNEMPLOYED`. Everyone else is out of work with the segment's
    unemployment rate ``unemployment`` (array or scalar).

    Returns
    -------
    distressed, employed : bool arrays
    """
    draws = rng.random((2, dpd_state.shape[0]))
    distressed = (dpd_state >= 2) | ((dpd_state == 1) & (draws[0] < DISTRESSED_SHARE_1_30))
    employed = draws[1] >= np.where(distressed, DISTRESSED_UNEMPLOYED, unemployment)
    return distressed, employed


def seasoning(u, term, prepayment):
    """Months paid of loans of ``term`` months, from uniforms ``u``: the long-run age of a slot's loan.

    Under a constant balance sheet a slot's loan is replaced when it matures or
    prepays, so its age ``a`` (0..term-1) has probability proportional to the chance
    of surviving ``a`` months, ``(1 - prepayment)^a`` (delinquency's own extension and
    charge-offs are left to the settling run). Inverse CDF of that truncated
    geometric law; ``prepayment = 0`` gives uniform ages, ``floor(u term)``.
    """
    term = np.asarray(term, dtype=float)
    if prepayment <= 0.0:
        return np.floor(u * term).astype(np.int32)
    q = 1.0 - prepayment
    age = np.floor(portable.log1p(-u * (1.0 - portable.power(q, term))) / fdlibm.log(q))
    return np.clip(age, 0, term - 1).astype(np.int32)


def _segment_loans(spec, index, n, rng, unemployment0, new=False, prepayment=0.0):
    """Loans of one segment: seasoned with the segment's delinquency mix (ages by :func:`seasoning`), or ``new``
    (age 0, current, employed)."""
    quality = portable.standard_normals(rng, n)
    score = np.clip(spec.score.mean + spec.score.sd * quality, 300.0, 900.0)
    original_principal = spec.principal.median * portable.exp(spec.principal.sigma * portable.standard_normals(rng, n))
    original_term = rng.choice(np.asarray(spec.term_months, dtype=np.int32), size=n)
    apr = (spec.apr_pct.min + (spec.apr_pct.max - spec.apr_pct.min)
           * portable.ndtr(-0.8 * quality + 0.6 * portable.standard_normals(rng, n))) / 100.0
    income = spec.income.median * portable.exp(spec.income.sigma * portable.standard_normals(rng, n))
    dti = (spec.other_debt_dti_pct.min + (spec.other_debt_dti_pct.max - spec.other_debt_dti_pct.min)
           * portable.ndtr(-0.7 * quality + math.sqrt(0.51) * portable.standard_normals(rng, n))) / 100.0
    original_principal = _cap_to_affordability(original_principal, apr, original_term, income,
                                               spec.resolved.max_total_dti - dti)
    essential = spec.resolved.essential_spending * income
    log_savings = SAVINGS_LOG_SD * (0.5 * quality + math.sqrt(0.75) * portable.standard_normals(rng, n))
    savings = spec.savings_months * essential * portable.exp(log_savings - 0.5 * SAVINGS_LOG_SD ** 2)
    months_paid = np.zeros(n, np.int32) if new else seasoning(rng.random(n), original_term, prepayment)
    amortisation = np.full(n, AMORTISATION_CODES[spec.amortisation], dtype=np.int8)
    principal = np.empty(n)
    scheduled_principal_after(original_principal, apr / 12.0, original_term, months_paid, amortisation, principal)
    remaining_term = (original_term - months_paid).astype(np.int32)
    if new:
        dpd_state = np.zeros(n, np.int8)
        distressed, employed = np.zeros(n, bool), np.ones(n, bool)
    else:
        counts = systematic_counts(spec.resolved.starting_dpd.by_state, n, rng.random())
        dpd_state = rng.permutation(np.repeat(np.arange(7, dtype=np.int8), counts))
        u_segment = min(unemployment0 * spec.unemployment_sensitivity, 0.95)
        distressed, employed = opening_distress(dpd_state, u_segment, rng)
    return dict(
        segment=np.full(n, index, dtype=np.int32), principal=principal,
        arrears=_arrears_for_state(dpd_state, principal, apr, remaining_term, amortisation),
        apr=apr, remaining_term=remaining_term, amortisation=amortisation, dpd_state=dpd_state,
        income=income, savings=np.where(distressed, 0.0, savings), other_debt=dti * income,
        employed=employed, score=score, original_principal=original_principal,
        original_term=original_term.astype(np.int32), original_income=income, original_savings=savings,
        birth_month=np.zeros(n, np.int32), risk_scale=np.ones(n))


def read_tape(path, portfolio, unemployment0, seed):
    """Read and check a loan tape; fill missing optional columns from segment defaults.

    Parameters
    ----------
    path : str or Path
        CSV or Parquet file (by extension).
    portfolio : PortfolioSpec
        Gives the segments and their defaults.
    unemployment0 : float
        Today's unemployment rate (fraction), for the employment of current borrowers.
    seed : int
        Employment at month 0 is drawn from it, as in :func:`synthetic_book`.

    Raises
    ------
    InputError
        Unreadable file, missing required columns, NaNs, negative balances, rates or
        terms out of range, unknown segments or amortisation types, DPD beyond 180.
    """
    path = Path(path)
    frame = read_table(path, "tape", "Check portfolio.tape; it is relative to the scenario file.")
    problems = [f"{path}: required column '{c}' is missing. The tape needs columns "
                f"{', '.join(TAPE_REQUIRED)} (see docs/scenarios.md, 'Loan tapes')."
                for c in TAPE_REQUIRED if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in TAPE_REQUIRED + TAPE_OPTIONAL]
    if unknown:
        problems.append(f"{path}: unknown columns {unknown}. Rename or drop them; known optional columns: "
                        f"{', '.join(TAPE_OPTIONAL)}.")
    if problems:
        raise InputError(problems)
    if len(frame) == 0:
        raise InputError(f"{path}: the tape has no rows. Export at least one loan.")
    segments = {s.name: k for k, s in enumerate(portfolio.segments)}
    problems = _check_tape_values(path, frame, segments)
    if problems:
        raise InputError(problems)
    if not (frame["balance"].to_numpy(float) > 0).any():  # every rate is a share of the book's balance
        raise InputError(must_be(path, "column 'balance'", "above 0 for at least one loan (loss, overdue and "
                                 "provision rates are shares of the book's balance)", "0 on every row",
                                 "Export the outstanding balances; a book of zero balance has no rates."))
    n = len(frame)
    seg = _coded(frame["segment"], segments).astype(np.int32) if "segment" in frame else np.zeros(n, np.int32)
    specs = portfolio.segments

    def per_segment(fn):
        return np.array([fn(s) for s in specs])[seg]

    balance = _writable(frame["balance"], float)
    apr = _writable(frame["annual_rate_pct"], float) / 100.0
    remaining_term = _writable(frame["remaining_term"], np.int32)
    dpd = _writable(frame["dpd"], float)
    dpd_state = np.ceil(dpd / 30.0).astype(np.int8)
    if "amortisation" in frame:
        amortisation = _coded(frame["amortisation"], AMORTISATION_CODES).astype(np.int8)
    else:
        amortisation = per_segment(lambda s: AMORTISATION_CODES[s.amortisation]).astype(np.int8)
    income = _column_or(frame, "income", per_segment(lambda s: s.income.median))
    essential = per_segment(lambda s: s.resolved.essential_spending) * income
    savings_default = per_segment(lambda s: s.savings_months) * essential
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, BOOK_STREAM])))
    u_segment = np.minimum(unemployment0 * per_segment(lambda s: s.unemployment_sensitivity), 0.95)
    distressed, employed = opening_distress(dpd_state, u_segment, rng)
    savings = _column_or(frame, "savings", np.where(distressed, 0.0, savings_default))
    other_debt = _column_or(frame, "other_debt",
                            per_segment(lambda s: (s.other_debt_dti_pct.min + s.other_debt_dti_pct.max) / 200.0)
                            * income)
    score = _column_or(frame, "score", per_segment(lambda s: s.score.mean))
    if "arrears" in frame:
        arrears = _writable(frame["arrears"], float)
        principal = balance - arrears
    else:
        principal, arrears = _split_tape_balance(balance, dpd_state, apr, remaining_term, amortisation)
    return LoanBook(
        segment=seg, principal=principal, arrears=arrears, apr=apr, remaining_term=remaining_term,
        amortisation=amortisation, dpd_state=dpd_state, income=income, savings=savings, other_debt=other_debt,
        employed=employed, score=score,
        original_principal=_column_or(frame, "original_principal", balance),
        original_term=_column_or(frame, "original_term", np.maximum(remaining_term, 1)).astype(np.int32),
        original_income=income, original_savings=np.where(distressed, savings_default, savings),
        birth_month=np.zeros(n, np.int32), risk_scale=np.ones(n), segment_names=tuple(segments))


ORIGINATION_STREAM = 3
"""Key of the seed sequence that draws new lending's applicants."""


def originations(scenario, n_opening, seed):
    """The new loans of ``actions.originations`` as a :class:`LoanBook`, each with its birth month.

    Each month ``round(volume_pct / 100 x n_opening)`` loans, split by the segment mix
    (largest remainder), are drawn as new loans from the segment definitions;
    applicants scoring below the cut-off are declined and more applicants are
    drawn until the month's volume is approved (rejection sampling, so the approved
    borrowers follow the segment's distribution above the cut-off).

    Returns
    -------
    LoanBook or None
        ``None`` when the scenario has no originations block.
    """
    spec = scenario.actions.originations
    if spec is None:
        return None
    portfolio = scenario.portfolio
    mix = spec.segment_mix_pct or {seg.name: seg.share_pct for seg in portfolio.segments}
    shares = [mix.get(seg.name, 0.0) for seg in portfolio.segments]
    end = min(spec.end_month or scenario.run.horizon_months, scenario.run.horizon_months)
    per_month = int(round(spec.resolved.volume * n_opening))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, ORIGINATION_STREAM])))
    unemployment0 = scenario.resolved.macro.baseline.unemployment
    parts = []
    for month in range(spec.start_month, end + 1):
        for k, (seg, count) in enumerate(zip(portfolio.segments, segment_loan_counts(shares, per_month))):
            if count:
                loans = _approved_applicants(seg, k, int(count), rng, unemployment0, spec.score_cutoff)
                loans["birth_month"][:] = month
                loans["risk_scale"][:] = 1.0 - spec.resolved.pd_improvement
                parts.append(loans)
    if not parts:
        return None
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return LoanBook(**columns, segment_names=tuple(seg.name for seg in portfolio.segments))


def _approved_applicants(spec, index, count, rng, unemployment0, cutoff):
    """``count`` new loans of one segment whose borrowers score at least ``cutoff``."""
    approval = 1.0 if cutoff is None else max(fdlibm.ndtr((spec.score.mean - cutoff) / max(spec.score.sd, 1e-9)),
                                              1e-3)
    approved = []
    have = 0
    while have < count:
        batch = _segment_loans(spec, index, int(1.2 * (count - have) / approval) + 16, rng, unemployment0, new=True)
        keep = np.ones(batch["score"].shape[0], bool) if cutoff is None else batch["score"] >= cutoff
        batch = {key: value[keep] for key, value in batch.items()}
        approved.append(batch)
        have += int(keep.sum())
    loans = {key: np.concatenate([part[key] for part in approved])[:count] for key in approved[0]}
    return loans


def with_new_lending(book, new_loans):
    """The opening book followed by the new loans (``new_loans`` may be ``None``)."""
    if new_loans is None:
        return book
    columns = {f.name: np.concatenate([getattr(book, f.name), getattr(new_loans, f.name)])
               for f in fields(book) if f.name != "segment_names"}
    return LoanBook(**columns, segment_names=book.segment_names)


def book_to_tape(book):
    """A loan tape (DataFrame with the documented columns) describing ``book`` at month 0.

    Days past due are set to the middle of each state's range (15, 45, ... days).
    """
    amortisation_names = {code: name for name, code in AMORTISATION_CODES.items()}
    return pd.DataFrame({
        "loan_id": np.arange(1, book.n_loans + 1),
        "balance": np.round(book.balance, 2),
        "annual_rate_pct": np.round(book.apr * 100.0, 3),
        "remaining_term": book.remaining_term,
        "dpd": np.where(book.dpd_state > 0, 30 * book.dpd_state.astype(int) - 15, 0),
        "segment": [book.segment_names[k] for k in book.segment],
        "income": np.round(book.income, 2),
        "savings": np.round(book.savings, 2),
        "other_debt": np.round(book.other_debt, 2),
        "amortisation": [amortisation_names[int(c)] for c in book.amortisation],
        "score": np.round(book.score, 1),
        "original_principal": np.round(book.original_principal, 2),
        "original_term": book.original_term,
    })


def _coded(column, codes):
    """A text column (validated) as the integer ``codes[value]`` of each row, through pandas' categorical encoding
    (one look-up per distinct value: a million-row tape's column in milliseconds)."""
    categorical = column.astype("category")
    return np.array([codes[value] for value in categorical.cat.categories])[categorical.cat.codes.to_numpy()]


def _column_or(frame, name, default):
    return _writable(frame[name], float) if name in frame else np.asarray(default, dtype=float)


def _writable(column, dtype):
    """A column as a writable array of ``dtype``: pandas may hand out read-only views, and Numba compiles its
    kernels again (tens of seconds) for read-only inputs."""
    return np.array(column.to_numpy(dtype), dtype=dtype, copy=True)


def _check_tape_values(path, frame, segments):
    """All value problems of a tape: NaNs, negatives, ranges, unknown categories."""
    problems = []
    numeric_rules = {
        "balance": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "annual_rate_pct": (0.0, 100.0, "a percentage in [0, 100]"),
        "remaining_term": (0.0, 600.0, "an integer number of months in [0, 600]"),
        "dpd": (0.0, 180.0, "days past due in [0, 180] (charged-off loans do not belong on the tape)"),
        "arrears": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "income": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "savings": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "other_debt": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "score": (0.0, 10_000.0, "a number in [0, 10000]"),
        "original_principal": (0.0, MAX_MONEY, f"a finite number in [0, {MAX_MONEY:.0e}]"),
        "original_term": (1.0, 600.0, "an integer number of months in [1, 600]"),
    }
    for column, (low, high, constraint) in numeric_rules.items():
        if column not in frame:
            continue
        wrong_type = numeric_column_problem(path, frame, column)
        if wrong_type is not None:
            problems.append(wrong_type)
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values) | (values < low) | (values > high)
        if column in ("remaining_term", "original_term"):
            bad |= values.notna() & (values != np.floor(values))
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            problems.append(f"{path}: column '{column}' must be {constraint}; got "
                            f"{cell_text(frame[column].iloc[rows[0]])} in data row {rows[0] + 1} "
                            f"({_rows_text(rows)}). Fix or remove those rows.")
    if "arrears" in frame and not problems:
        arrears, balance = frame["arrears"].to_numpy(float), frame["balance"].to_numpy(float)
        delinquent = frame["dpd"].to_numpy(float) > 0
        for bad, constraint, fix in (
                (arrears > balance, "at most the balance (which includes the arrears)", "Check the two columns."),
                (~delinquent & (arrears > 0), "0 for a current loan (dpd 0)",
                 "Set the loan's dpd, or its arrears to 0."),
                (delinquent & (arrears <= 0), "above 0 for a delinquent loan (dpd > 0)",
                 "Give the overdue amount, or drop the column to derive it from dpd.")):
            if bad.any():
                rows = np.flatnonzero(bad)
                problems.append(f"{path}: column 'arrears' must be {constraint}; got "
                                f"{cell_text(frame['arrears'].iloc[rows[0]])} in data row {rows[0] + 1} "
                                f"({_rows_text(rows)}). {fix}")
    if "loan_id" in frame:
        duplicated = frame["loan_id"].duplicated(keep=False).to_numpy()
        if duplicated.any():
            rows = np.flatnonzero(duplicated)
            first = frame["loan_id"].iloc[rows[0]]
            same = np.flatnonzero((frame["loan_id"] == first).to_numpy()) + 1
            problems.append(f"{path}: column 'loan_id' must be unique; got {cell_text(first)} in data rows "
                            f"{', '.join(map(str, same[:5]))} ({len(rows)} rows share an id with another). "
                            "Remove the duplicated loans or give each loan its own id.")
    fixes = {"segment": "Use the segment names of the scenario's portfolio.segments.",
             "amortisation": "Use equal_instalment, equal_principal or interest_first."}
    for column, valid in (("segment", list(segments)), ("amortisation", list(AMORTISATION_CODES))):
        if column not in frame:
            continue
        bad = ~frame[column].isin(valid)
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            problems.append(f"{path}: column '{column}' must be one of {valid}; got "
                            f"{cell_text(frame[column].iloc[rows[0]])} in data row {rows[0] + 1} "
                            f"({_rows_text(rows)}). {fixes[column]}")
    return problems


def _rows_text(rows):
    first = [int(r) + 1 for r in rows[:5]]
    return "1 bad row" if len(rows) == 1 else f"{len(rows)} bad rows, first {first}"


def build_book(scenario, seed):
    """The scenario's loan book: synthetic or from its tape."""
    unemployment0 = scenario.resolved.macro.baseline.unemployment
    if scenario.portfolio.source == "tape":
        return read_tape(scenario.portfolio.tape, scenario.portfolio, unemployment0, seed)
    return synthetic_book(scenario.portfolio, seed, unemployment0, prepayment_rates(scenario))


def prepayment_rates(scenario):
    """Each segment's monthly prepayment probability of a current loan: ``behaviour.prepayment_pct`` (structural),
    or the current row's closed column of its roll-rate matrix (roll-rate)."""
    behaviour = scenario.resolved.behaviour
    if behaviour.model == "structural":
        return [behaviour.prepayment] * len(scenario.portfolio.segments)
    matrices = behaviour.roll_rate.matrices
    return [matrices.get(name, matrices.get("default"))[0][-1] for name in scenario.segment_names]
