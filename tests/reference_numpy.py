"""Plain-numpy reference implementation of the engine's random numbers and kernels.

This module is an *independent re-implementation*, for tests and benchmarks
only, of

* Philox4x32-10 and the ``uniform32`` / ``uniform52`` conversions of
  :mod:`simulator.model.engine.rng` (here vectorised over arrays of counters with
  numpy ``uint64`` arithmetic);
* the structural kernel :func:`simulator.model.engine.kernels.simulate_structural`
  (:func:`structural_reference`);
* the roll-rate kernel :func:`simulator.model.engine.kernels.simulate_roll_rate`
  (:func:`roll_rate_reference`);
* the contractual schedule formulas of :mod:`simulator.model.engine.amortisation`
  (written again for arrays).

Nothing here uses numba and nothing calls the engine's kernels, random-number
or schedule code; only the output layout (:mod:`simulator.model.engine.layout`) and
the amortisation *codes* are shared, since they are the contract being tested.
What both models book the same way (loans written, the month's flows, charge-offs,
default episodes and stocks, replacement) is written once here, in :class:`_Ledger`,
apart from the kernels' own shared helpers. The kernels' argument groups are read by
field name; the fields each reference reads (:data:`STRUCTURAL_FIELDS`,
:data:`ROLL_RATE_FIELDS`) are checked against the fields the kernels read by
``tests/test_kernels_reference.py``, so a field added to a kernel fails a test until
the reference redoes it.
The kernels visit one loan at a time, month by month; the references loop over
paths and months in Python and treat all live loans of a month at once with
numpy; within a month, the collections capacity is handed out in book (slot)
order, as the kernels do, and loans written after month 0 (``birth_month``)
join the month's live loans in book order. Like the kernels they also count the
vintage curves (``vintage[p, v, k]``: loans written in month ``v`` first beyond
90 DPD ``k`` months later). With ``draws="philox"`` they use exactly the engine's random words
(counter ``(loan, month, block, path)``, key = the seed's two 32-bit halves), so
their aggregates equal the kernels' up to floating-point round-off (sums are
added in a different order, and ``**`` and the normal CDF may differ in the
last bit). The discretised income-shock tables are inputs, built by
:func:`simulator.model.engine.shocks.equiprobable_lognormal` (tested on their own).
With ``draws="numpy"`` the structural reference draws the same number of
uniforms and shock indices per loan-month from a
:class:`numpy.random.Generator` instead: the fast "plain numpy" version of the
model used as the benchmark's comparison point, which does not reproduce the
engine's numbers.
"""
import numpy as np
from scipy.special import ndtr

from simulator.model.engine.amortisation import EQUAL_INSTALMENT, EQUAL_PRINCIPAL
from simulator.model.engine.layout import (BALANCE, CHARGEOFF, CHARGEOFF_COUNT, COLLECTED, CONTACTS, COUNT,
                                     FORWARD_CURED_LIFE, FORWARD_DEFAULT_12M, FORWARD_DEFAULT_LIFE, FORWARD_EAD_LIFE,
                                     FORWARD_LOSS_12M, FORWARD_LOSS_AT_DEFAULT_LIFE, FORWARD_LOSS_LIFE,
                                     INTEREST_DUE, LABOUR_MARKET_UNEMPLOYED, M1_CURED, M1_ROLLED, M1_START,
                                     N_LIVE_STATES, N_METRICS, N_OUTCOMES, NEW_LENDING, NEW_LOANS, PENALTY, PREPAID,
                                     RECOVERY, REDEFAULTS, RESTRUCTURED_BALANCE, RESTRUCTURED_COUNT,
                                     RESTRUCTURED_FORWARD_DEFAULT, RESTRUCTURED_FORWARD_LOSS, RESTRUCTURINGS,
                                     SCHEDULED, TRANSITION, UNEMPLOYED)

# Philox4x32-10 constants (Salmon et al. 2011), written again on purpose.
_MASK32 = np.uint64(0xFFFFFFFF)
_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_S32 = np.uint64(32)
_TWO_M32 = 2.0 ** -32
_TWO_M52 = 2.0 ** -52

CHARGED_OFF = 7
"""Roll-rate outcome code of a charge-off."""
CLOSED = 8
"""Roll-rate outcome code of an early repayment."""
ROLL_ORDER = np.array([CLOSED, 0, 1, 2, 3, 4, 5, 6, CHARGED_OFF], dtype=np.int64)
"""Roll-rate outcomes from best to worst (the order of the thresholds' columns)."""
HOLIDAY, EXTENSION, RATE_CUT = 0, 1, 2
"""Restructuring plan codes (the kernel's ``plan`` argument)."""


