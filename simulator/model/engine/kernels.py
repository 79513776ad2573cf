"""Numba kernels: the two borrower models, month by month, reduced to per-path aggregates.

Both kernels run in parallel over paths (``prange``). Within a path, loans are
visited in book order and each loan's months in time order with the loan's
state in local variables, so a path's sums are always added in the same order:
the result is bit-for-bit the same for any thread count and any chunking of
paths. Random numbers come from :mod:`simulator.model.engine.rng`, counter
``(loan, month, block, path)``: the structural model uses one Philox call per
loan-month (words: employment, willingness, the two 12-bit income-shock indices,
prepayment) and a second one (block 1) only when it needs more: a collections
contact (word 1), a restructuring take-up (word 2). Kernels only compute: their arguments are a few named
groups of arrays and scalars (:mod:`simulator.model.engine.groups`), outputs are
written into the arrays of the ``recorders`` group (``out`` zeroed by the
caller), and nothing is allocated per loan-month.

Shared conventions (see :mod:`simulator.model.engine.layout` for ``out``):

* Every aggregate is kept per segment: a loan of segment ``s = book.segment[i]``
  adds to ``out[p, m, s, metric]`` only, so each segment's sums are its own loans
  added in book order, whatever the other segments hold. The only quantity shared
  across segments is the collections capacity (the book's contacts in the month).

* ``B`` scheduled principal, ``A`` arrears (missed instalments plus penalty
  interest at ``APR (1 + uplift) / 12`` a month), ``n`` remaining instalments,
  ``d`` live delinquency state (0..6). The schedule advances every month whether
  or not the borrower pays: a missed instalment moves into ``A``.
* A loan in state ``losses.chargeoff_state`` (= charge-off DPD / 30) that misses again is
  charged off: ``B + A`` is written off and ``losses.recovery_rate`` of it comes back in
  equal parts over the next ``losses.recovery_months`` months (at once if 0).
* Under the constant balance sheet (``run.replace_closed``) a loan that matures,
  prepays or is charged off is replaced at the end of the month by a new current
  loan from the slot's origination template; under run-off the slot stays empty.
  In the structural model the new loan goes to an applicant in work (a lender
  lends to applicants with an income that passes its debt-to-income test, as the
  slot's template did when it was drawn), with the template's income and savings,
  and only if the applicant passes the month's debt-to-income cap
  ``economy.dti_cap`` (cyclical underwriting, ``actions.underwriting``); a declined
  slot stays empty and is offered again at the end of each later month (until
  lending stops, below).
* New lending stops on path ``p`` from month ``run.stop_month[p]`` on (the lender
  is out of cash, :mod:`simulator.accounts.liquidity`): no replacement is written at
  the end of that month or later and no origination is born then or later, so the
  book runs off. Only loans written later are affected, and every draw is keyed by
  (loan, month, path), so months before the stop are the same bits as without it
  (:data:`NEVER`: lending never stops).
"""
import math

import numpy as np
from numba import njit, prange

from .amortisation import instalment_split, level_payment
from .layout import (BALANCE, CHARGEOFF, CHARGEOFF_COUNT, COLLECTED, CONTACTS, COUNT, FORWARD_CURED_LIFE,
                     FORWARD_DEFAULT_12M, FORWARD_DEFAULT_LIFE, FORWARD_EAD_LIFE, FORWARD_LOSS_12M,
                     FORWARD_LOSS_AT_DEFAULT_LIFE, FORWARD_LOSS_LIFE, INTEREST_DUE, LABOUR_MARKET_UNEMPLOYED,
                     M1_CURED, M1_ROLLED, M1_START, N_OUTCOMES, NEW_LENDING, NEW_LOANS, PENALTY, PREPAID, RECOVERY,
                     REDEFAULTS, RESTRUCTURED_BALANCE, RESTRUCTURED_COUNT, RESTRUCTURED_FORWARD_DEFAULT,
                     RESTRUCTURED_FORWARD_LOSS, RESTRUCTURINGS, SCHEDULED, TRANSITION, UNEMPLOYED)
from .rng import norm_cdf, philox_words, seed_key, uniform32, uniform52
from .shocks import SHOCK_BITS

SNAPSHOT_COLUMNS = 7
PANEL_STATE, PANEL_BALANCE, PANEL_NEW_STATE, PANEL_NEW_BALANCE = range(4)
PANEL_COLUMNS = 4
"""Columns of the loan-history recorder ``panel`` (see :class:`~simulator.model.engine.groups.Recorders`)."""
FIRST_90_STATE = 4
"""First live state beyond 90 DPD (91-120)."""
RESTRUCTURED_FLAG = 8
"""Added to a state in a loan's history while the loan is restructured."""
HOLIDAY, EXTENSION, RATE_CUT = 0, 1, 2
"""Restructuring plans."""
NEVER = 1 << 30
"""Start month of an action that is off."""

