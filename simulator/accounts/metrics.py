"""From per-path aggregates to the reported metrics: series, headline figures, bands and errors.

Definitions (rates are fractions, money in book currency):

* overdue rate of a bucket = balance in the bucket / balance of all live loans
  (not charged off, not closed); buckets 1-30 (state 1), 31-90 (states 2-3), 90+
  (states 4-6, charged-off loans excluded); ``*_count`` variants use loan counts;
  M1+ = 1+ DPD, M3+ = 61+ DPD;
* cumulative loss rate = (charge-offs - recoveries) to date / opening balance;
* collections shortfall = scheduled instalments - cash collected from borrowers - recoveries
  (collections missed against the schedule: a credit quantity, not a shortage of cash);
* M1 collection rate = 1 - (loans rolling from 1-30 to 31-60) / (loans in 1-30 at
  the start of the month); M1 cure rate = share of those back to current;
* book unemployment rate = share of live loans whose borrower is out of work; the
  labour-market unemployment rate = the live loans' average of their segment's rate
  ``u_t x sensitivity`` on the path, what the book's borrowers would show if they
  were a random draw from their segments' populations (structural model; both 0
  under the roll-rate model);
* provisioning (:mod:`simulator.accounts.provisioning`), funding and liquidity
  (:mod:`simulator.accounts.liquidity`), profit and capital (:mod:`simulator.accounts.profitability`).

By segment (:func:`segment_series`, :func:`segment_headline_values`): the same
overdue rates, cumulative loss rate and IFRS 9 ECL of each portfolio segment's own
loans, and its shares of the book's loss and provisions. The book's additive parts
(bucket balances, live balance, cumulative net loss, opening balance, ECL) are the
sums of the segments', added in segment order
(:func:`~simulator.model.engine.layout.segment_total`), so a book rate is exactly
the segments' summed numerators over their summed denominators.
"""
import warnings

import numpy as np

from ..model.engine import layout as L
from .liquidity import funding_paths
from .ifrs9 import segment_ecl_by_stage
from .profitability import profit_and_capital
from .provisioning import provisioning_series

MIN_REPLICATES = 8
"""The fewest independent replicates (paths under ``mc``, antithetic pairs, RQMC scrambles) a standard error may rest
on to be called reliable: with ``G`` replicates the estimated se has about ``1 / sqrt(2 (G - 1))`` relative error of
its own (27% at 8, 71% at 2; Glasserman 2003, 1.1.3), and the t quantile of a 95% interval is 2.36 at 8 against 1.96
in the limit. Below it a ``--target-se`` is never met and a reverse
stress test is refused; one replicate gives no error at all (``null``). See docs/variance-reduction.md."""

PERCENTILES = (1, 5, 50, 95, 99)
"""Percentiles across paths reported with every mean (``p01`` .. ``p99``): the spread of the outcome, not the
error of the mean (that is ``se``)."""
TAIL_LEVELS = (0.99, 0.999)
TAIL_METRICS = ("loss_var_99", "loss_es_99", "loss_var_999", "loss_es_999")
"""The tail figures of the cumulative loss rate in ``summary.json`` (:func:`tail_risk`)."""
MIN_TAIL_PATHS = 10
"""A VaR or ES at level q is flagged (``reliable`` false) when fewer than this many effective paths lie beyond it:
``(1 - q) N`` paths under plain Monte Carlo, the Kish effective size of the tail's importance weights otherwise
(:func:`tail_risk`). With fewer, the figure is one or two paths' loss and its bootstrap ``se`` understates the
error."""

MONEY_METRICS = (
    "total_collections_shortfall", "min_liquidity_buffer", "peak_provision_requirement", "peak_ifrs9_ecl",
    "peak_five_category_minimum", "total_provision_charge", "max_provision_shortfall", "cumulative_profit",
    "total_action_cost", "total_collection_cost", "total_restructuring_cost", "peak_emergency_funding",
    "total_emergency_funding_cost",
)
"""Headline metrics in the book's currency."""

COUNT_METRICS = ("restructurings",)
"""Headline metrics that count loans; the others are fractions, months (``*_months``) or money."""

PROBABILITY_METRICS = (
    "coverage_floor_breached", "loan_provision_floor_breached", "liquidity_breached", "liquidity_ratio_breached",
    "abs_trigger_hit", "capital_floor_breached", "lending_stop_probability", "failure_probability",
)
"""Yes/no headline metrics (1 if it happened on the path in any month): reported as a probability across paths
(the mean) with its standard error, without percentiles (those of a 0/1 value are 0 or 1 and say nothing)."""

CONDITIONAL_METRICS = {"survival_horizon_months": "liquidity_breached", "lending_stop_month": "lending_stop_probability",
                       "failure_month": "failure_probability"}
"""Headline metrics defined only on some paths, with the yes/no metric that says on which: the survival horizon
(the first month the lender's own cash falls below the buffer's floor) exists only on paths where that happens
within the horizon, the month lending stops only on paths that stop, the month of failure only on paths that fail.
Their statistics are over those paths (``paths`` in ``summary.json`` counts them); how many paths survive the whole
horizon is ``1 - liquidity_breached``."""

