"""From per-path aggregates to the reported metrics: series, headline figures, bands and errors.

Definitions (DESIGN 3.3 and 5; rates are fractions, money in book currency):

* overdue rate of a bucket = balance in the bucket / balance of all live loans
  (not charged off, not closed); buckets 1-30 (state 1), 31-90 (states 2-3), 90+
  (states 4-6, charged-off loans excluded); ``*_count`` variants use loan counts;
  M1+ = 1+ DPD, M3+ = 61+ DPD;
* cumulative loss rate = (charge-offs - recoveries) to date / opening balance;
* liquidity loss = scheduled instalments - cash collected from borrowers - recoveries;
* M1 collection rate = 1 - (loans rolling from 1-30 to 31-60) / (loans in 1-30 at
  the start of the month); M1 cure rate = share of those back to current;
* book unemployment rate = share of live loans whose borrower is out of work; the
  labour-market unemployment rate = the live loans' average of their segment's rate
  ``u_t x sensitivity`` on the path, what the book's borrowers would show if they
  were a random draw from their segments' populations (structural model; both 0
  under the roll-rate model);
* provisioning (:mod:`simulator.accounts.provisioning`), funding and liquidity
  (:mod:`simulator.accounts.liquidity`), profit and capital (:mod:`simulator.accounts.profitability`).
"""
import warnings

import numpy as np

from ..model.engine import layout as L
from .liquidity import funding_paths
from .profitability import profit_and_capital
from .provisioning import provisioning_series

PERCENTILES = (5, 50, 95, 99)
TAIL_LEVELS = (0.99, 0.999)

MONEY_METRICS = (
    "liquidity_shortfall", "min_liquidity_buffer", "peak_provision_requirement", "peak_ifrs9_ecl",
    "peak_five_category_minimum", "total_provision_charge", "max_provision_shortfall", "cumulative_profit",
    "total_action_cost", "total_collection_cost", "total_restructuring_cost",
)
"""Headline metrics in the book's currency."""

COUNT_METRICS = ("restructurings",)
"""Headline metrics that count loans; the others are fractions, months (``*_months``) or money."""

HEADLINE_METRICS = (
    "peak_overdue_rate_1_30", "peak_overdue_rate_31_90", "peak_overdue_rate_90p",
    "final_overdue_rate_1_30", "final_overdue_rate_31_90", "final_overdue_rate_90p",
    "cumulative_loss_rate", "liquidity_shortfall", "min_liquidity_buffer", "peak_provision_requirement",
    "m1_collection_rate", "m1_cure_rate",
    "peak_ifrs9_ecl", "peak_five_category_minimum", "ifrs9_binding_share", "peak_npl_ratio",
    "min_coverage_ratio", "min_loan_provision_ratio", "coverage_floor_breached", "loan_provision_floor_breached",
    "max_provision_shortfall", "total_provision_charge",
    "survival_horizon_months", "liquidity_breached", "min_liquidity_ratio", "liquidity_ratio_breached",
    "abs_trigger_hit", "cumulative_profit", "min_capital_ratio", "capital_floor_breached",
    "total_action_cost", "total_collection_cost", "total_restructuring_cost", "restructurings", "redefault_rate",
    "new_vintage_ever_90p_rate_12m", "peak_book_unemployment_rate",
)

def metric_kind(name):
    """How a headline metric is shown: ``money``, ``months``, ``count`` or ``rate`` (a fraction)."""
    if name in MONEY_METRICS:
        return "money"
    if name.endswith("_months"):
        return "months"
    return "count" if name in COUNT_METRICS else "rate"


def format_value(value, kind, decimals=2):
    """``value`` as text: rates in percent (``decimals`` places), money and counts with thousands separators,
    ``n/a`` where the quantity does not exist."""
    if value is None or value != value:  # the quantity does not exist (e.g. no liabilities falling due)
        return "n/a"
    if kind in ("money", "count"):
        return f"{value:,.0f}"
    if kind == "months":
        return f"{value:.1f}"
    return f"{value:.{decimals}%}"