CHARGED_OFF = 7
CLOSED = 8
SHOCK_SHIFT = np.uint64(32 - SHOCK_BITS)
SHOCK_BITS_U = np.uint64(32 - 2 * SHOCK_BITS)
SHOCK_MASK = np.uint64(2 ** SHOCK_BITS - 1)

ROLL_ORDER = np.array([CLOSED, 0, 1, 2, 3, 4, 5, 6, CHARGED_OFF], dtype=np.int64)
"""States from best to worst outcome: the order of the one-factor thresholds."""


@njit(cache=True, inline="always")
def _record_state(out, p, m, s, state, balance, employed, restructured, history, labour_market_rate):
    """End-of-month stocks of one live loan of segment ``s`` (balance, count, unemployment, restructured).

    ``labour_market_rate`` is the unemployment rate of the loan's segment on the path
    that month (0 under the roll-rate model); ``history[m]`` keeps the state, plus
    :data:`RESTRUCTURED_FLAG` for a restructured loan.
    """
    out[p, m, s, BALANCE + state] += balance
    out[p, m, s, COUNT + state] += 1.0
    out[p, m, s, LABOUR_MARKET_UNEMPLOYED] += labour_market_rate
    history[m] = state
    if restructured:
        out[p, m, s, RESTRUCTURED_BALANCE + state] += balance
        out[p, m, s, RESTRUCTURED_COUNT + state] += 1.0
        history[m] = state + RESTRUCTURED_FLAG
    if not employed:
        out[p, m, s, UNEMPLOYED] += 1.0


@njit(cache=True, inline="always")
def _charge_off(out, p, m, s, amount, recovery_rate, recovery_months):
    """Write off ``amount`` of a loan of segment ``s`` in month ``m`` and book its recoveries (``recovery_rate`` of it, in equal parts over the
    next ``recovery_months`` months within the engine's months, or at once if 0)."""
    out[p, m, s, CHARGEOFF] += amount
    out[p, m, s, CHARGEOFF_COUNT] += 1.0
    n_months = out.shape[1] - 1
    if recovery_months == 0:
        out[p, m, s, RECOVERY] += recovery_rate * amount
    else:
        part = recovery_rate * amount / recovery_months
        for k in range(m + 1, min(m + recovery_months, n_months) + 1):
            out[p, k, s, RECOVERY] += part


@njit(cache=True, inline="always")
def _resolve_default(out, p, m, s, default_month, loss, exposure, cured, history, born, monthly_rate, lifetime_months):
    """Credit a loan's default, which ends in month ``m``, to every earlier month whose ECL it belongs to (in the
    loan's segment ``s``).

    The loan defaulted in month ``e = default_month`` (its delinquency first went
    beyond the default DPD, or it was charged off) with exposure ``exposure``, and the
    default ends in month ``m``: charged off (``loss`` the amount written off) or,
    ``cured``, without loss (``loss = 0``: the loan is current again, or closed). The loan was
    live at the end of months ``born .. m - 1`` in states ``history[...]``. A month
    ``t`` before the default counts it when the default event falls within its
    window (``e - t <= 12`` for 12-month ECL, ``<= lifetime_months`` for lifetime
    ECL, IFRS 9 5.5.3-5.5.5); a month already in default (``t >= e``) counts it in
    both. Each such month gets the loss discounted to it at the loan's original
    monthly rate (its effective interest rate, kept for modified loans), however long
    after the window the charge-off comes, and one default; for the lifetime window
    also the exposure at default, the loss discounted to the default month and, if
    it ended without loss, one cure. Months in which the loan was restructured
    count in the restructured forward losses and defaults only.
    :mod:`simulator.accounts.ifrs9` turns these into PD, LGD and ECL rates.
    """
    step = 1.0 / (1.0 + monthly_rate)
    at_default = loss
    for _ in range(m - default_month):
        at_default *= step
    discount = 1.0
    first = max(born, default_month - lifetime_months)
    for t in range(m - 1, first - 1, -1):
        discount *= step
        state = history[t]
        if state >= RESTRUCTURED_FLAG:
            out[p, t, s, RESTRUCTURED_FORWARD_LOSS + state - RESTRUCTURED_FLAG] += loss * discount
            out[p, t, s, RESTRUCTURED_FORWARD_DEFAULT + state - RESTRUCTURED_FLAG] += 1.0
            continue
        out[p, t, s, FORWARD_LOSS_LIFE + state] += loss * discount
        out[p, t, s, FORWARD_DEFAULT_LIFE + state] += 1.0
        out[p, t, s, FORWARD_EAD_LIFE + state] += exposure
        out[p, t, s, FORWARD_LOSS_AT_DEFAULT_LIFE + state] += at_default
        if cured:
            out[p, t, s, FORWARD_CURED_LIFE + state] += 1.0
        if default_month - t <= 12:
            out[p, t, s, FORWARD_LOSS_12M + state] += loss * discount
            out[p, t, s, FORWARD_DEFAULT_12M + state] += 1.0