LOWER_IS_WORSE = (
    "min_liquidity_buffer", "m1_collection_rate", "m1_cure_rate", "min_coverage_ratio", "min_loan_provision_ratio",
    "survival_horizon_months", "min_liquidity_ratio", "cumulative_profit", "min_capital_ratio",
    "lending_stop_month", "failure_month",
)
"""Headline metrics whose adverse tail is the low end: their adverse 5% and 1% are ``p05`` and ``p01``; for the
others (higher is worse, or neutral like ``ifrs9_binding_share``) they are ``p95`` and ``p99``."""

UNITS = {"money": "currency", "rate": "%", "months": "months", "count": "loans", "probability": "probability"}
"""The unit of each kind of metric as printed (``currency`` is the book's; rates and probabilities are fractions in
``summary.json`` and percent in the tables; differences of rates are in percentage points)."""


def adverse_percentiles(name):
    """The keys of the adverse 5% and 1% tail of headline metric ``name`` (``("p95", "p99")`` or, when lower is
    worse, ``("p05", "p01")``) and of its favourable 5% (``p05`` or ``p95``)."""
    if name in LOWER_IS_WORSE:
        return {"favourable_5": "p95", "adverse_5": "p05", "adverse_1": "p01"}
    return {"favourable_5": "p05", "adverse_5": "p95", "adverse_1": "p99"}

HEADLINE_METRICS = (
    "peak_overdue_rate_1_30", "peak_overdue_rate_31_90", "peak_overdue_rate_90p",
    "final_overdue_rate_1_30", "final_overdue_rate_31_90", "final_overdue_rate_90p",
    "cumulative_loss_rate", "total_collections_shortfall", "min_liquidity_buffer", "peak_provision_requirement",
    "m1_collection_rate", "m1_cure_rate",
    "peak_ifrs9_ecl", "peak_five_category_minimum", "ifrs9_binding_share", "peak_npl_ratio",
    "min_coverage_ratio", "min_loan_provision_ratio", "coverage_floor_breached", "loan_provision_floor_breached",
    "max_provision_shortfall", "total_provision_charge",
    "survival_horizon_months", "liquidity_breached", "min_liquidity_ratio", "liquidity_ratio_breached",
    "lending_stop_probability", "lending_stop_month", "peak_emergency_funding", "total_emergency_funding_cost",
    "failure_probability", "failure_month", "abs_trigger_hit", "cumulative_profit", "min_capital_ratio", "capital_floor_breached",
    "total_action_cost", "total_collection_cost", "total_restructuring_cost", "restructurings", "redefault_rate",
    "new_vintage_ever_90p_rate_12m", "peak_book_unemployment_rate",
)

REPORTED_METRICS = HEADLINE_METRICS + TAIL_METRICS
"""Every metric of ``summary.json``'s ``metrics`` in the documented order (docs/outputs.md): the headline metrics,
then the tail figures of the loss."""


def metric_kind(name):
    """How a headline metric is shown: ``money``, ``months``, ``count``, ``probability`` (a yes/no metric's share of
    paths) or ``rate`` (a fraction)."""
    if name in PROBABILITY_METRICS:
        return "probability"
    if name in MONEY_METRICS:
        return "money"
    if name.endswith("_months"):
        return "months"
    return "count" if name in COUNT_METRICS else "rate"


def metric_unit(name):
    """The unit of headline metric ``name`` (:data:`UNITS`)."""
    return UNITS[metric_kind(name)]


def format_value(value, kind, decimals=2):
    """``value`` as text: rates and probabilities in percent (``decimals`` places), money and counts with thousands
    separators, ``n/a`` where the quantity does not exist."""
    if value is None or value != value:  # the quantity does not exist (e.g. no liabilities falling due)
        return "n/a"
    if kind in ("money", "count"):
        return f"{value:,.0f}"
    if kind == "months":
        return f"{value:.1f}"
    return f"{value:.{decimals}%}"


def format_difference(value, kind, decimals=2):
    """A difference of two values of a ``kind`` as text, signed: rates and probabilities in percentage points
    (``+0.25 pp``), money and counts with thousands separators, months to one decimal; ``n/a`` for NaN."""
    if value is None or value != value:
        return "n/a"
    if kind in ("rate", "probability"):
        return f"{value * 100:+.{decimals}f} pp"
    if kind in ("money", "count"):
        return f"{value:+,.0f}"
    return f"{value:+.1f}"


BUCKETS = {"1_30": (1, 2), "31_90": (2, 4), "90p": (4, 7), "m1p": (1, 7), "m3p": (3, 7)}
"""Bucket name -> slice of live states [start, stop)."""


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


SEGMENT_BUCKETS = ("1_30", "31_90", "90p")
"""The overdue buckets reported per segment."""

SEGMENT_SERIES = tuple(f"overdue_rate_{bucket}" for bucket in SEGMENT_BUCKETS) + (
    "cumulative_loss_rate", "cumulative_loss_contribution", "loss_share", "ifrs9_ecl", "provision_share")
"""The monthly series reported per segment (:func:`segment_series`)."""

SEGMENT_METRICS = tuple(f"{kind}_overdue_rate_{bucket}" for kind in ("peak", "final") for bucket in SEGMENT_BUCKETS) + (
    "cumulative_loss_rate", "cumulative_loss_contribution", "loss_share", "peak_ifrs9_ecl", "provision_share")
"""The headline metrics reported per segment (:func:`segment_headline_values`)."""