BUCKETS = {"1_30": (1, 2), "31_90": (2, 4), "90p": (4, 7), "m1p": (1, 7), "m3p": (3, 7)}
"""Bucket name -> slice of live states [start, stop)."""


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def path_series(aggregates, scenario, central):
    """Per-path monthly series ``(n_paths, n_months + 1)`` and per-path funding outcomes ``(n_paths,)``.

    Parameters
    ----------
    aggregates : array (n_paths, n_months + 1, N_METRICS)
    scenario : Scenario
    central : dict
        Central macro path per variable, percent (the policy rate prices funding).

    Returns
    -------
    series : dict of str -> numpy.ndarray (n_paths, n_months + 1)
    per_path : dict of str -> numpy.ndarray (n_paths,)
        ``survival_horizon_months``, ``liquidity_breached``, ``liquidity_ratio_breached``.
    """
    balance = aggregates[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
    count = aggregates[:, :, L.COUNT:L.COUNT + L.N_LIVE_STATES]
    book_balance = balance.sum(axis=2)
    book_count = count.sum(axis=2)
    opening = book_balance[:, :1]
    series = {"book_balance": book_balance, "book_count": book_count}
    for name, (lo, hi) in BUCKETS.items():
        series[f"overdue_rate_{name}"] = _ratio(balance[:, :, lo:hi].sum(axis=2), book_balance)
        series[f"overdue_rate_{name}_count"] = _ratio(count[:, :, lo:hi].sum(axis=2), book_count)
    chargeoff = aggregates[:, :, L.CHARGEOFF]
    recovery = aggregates[:, :, L.RECOVERY]
    series["chargeoff"] = chargeoff
    series["recovery"] = recovery
    series["cumulative_loss_rate"] = _ratio(np.cumsum(chargeoff - recovery, axis=1), opening)
    series["scheduled_collections"] = aggregates[:, :, L.SCHEDULED]
    series["collected_cash"] = aggregates[:, :, L.COLLECTED] + recovery
    series["prepaid"] = aggregates[:, :, L.PREPAID]
    series["new_lending"] = aggregates[:, :, L.NEW_LENDING]
    liquidity_loss = aggregates[:, :, L.SCHEDULED] - series["collected_cash"]
    liquidity_loss[:, 0] = 0.0
    series["liquidity_loss"] = liquidity_loss
    series["book_unemployment_rate"] = _ratio(aggregates[:, :, L.UNEMPLOYED], book_count)
    series["labour_market_unemployment_rate"] = _ratio(aggregates[:, :, L.LABOUR_MARKET_UNEMPLOYED], book_count)
    m1_start = aggregates[:, :, L.M1_START]
    series["m1_collection_rate"] = np.where(m1_start > 0, 1.0 - _ratio(aggregates[:, :, L.M1_ROLLED], m1_start),
                                            np.nan)
    series["m1_cure_rate"] = np.where(m1_start > 0, _ratio(aggregates[:, :, L.M1_CURED], m1_start), np.nan)
    series["m1_collection_rate"][:, 0] = np.nan
    series["m1_cure_rate"][:, 0] = np.nan
    series.update(provisioning_series(aggregates, scenario))
    series.update(action_series(aggregates, scenario))
    funding = funding_paths(
        inflows=series["collected_cash"] + series["prepaid"] - series["action_cost"], new_lending=series["new_lending"],
        book_balance=book_balance, scheduled=series["scheduled_collections"],
        overdue_90p=series["overdue_rate_90p"], overdue_m1p=series["overdue_rate_m1p"],
        policy_rate_pct=central["policy_rate"], funding=scenario.funding, opening_balance=opening[:, 0])
    per_path = {key: funding.pop(key) for key in ("survival_horizon_months", "liquidity_breached",
                                                  "liquidity_ratio_breached")}
    series.update(funding)
    series.update(profit_and_capital(aggregates, series, scenario))
    return series, per_path


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
    """One value per path for each headline metric (see :data:`HEADLINE_METRICS` and the README).

    Peaks and minima are over months 1..H; M1 rates pool all months of the path;
    ``*_breached`` and ``abs_trigger_hit`` are 1 if it happened in any month, so
    their mean is the probability across paths.
    """
    values = {}
    for bucket in ("1_30", "31_90", "90p"):
        rate = series[f"overdue_rate_{bucket}"]
        values[f"peak_overdue_rate_{bucket}"] = _peak(rate)
        values[f"final_overdue_rate_{bucket}"] = rate[:, -1]
    values["cumulative_loss_rate"] = series["cumulative_loss_rate"][:, -1]
    values["liquidity_shortfall"] = series["liquidity_loss"].sum(axis=1)
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
    values["survival_horizon_months"] = per_path["survival_horizon_months"].astype(float)
    values["liquidity_breached"] = per_path["liquidity_breached"].astype(float)
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


def describe(values, axis=0):
    """Mean, p05, p50, p95, p99 and the Monte Carlo standard error of the mean over paths.

    ``se = s / sqrt(N)`` with the sample standard deviation ``s`` (0 for one path).
    NaNs (months without the quantity) are ignored.
    """
    values = np.asarray(values, dtype=float)
    n = np.sum(~np.isnan(values), axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=axis)
        pct = np.nanpercentile(values, PERCENTILES, axis=axis)
        sd = np.nanstd(values, axis=axis, ddof=1) if values.shape[axis] > 1 else np.zeros_like(mean)
        se = np.where(n > 1, sd / np.sqrt(np.maximum(n, 1)), np.where(n == 1, 0.0, np.nan))
    out = {"mean": mean}
    for p, v in zip(PERCENTILES, pct):
        out[f"p{p:02d}"] = v
    out["se"] = se
    return out


def paired_difference(values, reference):
    """The mean per-path difference ``values - reference`` on common random numbers and its standard errors.

    Both arrays hold one value per path, path ``p`` of each having met the same
    random numbers; paths where either is NaN are left out. With ``d_p = values_p -
    reference_p`` over the ``n`` paths kept:

    * ``difference = mean(d)``, ``se = sd(d) / sqrt(n)`` (the paired standard error),
    * ``se_independent = sqrt(se(values)^2 + se(reference)^2)``, what the same
      difference would have with independent draws.

    Every statistic goes through :func:`describe`. Returns a dict of floats (NaN when
    no path has both values).
    """
    values, reference = np.asarray(values, dtype=float), np.asarray(reference, dtype=float)
    valid = ~(np.isnan(values) | np.isnan(reference))
    if not valid.any():
        return {"difference": np.nan, "se": np.nan, "se_independent": np.nan}
    paired = describe(values[valid] - reference[valid])
    se_independent = np.hypot(describe(values[valid])["se"], describe(reference[valid])["se"])
    return {"difference": float(paired["mean"]), "se": float(paired["se"]), "se_independent": float(se_independent)}


def ratio_of_means(numerator, denominator):
    """``R = mean(x) / mean(y)`` over paths and its delta-method standard error.

    Linearising ``R`` around the means gives one value per path, ``z_p = (x_p - R y_p) /
    mean(y)``, whose mean is 0 and whose standard error (through :func:`describe`) is
    the standard error of ``R`` (the delta method for a ratio of means; Cochran, *Sampling
    Techniques*, 1977, 6.3). Paths where either value is NaN are left out; ``R`` and its
    se are NaN when ``mean(y)`` is 0.

    Returns
    -------
    ratio, se : float
    """
    x, y = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    valid = ~(np.isnan(x) | np.isnan(y))
    x, y = x[valid], y[valid]
    mean_y = float(describe(y)["mean"]) if len(y) else np.nan
    if not np.isfinite(mean_y) or mean_y == 0.0:
        return np.nan, np.nan
    ratio = float(describe(x)["mean"]) / mean_y
    return ratio, float(describe((x - ratio * y) / mean_y)["se"])


def value_at_risk(losses, level):
    """Empirical VaR: the ``ceil(level N)``-th smallest loss."""
    ordered = np.sort(np.asarray(losses, dtype=float))
    k = int(np.ceil(level * len(ordered))) - 1
    return ordered[min(max(k, 0), len(ordered) - 1)]


def expected_shortfall(losses, level):
    """Expected shortfall: the average of the worst ``(1 - level) N`` losses (Acerbi-Tasche, 2002).

    The boundary observation gets its fractional weight, so ES >= VaR always.
    """
    ordered = np.sort(np.asarray(losses, dtype=float))[::-1]
    tail = (1.0 - level) * len(ordered)
    whole = int(np.floor(tail))
    total = ordered[:whole].sum()
    if whole < len(ordered) and tail > whole:
        total += (tail - whole) * ordered[whole]
    if tail <= 0:
        return ordered[0]
    return total / tail


def tail_risk(losses, seed, n_boot=200):
    """VaR and ES of the losses at :data:`TAIL_LEVELS`, each with a bootstrap standard error.

    The bootstrap resamples paths (``n_boot`` times) with a generator seeded from the
    run's seed, so the reported errors are reproducible.
    """
    losses = np.asarray(losses, dtype=float)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7])))
    resamples = rng.integers(0, len(losses), size=(n_boot, len(losses)))
    out = {}
    for level in TAIL_LEVELS:
        tag = f"{level * 100:g}".replace(".", "")
        for name, fn in (("var", value_at_risk), ("es", expected_shortfall)):
            boot = np.array([fn(losses[idx], level) for idx in resamples])
            out[f"loss_{name}_{tag}"] = {"value": float(fn(losses, level)),
                                         "se": float(boot.std(ddof=1)) if len(losses) > 1 else 0.0}
    return out