@njit(cache=True, inline="always")
def _contract(principal, arrears, remaining_term, state, apr, penalty_uplift):
    """A loan's terms when it is written: ``(B, A, n, d, monthly rate, penalty rate, annuity)``.

    The monthly rate is ``apr / 12``, arrears accrue at ``rate (1 + penalty_uplift)``
    and the annuity is the level payment of ``B`` over ``n`` instalments.
    """
    rate = apr / 12.0
    return (principal, arrears, remaining_term, state, rate, rate * (1.0 + penalty_uplift),
            level_payment(principal, rate, remaining_term))


@njit(cache=True, inline="always")
def _write_loan(out, vintage, panel, history, p, i, m, s, principal, arrears, state, employed, restructured,
                labour_market_rate, n_recorded, default_state):
    """Book a loan of segment ``s`` written into slot ``i`` at the end of month ``m``: ``B``, ``A`` and its state.

    The opening book (``m = 0``), an origination (its birth month) and a replacement
    alike: new lending (after month 0), its end-of-month stocks (:func:`_record_state`),
    its birth in the loan history (slots below ``n_recorded``) and in its vintage.
    Returns the loan's default episode and vintage flag, ``(default_month, exposure, ever_90)``:
    a loan written in default (``state >= default_state``) is in default from month ``m``
    with exposure ``B + A`` (``default_month = -1``: not in default).
    """
    if m > 0:
        out[p, m, s, NEW_LENDING] += principal
        out[p, m, s, NEW_LOANS] += 1.0
    balance = principal + arrears
    _record_state(out, p, m, s, state, balance, employed, restructured, history, labour_market_rate)
    if i < n_recorded:
        _panel_birth(panel, i, m, state, balance)
    default_month = m if state >= default_state else -1
    return default_month, balance, _first_90(vintage, p, m, m, state, False)


@njit(cache=True, inline="always")
def _close_month(out, vintage, panel, history, p, i, m, s, born, start, outcome, state, balance, written_off,
                 employed, restructured, labour_market_rate, default_month, exposure, ever_90, n_recorded,
                 monthly_rate, lifetime_months, default_state):
    """The end of month ``m`` of the loan in slot ``i`` (segment ``s``, written in month ``born``).

    The loan started the month in live state ``start`` and ends it with ``outcome``
    (its live ``state`` and ``balance = B + A``, or charged off, ``written_off``, or
    closed). Counts its flows (:func:`_count_flows`); starts its IFRS 9 default
    episode (the first month beyond ``default_state`` or charged off; exposure the
    balance then, or the amount written off) or ends it (charged off, cured to current
    or closed: :func:`_resolve_default`, at the loan's original ``monthly_rate``);
    records its history (slots below ``n_recorded``); and books its end-of-month
    stocks if it is still live, or its first month at 90+ DPD if it is charged off.
    A closed loan is replaced or dropped by the kernel. Returns the loan's
    ``(default_month, exposure, ever_90)``.
    """
    _count_flows(out, p, m, s, start, outcome)
    if default_month < 0 and (state >= default_state or outcome == CHARGED_OFF):
        default_month = m
        exposure = written_off if outcome == CHARGED_OFF else balance
    if default_month >= 0 and (outcome >= CHARGED_OFF or state == 0):
        _resolve_default(out, p, m, s, default_month, written_off, exposure, outcome != CHARGED_OFF, history,
                         born, monthly_rate, lifetime_months)
        default_month = -1
    if i < n_recorded:
        _panel_exit(panel, i, m, outcome, balance)
    if outcome == CHARGED_OFF:
        ever_90 = _first_90(vintage, p, born, m, FIRST_90_STATE, ever_90)
    elif outcome < CHARGED_OFF:
        _record_state(out, p, m, s, state, balance, employed, restructured, history, labour_market_rate)
        ever_90 = _first_90(vintage, p, born, m, state, ever_90)
    return default_month, exposure, ever_90


