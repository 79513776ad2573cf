"""Funding and liquidity: the lender's cash position month by month on each path.

The credit simulation gives, per path and month, the cash borrowers pay and the
cash the lender lends out. This module puts a funding block around it (a
liquidity buffer, liabilities that mature and are rolled over, ABS whose
delinquency triggers divert collections, funding spreads and their stress,
operating costs) and returns the buffer path, the survival horizon and the
liquidity ratio, and what the lender does when it runs short of cash (stop
lending, draw emergency funding, or lend on). Pure numpy, vectorised over paths; the only loop is
over months.

Arrays are ``(n_paths, n_months + 1)``; month 0 is the opening book (stocks only,
every flow is zero there), months ``1..H`` hold end-of-month stocks and the
month's flows. Money is in the book's currency; the percent keys of the
:class:`~simulator.inputs.schema.FundingSpec` are read as fractions through its ``resolved`` view.

Notes
-----
Notation: ``B_0`` the opening book balance, ``t = 1..H`` the month, liability
``j`` with amount ``a_j`` (``amount_pct / 100``), average maturity ``M_j`` months,
rollover rate ``rho_j,t`` and annual spread ``s_j,t`` (percent), ``r_t`` the central
policy rate (percent).

**Liabilities.** ``L_j,0 = a_j B_0``. Each month ``L_j,t-1 / M_j`` falls due (even
maturity over ``M_j`` months); the share ``rho_j,t`` is refinanced and the rest is
repaid in cash::

    repaid_j,t   = (1 - rho_j,t) L_j,t-1 / M_j
    interest_j,t = L_j,t-1 (r_t + s_j,t) / 100 / 12
    L_j,t        = L_j,t-1 - repaid_j,t - diverted_j,t

``rho_j,t = rollover_pct / 100``, or ``stress.rollover_pct / 100`` from
``stress.from_month`` on when the stress sets one; ``s_j,t = spread_pct`` plus
``stress.spread_add_pct`` from ``stress.from_month`` on. With ``rho = 1`` the
balance is constant and costs only interest; with ``rho = 0`` it runs off
geometrically, ``L_t = L_0 (1 - 1/M)^t``.

**ABS and early amortisation.** An ``abs`` liability is backed by the pool share
``pi_j = min(1, a_j B_0 x overcollateral_pct / 100 / B_0) = min(1, a_j
overcollateral_pct / 100)`` of the book. A book can be pledged only once, so the
shares are allotted in the order the liabilities are listed and capped at what
is left: ``pi_j <- min(pi_j, 1 - sum_{i<j} pi_i)``. The trigger is hit in month
``t`` if the trigger metric (``overdue_90p`` or ``overdue_m1p``, per
``trigger_metric``) at the end of month ``t - 1`` is strictly above
``trigger_pct / 100``; once hit it stays hit (an ABS without ``trigger_pct`` is
never hit). From that month on the notes are no longer rolled (``rho_j,t = 0``,
so the whole ``L_j,t-1 / M_j`` is repaid), and the pool's share of the month's
inflows goes to the noteholders::

    diverted_j,t = min(max(pi_j inflows_t, 0), L_j,t-1 - repaid_j,t)

so the diversion stops once the notes are repaid. Before the trigger an ABS
behaves like any other liability.

**Buffer and what the lender does when it runs short.** ``F`` is the floor
``minimum_buffer_pct / 100 B_0``, ``buffer_0 = liquidity_buffer_pct / 100 B_0``::

    operating_cost_t  = operating_cost_pct / 100 / 12 x book_balance_t-1
    emergency_cost_t  = E_t-1 (r_t + s_e) / 100 / 12
    outflows_t        = new_lending_t + operating_cost_t + emergency_cost_t
                        + sum_j (interest_j,t + repaid_j,t + diverted_j,t)
    net_funding_gap_t = outflows_t - inflows_t
    own_cash_t        = buffer_t-1 - net_funding_gap_t

``own_cash_t`` is the cash the lender holds at the end of month ``t`` before any
emergency funding. ``funding.when_short`` says what happens when it falls below ``F``:

* ``emergency_funding`` (spread ``s_e``, limit ``X = limit_pct / 100 B_0``): the
  lender draws ``min(F - own_cash_t, X - E_t-1)``; when ``own_cash_t > F`` it repays
  ``min(own_cash_t - F, E_t-1)`` (the dearest money first). ``E_t`` is the emergency
  funding outstanding; ``buffer_t = own_cash_t + drawn_t - repaid_t``;
* ``stop_lending`` (as ``emergency_funding`` with ``X = 0``) and
  ``emergency_funding``: the **lending stop month** is the first month ``t`` with
  ``buffer_t < F`` in a run that lends on (the first pass): the lender writes no
  loan from that month on and the book runs off (the engine runs those paths again
  with that stop month: :func:`simulator.workflows.results.simulate_with_funding`).
  Given the stop months (``stop_month``), this function takes them as they are;
* ``keep_lending``: nothing happens, the buffer may go negative (the negative part
  is cash the lender does not have) and lending never stops.

The **survival horizon** is the first month ``own_cash_t < F`` (the lender's own
cash no longer covers the floor: it draws emergency funding or stops lending), or
the stop month if earlier; NaN when it never happens within the horizon. Liquidity
**failure** is the first month ``buffer_t < 0``: the lender cannot pay what falls
due even after stopping lending and drawing all its emergency funding
(:func:`simulator.accounts.metrics.path_series` adds capital below zero).

**Cash identity.** ``buffer_t = buffer_t-1 + inflows_t + drawn_t - repaid_t -
sum_j (repaid_j,t + diverted_j,t) - new_lending_t - funding_cost_t -
operating_cost_t`` with ``funding_cost_t = sum_j interest_j,t + emergency_cost_t``.

**Liquidity ratio.** ``max(buffer_t, 0) / (sum_j L_j,t / M_j + E_t)``: the cash the
lender actually holds over what falls due within the next month (contracted
liabilities maturing, and the emergency funding, repayable on demand); NaN when
nothing falls due. A negative buffer is a shortfall, not a liquid asset: its ratio
is 0, and the ratio is breached in a month ``1..H`` when it is below
``liquidity_ratio_floor_pct / 100`` or the buffer is negative. Only cash counts
(receivables falling due are not counted: stricter than the regulatory ratios,
which admit performing loans due within a month, 消费金融公司管理办法, or 50% of
them, the LCR), so a buffer that has run out always shows as a breach.

Wiring, from :func:`simulator.accounts.metrics.path_series` series ``s`` and
:func:`simulator.model.macro.central_path`: ``inflows = s["collected_cash"] +
s["prepaid"] - s["action_cost"]`` (``collected_cash`` already holds recoveries), ``new_lending =
s["new_lending"]``, ``book_balance = s["book_balance"]``, ``overdue_90p = s["overdue_rate_90p"]``,
``overdue_m1p = s["overdue_rate_m1p"]``, ``policy_rate_pct =
central_path(macro, H)["policy_rate"]``, ``opening_balance = s["book_balance"][:, 0]``.

References
----------
消费金融公司管理办法 (Measures for the Administration of Consumer Finance Companies):
the liquidity ratio (liquid assets / liabilities due within a month) of at least 50%.
Basel Committee on Banking Supervision (2013), *Basel III: The Liquidity Coverage
Ratio and liquidity risk monitoring tools* (liquid assets over the outflows of the
next 30 days).
"""
import numpy as np