def segment_parts(aggregates):
    """The additive parts of the segment figures, per path, month and segment ``(n_paths, n_months + 1, n_segments)``.

    ``balance`` and ``count`` of the live loans, ``balance_{bucket}`` and
    ``count_{bucket}`` for each bucket of :data:`BUCKETS`, and ``net_loss``: the
    charge-offs minus recoveries to date (cumulative over months). Aggregates without
    a segment axis are one segment.
    """
    segments = L.with_segment_axis(aggregates)
    balance = segments[..., L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
    count = segments[..., L.COUNT:L.COUNT + L.N_LIVE_STATES]
    parts = {"balance": balance.sum(axis=3), "count": count.sum(axis=3)}
    for name, (lo, hi) in BUCKETS.items():
        parts[f"balance_{name}"] = balance[..., lo:hi].sum(axis=3)
        parts[f"count_{name}"] = count[..., lo:hi].sum(axis=3)
    parts["net_loss"] = np.cumsum(segments[..., L.CHARGEOFF] - segments[..., L.RECOVERY], axis=1)
    return parts


def bucket_rate_paths(aggregates, buckets=SEGMENT_BUCKETS):
    """The book's overdue rate per bucket, averaged over paths, per month: ``{bucket: array (n_months + 1,)}``.

    ``rate_b(t) = sum_p balance_b(p, t) / sum_p balance(p, t)`` (balance in the bucket over the live balance,
    pooled over equally weighted paths), for the buckets of :data:`BUCKETS`.
    """
    parts = segment_parts(aggregates)
    live = parts["balance"].sum(axis=(0, 2))
    return {bucket: parts[f"balance_{bucket}"].sum(axis=(0, 2)) / np.where(live > 0, live, 1.0) for bucket in buckets}


def segment_series(aggregates, scenario, weights=None):
    """Per-path monthly series of each segment, ``{name: array (n_paths, n_months + 1, n_segments)}``.

    * ``overdue_rate_{1_30,31_90,90p}``: the segment's bucket balance / its live balance;
    * ``cumulative_loss_rate``: its net loss to date / its opening balance;
    * ``cumulative_loss_contribution``: its net loss to date / the book's opening
      balance (the segments' contributions add up to the book's loss rate);
    * ``loss_share``: its net loss to date / the book's (0 while the book has none);
    * ``ifrs9_ecl``: its ECL stock, from its own rates
      (:func:`simulator.accounts.ifrs9.segment_ecl_by_stage`);
    * ``provision_share``: its ECL / the book's ECL.

    Parameters
    ----------
    aggregates : array (n_paths, n_months + 1, n_segments, N_METRICS)
    scenario : Scenario
    weights : array (n_paths,), optional
        The paths' importance-sampling weights, which pool the ECL rates over paths
        (:func:`simulator.accounts.ifrs9.pooled_sum`).
    """
    parts = segment_parts(aggregates)
    ecl = segment_ecl_by_stage(aggregates, scenario, weights).sum(axis=3)
    book_opening = L.segment_total(parts["balance"][:, :1], axis=2)[:, :, None]
    series = {f"overdue_rate_{bucket}": _ratio(parts[f"balance_{bucket}"], parts["balance"])
              for bucket in SEGMENT_BUCKETS}
    series["cumulative_loss_rate"] = _ratio(parts["net_loss"], parts["balance"][:, :1])
    series["cumulative_loss_contribution"] = _ratio(parts["net_loss"], book_opening)
    series["loss_share"] = _ratio(parts["net_loss"], L.segment_total(parts["net_loss"], axis=2)[:, :, None])
    series["ifrs9_ecl"] = ecl
    series["provision_share"] = _ratio(ecl, L.segment_total(ecl, axis=2)[:, :, None])
    return series


def segment_headline_values(by_segment, series):
    """One value per path and segment for each metric of :data:`SEGMENT_METRICS`, the book's in a last column.

    Peaks over months 1..H of the segment's own series; ``final_*``,
    ``cumulative_loss_rate``, ``cumulative_loss_contribution`` and ``loss_share`` at the
    horizon; ``provision_share`` is the segment's share of the book's ECL in the month
    the book's ECL peaks on the path (the month the book's headline ``peak_ifrs9_ecl``
    is read). The book's column is its own headline figure (shares 1).

    Parameters
    ----------
    by_segment : dict
        :func:`segment_series`.
    series : dict
        The book's series (:func:`path_series`).

    Returns
    -------
    dict of str -> numpy.ndarray (n_paths, n_segments + 1)
    """
    n_paths = series["book_balance"].shape[0]
    book_ones = np.ones((n_paths, 1))
    values = {}
    for bucket in SEGMENT_BUCKETS:
        rate = by_segment[f"overdue_rate_{bucket}"]
        book = series[f"overdue_rate_{bucket}"]
        values[f"peak_overdue_rate_{bucket}"] = np.column_stack([_peak(rate), _peak(book)])
        values[f"final_overdue_rate_{bucket}"] = np.column_stack([rate[:, -1], book[:, -1]])
    book_loss = series["cumulative_loss_rate"][:, -1]
    values["cumulative_loss_rate"] = np.column_stack([by_segment["cumulative_loss_rate"][:, -1], book_loss])
    values["cumulative_loss_contribution"] = np.column_stack(
        [by_segment["cumulative_loss_contribution"][:, -1], book_loss])
    values["loss_share"] = np.column_stack([by_segment["loss_share"][:, -1], book_ones])
    values["peak_ifrs9_ecl"] = np.column_stack([_peak(by_segment["ifrs9_ecl"]), _peak(series["ifrs9_ecl"])])
    peak_month = 1 + np.argmax(series["ifrs9_ecl"][:, 1:], axis=1)
    values["provision_share"] = np.column_stack(
        [by_segment["provision_share"][np.arange(n_paths), peak_month], book_ones])
    return values


def path_series(aggregates, scenario, central, weights=None, stop_months=None):
    """Per-path monthly series ``(n_paths, n_months + 1)`` and per-path funding outcomes ``(n_paths,)``.

    The balances, overdue balances and net losses of the book are the sums of the
    segments' (:func:`segment_parts`); the IFRS 9 ECL is the sum of the segments'
    (:func:`simulator.accounts.provisioning.provisioning_series`).

    Parameters
    ----------
    aggregates : array (n_paths, n_months + 1, n_segments, N_METRICS)
        The engine's aggregates per segment (or the book's alone, then one segment).
    scenario : Scenario
    central : dict
        Central macro path per variable, percent (the policy rate prices funding).
    weights : array (n_paths,), optional
        The paths' importance-sampling weights, which pool the ECL rates over paths
        (:func:`simulator.accounts.ifrs9.pooled_sum`).
    stop_months : array (n_paths,), optional
        The month each path stopped lending in the engine (NaN: never); without it the
        months lending would stop are found from these flows (a run that lent on, the
        first pass of :func:`simulator.workflows.results.simulate_with_funding`).

    Returns
    -------
    series : dict of str -> numpy.ndarray (n_paths, n_months + 1)
    per_path : dict of str -> numpy.ndarray (n_paths,)
        ``survival_horizon_months``, ``lending_stop_month``, ``liquidity_breached``,
        ``liquidity_ratio_breached`` (:func:`~simulator.accounts.liquidity.funding_paths`) and
        ``failure_month``: the first month the buffer is negative (the lender cannot pay
        what falls due after stopping lending and drawing its emergency funding) or
        capital is below zero; months are floats, NaN when not within the horizon.
    """
    segments = L.with_segment_axis(aggregates)
    series = credit_series(segments, scenario)
    aggregates = L.book_aggregates(segments)
    series.update(provisioning_series(segments, scenario, weights))
    funding = _funding(series, scenario, central, stop_months)
    per_path = {key: funding.pop(key) for key in FUNDING_PER_PATH}
    series.update(funding)
    series.update(profit_and_capital(aggregates, series, scenario))
    capital_failure = series["capital"] < 0.0
    per_path["failure_month"] = np.fmin(per_path.pop("liquidity_failure_month"),
                                        np.where(capital_failure[:, 1:].any(axis=1),
                                                 capital_failure[:, 1:].argmax(axis=1) + 1.0, np.nan))
    return series, per_path


def lending_stop_months(aggregates, scenario, central):
    """The month each path would stop lending (NaN: never) given the engine's ``aggregates`` of a run that lent on
    (per segment or the book's), from its cash alone (:func:`~simulator.accounts.liquidity.funding_paths`).

    Only the path's own flows enter, so a path's stop month does not depend on the other paths."""
    series = credit_series(L.with_segment_axis(aggregates), scenario)
    return _funding(series, scenario, central, None)["lending_stop_month"]


def _funding(series, scenario, central, stop_months):
    """:func:`~simulator.accounts.liquidity.funding_paths` wired to the credit series (see its module docstring)."""
    return funding_paths(
        inflows=series["collected_cash"] + series["prepaid"] - series["action_cost"], new_lending=series["new_lending"],
        book_balance=series["book_balance"], overdue_90p=series["overdue_rate_90p"],
        overdue_m1p=series["overdue_rate_m1p"], policy_rate_pct=central["policy_rate"], funding=scenario.funding,
        opening_balance=series["book_balance"][:, 0], stop_month=stop_months)


def credit_series(segments, scenario):
    """The book's credit series of :func:`path_series`, before provisions and funding: balances, overdue rates,
    losses, cash from borrowers, new lending, unemployment, M1 rates and the management actions
    (:func:`action_series`), ``{name: array (n_paths, n_months + 1)}`` from the per-segment ``segments``."""
    book = {name: L.segment_total(part, axis=2) for name, part in segment_parts(segments).items()}
    aggregates = L.book_aggregates(segments)
    book_balance = book["balance"]
    book_count = book["count"]
    opening = book_balance[:, :1]
    series = {"book_balance": book_balance, "book_count": book_count}
    for name in BUCKETS:
        series[f"overdue_rate_{name}"] = _ratio(book[f"balance_{name}"], book_balance)
        series[f"overdue_rate_{name}_count"] = _ratio(book[f"count_{name}"], book_count)
    chargeoff = aggregates[:, :, L.CHARGEOFF]
    recovery = aggregates[:, :, L.RECOVERY]
    series["chargeoff"] = chargeoff
    series["recovery"] = recovery
    series["cumulative_loss_rate"] = _ratio(book["net_loss"], opening)
    series["scheduled_collections"] = aggregates[:, :, L.SCHEDULED]
    series["collected_cash"] = aggregates[:, :, L.COLLECTED] + recovery
    series["prepaid"] = aggregates[:, :, L.PREPAID]
    series["new_lending"] = aggregates[:, :, L.NEW_LENDING]
    collections_shortfall = aggregates[:, :, L.SCHEDULED] - series["collected_cash"]
    collections_shortfall[:, 0] = 0.0
    series["collections_shortfall"] = collections_shortfall
    series["book_unemployment_rate"] = _ratio(aggregates[:, :, L.UNEMPLOYED], book_count)
    series["labour_market_unemployment_rate"] = _ratio(aggregates[:, :, L.LABOUR_MARKET_UNEMPLOYED], book_count)
    m1_start = aggregates[:, :, L.M1_START]
    series["m1_collection_rate"] = np.where(m1_start > 0, 1.0 - _ratio(aggregates[:, :, L.M1_ROLLED], m1_start),
                                            np.nan)
    series["m1_cure_rate"] = np.where(m1_start > 0, _ratio(aggregates[:, :, L.M1_CURED], m1_start), np.nan)
    series["m1_collection_rate"][:, 0] = np.nan
    series["m1_cure_rate"][:, 0] = np.nan
    series.update(action_series(aggregates, scenario))
    return series


FUNDING_PER_PATH = ("survival_horizon_months", "lending_stop_month", "liquidity_failure_month",
                    "liquidity_breached", "liquidity_ratio_breached")
"""The per-path results of :func:`~simulator.accounts.liquidity.funding_paths` (months as floats, NaN: not within
the horizon)."""


def action_series(aggregates, scenario):
    """What the management actions did and cost, per path and month.

    ``contacts`` and ``collection_cost`` (contacts x cost per contact),
    ``restructurings`` (new plans) and ``restructuring_cost``, ``action_cost`` (both),
    ``restructured_balance`` and ``restructured_share`` of the book, ``redefaults``
    (restructured loans charged off) and ``redefault_rate`` (cumulative re-defaults /
    cumulative restructurings; NaN before the first plan).
    """
    actions = scenario.actions
    contact_cost = actions.collections.cost_per_contact if actions.collections else 0.0
    plan_cost = actions.restructuring.cost_per_restructuring if actions.restructuring else 0.0
    series = {"contacts": aggregates[:, :, L.CONTACTS], "restructurings": aggregates[:, :, L.RESTRUCTURINGS],
              "redefaults": aggregates[:, :, L.REDEFAULTS]}
    series["collection_cost"] = contact_cost * series["contacts"]
    series["restructuring_cost"] = plan_cost * series["restructurings"]
    series["action_cost"] = series["collection_cost"] + series["restructuring_cost"]
    restructured = aggregates[:, :, L.RESTRUCTURED_BALANCE:L.RESTRUCTURED_BALANCE + L.N_LIVE_STATES].sum(axis=2)
    series["restructured_balance"] = restructured
    series["restructured_share"] = _ratio(restructured, aggregates[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
                                          .sum(axis=2))
    plans = np.cumsum(series["restructurings"], axis=1)
    series["redefault_rate"] = np.where(plans > 0, _ratio(np.cumsum(series["redefaults"], axis=1), plans), np.nan)
    return series


VINTAGE_MONTHS_ON_BOOK = 12
"""Months on book at which the headline new-vintage 90+ rate is read."""


def vintage_curve(aggregates, vintages):
    """Ever-90+ rate of new loans by months on book, pooled over the vintages written in months 1..H.

    ``curve[p, k] = sum_v ever90(p, v, <= k) / sum_v written(p, v)`` over the vintages
    ``v`` old enough to have been on the book ``k`` months by the horizon
    (``v + k <= H``); NaN where none is. ``vintages[p, v, k]`` counts the loans written
    in month v that first reach 90+ DPD at months on book k.

    Returns
    -------
    numpy.ndarray (n_paths, n_months + 1), indexed by months on book
    """
    n_months = aggregates.shape[1] - 1
    written = aggregates[:, :, L.NEW_LOANS]
    cumulative = np.cumsum(vintages, axis=2)
    curve = np.full((aggregates.shape[0], n_months + 1), np.nan)
    for k in range(n_months):
        v = np.arange(1, n_months - k + 1)
        total = written[:, v].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            curve[:, k] = np.where(total > 0, cumulative[:, v, k].sum(axis=1) / np.where(total > 0, total, 1), np.nan)
    return curve


def _peak(values):
    """Largest value over months 1..H (NaNs ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmax(values[:, 1:], axis=1)


def _lowest(values):
    """Smallest value over months 1..H (NaNs ignored; NaN if never defined)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmin(values[:, 1:], axis=1)


def headline_values(aggregates, series, per_path, vintages=None):
    """One value per path for each headline metric (see :data:`HEADLINE_METRICS` and docs/outputs.md).

    Peaks and minima are over months 1..H; M1 rates pool all months of the path;
    ``*_breached`` and ``abs_trigger_hit`` are 1 if it happened in any month, so
    their mean is the probability across paths, as are ``lending_stop_probability``
    and ``failure_probability`` (the path stopped lending, failed, within the horizon);
    ``survival_horizon_months``, ``lending_stop_month`` and ``failure_month`` are NaN on
    a path where it does not happen within the horizon (:data:`CONDITIONAL_METRICS`).
    """
    values = {}
    for bucket in ("1_30", "31_90", "90p"):
        rate = series[f"overdue_rate_{bucket}"]
        values[f"peak_overdue_rate_{bucket}"] = _peak(rate)
        values[f"final_overdue_rate_{bucket}"] = rate[:, -1]
    values["cumulative_loss_rate"] = series["cumulative_loss_rate"][:, -1]
    values["total_collections_shortfall"] = series["collections_shortfall"].sum(axis=1)
    values["min_liquidity_buffer"] = series["liquidity_buffer"].min(axis=1)
    values["peak_provision_requirement"] = _peak(series["provision_requirement"])
    m1_start = aggregates[:, 1:, L.M1_START].sum(axis=1)
    values["m1_collection_rate"] = 1.0 - _ratio(aggregates[:, 1:, L.M1_ROLLED].sum(axis=1), m1_start)
    values["m1_cure_rate"] = _ratio(aggregates[:, 1:, L.M1_CURED].sum(axis=1), m1_start)
    values["peak_ifrs9_ecl"] = _peak(series["ifrs9_ecl"])
    values["peak_five_category_minimum"] = _peak(series["five_category_minimum"])
    values["ifrs9_binding_share"] = series["ifrs9_binds"][:, 1:].mean(axis=1)
    values["peak_npl_ratio"] = _peak(series["npl_ratio"])
    values["min_coverage_ratio"] = _lowest(series["coverage_ratio"])
    values["min_loan_provision_ratio"] = _lowest(series["loan_provision_ratio"])
    values["coverage_floor_breached"] = series["coverage_breach"][:, 1:].max(axis=1)
    values["loan_provision_floor_breached"] = series["loan_provision_breach"][:, 1:].max(axis=1)
    values["max_provision_shortfall"] = series["provision_shortfall"][:, 1:].max(axis=1)
    values["total_provision_charge"] = series["provision_charge"].sum(axis=1)
    values["survival_horizon_months"] = per_path["survival_horizon_months"]
    values["liquidity_breached"] = per_path["liquidity_breached"].astype(float)
    values["lending_stop_month"] = per_path["lending_stop_month"]
    values["lending_stop_probability"] = (~np.isnan(per_path["lending_stop_month"])).astype(float)
    values["peak_emergency_funding"] = series["emergency_outstanding"].max(axis=1)
    values["total_emergency_funding_cost"] = series["emergency_funding_cost"].sum(axis=1)
    values["failure_month"] = per_path["failure_month"]
    values["failure_probability"] = (~np.isnan(per_path["failure_month"])).astype(float)
    values["min_liquidity_ratio"] = _lowest(series["liquidity_ratio"])
    values["liquidity_ratio_breached"] = per_path["liquidity_ratio_breached"].astype(float)
    values["abs_trigger_hit"] = series["abs_trigger_hit"].max(axis=1)
    values["cumulative_profit"] = series["cumulative_profit"][:, -1]
    values["min_capital_ratio"] = _lowest(series["capital_ratio"])
    values["capital_floor_breached"] = series["capital_breach"][:, 1:].max(axis=1)
    # re-default rate over the horizon: 0 on a path where no loan was restructured
    values["total_action_cost"] = series["action_cost"].sum(axis=1)
    values["total_collection_cost"] = series["collection_cost"].sum(axis=1)
    values["total_restructuring_cost"] = series["restructuring_cost"].sum(axis=1)
    values["restructurings"] = series["restructurings"].sum(axis=1)
    values["redefault_rate"] = np.nan_to_num(series["redefault_rate"][:, -1])
    values["peak_book_unemployment_rate"] = _peak(series["book_unemployment_rate"])
    if vintages is not None:
        curve = vintage_curve(aggregates, vintages)
        values[f"new_vintage_ever_90p_rate_{VINTAGE_MONTHS_ON_BOOK}m"] = (
            curve[:, VINTAGE_MONTHS_ON_BOOK] if curve.shape[1] > VINTAGE_MONTHS_ON_BOOK + 1
            else np.full(curve.shape[0], np.nan))  # horizon too short for a 12-month-old vintage
    return values


def describe(values, design=None):
    """Mean, p05, p50, p95, p99 and the Monte Carlo standard error of the mean over paths (axis 0).

    Plain Monte Carlo (``design`` ``None``, or a design with one replicate per path
    and no weights): ``se = s / sqrt(N)`` with the sample standard deviation ``s``
    (NaN for one path: one value says nothing of its error; fewer than
    :data:`MIN_REPLICATES` replicates give an unreliable one). Otherwise (:class:`simulator.model.sampling.PathDesign`) the
    mean is the weighted (self-normalised) mean ``sum w f / sum w``, the percentiles
    are importance-sampling quantiles (:func:`weighted_quantile`) and the
    standard error is that of a ratio estimator over the ``G`` independent replicates
    ``g`` (pairs, scrambles or paths) with ``Y_g = sum_{p in g} w_p f_p`` and
    ``W_g = sum_{p in g} w_p``::

        se^2 = sum_g (Y_g - mean W_g)^2 / (G (G - 1) Wbar^2),   Wbar = sum_g W_g / G

    (Glasserman 2003, 4.1.1 and 4.6; it is ``s^2 / N`` for one unweighted path per
    replicate). NaNs (months without the quantity) are ignored.
    """
    values = np.asarray(values, dtype=float)
    if design is not None and design.weights is None and design.n_replicates == values.shape[0]:
        design = None  # plain Monte Carlo
    n = np.sum(~np.isnan(values), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if design is None:
            mean = np.nanmean(values, axis=0)
            pct = np.nanpercentile(values, PERCENTILES, axis=0)
            sd = np.nanstd(values, axis=0, ddof=1) if values.shape[0] > 1 else np.full_like(mean, np.nan)
            se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.nan)  # one value: no error estimate
        else:
            mean, se = replicate_mean(values, design)
            pct = weighted_percentiles(values, PERCENTILES, design.weights)
    out = {"mean": mean}
    for p, v in zip(PERCENTILES, pct):
        out[f"p{p:02d}"] = v
    out["se"] = se
    return out


def paired_difference(values, reference, design=None):
    """Mean difference ``values - reference`` over paths on common random numbers, with its standard errors.

    Each path meets the same draws in both runs, so the difference's Monte Carlo
    error is that of the per-path differences, ``se_difference = sd(d) / sqrt(N)``
    (:func:`describe` of ``d = values - reference`` under the run's ``design``), usually far below the error
    ``se_independent = sqrt(se_values^2 + se_reference^2)`` the same difference
    would have with independent draws; ``variance_reduction`` is the ratio of the
    squares (NaN where the paired error is 0). Paths where either is NaN are left out
    of the difference.

    Returns
    -------
    dict of str -> float or numpy.ndarray
        ``mean`` (of ``values``), ``difference``, ``se_difference``, ``se_independent``,
        ``variance_reduction``; arrays when the values have more axes than the paths'.
    """
    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    difference = describe(values - reference, design)
    own, base = describe(values, design), describe(reference, design)
    se_independent = np.sqrt(own["se"] ** 2 + base["se"] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        reduction = np.where(difference["se"] > 0, se_independent ** 2 / difference["se"] ** 2, np.nan)
    return {"mean": own["mean"], "difference": difference["mean"], "se_difference": difference["se"],
            "se_independent": se_independent, "variance_reduction": reduction}


def ratio_of_means(numerator, denominator, design=None):
    """``R = mean(x) / mean(y)`` over paths and its delta-method standard error.

    Linearising ``R`` around the means gives one value per path, ``z_p = (x_p - R y_p) /
    mean(y)``, whose mean is 0 and whose standard error (through :func:`describe`, under
    the run's ``design``) is the standard error of ``R`` (the delta method for a ratio of
    means; Cochran, *Sampling Techniques*, 1977, 6.3). Paths where either value is NaN
    are left out; ``R`` and its se are NaN when ``mean(y)`` is 0.

    Returns
    -------
    ratio, se : float
    """
    x, y = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    missing = np.isnan(x) | np.isnan(y)
    x, y = np.where(missing, np.nan, x), np.where(missing, np.nan, y)
    mean_y = float(describe(y, design)["mean"]) if not missing.all() else np.nan
    if not np.isfinite(mean_y) or mean_y == 0.0:
        return np.nan, np.nan
    ratio = float(describe(x, design)["mean"]) / mean_y
    return ratio, float(describe((x - ratio * y) / mean_y, design)["se"])


def path_weights(design, n_paths):
    """Each path's weight under ``design`` (ones when it has none)."""
    if design is None or design.weights is None:
        return np.ones(n_paths)
    return design.weights


def replicate_mean(values, design):
    """The weighted mean of ``values`` (paths on axis 0) and its standard error over ``design``'s replicates.

    See :func:`describe` for the formulas. NaN values drop out of both sums.
    """
    w = path_weights(design, values.shape[0]).reshape((-1,) + (1,) * (values.ndim - 1))
    present = ~np.isnan(values)
    weighted = np.where(present, values, 0.0) * w
    kept = present * w
    n_groups = design.n_replicates
    y = np.zeros((n_groups,) + values.shape[1:])
    total = np.zeros_like(y)
    np.add.at(y, design.replicates, weighted)
    np.add.at(total, design.replicates, kept)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = y.sum(axis=0) / total.sum(axis=0)
        groups = np.sum(total > 0, axis=0)
        spread = np.sum(np.where(total > 0, y - mean * total, 0.0) ** 2, axis=0)
        w_bar = total.sum(axis=0) / groups
        se = np.where(groups > 1, np.sqrt(spread / (groups * (groups - 1.0))) / w_bar, np.nan)  # one: no error
    return mean, se


def weighted_percentiles(values, percentiles, weights=None):
    """Percentiles of each column of ``values`` (paths on axis 0) under path weights (:func:`weighted_quantile`).

    NaN where a column has no value.

    Returns
    -------
    numpy.ndarray (len(percentiles),) + values.shape[1:]
    """
    values = np.asarray(values, dtype=float)
    flat = values.reshape(values.shape[0], -1)
    weights = np.ones(values.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    levels = np.asarray(percentiles, dtype=float) / 100.0
    out = np.full((len(levels), flat.shape[1]), np.nan)
    for column in range(flat.shape[1]):
        present = ~np.isnan(flat[:, column])
        if present.any():
            out[:, column] = [weighted_quantile(flat[present, column], level, weights[present])
                              for level in levels]
    return out.reshape((len(levels),) + values.shape[1:])


def weighted_quantile(values, level, weights):
    """The importance-sampling quantile of ``values`` with likelihood ratios ``weights`` (Glynn 1996).

    Upper quantiles (``level >= 1/2``) invert the estimated tail
    ``Fbar(x) = (1/N) sum_i w_i 1{v_i > x}``: the smallest ``x`` with
    ``Fbar(x) <= 1 - level``; lower ones the estimated head
    ``F(x) = (1/N) sum_i w_i 1{v_i <= x} >= level``. Each uses only the paths on its
    own side, where importance sampling put them (self-normalising by ``sum w``
    would bring in the weights' noise from the other side). With equal weights
    both give the ``ceil(level N)``-th smallest value.
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    n = len(values)
    if level >= 0.5:
        k = np.searchsorted(-(cumulative[-1] - cumulative) / n, -(1.0 - level), side="left")
    else:
        k = np.searchsorted(cumulative / n, level, side="left")
    return values[order[min(k, n - 1)]]


def value_at_risk(losses, level, weights=None):
    """Empirical VaR: the ``ceil(level N)``-th smallest loss; with importance weights, :func:`weighted_quantile`
    (the same number for equal weights)."""
    losses = np.asarray(losses, dtype=float)
    if weights is not None:
        return weighted_quantile(losses, level, np.asarray(weights, dtype=float))
    ordered = np.sort(losses)
    k = int(np.ceil(level * len(ordered))) - 1
    return ordered[min(max(k, 0), len(ordered) - 1)]


def expected_shortfall(losses, level, weights=None):
    """Expected shortfall: the average of the worst ``(1 - level)`` of the losses (Acerbi-Tasche, 2002).

    ``ES = VaR + sum_i w_i (L_i - VaR)^+ / (N (1 - level))`` with the likelihood ratios
    ``w_i`` (1 without importance sampling, where it is the average of the worst
    ``(1 - level) N`` losses, the boundary loss taking its fractional weight), so
    ES >= VaR always.
    """
    losses = np.asarray(losses, dtype=float)
    if weights is not None:
        var = weighted_quantile(losses, level, np.asarray(weights, dtype=float))
        if level >= 1.0:
            return var
        return var + np.sum(weights * np.maximum(losses - var, 0.0)) / (len(losses) * (1.0 - level))
    ordered = np.sort(losses)[::-1]
    tail = (1.0 - level) * len(ordered)
    whole = int(np.floor(tail))
    total = ordered[:whole].sum()
    if whole < len(ordered) and tail > whole:
        total += (tail - whole) * ordered[whole]
    if tail <= 0:
        return ordered[0]
    return total / tail


def tail_risk(losses, seed, design=None, n_boot=200):
    """VaR and ES of the losses at :data:`TAIL_LEVELS`, each with a bootstrap standard error.

    The bootstrap resamples the independent replicates of ``design`` (paths under
    plain Monte Carlo, pairs or scrambles otherwise; each with its paths' weights)
    ``n_boot`` times, with a generator seeded from the run's seed, so the reported
    errors are reproducible.
    """
    losses = np.asarray(losses, dtype=float)
    weights = None if design is None else design.weights
    replicates = np.arange(len(losses)) if design is None else design.replicates
    members = np.split(np.argsort(replicates, kind="stable"), np.cumsum(np.bincount(replicates))[:-1])
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7])))
    resamples = rng.integers(0, len(members), size=(n_boot, len(members)))
    if all(len(group) == 1 for group in members):
        paths = [np.concatenate(members)[idx] for idx in resamples]
    else:
        paths = [np.concatenate([members[g] for g in idx]) for idx in resamples]
    out = {}
    for level in TAIL_LEVELS:
        tag = f"{level * 100:g}".replace(".", "")
        beyond = tail_paths(losses, level, weights)
        for name, fn in (("var", value_at_risk), ("es", expected_shortfall)):
            boot = np.array([fn(losses[idx], level, None if weights is None else weights[idx]) for idx in paths])
            out[f"loss_{name}_{tag}"] = {"value": float(fn(losses, level, weights)),
                                         "se": float(boot.std(ddof=1)) if len(members) > 1 else 0.0,
                                         "paths_beyond": beyond, "reliable": beyond >= MIN_TAIL_PATHS}
    return out


def tail_paths(losses, level, weights=None):
    """The effective number of paths beyond the ``level`` VaR, what a VaR or ES at that level rests on.

    Plain Monte Carlo: ``(1 - level) N`` (the paths averaged by the expected
    shortfall). With importance weights ``w``: Kish's effective sample size of the
    paths whose loss exceeds the VaR, ``(sum w)^2 / sum w^2`` (Kish, *Survey
    Sampling*, 1965, 11.7), 0 when none does. Compared with :data:`MIN_TAIL_PATHS`.
    """
    losses = np.asarray(losses, dtype=float)
    if weights is None:
        return round((1.0 - level) * len(losses), 6)
    weights = np.asarray(weights, dtype=float)
    tail = weights[losses > value_at_risk(losses, level, weights)]
    return float(tail.sum() ** 2 / np.sum(tail ** 2)) if len(tail) else 0.0