@njit(cache=True, inline="always")
def _snapshot(snapshot, p, i, state, employed, savings, permanent_income, principal, arrears, remaining_term):
    """Path ``p``'s row for loan ``i`` of the settling snapshot (columns as in
    :class:`~simulator.model.engine.groups.Recorders`)."""
    snapshot[p, i, 0] = state
    snapshot[p, i, 1] = 1.0 if employed else 0.0
    snapshot[p, i, 2] = savings
    snapshot[p, i, 3] = permanent_income
    snapshot[p, i, 4] = principal
    snapshot[p, i, 5] = arrears
    snapshot[p, i, 6] = remaining_term


@njit(cache=True, inline="always")
def _first_90(vintage, p, born, m, state, ever_90):
    """Count a loan's first month at 90+ DPD (or charged off) in its vintage curve; returns whether it has been."""
    if state >= FIRST_90_STATE and not ever_90:
        vintage[p, born, m - born] += 1.0
        return True
    return ever_90


@njit(cache=True, inline="always")
def _count_flows(out, p, m, s, start_state, outcome):
    """The month's transition (live state -> outcome) of a loan of segment ``s``, and the M1 flows."""
    out[p, m, s, TRANSITION + N_OUTCOMES * start_state + outcome] += 1.0
    if start_state == 1:
        out[p, m, s, M1_START] += 1.0
        if outcome == 0:
            out[p, m, s, M1_CURED] += 1.0
        elif outcome == 2:
            out[p, m, s, M1_ROLLED] += 1.0


@njit(cache=True, inline="always")
def _panel_exit(panel, i, m, outcome, balance):
    """Loan history: the state (0-6, 7 charged off, 8 closed) and balance at the end of month ``m`` of the loan that
    was live in slot ``i`` at the start of the month."""
    panel[i, m, PANEL_STATE] = outcome
    panel[i, m, PANEL_BALANCE] = balance if outcome < CHARGED_OFF else 0.0


@njit(cache=True, inline="always")
def _panel_birth(panel, i, m, state, balance):
    """Loan history: a loan written into slot ``i`` in month ``m`` (month 0: the opening book), its state and balance."""
    panel[i, m, PANEL_NEW_STATE] = state
    panel[i, m, PANEL_NEW_BALANCE] = balance


@njit(cache=True, inline="always")
def _contacted(out, p, m, s, state, u_contact, contact_rate, contact_capacity):
    """Whether collections reach this delinquent account (of segment ``s``) this month.

    First come, first served in book order: the capacity is the book's, so the contacts already made in the month
    are added over all segments (counts, exact in any order).
    """
    if u_contact >= contact_rate[state]:
        return False
    if contact_capacity < math.inf:
        made = 0.0
        for k in range(out.shape[2]):
            made += out[p, m, k, CONTACTS]
        if made >= contact_capacity:
            return False
    out[p, m, s, CONTACTS] += 1.0
    return True