TRIGGER_METRICS = ("90p", "m1p")
"""Values of ``LiabilitySpec.trigger_metric``, in the order of the metric stack built here."""


def _liability_terms(funding, n_months):
    """The funding block as arrays over months and liabilities (rates as fractions).

    Returns
    -------
    dict of str -> numpy.ndarray
        ``amount`` (J,) fraction of the opening balance; ``maturity`` (J,) months;
        ``rollover`` and ``spread`` (n_months + 1, J), the rollover rate and the annual
        spread in month t; ``is_abs`` (J,) bool; ``trigger`` (J,) fraction, ``inf``
        where there is none; ``metric`` (J,) index into :data:`TRIGGER_METRICS`;
        ``pool_share`` (J,) the ABS pool share ``pi_j`` (0 for other liabilities).
    """
    liabilities = funding.resolved.liabilities
    n_liab = len(liabilities)
    months = np.arange(n_months + 1)
    terms = {
        "amount": np.array([liab.amount for liab in liabilities], dtype=float),
        "maturity": np.array([liab.maturity_months for liab in liabilities], dtype=float),
        "rollover": np.empty((n_months + 1, n_liab)),
        "spread": np.empty((n_months + 1, n_liab)),
        "is_abs": np.array([liab.type == "abs" for liab in liabilities], dtype=bool),
        "trigger": np.full(n_liab, np.inf),
        "metric": np.array([TRIGGER_METRICS.index(liab.trigger_metric) for liab in liabilities], dtype=int),
        "pool_share": np.zeros(n_liab),
    }
    pledged = 0.0
    for j, liab in enumerate(liabilities):
        rollover = np.full(n_months + 1, liab.rollover)
        spread = np.full(n_months + 1, liab.spread)
        if liab.stress is not None:
            stressed = months >= liab.stress.from_month
            if liab.stress.rollover is not None:
                rollover[stressed] = liab.stress.rollover
            spread[stressed] += liab.stress.spread_add
        terms["rollover"][:, j] = rollover
        terms["spread"][:, j] = spread
        if liab.type == "abs":
            share = min(1.0, liab.pool_share, 1.0 - pledged)
            terms["pool_share"][j] = share
            pledged += share
            if liab.trigger is not None:
                terms["trigger"][j] = liab.trigger
    return terms