# --------------------------------------------------------------------------- random numbers
def philox4x32_numpy(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on arrays of counters, with numpy ``uint64`` arithmetic.

    Parameters
    ----------
    c0, c1, c2, c3 : array_like of unsigned integers < 2**32
        Counter words; broadcast against each other.
    k0, k1 : int or array_like < 2**32
        Key words.

    Returns
    -------
    tuple of four numpy.ndarray of dtype uint64
        The four 32-bit output words (held in ``uint64``).

    Notes
    -----
    One round maps ``(c0, c1, c2, c3)`` to
    ``(hi(M1 c2) ^ c1 ^ k0, lo(M1 c2), hi(M0 c0) ^ c3 ^ k1, lo(M0 c0))``; the key
    is bumped by the Weyl constants between rounds. The 32 x 32-bit products fit
    in ``uint64``, so no wide multiplication is needed.
    """
    c0, c1, c2, c3 = (np.asarray(c, dtype=np.uint64) for c in np.broadcast_arrays(c0, c1, c2, c3))
    k0 = np.asarray(k0, dtype=np.uint64) & _MASK32
    k1 = np.asarray(k1, dtype=np.uint64) & _MASK32
    for _ in range(10):
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _S32) ^ c1 ^ k0, p1 & _MASK32, (p0 >> _S32) ^ c3 ^ k1, p0 & _MASK32
        k0 = (k0 + _W0) & _MASK32
        k1 = (k1 + _W1) & _MASK32
    return c0, c1, c2, c3


def seed_key_numpy(seed):
    """The two 32-bit Philox key words (low, high) of a 64-bit seed."""
    seed = int(seed)
    return np.uint64(seed & 0xFFFFFFFF), np.uint64((seed >> 32) & 0xFFFFFFFF)


def uniform32_numpy(word):
    """Uniforms on (0, 1) from 32-bit words: ``(w + 1/2) 2^-32``."""
    return (np.asarray(word).astype(np.float64) + 0.5) * _TWO_M32


def uniform52_numpy(word_hi, word_lo):
    """Uniforms on (0, 1) with 52 random bits: the top 26 bits of ``word_hi`` and of ``word_lo``."""
    hi = np.asarray(word_hi, dtype=np.uint64)
    lo = np.asarray(word_lo, dtype=np.uint64)
    bits = ((hi >> np.uint64(6)) << np.uint64(26)) | (lo >> np.uint64(6))
    return (bits.astype(np.float64) + 0.5) * _TWO_M52


# --------------------------------------------------------------------------- schedules
def level_payment_numpy(principal, monthly_rate, remaining_term):
    """Annuity payment ``B r / (1 - (1 + r)^-n)`` per loan (``B / n`` at ``r = 0``, 0 when ``n <= 0``)."""
    principal = np.asarray(principal, dtype=float)
    r = np.asarray(monthly_rate, dtype=float)
    n = np.asarray(remaining_term, dtype=float)
    n_safe = np.maximum(n, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0.0, principal * r / (1.0 - (1.0 + r) ** (-n_safe)), principal / n_safe)
    return np.where(n > 0, annuity, 0.0)


def instalment_split_numpy(principal, monthly_rate, remaining_term, amortisation, annuity):
    """Interest and principal parts of this month's instalment, per loan.

    Same rules as the engine: nothing is due when ``n <= 0`` or ``B <= 0``; the last
    instalment repays ``B``; otherwise equal-instalment loans repay
    ``min(annuity - interest, B)``, equal-principal loans ``B / n`` and
    interest-first loans nothing.
    """
    b = principal
    n = remaining_term
    due = (n > 0) & (b > 0.0)
    interest = np.where(due, b * monthly_rate, 0.0)
    part = np.where(amortisation == EQUAL_INSTALMENT, np.minimum(annuity - interest, b),
                    np.where(amortisation == EQUAL_PRINCIPAL, b / np.maximum(n, 1), 0.0))
    part = np.where(n == 1, b, part)
    return interest, np.where(due, part, 0.0)


# --------------------------------------------------------------------------- shared helpers
def _record(row, d, balance, employed=None, restructured=None, labour_market=None):
    """Add end-of-month stocks of the live loans to one ``(N_METRICS,)`` row.

    Restructured loans (``restructured``) are also added to the restructured stocks;
    ``labour_market`` is each loan's segment unemployment rate that month.
    """
    if d.size and d.max() >= N_LIVE_STATES:
        raise AssertionError("a live loan is beyond the last delinquency state")
    row[BALANCE:BALANCE + N_LIVE_STATES] += np.bincount(d, weights=balance, minlength=N_LIVE_STATES)
    row[COUNT:COUNT + N_LIVE_STATES] += np.bincount(d, minlength=N_LIVE_STATES)
    if employed is not None:
        row[UNEMPLOYED] += np.count_nonzero(~employed)
    if labour_market is not None:
        row[LABOUR_MARKET_UNEMPLOYED] += labour_market.sum()
    if restructured is not None and restructured.any():
        row[RESTRUCTURED_BALANCE:RESTRUCTURED_BALANCE + N_LIVE_STATES] += np.bincount(
            d[restructured], weights=balance[restructured], minlength=N_LIVE_STATES)
        row[RESTRUCTURED_COUNT:RESTRUCTURED_COUNT + N_LIVE_STATES] += np.bincount(
            d[restructured], minlength=N_LIVE_STATES)


def _first_come(candidates, capacity):
    """Of the loans in ``candidates`` (a mask in book order), the ones within ``capacity``.

    The kernels visit a path's loans in book order and contact a candidate while
    fewer than ``capacity`` contacts were made in the month, so the lowest slots
    win; with a finite capacity ``c`` at most ``ceil(c)`` are contacted.
    """
    if not np.isfinite(capacity):
        return candidates
    allowed = max(int(np.ceil(capacity)), 0)
    chosen = np.zeros_like(candidates)
    chosen[np.flatnonzero(candidates)[:allowed]] = True
    return chosen


def _charge_off(out_p, m, amounts, recovery_rate, recovery_months):
    """Write off ``amounts`` in month ``m``; spread ``recovery_rate`` of them over the next months."""
    if amounts.size == 0:
        return
    total = amounts.sum()
    out_p[m, CHARGEOFF] += total
    out_p[m, CHARGEOFF_COUNT] += amounts.size
    n_months = out_p.shape[0] - 1
    if recovery_months == 0:
        out_p[m, RECOVERY] += recovery_rate * total
    else:
        last = min(m + recovery_months, n_months)
        out_p[m + 1:last + 1, RECOVERY] += recovery_rate * total / recovery_months


class _Defaults:
    """IFRS 9 default episodes of a path's loan slots, and the forward metrics they feed.

    A slot's episode starts in the first month its state is at or beyond
    ``default_state`` or it is charged off (exposure: the balance then, or the amount
    written off); it ends at charge-off (loss: the amount written off) or, without
    loss, when the loan is current again or closes. When it ends, each earlier month
    ``t`` the loan was live (since it was written) with the default month ``e`` at
    most ``lifetime_months`` ahead gets, by the state the loan was in at ``t``: the
    loss discounted over ``m - t`` months at the loan's rate and one default (12-month
    metrics too if ``e - t <= 12``); lifetime only: the exposure, the loss discounted
    to ``e``, one cure if it ended without loss. Restructured months feed only the
    restructured loss and default counts. (Written from the IFRS 9 rules in
    ``simulator/accounts/ifrs9.py``'s docstring, not from the kernel.)
    """

    def __init__(self, n_loans, default_state, lifetime_months, rates, history, born, restructured_history=None):
        self.month = np.full(n_loans, -1, dtype=np.int64)
        self.exposure = np.zeros(n_loans)
        self.default_state, self.lifetime_months = default_state, lifetime_months
        self.rates, self.history, self.born, self.restructured_history = rates, history, born, restructured_history

    def written(self, slots, m, d, balance):
        """Loans written in month ``m`` (the opening book at 0) start in default if their state is."""
        self.month[slots] = np.where(d >= self.default_state, m, -1)
        self.exposure[slots] = balance

    def month_end(self, out_p, m, slots, d, balance, charged_off, written_off, closed):
        """Start and end the episodes of the live ``slots`` at the end of month ``m``."""
        starts = (self.month[slots] < 0) & ((d >= self.default_state) | charged_off)
        self.month[slots[starts]] = m
        self.exposure[slots[starts]] = np.where(charged_off, written_off, balance)[starts]
        ends = (self.month[slots] >= 0) & (charged_off | closed | (d == 0))
        ended = slots[ends]
        if ended.size:
            self._credit(out_p, m, ended, np.where(charged_off, written_off, 0.0)[ends], ~charged_off[ends])
            self.month[ended] = -1

    def _credit(self, out_p, m, slots, loss, cured):
        e = self.month[slots]
        rates = self.rates[slots]
        first = np.maximum(self.born[slots], e - self.lifetime_months)
        at_default = loss * (1.0 + rates) ** -(m - e).astype(float)
        exposure = self.exposure[slots]
        for back in range(1, m - int(first.min()) + 1):
            t = m - back
            take = t >= first
            states = self.history[slots[take], t]
            discounted = loss[take] * (1.0 + rates[take]) ** (-back)
            row = out_p[t]
            flagged = (self.restructured_history[slots[take], t] if self.restructured_history is not None
                       else np.zeros(states.shape[0], bool))
            np.add.at(row, RESTRUCTURED_FORWARD_LOSS + states[flagged], discounted[flagged])
            np.add.at(row, RESTRUCTURED_FORWARD_DEFAULT + states[flagged], 1.0)
            plain = ~flagged
            np.add.at(row, FORWARD_LOSS_LIFE + states[plain], discounted[plain])
            np.add.at(row, FORWARD_DEFAULT_LIFE + states[plain], 1.0)
            np.add.at(row, FORWARD_EAD_LIFE + states[plain], exposure[take][plain])
            np.add.at(row, FORWARD_LOSS_AT_DEFAULT_LIFE + states[plain], at_default[take][plain])
            np.add.at(row, FORWARD_CURED_LIFE + states[plain], cured[take][plain].astype(float))
            within = plain & (e[take] - t <= 12)
            np.add.at(row, FORWARD_LOSS_12M + states[within], discounted[within])
            np.add.at(row, FORWARD_DEFAULT_12M + states[within], 1.0)


def _count_flows(row, start, end):
    """Transitions live state -> outcome (0-6, 7 charged off, 8 closed) and the M1 flows."""
    row[TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES] += np.bincount(
        N_OUTCOMES * start + end, minlength=N_LIVE_STATES * N_OUTCOMES)
    m1 = start == 1
    row[M1_START] += np.count_nonzero(m1)
    row[M1_CURED] += np.count_nonzero(m1 & (end == 0))
    row[M1_ROLLED] += np.count_nonzero(m1 & (end == 2))


def _keep(state, mask):
    """The loans of ``state`` where ``mask`` holds."""
    return {key: value[mask] for key, value in state.items()}


def _pick(template, slots):
    """The loans of ``slots`` as they are written: copies of the template's columns."""
    return {key: value[slots] for key, value in template.items()}


def _approved(replacement, slots, dti_cap):
    """Which of the empty ``slots`` the lender fills this month: their applicant's annuity plus other debt service
    is at most the month's debt-to-income cap ``dti_cap[segment]`` times income."""
    cap = dti_cap[replacement["seg"][slots]]
    return ~(replacement["annuity"][slots] + replacement["debt"][slots] > cap * replacement["perm"][slots])


def _merge(state, new):
    """Live loans plus newly written ones, back in book (slot) order."""
    merged = {key: np.concatenate([state[key], new[key]]) for key in state}
    order = np.argsort(merged["slot"], kind="stable")
    return {key: value[order] for key, value in merged.items()}


FIRST_90_STATE = 4
"""Live state 91-120 DPD: the first beyond 90 DPD, the vintage curves' event."""


def _first_90(vintage_p, m, slots, d, born, ever_90):
    """Count the loans of ``slots`` (end-of-month states ``d``; charge-offs passed as state 4) at 90+ DPD
    for the first time.

    ``vintage_p[v, k]``: loans written in month ``v`` (``born``) first at 90+ DPD
    ``k = m - v`` months later; ``ever_90`` (per slot, reset for each new loan in
    the slot) remembers which have been counted.
    """
    first = (d >= FIRST_90_STATE) & ~ever_90[slots]
    if first.any():
        v = born[slots[first]]
        np.add.at(vintage_p, (v, m - v), 1.0)
        ever_90[slots[first]] = True


def _births(m, birth_month):
    """Slots of the loans written in month ``m`` (0: the opening book), in book order."""
    return np.flatnonzero(birth_month == m)


def _loan_template(segment, principal, arrears, apr, remaining_term, amortisation, dpd_state, risk_scale,
                   penalty_uplift, **borrowers):
    """Each slot's loan as the book writes it: the columns both references keep per live loan (``borrowers``: the
    structural model's extra columns)."""
    rate = np.asarray(apr, dtype=float) / 12.0
    template = dict(
        slot=np.arange(np.asarray(segment).shape[0], dtype=np.intp), seg=np.asarray(segment, dtype=np.intp),
        rate=rate, penalty_rate=rate * (1.0 + penalty_uplift), amort=np.asarray(amortisation, dtype=np.int64),
        b=np.asarray(principal, dtype=float), a=np.asarray(arrears, dtype=float),
        n=np.asarray(remaining_term, dtype=np.int64), d=np.asarray(dpd_state, dtype=np.int64),
        risk=np.asarray(risk_scale, dtype=float), **borrowers)
    template["annuity"] = level_payment_numpy(template["b"], rate, template["n"])
    return template


def _replacement_template(template, original_principal, original_term, **borrowers):
    """Each slot's replacement loan (constant balance sheet): the slot's origination principal and term, current,
    no arrears, at the contract rate (``borrowers``: the structural model's origination income and savings)."""
    replacement = dict(template, b=np.asarray(original_principal, dtype=float), a=np.zeros_like(template["a"]),
                       n=np.asarray(original_term, dtype=np.int64), d=np.zeros_like(template["d"]), **borrowers)
    replacement["annuity"] = level_payment_numpy(replacement["b"], replacement["rate"], replacement["n"])
    return replacement


class _Ledger:
    """One path's bookkeeping, the same under both models: loans written, the month's end, the stocks.

    Holds the path's aggregates ``out_p`` and vintages ``vintage_p``, each slot's
    state history (and, structural, its restructured flag), birth month, vintage flag
    (``ever_90``) and IFRS 9 default episodes (:class:`_Defaults`). ``labour_market``
    (structural) is the path's ``(n_months + 1, n_segments)`` unemployment rates,
    added per live loan.
    """

    def __init__(self, out_p, vintage_p, birth_month, rates, recovery_rate, recovery_months, default_state,
                 lifetime_months, labour_market=None, restructuring=False):
        n_loans, n_rows = np.asarray(birth_month).shape[0], out_p.shape[0]
        self.out_p, self.vintage_p, self.labour_market = out_p, vintage_p, labour_market
        self.recovery_rate, self.recovery_months = recovery_rate, recovery_months
        self.history = np.zeros((n_loans, n_rows), dtype=np.intp)
        self.restructured_history = np.zeros((n_loans, n_rows), dtype=bool) if restructuring else None
        self.born = np.asarray(birth_month, dtype=np.int64).copy()
        self.ever_90 = np.zeros(n_loans, dtype=bool)
        self.defaults = _Defaults(n_loans, default_state, lifetime_months, rates, self.history, self.born,
                                  self.restructured_history)

    def stocks(self, m, loans):
        """End-of-month stocks of the live ``loans`` in month ``m``, their history and first months at 90+ DPD."""
        slots, d = loans["slot"], loans["d"]
        _record(self.out_p[m], d, loans["b"] + loans["a"], loans.get("emp"), loans.get("restructured"),
                None if self.labour_market is None else self.labour_market[m, loans["seg"]])
        self.history[slots, m] = d
        if self.restructured_history is not None:
            self.restructured_history[slots, m] = loans["restructured"]
        _first_90(self.vintage_p, m, slots, d, self.born, self.ever_90)

    def _written(self, m, new):
        """Book the loans ``new`` written into their slots at the end of month ``m``: new lending after month 0, a
        new vintage and default episode each (their stocks are booked with the month's)."""
        slots = new["slot"]
        if m > 0:
            self.out_p[m, NEW_LENDING] += new["b"].sum()
            self.out_p[m, NEW_LOANS] += slots.size
        self.born[slots] = m
        self.ever_90[slots] = False
        self.defaults.written(slots, m, new["d"], new["b"] + new["a"])

    def write(self, m, live, new):
        """The loans ``new`` written at the end of month ``m`` (the opening book at 0, originations) join the
        ``live`` ones (``None``: none yet), in book order."""
        if new["slot"].size == 0:
            return new if live is None else live
        self._written(m, new)
        self.stocks(m, new)
        return new if live is None else _merge(live, new)

    def end_month(self, m, loans, start, charged_off, written_off, closed, replacements=None, declined=None):
        """The month's outcomes of the live ``loans`` (their end-of-month columns; ``start`` their states at its
        start): flows, charge-offs (``written_off``) and their recoveries, default episodes, the charged-off loans'
        vintages; the loans charged off or ``closed`` (prepaid or matured) leave, or, given ``replacements`` (one
        per such loan, in order), are replaced, except where ``declined`` (one per such loan) holds: that slot is
        left empty; returns the live loans, whose stocks it books."""
        slots, d = loans["slot"], loans["d"]
        _count_flows(self.out_p[m], start, np.where(charged_off, CHARGED_OFF, np.where(closed, CLOSED, d)))
        _charge_off(self.out_p, m, written_off[charged_off], self.recovery_rate, self.recovery_months)
        self.defaults.month_end(self.out_p, m, slots, d, loans["b"] + loans["a"], charged_off, written_off, closed)
        _first_90(self.vintage_p, m, slots[charged_off], np.full(np.count_nonzero(charged_off), FIRST_90_STATE),
                  self.born, self.ever_90)
        gone = charged_off | closed
        live = loans
        if gone.any() and replacements is None:
            live = _keep(loans, ~gone)
        elif gone.any():
            if declined is None:
                declined = np.zeros(np.count_nonzero(gone), dtype=bool)
            self._written(m, _keep(replacements, ~declined))
            live = {key: value.copy() for key, value in loans.items()}
            for key, value in live.items():
                value[gone] = replacements[key]
            kept = np.ones(slots.shape[0], dtype=bool)
            kept[np.flatnonzero(gone)[declined]] = False
            live = _keep(live, kept)
        self.stocks(m, live)
        return live


# --------------------------------------------------------------------------- the kernels' argument groups
LOSSES_FIELDS = "chargeoff_state penalty_uplift recovery_rate recovery_months lifetime_months default_state"
COLLECTIONS_FIELDS = "contact_rate cure_effect instalment_effect contact_capacity start"
STRUCTURAL_FIELDS = {
    "run": "seed path_ids replace_closed stop_month",
    "book": "segment principal arrears apr remaining_term amortisation dpd_state income savings other_debt employed "
            "original_principal original_term original_income original_savings birth_month risk_scale",
    "economy": "unemployment separation finding income_growth dti_cap",
    "behaviour": "essential_share replacement_rate permanent_shock transitory_shock savings_target_months "
                 "missed_when_able willingness prepayment",
    "losses": LOSSES_FIELDS,
    "collections": COLLECTIONS_FIELDS,
    "restructuring": "start on_job_loss on_dpd_1_30 income_drop take_probability plan plan_months rate_cut "
                     "max_restructurings",
    "recorders": "snapshot_month snapshot vintage out",
}
"""The fields :func:`structural_reference` reads, per argument of
:func:`simulator.model.engine.kernels.simulate_structural` (space-separated)."""
ROLL_RATE_FIELDS = {
    "run": "seed path_ids replace_closed stop_month",
    "book": "segment principal arrears apr remaining_term amortisation dpd_state original_principal original_term "
            "birth_month risk_scale",
    "economy": "cycle_z",
    "behaviour": "thresholds rho",
    "losses": LOSSES_FIELDS,
    "collections": COLLECTIONS_FIELDS,
    "recorders": "vintage out",
}
"""The fields :func:`roll_rate_reference` reads, per argument of
:func:`simulator.model.engine.kernels.simulate_roll_rate`."""
NOT_REDONE = {"run": "streams flips stop_month", "recorders": "panel"}
"""The kernels' fields the references leave out: antithetic pairs (each path draws from its own stream, so the
references are compared on plain or quasi-Monte Carlo runs), the lending stop month (the references are compared on
runs that never stop; ``tests/test_funding_feedback.py`` checks the kernels' stop against the kernels' own run without
it: the months before the stop are the same bits and nothing is written from it on) and the loan-history panel
(checked against the kernel's own aggregates in ``tests/test_calibration.py``). ``tests/test_kernels_reference.py``
checks that these and the fields read above are exactly the fields the kernels read."""


def _fields(group, names):
    """The fields ``names`` (space-separated) of one of the kernels' argument groups, read by name."""
    return [getattr(group, name) for name in names.split()]


# --------------------------------------------------------------------------- structural model
def structural_reference(run, book, economy, behaviour, losses, collections, restructuring, recorders,
                         draws="philox", rng=None):
    """Structural borrower model in plain numpy: an independent re-implementation for tests and benchmarks.

    Takes the arguments of :func:`simulator.model.engine.kernels.simulate_structural`
    (the groups of :mod:`simulator.model.engine.groups`, read by field name) and
    fills the recorders ``out``, ``vintage`` and ``snapshot`` as the kernel does;
    returns ``recorders.out``. Paths and months are Python loops; within a
    month all live loans of the path are updated at once.

    The book holds the opening loans (``birth_month`` 0) and loans written later:
    a loan with ``birth_month = b > 0`` enters at the end of month ``b`` (its
    principal to the month's new lending, one to its new loans, its state to the
    month's stocks) and lives from month ``b + 1``; one born after the last month
    never enters. Each month, for each live loan:

    1. employment: an employed borrower loses the job if
       ``u0 < separation[p, m, s] risk_scale``, an unemployed one finds one if
       ``u0 < finding[p, m, s]``;
    2. income: ``P *= income_growth[p, m] permanent_shock[k1]``; earned income is
       ``P transitory_shock[k2]`` when employed, else
       ``replacement_rate P``;
    3. restructuring (from month ``restructuring.start``): a loan with fewer than
       ``max_restructurings`` plans so far and more than ``plan_months`` instalments
       left is eligible if its borrower lost the job this month (``on_job_loss``),
       it is 1-30 DPD (``on_dpd_1_30``) or earned income is below
       ``(1 - income_drop) P`` (``income_drop > 0``); it takes a plan if
       ``u5 < take_probability``: arrears are capitalised (``B += A``, ``A = 0``), the
       loan is current and flagged restructured, and the plan starts: a holiday of
       ``plan_months`` months, a term ``n + plan_months`` (extension) or a monthly
       rate ``r (1 - rate_cut)`` (rate cut, penalty rate alike); the annuity is
       recomputed;
    4. the instalment (interest + principal part of the schedule) falls due, except
       during a holiday, when the interest ``B r`` is capitalised and nothing is due;
       penalty interest ``A APR (1 + uplift) / 12`` is added to the arrears ``A``.
       Interest due is booked under the state at the start of the month (before
       any restructuring);
    5. payment with cash ``c = savings + earned - essential_share[s] P - other_debt``:
       a current borrower is willing if ``u1 >= missed_when_able risk_scale``; a delinquent one
       (state ``d``) is willing to pay everything if ``u1 < w_all`` and the instalment
       if ``u1 < w_instalment``, both ``willingness[d]`` unless collections contact
       it (from month ``collections.start``, if ``u4 < contact_rate[d]`` and the
       path's contacts this month are below ``contact_capacity``, first come first
       served in book order), in which case ``w_all = w + (1 - w) cure_effect`` and
       ``w_instalment = w + (1 - w) instalment_effect``. Willing to pay everything
       and ``c`` covers instalment + arrears: cure to current; else, if delinquent,
       willing to pay the instalment and ``c`` covers it: stays in its bucket;
       otherwise anything due is added to the arrears and the loan moves one
       bucket worse;
    6. savings ``min(max(c - paid, 0), savings_target_months essential_share[s] P)``;
       the schedule advances (``B -= principal part``, ``n -= 1``; during a holiday
       the capitalised interest is added to ``B``, ``n`` stays and the holiday
       shortens, the annuity being recomputed when it ends);
    7. closure: a loan beyond ``chargeoff_state`` is charged off (``B + A``, with
       ``recovery_rate`` of it recovered in equal parts over the next
       ``recovery_months`` months inside the horizon, or at once if 0; a
       restructured one also counts as a redefault); a current loan with
       instalments left prepays ``B`` if ``u2 < prepayment``; a current loan with
       none left matures;
    8. a closed loan is replaced (``replace_closed``) by its slot's origination
       template (contract rate, not restructured, no plans) with its borrower in
       work, if the lender approves it: its annuity plus other debt service is at
       most ``dti_cap[p, m, s]`` times its income; a declined slot stays empty and is
       offered again at the end of each later month (before the slots closing that
       month); under run-off a closed loan leaves the book for good; a replacement
       is a new loan of month ``m`` (new lending, new loans, vintage ``m``); from
       the path's ``stop_month[p]`` on (the lender out of cash) no loan is written:
       no replacement, no empty slot offered again, no birth;
    9. end-of-month stocks, also of restructured loans, and each live loan's
       segment unemployment rate; at ``snapshot_month`` on the block's first
       ``snapshot.shape[0]`` paths, each live loan's state, employment, savings, permanent
       income, principal, arrears and remaining term are written to ``snapshot``
       (not for loans written in that month, which have not lived a month yet);
       the loans written in the month (``birth_month = m``) join the book;
    10. vintages: a loan whose end-of-month state (from the month it is written
        on) is beyond 90 DPD for the first time adds one to
        ``vintage[p, v, m - v]``, ``v`` the month it was written (0: opening book).

    Parameters
    ----------
    run, book, economy, behaviour, losses, collections, restructuring, recorders
        As for :func:`simulator.model.engine.kernels.simulate_structural`;
        ``run.seed`` is the Philox key (``draws="philox"``) and seeds the
        generator if ``draws="numpy"`` and ``rng`` is not given;
        ``recorders.vintage`` receives the vintage counts (see 10.). The kernel's
        loan-history recorder ``recorders.panel`` is ignored: it is checked
        against the kernel's own aggregates (``tests/test_calibration.py``), not
        redone here.
    draws : {"philox", "numpy"}
        ``"philox"``: the engine's words, counter ``(loan, month, block, path)``:
        from block 0, ``u0 = uniform32(w0)`` (employment), ``u1 = uniform32(w1)``
        (willingness), shock indices ``k1 = w2 >> 20`` and ``k2 = (w2 >> 8) & 0xFFF``,
        ``u2 = uniform32(w3)`` (prepayment); from block 1, ``u4 = uniform32(v1)``
        (collections contact), ``u5 = uniform32(v2)`` (restructuring take-up).
        ``"numpy"``: five uniforms and two shock indices per loan-month from
        ``rng`` (same model, different numbers).
    rng : numpy.random.Generator, optional
        Used with ``draws="numpy"``.

    Returns
    -------
    numpy.ndarray of shape (n_paths, n_months + 1, N_METRICS)
        ``recorders.out``: ``n_months = unemployment.shape[1] - 1``; layout of
        :mod:`simulator.model.engine.layout`.
    """
    fields = STRUCTURAL_FIELDS
    seed, path_ids, replace_closed, stop_month = _fields(run, fields["run"])
    (segment, principal, arrears, apr, remaining_term, amortisation, dpd_state, income, savings, other_debt,
     employed, original_principal, original_term, original_income, original_savings, birth_month,
     risk_scale) = _fields(book, fields["book"])
    unemployment, separation, finding, income_growth, dti_cap = _fields(economy, fields["economy"])
    (essential_share, replacement_rate, permanent_shock, transitory_shock, savings_target_months, missed_when_able,
     willingness, prepayment) = _fields(behaviour, fields["behaviour"])
    (chargeoff_state, penalty_uplift, recovery_rate, recovery_months, lifetime_months,
     default_state) = _fields(losses, fields["losses"])
    contact_rate, cure_effect, instalment_effect, contact_capacity, collections_start = _fields(
        collections, fields["collections"])
    (restructuring_start, on_job_loss, on_dpd_1_30, income_drop, take_probability, plan, plan_months, rate_cut,
     max_restructurings) = _fields(restructuring, fields["restructuring"])
    snapshot_month, snapshot, vintage, out = _fields(recorders, fields["recorders"])
    if draws not in ("philox", "numpy"):
        raise ValueError(f"draws must be 'philox' or 'numpy', got {draws!r}")
    if draws == "numpy" and rng is None:
        rng = np.random.default_rng(seed)
    path_ids = np.asarray(path_ids, dtype=np.int64)
    n_paths = path_ids.shape[0]
    n_loans = np.asarray(segment).shape[0]
    n_months = unemployment.shape[1] - 1
    k0, k1 = seed_key_numpy(seed)
    willingness = np.asarray(willingness, dtype=float)
    contact_rate = np.asarray(contact_rate, dtype=float)
    birth_month = np.asarray(birth_month, dtype=np.int64)
    template = _loan_template(
        segment, principal, arrears, apr, remaining_term, amortisation, dpd_state, risk_scale, penalty_uplift,
        emp=np.asarray(employed, dtype=bool), perm=np.asarray(income, dtype=float),
        sav=np.asarray(savings, dtype=float), debt=np.asarray(other_debt, dtype=float),
        ess=np.asarray(essential_share, dtype=float)[np.asarray(segment, dtype=np.intp)],
        restructured=np.zeros(n_loans, dtype=bool), plans=np.zeros(n_loans, dtype=np.int64),
        holiday=np.zeros(n_loans, dtype=np.int64))
    replacement = _replacement_template(template, original_principal, original_term,
                                        perm=np.asarray(original_income, dtype=float),
                                        sav=np.asarray(original_savings, dtype=float), emp=np.ones(n_loans, bool))

    for p in range(n_paths):
        out_p = out[p]
        path = np.uint64(path_ids[p])
        ledger = _Ledger(out_p, vintage[p], birth_month, template["rate"], recovery_rate, recovery_months,
                         default_state, lifetime_months, unemployment[p], restructuring=True)
        st = ledger.write(0, None, _pick(template, _births(0, birth_month)))
        vacant = np.empty(0, dtype=np.intp)

        for m in range(1, n_months + 1):
            n_live = st["slot"].shape[0]
            row = out_p[m]
            lending = m < stop_month[p]
            if n_live == 0:
                if lending:
                    offered = vacant[_approved(replacement, vacant, dti_cap[p, m])]
                    vacant = np.setdiff1d(vacant, offered)
                    st = ledger.write(m, st, _pick(replacement, offered))
                    st = ledger.write(m, st, _pick(template, _births(m, birth_month)))
                continue
            s = st["seg"]
            if draws == "philox":
                loan = st["slot"].astype(np.uint64)
                w0, w1, w2, w3 = philox4x32_numpy(loan, np.uint64(m), np.uint64(0), path, k0, k1)
                _, v1, v2, _ = philox4x32_numpy(loan, np.uint64(m), np.uint64(1), path, k0, k1)
                u_employment = uniform32_numpy(w0)
                u_will = uniform32_numpy(w1)
                k_permanent = (w2 >> np.uint64(20)).astype(np.intp)
                k_transitory = ((w2 >> np.uint64(8)) & np.uint64(0xFFF)).astype(np.intp)
                u_prepay = uniform32_numpy(w3)
                u_contact = uniform32_numpy(v1)
                u_take = uniform32_numpy(v2)
            else:
                u = rng.random((5, n_live))
                k = rng.integers(0, len(permanent_shock), size=(2, n_live))
                u_employment, u_will, u_prepay, u_contact, u_take = u
                k_permanent, k_transitory = k

            # 1. employment
            was_employed = st["emp"]
            emp = np.where(was_employed, u_employment >= separation[p, m, s] * st["risk"],
                           u_employment < finding[p, m, s])
            lost_job = was_employed & ~emp
            # 2. income
            perm = st["perm"] * income_growth[p, m] * permanent_shock[k_permanent]
            earned = np.where(emp, perm * transitory_shock[k_transitory], replacement_rate * perm)
            b, a, n, d = st["b"], st["a"], st["n"], st["d"]
            rate, penalty_rate, annuity = st["rate"], st["penalty_rate"], st["annuity"]
            restructured, plans, holiday = st["restructured"], st["plans"], st["holiday"]
            start = d
            # 3. restructuring
            if m >= restructuring_start:
                eligible = (plans < max_restructurings) & (n > (plan_months if plan == HOLIDAY else 0)) & (
                    (bool(on_job_loss) & lost_job) | (bool(on_dpd_1_30) & (d == 1))
                    | ((income_drop > 0.0) & (earned < (1.0 - income_drop) * perm)))
                takes = eligible & (u_take < take_probability)
                if takes.any():
                    row[RESTRUCTURINGS] += np.count_nonzero(takes)
                    b = np.where(takes, b + a, b)
                    a = np.where(takes, 0.0, a)
                    d = np.where(takes, 0, d)
                    restructured = restructured | takes
                    plans = plans + takes
                    if plan == HOLIDAY:
                        holiday = np.where(takes, plan_months, holiday)
                    elif plan == EXTENSION:
                        n = np.where(takes, n + plan_months, n)
                    else:
                        rate = np.where(takes, rate * (1.0 - rate_cut), rate)
                        penalty_rate = np.where(takes, rate * (1.0 + penalty_uplift), penalty_rate)
                    annuity = np.where(takes, level_payment_numpy(b, rate, n), annuity)
            # 4. instalment (or capitalised holiday interest) and penalty interest
            on_holiday = holiday > 0
            interest, part = instalment_split_numpy(b, rate, n, st["amort"], annuity)
            due = interest + part
            holiday_interest = b * rate
            interest = np.where(on_holiday, holiday_interest, interest)
            part = np.where(on_holiday, -holiday_interest, part)
            due = np.where(on_holiday, 0.0, due)
            penalty = a * penalty_rate
            a = a + penalty
            row[SCHEDULED] += due.sum()
            row[INTEREST_DUE:INTEREST_DUE + N_LIVE_STATES] += np.bincount(start, weights=interest,
                                                                        minlength=N_LIVE_STATES)
            row[PENALTY] += penalty.sum()
            # 5. collections and the payment decision
            cash = st["sav"] + earned - st["ess"] * perm - st["debt"]
            w_all = willingness[d]
            w_instalment = willingness[d]
            if m >= collections_start:
                contacted = _first_come((d > 0) & (u_contact < contact_rate[d]), contact_capacity)
                row[CONTACTS] += np.count_nonzero(contacted)
                w_all = np.where(contacted, w_all + (1.0 - w_all) * cure_effect, w_all)
                w_instalment = np.where(contacted, w_instalment + (1.0 - w_instalment) * instalment_effect,
                                        w_instalment)
            current_willing = u_will >= missed_when_able * st["risk"]
            willing_all = np.where(d == 0, current_willing, u_will < w_all)
            willing_instalment = np.where(d == 0, current_willing, u_will < np.maximum(w_all, w_instalment))
            pays_all = willing_all & (cash >= due + a)
            pays_instalment = ~pays_all & willing_instalment & (d > 0) & (due > 0.0) & (cash >= due)
            misses = ~pays_all & ~pays_instalment & (due + a > 0.0)
            paid = np.where(pays_all, due + a, np.where(pays_instalment, due, 0.0))
            a = np.where(pays_all, 0.0, np.where(misses, a + due, a))
            d = np.where(pays_all, 0, np.where(misses, d + 1, d))
            row[COLLECTED] += paid.sum()
            # 6. savings and the schedule
            sav = np.minimum(np.maximum(cash - paid, 0.0), savings_target_months * st["ess"] * perm)
            b = b - part
            holiday = np.where(on_holiday, holiday - 1, holiday)
            ended = on_holiday & (holiday == 0)
            if ended.any():
                annuity = np.where(ended, level_payment_numpy(b, rate, n), annuity)
            n = np.where(on_holiday, n, n - 1)
            # 7. closure
            charged_off = d > chargeoff_state
            prepaid = ~charged_off & (d == 0) & (n > 0) & (u_prepay < prepayment)
            matured = ~charged_off & ~prepaid & (d == 0) & (n <= 0)
            row[REDEFAULTS] += np.count_nonzero(charged_off & restructured)
            row[PREPAID] += b[prepaid].sum()
            st.update(b=b, a=a, n=n, d=d, emp=emp, perm=perm, sav=sav, rate=rate, penalty_rate=penalty_rate,
                      annuity=annuity, restructured=restructured, plans=plans, holiday=holiday)
            # 8. replacement (under run-off the slot stays empty); 9. flows, charge-offs, default episodes, stocks
            replacements, declined = None, None
            if replace_closed and lending:
                gone = charged_off | prepaid | matured
                # the slots left empty earlier are offered first, at this month's cap, then the ones closing now
                offered = vacant[_approved(replacement, vacant, dti_cap[p, m])]
                vacant = np.setdiff1d(vacant, offered)
                replacements = _pick(replacement, st["slot"][gone])
                declined = ~_approved(replacement, replacements["slot"], dti_cap[p, m])
                vacant = np.union1d(vacant, replacements["slot"][declined])
            st = ledger.end_month(m, st, start, charged_off, b + a, prepaid | matured, replacements, declined)
            if replace_closed and lending and offered.size:
                st = ledger.write(m, st, _pick(replacement, offered))
            if m == snapshot_month and p < snapshot.shape[0]:
                for k, key in enumerate(("d", "emp", "sav", "perm", "b", "a", "n")):
                    snapshot[p, st["slot"], k] = st[key]
            # the loans written this month join (none once lending has stopped)
            if lending:
                st = ledger.write(m, st, _pick(template, _births(m, birth_month)))
    return out


# --------------------------------------------------------------------------- roll-rate model
def roll_rate_cdf_numpy(thresholds, rho, z):
    """Conditional cumulative transition probabilities of the one-factor model.

    ``Phi((thresholds - sqrt(rho) z) / sqrt(1 - rho))`` with the last column set to 1.

    Parameters
    ----------
    thresholds : array (n_segments, 7, 9)
    rho : float
    z : float

    Returns
    -------
    numpy.ndarray of the shape of ``thresholds``
    """
    cdf = ndtr((np.asarray(thresholds) - np.sqrt(rho) * z) / np.sqrt(1.0 - rho))
    cdf[..., -1] = 1.0
    return cdf


def roll_rate_reference(run, book, economy, behaviour, losses, collections, recorders):
    """Roll-rate model in plain numpy: an independent re-implementation for tests and benchmarks.

    Takes the arguments of :func:`simulator.model.engine.kernels.simulate_roll_rate`
    (read by field name), fills ``recorders.out`` and ``recorders.vintage`` as the
    kernel does and returns ``recorders.out`` (``recorders.panel`` is ignored).
    Each month a live loan in state ``d`` of segment ``s`` draws ``u = uniform52(w0, w1)`` (Philox counter
    ``(loan, month, 0, path)``) and moves to the first outcome of
    :data:`ROLL_ORDER` whose conditional cumulative probability
    (:func:`roll_rate_cdf_numpy` at ``cycle_z[p, m]``) exceeds ``u``.

    Collections (from month ``collections.start``): a delinquent loan is contacted
    if ``uniform32(w2) < contact_rate[d]`` and the path's contacts this month are
    below ``contact_capacity`` (first come first served in book order), whatever
    its draw. A contacted loan whose outcome is worse than ``d`` (a worse live
    state or charge-off, not closure) cures instead (outcome 0) if
    ``v = uniform32(w3) < cure_effect``, or stays in ``d`` if
    ``v < cure_effect + instalment_effect``.

    Underwriting: a current loan whose outcome is a delinquent state or charge-off
    stays current instead if ``uniform32(w3) >= risk_scale`` (so only the share
    ``risk_scale`` of those moves happens).

    The instalment falls due and penalty interest accrues on the arrears; then:

    * closed: pays instalment and arrears, prepays ``B``;
    * charged off (the charged-off outcome, or a live state beyond
      ``chargeoff_state``): writes off ``B + A + instalment``;
    * a better or equal state: pays the instalment and the cured share of
      arrears (all of it on cure to current, ``A (d - target) / d`` otherwise);
    * a worse live state: the instalment is added to the arrears.

    A current loan with no instalments left matures. Closed loans are replaced
    from the slot's template (``replace_closed``: a new loan of that month) or
    leave the book; from the path's ``stop_month[p]`` on they leave it and no loan
    is born (the lender out of cash). Loans with ``birth_month = b > 0`` join the book at the end of
    month ``b`` (new lending, new loans, stocks) and live from month ``b + 1``;
    loans born after the last month never do. Vintages: a loan whose end-of-month
    state (from the month it is written on) is beyond 90 DPD for the first time
    adds one to ``vintage[p, v, m - v]``, ``v`` the month it was written.

    Returns
    -------
    numpy.ndarray of shape (n_paths, n_months + 1, N_METRICS)
        ``recorders.out``: ``n_months = cycle_z.shape[1] - 1``.
    """
    fields = ROLL_RATE_FIELDS
    seed, path_ids, replace_closed, stop_month = _fields(run, fields["run"])
    (segment, principal, arrears, apr, remaining_term, amortisation, dpd_state, original_principal, original_term,
     birth_month, risk_scale) = _fields(book, fields["book"])
    (cycle_z,) = _fields(economy, fields["economy"])
    thresholds, rho = _fields(behaviour, fields["behaviour"])
    (chargeoff_state, penalty_uplift, recovery_rate, recovery_months, lifetime_months,
     default_state) = _fields(losses, fields["losses"])
    contact_rate, cure_effect, instalment_effect, contact_capacity, collections_start = _fields(
        collections, fields["collections"])
    vintage, out = _fields(recorders, fields["recorders"])
    path_ids = np.asarray(path_ids, dtype=np.int64)
    n_paths = path_ids.shape[0]
    n_months = cycle_z.shape[1] - 1
    k0, k1 = seed_key_numpy(seed)
    contact_rate = np.asarray(contact_rate, dtype=float)
    birth_month = np.asarray(birth_month, dtype=np.int64)
    template = _loan_template(segment, principal, arrears, apr, remaining_term, amortisation, dpd_state, risk_scale,
                              penalty_uplift)
    replacement = _replacement_template(template, original_principal, original_term)

    for p in range(n_paths):
        out_p = out[p]
        path = np.uint64(path_ids[p])
        ledger = _Ledger(out_p, vintage[p], birth_month, template["rate"], recovery_rate, recovery_months,
                         default_state, lifetime_months)
        st = ledger.write(0, None, _pick(template, _births(0, birth_month)))

        for m in range(1, n_months + 1):
            lending = m < stop_month[p]
            if st["slot"].shape[0] == 0:
                if lending:
                    st = ledger.write(m, st, _pick(template, _births(m, birth_month)))
                continue
            row = out_p[m]
            cdf = roll_rate_cdf_numpy(thresholds, rho, cycle_z[p, m])
            w0, w1, w2, w3 = philox4x32_numpy(st["slot"].astype(np.uint64), np.uint64(m), np.uint64(0), path, k0, k1)
            u = uniform52_numpy(w0, w1)
            u3 = uniform32_numpy(w3)
            b, a, n, d = st["b"], st["a"], st["n"], st["d"]
            rows = cdf[st["seg"], d]                                    # (n_live, 9)
            target = ROLL_ORDER[np.argmax(u[:, None] < rows, axis=1)]   # first outcome with u < cdf
            if m >= collections_start:
                contacted = _first_come((d > 0) & (uniform32_numpy(w2) < contact_rate[d]), contact_capacity)
                row[CONTACTS] += np.count_nonzero(contacted)
                rescued = contacted & (target != CLOSED) & (target > d)
                target = np.where(rescued & (u3 < cure_effect), 0,
                                  np.where(rescued & (u3 < cure_effect + instalment_effect), d, target))
            # better underwriting: only the share risk_scale of a current loan's moves into arrears happens
            spared = (d == 0) & (target > 0) & (target <= CHARGED_OFF) & (u3 >= st["risk"])
            target = np.where(spared, 0, target)
            interest, part = instalment_split_numpy(b, st["rate"], n, st["amort"], st["annuity"])
            due = interest + part
            penalty = a * st["penalty_rate"]
            a = a + penalty
            row[SCHEDULED] += due.sum()
            row[INTEREST_DUE:INTEREST_DUE + N_LIVE_STATES] += np.bincount(d, weights=interest,
                                                                        minlength=N_LIVE_STATES)
            row[PENALTY] += penalty.sum()
            start = d
            b = b - part
            n = n - 1
            prepaid = target == CLOSED
            charged_off = ~prepaid & ((target == CHARGED_OFF) | (target > chargeoff_state))
            better = ~prepaid & ~charged_off & (target <= d)
            worse = ~prepaid & ~charged_off & ~better
            row[COLLECTED] += (due + a)[prepaid].sum()
            row[PREPAID] += b[prepaid].sum()
            written_off = b + a + due
            with np.errstate(divide="ignore", invalid="ignore"):
                cured = np.where(target == 0, a, a * (d - target) / d)
            row[COLLECTED] += (due + cured)[better].sum()
            a = np.where(better, a - cured, np.where(worse, a + due, a))
            d = np.where(better | worse, target, d)
            matured = ~prepaid & ~charged_off & (d == 0) & (n <= 0)
            st.update(b=b, a=a, n=n, d=d)
            replacements = (_pick(replacement, st["slot"][prepaid | charged_off | matured])
                            if replace_closed and lending else None)
            st = ledger.end_month(m, st, start, charged_off, written_off, prepaid | matured, replacements)
            if lending:
                st = ledger.write(m, st, _pick(template, _births(m, birth_month)))
    return out


# --------------------------------------------------------------------------- scenario -> inputs
def _arguments(scenario, book, seed, path_ids, recorders, stop_months=None):
    """The kernel's arguments, built by the engine's own input code; only the kernel is redone here."""
    from simulator.model.engine.simulate import engine_months, roll_rate_arguments, structural_arguments
    from simulator.model.macro import macro_paths
    from simulator.model.sampling import resolve_sampling

    path_ids = np.asarray(path_ids, dtype=np.int64)
    macro = macro_paths(scenario.macro, seed, path_ids, engine_months(scenario), resolve_sampling(scenario.run))
    build = structural_arguments if scenario.behaviour.model == "structural" else roll_rate_arguments
    return build(scenario, book, seed, path_ids, macro, recorders, stop_months)


def reference_paths(scenario, book, seed, path_ids=None, draws="philox", rng=None, stop_months=None):
    """Aggregates and vintages of the scenario's behaviour model from the numpy reference (all paths by default).

    Like the engine (:func:`simulator.model.engine.simulate.simulate_paths`), it
    simulates past the horizon for the forward-loss window and returns months
    0..H: the aggregates of months 0..H and ``vintages[p, v, k]`` for written
    months ``v`` and months on book ``k`` in 0..H. ``book`` must already hold any
    new lending (:func:`simulator.model.portfolio.with_new_lending`). ``stop_months``
    (one per path, default never) is the month each path stops lending, as in
    :func:`simulator.model.engine.simulate.simulate_segments`.

    Returns
    -------
    aggregates : numpy.ndarray (n_paths, H + 1, N_METRICS)
    vintages : numpy.ndarray (n_paths, H + 1, H + 1)
    """
    from simulator.model.engine.simulate import engine_months, recorders_group

    if path_ids is None:
        path_ids = np.arange(scenario.run.paths, dtype=np.int64)
    n_engine = engine_months(scenario)
    out = np.zeros((len(path_ids), n_engine + 1, N_METRICS))
    vintage = np.zeros((len(path_ids), n_engine + 1, n_engine + 1))
    arguments = _arguments(scenario, book, seed, path_ids, recorders_group(out, vintage), stop_months)
    if scenario.behaviour.model == "structural":
        structural_reference(*arguments, draws=draws, rng=rng)
    elif draws != "philox":
        raise ValueError("the roll-rate reference only has draws='philox'")
    else:
        roll_rate_reference(*arguments)
    horizon = scenario.run.horizon_months + 1
    return out[:, :horizon], vintage[:, :horizon, :horizon]