@njit(cache=True, parallel=True)
def simulate_structural(run, book, economy, behaviour, losses, collections, restructuring, recorders):
    """Structural borrower model, one month at a time for every loan of every path.

    Each month, for each loan:

    1. employment: an employed borrower loses the job with probability
       ``economy.separation[p, m, s]`` (times ``book.risk_scale``); an unemployed
       one finds a job with ``economy.finding[p, m, s]``;
    2. income: ``P *= income_growth[p, m] * permanent_shock[k1]``; income is
       ``P * transitory_shock[k2]`` when employed, else ``replacement_rate * P``
       (``k1``, ``k2``: 12-bit draws; the shocks are mean-one tables, see
       :mod:`simulator.model.engine.shocks`);
    3. restructuring, from ``restructuring.start``: an eligible loan takes a plan
       with ``take_probability`` (see :class:`~simulator.model.engine.groups.Restructuring`);
    4. payment: cash on hand ``c = savings + income - essential_share[s] P - other_debt``.
       A willing borrower (current: with probability ``1 - missed_when_able``, the
       payment friction plus strategic default; in state d: ``willingness[d]``, raised
       for a borrower collections contact, see :class:`~simulator.model.engine.groups.Collections`)
       pays instalment plus arrears if ``c`` covers
       them (cure to current), else the instalment alone if ``c`` covers it (stays in
       its bucket); otherwise the instalment is missed (one bucket worse);
    5. savings: what is left, ``max(c - paid, 0)``, capped at
       ``savings_target_months`` months of essential spending;
    6. a current loan prepays in full with probability ``prepayment``;
    7. amortisation, penalty interest, charge-off, recoveries, replacement (a
       borrower in work with the slot's template income and savings, if the
       template's annuity plus other debt service is at most ``dti_cap[p, m, s]``
       times its income; otherwise the slot stays empty until a later month's cap
       admits it).

    Parameters
    ----------
    run : :class:`~simulator.model.engine.groups.Run`
        Seed, global path numbers, constant balance sheet or run-off.
    book : :class:`~simulator.model.engine.groups.Book`
        The loans and their borrowers.
    economy : :class:`~simulator.model.engine.groups.Economy`
        Unemployment, job-loss and job-finding rates, income growth per path and month.
    behaviour : :class:`~simulator.model.engine.groups.Behaviour`
        The borrowers' spending, income shocks, willingness to pay and prepayment.
    losses : :class:`~simulator.model.engine.groups.Losses`
        Penalty interest, charge-off state, recoveries, forward-loss window.
    collections : :class:`~simulator.model.engine.groups.Collections`
    restructuring : :class:`~simulator.model.engine.groups.Restructuring`
        The management actions (``start = NEVER`` when off).
    recorders : :class:`~simulator.model.engine.groups.Recorders`
        The outputs, written in place: ``out`` (aggregates), ``vintage``, the
        ``snapshot`` of the block's first ``snapshot.shape[0]`` paths at
        ``snapshot_month``, and path 0's loan history ``panel``.
    """
    # Every field the prange loop uses is unpacked into a local first, so the loop below is the code it was
    # before the groups. Inside the loop numba would reach a group's field through the tuple's memory on every
    # access (measured 3-4 % slower) and would silently drop writes to an array reached that way (numba
    # issue #5872).
    seed, path_ids, streams, flips, replace_closed = run.seed, run.path_ids, run.streams, run.flips, run.replace_closed
    stop_month = run.stop_month
    segment, principal, arrears, apr = book.segment, book.principal, book.arrears, book.apr
    remaining_term, amortisation, dpd_state = book.remaining_term, book.amortisation, book.dpd_state
    income, savings, other_debt, employed = book.income, book.savings, book.other_debt, book.employed
    original_principal, original_term = book.original_principal, book.original_term
    original_income, original_savings = book.original_income, book.original_savings
    birth_month, risk_scale = book.birth_month, book.risk_scale
    unemployment, separation, finding = economy.unemployment, economy.separation, economy.finding
    income_growth, dti_cap = economy.income_growth, economy.dti_cap
    essential_share, replacement_rate = behaviour.essential_share, behaviour.replacement_rate
    permanent_shock, transitory_shock = behaviour.permanent_shock, behaviour.transitory_shock
    savings_target_months, missed_when_able = behaviour.savings_target_months, behaviour.missed_when_able
    willingness, prepayment = behaviour.willingness, behaviour.prepayment
    chargeoff_state, penalty_uplift = losses.chargeoff_state, losses.penalty_uplift
    recovery_rate, recovery_months = losses.recovery_rate, losses.recovery_months
    lifetime_months, default_state = losses.lifetime_months, losses.default_state
    contact_rate, cure_effect, instalment_effect = (collections.contact_rate, collections.cure_effect,
                                                    collections.instalment_effect)
    contact_capacity, collections_start = collections.contact_capacity, collections.start
    restructuring_start, max_restructurings = restructuring.start, restructuring.max_restructurings
    on_job_loss, on_dpd_1_30 = restructuring.on_job_loss, restructuring.on_dpd_1_30
    income_drop, take_probability = restructuring.income_drop, restructuring.take_probability
    plan, plan_months, rate_cut = restructuring.plan, restructuring.plan_months, restructuring.rate_cut
    snapshot_month, snapshot, panel = recorders.snapshot_month, recorders.snapshot, recorders.panel
    vintage, out = recorders.vintage, recorders.out
    n_paths = path_ids.shape[0]
    n_loans = segment.shape[0]
    n_months = out.shape[1] - 1
    n_snapshots = snapshot.shape[0]
    k0, k1 = seed_key(seed)
    for p in prange(n_paths):
        path = np.uint64(streams[p])
        flip = flips[p]
        n_recorded = panel.shape[0] if path_ids[p] == 0 else 0
        history = np.empty(n_months + 1, dtype=np.int64)
        stop = stop_month[p]
        for i in range(n_loans):
            born = birth_month[i]
            if born > n_months or born >= stop:
                continue
            restructured = False
            plans = 0
            holiday = 0
            s = segment[i]
            b, a, n, d, rate, penalty_rate, annuity = _contract(principal[i], arrears[i], remaining_term[i],
                                                                dpd_state[i], apr[i], penalty_uplift)
            amort = amortisation[i]
            emp = employed[i]
            perm = income[i]
            sav = savings[i]
            debt = other_debt[i]
            vacant = False
            default_month, exposure, ever_90 = _write_loan(out, vintage, panel, history, p, i, born, s, b, a, d, emp,
                                                           restructured, unemployment[p, born, s], n_recorded,
                                                           default_state)
            loan = np.uint64(i)
            for m in range(born + 1, n_months + 1):
                if not vacant:
                    w0, w1, w2, w3 = philox_words(loan, np.uint64(m), np.uint64(0), path, k0, k1, flip)
                    u_employment = uniform32(w0)
                    lost_job = False
                    if emp:
                        if u_employment < separation[p, m, s] * risk_scale[i]:
                            emp = False
                            lost_job = True
                    elif u_employment < finding[p, m, s]:
                        emp = True
                    perm *= income_growth[p, m] * permanent_shock[np.int64(w2 >> SHOCK_SHIFT)]
                    if emp:
                        earned = perm * transitory_shock[np.int64((w2 >> SHOCK_BITS_U) & SHOCK_MASK)]
                    else:
                        earned = replacement_rate * perm
                    start = d
                    if (m >= restructuring_start and plans < max_restructurings
                            and n > (plan_months if plan == HOLIDAY else 0)
                            and ((on_job_loss and lost_job) or (on_dpd_1_30 and d == 1)
                                 or (income_drop > 0.0 and earned < (1.0 - income_drop) * perm))):
                        _, _, v2, _ = philox_words(loan, np.uint64(m), np.uint64(1), path, k0, k1, flip)
                        if uniform32(v2) < take_probability:
                            b += a
                            a = 0.0
                            d = 0
                            restructured = True
                            plans += 1
                            out[p, m, s, RESTRUCTURINGS] += 1.0
                            if plan == HOLIDAY:
                                holiday = plan_months
                            elif plan == EXTENSION:
                                n += plan_months
                            else:
                                rate *= 1.0 - rate_cut
                                penalty_rate = rate * (1.0 + penalty_uplift)
                            annuity = level_payment(b, rate, n)
                    if holiday > 0:
                        interest = b * rate
                        part = -interest
                        due_now = 0.0
                    else:
                        interest, part = instalment_split(b, rate, n, amort, annuity)
                        due_now = interest + part
                    penalty = a * penalty_rate
                    a += penalty
                    out[p, m, s, SCHEDULED] += due_now
                    out[p, m, s, INTEREST_DUE + start] += interest
                    out[p, m, s, PENALTY] += penalty
                    cash = sav + earned - essential_share[s] * perm - debt
                    u_will = uniform32(w1)
                    if d == 0:
                        willing_all = willing_instalment = u_will >= missed_when_able * risk_scale[i]
                    else:
                        pays_all, pays_instalment = willingness[d], willingness[d]
                        if m >= collections_start:
                            _, v1, _, _ = philox_words(loan, np.uint64(m), np.uint64(1), path, k0, k1, flip)
                            if _contacted(out, p, m, s, d, uniform32(v1), contact_rate, contact_capacity):
                                pays_all += (1.0 - pays_all) * cure_effect
                                pays_instalment += (1.0 - pays_instalment) * instalment_effect
                        willing_all = u_will < pays_all
                        willing_instalment = u_will < max(pays_all, pays_instalment)
                    paid = 0.0
                    if willing_all and cash >= due_now + a:
                        paid = due_now + a
                        a = 0.0
                        d = 0
                    elif willing_instalment and d > 0 and due_now > 0.0 and cash >= due_now:
                        paid = due_now
                    elif due_now + a > 0.0:
                        a += due_now
                        d += 1
                    out[p, m, s, COLLECTED] += paid
                    sav = min(max(cash - paid, 0.0), savings_target_months * essential_share[s] * perm)
                    b -= part
                    if holiday > 0:
                        holiday -= 1
                        if holiday == 0:
                            annuity = level_payment(b, rate, n)
                    else:
                        n -= 1
                    outcome = d
                    written_off = 0.0
                    if d > chargeoff_state:
                        written_off = b + a
                        _charge_off(out, p, m, s, written_off, recovery_rate, recovery_months)
                        if restructured:
                            out[p, m, s, REDEFAULTS] += 1.0
                        outcome = CHARGED_OFF
                    elif d == 0 and n > 0 and uniform32(w3) < prepayment:
                        out[p, m, s, PREPAID] += b
                        outcome = CLOSED
                    elif d == 0 and n <= 0:
                        outcome = CLOSED
                    default_month, exposure, ever_90 = _close_month(
                        out, vintage, panel, history, p, i, m, s, born, start, outcome, d, b + a, written_off, emp,
                        restructured, unemployment[p, m, s], default_month, exposure, ever_90, n_recorded,
                        apr[i] / 12.0, lifetime_months, default_state)
                    if outcome >= CHARGED_OFF:
                        if not replace_closed or m >= stop:
                            break
                        vacant = True
                        # the template's loan, written once per vacancy: a declined slot keeps it for later months
                        b, a, n, d, rate, penalty_rate, annuity = _contract(original_principal[i], 0.0,
                                                                            original_term[i], 0, apr[i],
                                                                            penalty_uplift)
                if vacant:
                    if m >= stop:
                        break
                    if annuity + debt > dti_cap[p, m, s] * original_income[i]:
                        continue
                    vacant = False
                    emp = True
                    perm = original_income[i]
                    sav = original_savings[i]
                    restructured = False
                    plans = 0
                    holiday = 0
                    born = m
                    default_month, exposure, ever_90 = _write_loan(out, vintage, panel, history, p, i, m, s, b, a, d,
                                                                   emp, restructured, unemployment[p, m, s],
                                                                   n_recorded, default_state)
                if m == snapshot_month and p < n_snapshots:
                    _snapshot(snapshot, p, i, d, emp, sav, perm, b, a, n)