def _check_shapes(arrays, policy_rate_pct, opening_balance, stop_month):
    """Refuse inconsistent inputs (a caller's bug, so a plain ValueError)."""
    shape = np.shape(arrays["inflows"])
    if len(shape) != 2 or shape[1] < 1:
        raise ValueError(f"funding_paths: inflows must be 2-D (n_paths, n_months + 1); got shape {shape}.")
    for name, value in arrays.items():
        if np.shape(value) != shape:
            raise ValueError(f"funding_paths: {name} must have the shape of inflows {shape}; "
                             f"got {np.shape(value)}.")
    if np.shape(policy_rate_pct) != (shape[1],):
        raise ValueError(f"funding_paths: policy_rate_pct must have shape ({shape[1]},) (months 0..H); "
                         f"got {np.shape(policy_rate_pct)}.")
    if np.ndim(opening_balance) not in (0, 1) or np.size(opening_balance) not in (1, shape[0]):
        raise ValueError(f"funding_paths: opening_balance must be a scalar or have shape ({shape[0]},); "
                         f"got {np.shape(opening_balance)}.")
    if stop_month is not None and np.shape(stop_month) != (shape[0],):
        raise ValueError(f"funding_paths: stop_month must have shape ({shape[0]},); got {np.shape(stop_month)}.")


def _first_month(flags):
    """The first month (column ``t >= 1``) where ``flags[:, t]`` holds, per path; NaN where it never does."""
    hit = flags[:, 1:]
    return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.nan)


