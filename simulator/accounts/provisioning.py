"""Provisioning: the five-category regulatory minimum, IFRS 9, and which of them binds.

Five-category classification (正常 normal, 关注 special mention, 次级 substandard,
可疑 doubtful, 损失 loss) by days past due with configurable thresholds (default:
the credit-card rules of 商业银行信用卡业务监督管理办法 Art. 92: 关注 1-90, 次级 91-120,
可疑 121-180, 损失 beyond 180) and minimum provision rates (PBOC 2002 guideline:
general reserve 1% of loans, 2%, 25%, 50%, 100%). A restructured loan is in at
least ``restructured_category`` (default 关注). NPL = 次级 + 可疑 + 损失.

The provision the lender must hold each month is the larger of the IFRS 9 ECL
stock and the five-category minimum; the output says which binds. Against it:
the provision coverage ratio (provision / NPL, floor 150%) and the loan-provision
ratio (provision / loans, floor 2.5%) (CBRC 2018 No. 7), their breaches and the
shortfall to the floors. The provision charge, the P&L hit, is the change in
the provision held plus write-offs net of recoveries.

References
----------
商业银行信用卡业务监督管理办法 (CBRC 2011 No. 2), Art. 92: classification of credit-card loans by days past due.
中国人民银行 银行贷款损失准备计提指引 (PBOC 2002): general reserve and the provision rates by category.
中国银监会 关于调整商业银行贷款损失准备监管要求的通知 (CBRC 2018 No. 7): provision coverage and loan-provision ratios.
IFRS 9 *Financial Instruments*, section 5.5, Impairment.
"""
import numpy as np

from ..model.engine import layout as L
from .ifrs9 import balance_by_stage, segment_ecl_by_stage, split_balance

CATEGORIES = ("normal", "special_mention", "substandard", "doubtful", "loss")
NPL_CATEGORIES = (2, 3, 4)


def category_of_states(five_category):
    """Five-category index (0 normal .. 4 loss) of each live state 0..6.

    State d >= 1 holds loans (30(d-1), 30d] days past due; a category whose rule is
    "after X days" takes the states with ``d >= X / 30 + 1``.
    """
    states = np.arange(L.N_LIVE_STATES)
    category = np.zeros(L.N_LIVE_STATES, dtype=int)
    for index, threshold in enumerate(five_category.thresholds(), start=1):
        category[states >= threshold // 30 + 1] = index
    return category


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def provisioning_series(aggregates, scenario, weights=None):
    """Per-path monthly provisioning series of the book, each ``(n_paths, n_months + 1)``.

    ``aggregates`` are the engine's per segment ``(n_paths, n_months + 1, n_segments, N_METRICS)``
    (or the book's alone, then one segment). The IFRS 9 ECL is the sum of the
    segments' (:func:`simulator.accounts.ifrs9.segment_ecl_by_stage`, added in segment order),
    per stage and in total; everything else is the book's.

    Returns
    -------
    dict of str -> numpy.ndarray
        ``ecl_stage_{1,2,3}``, ``balance_stage_{1,2,3}``, ``ifrs9_ecl``,
        ``balance_{category}``, ``npl_balance``, ``npl_ratio``,
        ``five_category_minimum``, ``provision_requirement`` (the larger of the two),
        ``ifrs9_binds`` (1 where IFRS 9 is at least as large), ``coverage_ratio``,
        ``loan_provision_ratio``, ``coverage_breach``, ``loan_provision_breach``
        (1 where below the floor), ``provision_shortfall`` (to the floors) and
        ``provision_charge``.
    """
    spec = scenario.provisioning.five_category
    segment_ecl = segment_ecl_by_stage(aggregates, scenario, weights)
    aggregates = L.book_aggregates(L.with_segment_axis(aggregates))
    balance = aggregates[:, :, L.BALANCE:L.BALANCE + L.N_LIVE_STATES]
    plain, restructured = split_balance(aggregates)
    loans = balance.sum(axis=2)
    category = category_of_states(spec)
    restructured_category = np.maximum(category, CATEGORIES.index(spec.restructured_category))
    rates = np.array([getattr(spec.resolved.rates, name) for name in CATEGORIES])
    series = {}
    stage_balance = balance_by_stage(aggregates, scenario)
    for k in range(3):
        series[f"ecl_stage_{k + 1}"] = L.segment_total(segment_ecl[:, :, :, k], axis=2)
        series[f"balance_stage_{k + 1}"] = stage_balance[:, :, k]
    series["ifrs9_ecl"] = L.segment_total(segment_ecl.sum(axis=3), axis=2)
    for index, name in enumerate(CATEGORIES):
        series[f"balance_{name}"] = (plain[:, :, category == index].sum(axis=2)
                                     + restructured[:, :, restructured_category == index].sum(axis=2))
    npl = sum(series[f"balance_{CATEGORIES[c]}"] for c in NPL_CATEGORIES)
    series["npl_balance"] = npl
    series["npl_ratio"] = _ratio(npl, loans)
    series["five_category_minimum"] = ((plain * rates[category]).sum(axis=2)
                                       + (restructured * rates[restructured_category]).sum(axis=2))
    held = np.maximum(series["ifrs9_ecl"], series["five_category_minimum"])
    series["provision_requirement"] = held
    series["ifrs9_binds"] = (series["ifrs9_ecl"] >= series["five_category_minimum"]).astype(float)
    series["coverage_ratio"] = _ratio(held, npl)
    series["loan_provision_ratio"] = _ratio(held, loans)
    coverage_floor = spec.resolved.coverage_floor
    lpr_floor = spec.resolved.loan_provision_floor
    series["coverage_breach"] = (held < coverage_floor * npl).astype(float)
    series["loan_provision_breach"] = (held < lpr_floor * loans).astype(float)
    series["provision_shortfall"] = np.maximum(0.0, np.maximum(coverage_floor * npl, lpr_floor * loans) - held)
    charge = np.zeros_like(held)
    charge[:, 1:] = (np.diff(held, axis=1) + aggregates[:, 1:, L.CHARGEOFF] - aggregates[:, 1:, L.RECOVERY])
    series["provision_charge"] = charge
    return series