@njit(cache=True)
def conditional_roll_cdf(thresholds, sqrt_rho, sqrt_one_minus_rho, z, cdf):
    """One-factor conditional transition CDFs (Belkin, Forest and Suchower 1998).

    ``cdf[s, i, k] = Phi((thresholds[s, i, k] - sqrt(rho) z) / sqrt(1 - rho))`` over the
    outcomes in :data:`ROLL_ORDER` (best to worst); a larger ``z`` moves mass to
    worse outcomes.
    """
    for s in range(thresholds.shape[0]):
        for i in range(thresholds.shape[1]):
            for k in range(thresholds.shape[2]):
                cdf[s, i, k] = norm_cdf((thresholds[s, i, k] - sqrt_rho * z) / sqrt_one_minus_rho)
            cdf[s, i, thresholds.shape[2] - 1] = 1.0


@njit(cache=True, parallel=True)
def simulate_roll_rate(run, book, economy, behaviour, losses, collections, recorders):
    """Roll-rate model: each month a loan moves by its segment's conditional transition row.

    The row of state ``d`` is the one-factor conditional distribution given the
    path's cycle index ``economy.cycle_z[p, m]`` (:func:`conditional_roll_cdf`);
    ``behaviour.thresholds`` ``(n_segments, 7, 9)`` are ``Phi^-1`` of the base
    cumulative probabilities in :data:`ROLL_ORDER`, scaled so that the base matrix
    is the average over the cycle.
    Cash follows the move: to current pays instalment and arrears; staying pays the
    instalment; a partial cure pays the instalment and the cured share of arrears;
    a worse state adds the instalment to arrears; closed repays everything early
    (prepayment); charged off writes off ``B + A``. Current loans close at maturity.

    New loans (``book.birth_month``) start current; ``book.risk_scale`` below 1 sends that share
    of a current loan's moves into delinquency back to current (better underwriting).
    ``vintage`` and ``panel`` as in :func:`simulate_structural`
    (the snapshot is not used).

    Collections: a delinquent loan about to roll worse (or be charged off) that is
    contacted (``contact_rate``, capacity as in the structural kernel) cures instead
    with probability ``cure_effect`` and stays (pays the instalment) with
    probability ``instalment_effect``.

    Parameters
    ----------
    run : :class:`~simulator.model.engine.groups.Run`
    book : :class:`~simulator.model.engine.groups.Book`
        Only the loan columns are read (no borrowers).
    economy : :class:`~simulator.model.engine.groups.RollRateEconomy`
    behaviour : :class:`~simulator.model.engine.groups.RollRateBehaviour`
    losses : :class:`~simulator.model.engine.groups.Losses`
    collections : :class:`~simulator.model.engine.groups.Collections`
    recorders : :class:`~simulator.model.engine.groups.Recorders`
    """
    # Every field the prange loop uses is unpacked into a local first (see simulate_structural).
    seed, path_ids, streams, flips, replace_closed = run.seed, run.path_ids, run.streams, run.flips, run.replace_closed
    stop_month = run.stop_month
    segment, principal, arrears, apr = book.segment, book.principal, book.arrears, book.apr
    remaining_term, amortisation, dpd_state = book.remaining_term, book.amortisation, book.dpd_state
    original_principal, original_term = book.original_principal, book.original_term
    birth_month, risk_scale = book.birth_month, book.risk_scale
    cycle_z = economy.cycle_z
    thresholds, rho = behaviour.thresholds, behaviour.rho
    chargeoff_state, penalty_uplift = losses.chargeoff_state, losses.penalty_uplift
    recovery_rate, recovery_months = losses.recovery_rate, losses.recovery_months
    lifetime_months, default_state = losses.lifetime_months, losses.default_state
    contact_rate, cure_effect, instalment_effect = (collections.contact_rate, collections.cure_effect,
                                                    collections.instalment_effect)
    contact_capacity, collections_start = collections.contact_capacity, collections.start
    panel, vintage, out = recorders.panel, recorders.vintage, recorders.out
    n_paths = path_ids.shape[0]
    n_loans = segment.shape[0]
    n_months = out.shape[1] - 1
    n_segments = thresholds.shape[0]
    n_outcomes = thresholds.shape[2]
    k0, k1 = seed_key(seed)
    sqrt_rho = math.sqrt(rho)
    sqrt_one_minus_rho = math.sqrt(1.0 - rho)
    for p in prange(n_paths):
        path = np.uint64(streams[p])
        flip = flips[p]
        n_recorded = panel.shape[0] if path_ids[p] == 0 else 0
        history = np.empty(n_months + 1, dtype=np.int64)
        cdf = np.empty((n_months + 1, n_segments, thresholds.shape[1], n_outcomes))
        for m in range(1, n_months + 1):
            conditional_roll_cdf(thresholds, sqrt_rho, sqrt_one_minus_rho, cycle_z[p, m], cdf[m])
        stop = stop_month[p]
        for i in range(n_loans):
            born = birth_month[i]
            if born > n_months or born >= stop:
                continue
            s = segment[i]
            b, a, n, d, rate, penalty_rate, annuity = _contract(principal[i], arrears[i], remaining_term[i],
                                                                dpd_state[i], apr[i], penalty_uplift)
            amort = amortisation[i]
            default_month, exposure, ever_90 = _write_loan(out, vintage, panel, history, p, i, born, s, b, a, d, True,
                                                           False, 0.0, n_recorded, default_state)
            loan = np.uint64(i)
            for m in range(born + 1, n_months + 1):
                w0, w1, w2, w3 = philox_words(loan, np.uint64(m), np.uint64(0), path, k0, k1, flip)
                u = uniform52(w0, w1)
                k = 0
                while k < n_outcomes - 1 and u >= cdf[m, s, d, k]:
                    k += 1
                target = ROLL_ORDER[k]
                contacted = (d > 0 and m >= collections_start
                             and _contacted(out, p, m, s, d, uniform32(w2), contact_rate, contact_capacity))
                if contacted and target != CLOSED and target > d:
                    u_effect = uniform32(w3)
                    if u_effect < cure_effect:
                        target = 0
                    elif u_effect < cure_effect + instalment_effect:
                        target = d
                if d == 0 and 0 < target <= CHARGED_OFF and uniform32(w3) >= risk_scale[i]:
                    target = 0
                interest, part = instalment_split(b, rate, n, amort, annuity)
                due_now = interest + part
                penalty = a * penalty_rate
                a += penalty
                out[p, m, s, SCHEDULED] += due_now
                out[p, m, s, INTEREST_DUE + d] += interest
                out[p, m, s, PENALTY] += penalty
                start = d
                b -= part
                n -= 1
                outcome = target
                written_off = 0.0
                if target == CLOSED:
                    out[p, m, s, COLLECTED] += due_now + a
                    out[p, m, s, PREPAID] += b
                elif target == CHARGED_OFF or target > chargeoff_state:
                    written_off = b + a + due_now
                    _charge_off(out, p, m, s, written_off, recovery_rate, recovery_months)
                    outcome = CHARGED_OFF
                elif target <= d:
                    cured = a if target == 0 else a * (d - target) / d
                    out[p, m, s, COLLECTED] += due_now + cured
                    a -= cured
                    d = target
                else:
                    a += due_now
                    d = target
                if outcome == 0 and n <= 0:
                    outcome = CLOSED
                default_month, exposure, ever_90 = _close_month(
                    out, vintage, panel, history, p, i, m, s, born, start, outcome, d, b + a, written_off, True, False,
                    0.0, default_month, exposure, ever_90, n_recorded, apr[i] / 12.0, lifetime_months, default_state)
                if outcome >= CHARGED_OFF:
                    if not replace_closed or m >= stop:
                        break
                    b, a, n, d, rate, penalty_rate, annuity = _contract(original_principal[i], 0.0, original_term[i],
                                                                        0, apr[i], penalty_uplift)
                    born = m
                    default_month, exposure, ever_90 = _write_loan(out, vintage, panel, history, p, i, m, s, b, a, d,
                                                                   True, False, 0.0, n_recorded, default_state)