def funding_paths(inflows, new_lending, book_balance, overdue_90p, overdue_m1p, policy_rate_pct, funding,
                  opening_balance, stop_month=None):
    """Liquidity buffer, funding flows, emergency funding, lending stop, survival horizon and liquidity ratio.

    See the module docstring for the model and its formulas.

    Parameters
    ----------
    inflows : array (n_paths, n_months + 1)
        Cash from borrowers in the month (instalments, arrears and penalty interest
        collected, prepayments and recoveries) less the cost of management actions. Zero at month 0.
    new_lending : array (n_paths, n_months + 1)
        Principal of the loans written in the month (cash out). Zero at month 0.
    book_balance : array (n_paths, n_months + 1)
        Outstanding balance of live loans at month end.
    overdue_90p, overdue_m1p : array (n_paths, n_months + 1)
        The book's 90+ DPD and 1+ DPD balance ratios at month end, as fractions.
    policy_rate_pct : array (n_months + 1,)
        Central policy-rate path, annual, in percent.
    funding : simulator.inputs.schema.FundingSpec
        Buffer and its floor, liabilities, emergency funding, operating cost and liquidity-ratio floor (percent).
    opening_balance : float or array (n_paths,)
        Opening book balance ``B_0`` the ``_pct`` amounts refer to.
    stop_month : array (n_paths,), optional
        The month each path stopped lending in the engine (NaN: never). Without it
        the stop months are found here, for flows of an engine run that lent on
        (the first pass).

    Returns
    -------
    dict of str -> numpy.ndarray
        Per path and month, ``(n_paths, n_months + 1)``, money in currency:

        * ``liquidity_buffer``: cash at month end (``buffer_0`` at month 0);
        * ``net_funding_gap``: outflows - inflows of the month (before emergency funding);
        * ``funding_cost``: interest paid on all liabilities, emergency funding included;
        * ``emergency_funding_cost``: the part of it paid on emergency funding;
        * ``emergency_drawn``, ``emergency_repaid``, ``emergency_outstanding``: emergency funding;
        * ``operating_cost``: operating cost of the month;
        * ``liabilities_outstanding``: all liabilities at month end, emergency funding included;
        * ``liability_repaid``: contracted liabilities maturing and not rolled over, repaid in cash;
        * ``abs_diverted``: collections diverted to ABS noteholders (early amortisation);
        * ``abs_trigger_hit``: 1.0 if any ABS trigger is in force in the month, else 0.0;
        * ``lending_stopped``: 1.0 from the month lending stops on, else 0.0;
        * ``liquidity_ratio``: cash held / liabilities due within a month (a fraction; NaN
          when nothing falls due).

        Per path, ``(n_paths,)``, months as floats (NaN: not within the horizon):

        * ``survival_horizon_months``: the first month the lender's own cash falls below the floor;
        * ``lending_stop_month``: the month lending stops;
        * ``liquidity_failure_month``: the first month the buffer is negative;
        * ``liquidity_breached``: the survival horizon falls within the horizon;
        * ``liquidity_ratio_breached``: the liquidity ratio was below the floor, or the buffer
          negative, in some month ``1..n_months``.
    """
    arrays = {"inflows": inflows, "new_lending": new_lending, "book_balance": book_balance,
              "overdue_90p": overdue_90p, "overdue_m1p": overdue_m1p}
    _check_shapes(arrays, policy_rate_pct, opening_balance, stop_month)
    arrays = {name: np.asarray(value, dtype=float) for name, value in arrays.items()}
    inflows = arrays["inflows"]
    n_paths, n_steps = inflows.shape
    n_months = n_steps - 1
    policy_rate = np.asarray(policy_rate_pct, dtype=float) / 100.0
    opening = np.broadcast_to(np.asarray(opening_balance, dtype=float), (n_paths,))
    resolved = funding.resolved
    floor = resolved.minimum_buffer * opening
    responds = funding.when_short != "keep_lending"
    if funding.when_short == "emergency_funding":
        emergency_limit, emergency_spread = resolved.emergency_funding.limit * opening, resolved.emergency_funding.spread
    else:
        emergency_limit, emergency_spread = np.zeros(n_paths), 0.0
    detect = stop_month is None
    stop = np.full(n_paths, np.nan) if detect else np.asarray(stop_month, dtype=float)

    terms = _liability_terms(funding, n_months)
    n_liab = len(terms["amount"])
    # trigger metric of each liability, (n_paths, n_months + 1, J)
    metric = np.stack([arrays["overdue_90p"], arrays["overdue_m1p"]], axis=2)[:, :, terms["metric"]]
    trigger_armed = terms["is_abs"] & np.isfinite(terms["trigger"])

    operating_cost = np.zeros((n_paths, n_steps))
    operating_cost[:, 1:] = resolved.operating_cost / 12.0 * arrays["book_balance"][:, :-1]

    out = {name: np.zeros((n_paths, n_steps)) for name in (
        "liquidity_buffer", "net_funding_gap", "funding_cost", "emergency_funding_cost", "emergency_drawn",
        "emergency_repaid", "emergency_outstanding", "liabilities_outstanding", "liability_repaid",
        "abs_diverted", "abs_trigger_hit")}
    due_next = np.zeros((n_paths, n_steps))
    own_short = np.zeros((n_paths, n_steps), dtype=bool)

    outstanding = opening[:, None] * terms["amount"][None, :]            # L_j,0, (n_paths, J)
    emergency = np.zeros(n_paths)
    hit = np.zeros((n_paths, n_liab), dtype=bool)
    buffer = resolved.liquidity_buffer * opening
    out["liquidity_buffer"][:, 0] = buffer
    out["liabilities_outstanding"][:, 0] = outstanding.sum(axis=1)
    due_next[:, 0] = (outstanding / terms["maturity"]).sum(axis=1)
    for t in range(1, n_steps):
        hit |= trigger_armed & (metric[:, t - 1, :] > terms["trigger"])
        rollover = np.where(hit, 0.0, terms["rollover"][t])
        repaid = (1.0 - rollover) * (outstanding / terms["maturity"])
        interest = outstanding * (policy_rate[t] + terms["spread"][t]) / 12.0
        emergency_cost = emergency * (policy_rate[t] + emergency_spread) / 12.0
        remaining = outstanding - repaid
        diverted = np.where(hit, np.minimum(np.maximum(terms["pool_share"] * inflows[:, t, None], 0.0),
                                            remaining), 0.0)
        outstanding = remaining - diverted

        gap = (arrays["new_lending"][:, t] + operating_cost[:, t] + interest.sum(axis=1) + emergency_cost
               + repaid.sum(axis=1) + diverted.sum(axis=1) - inflows[:, t])
        own_cash = buffer - gap
        drawn = np.minimum(np.maximum(floor - own_cash, 0.0), emergency_limit - emergency)
        paid_back = np.minimum(np.maximum(own_cash - floor, 0.0), emergency)
        emergency = emergency + drawn - paid_back
        buffer = own_cash + drawn - paid_back
        own_short[:, t] = own_cash < floor
        if detect and responds:
            stop = np.where(np.isnan(stop) & (buffer < floor), float(t), stop)
        out["liquidity_buffer"][:, t] = buffer
        out["net_funding_gap"][:, t] = gap
        out["funding_cost"][:, t] = interest.sum(axis=1) + emergency_cost
        out["emergency_funding_cost"][:, t] = emergency_cost
        out["emergency_drawn"][:, t] = drawn
        out["emergency_repaid"][:, t] = paid_back
        out["emergency_outstanding"][:, t] = emergency
        out["liabilities_outstanding"][:, t] = outstanding.sum(axis=1) + emergency
        out["liability_repaid"][:, t] = repaid.sum(axis=1)
        out["abs_diverted"][:, t] = diverted.sum(axis=1)
        out["abs_trigger_hit"][:, t] = hit.any(axis=1)
        due_next[:, t] = (outstanding / terms["maturity"]).sum(axis=1) + emergency
    out["operating_cost"] = operating_cost
    months = np.arange(n_steps)
    out["lending_stopped"] = (months[None, :] >= np.where(np.isnan(stop), np.inf, stop)[:, None]).astype(float)

    cash_held = np.maximum(out["liquidity_buffer"], 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # a vanishing amount due gives inf
        out["liquidity_ratio"] = np.where(due_next > 0, cash_held / np.where(due_next > 0, due_next, 1.0), np.nan)
    negative = out["liquidity_buffer"] < 0.0
    below_floor = (out["liquidity_ratio"] < resolved.liquidity_ratio_floor) | negative
    out["liquidity_ratio_breached"] = below_floor[:, 1:].any(axis=1)

    out["survival_horizon_months"] = np.fmin(_first_month(own_short), stop)
    out["lending_stop_month"] = stop
    out["liquidity_failure_month"] = _first_month(negative)
    out["liquidity_breached"] = ~np.isnan(out["survival_horizon_months"])
    return out
