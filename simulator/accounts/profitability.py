"""Profitability and capital: what overdue loans do to the lender's earnings and capital ratio.

Per path and month (t = 1..H; month 0 carries the opening capital only):

* interest income: the contractual interest accrued in the month, recognised in
  full on Stage 1 and 2 loans and on Stage 3 loans only on their net carrying
  amount (IFRS 9 5.4.1(b)): ``sum_{stage<3} I_d + sum_{stage 3} I_d (1 - ECL_3 / balance_3)``
  with the Stage 3 coverage of the month before. Penalty interest is not
  recognised (it is rarely collected on loans that go on to default; prudent);
* funding cost and operating cost from :mod:`simulator.accounts.liquidity`;
* the provision charge from :mod:`simulator.accounts.provisioning`;
* the cost of management actions (:func:`simulator.accounts.metrics.action_series`);
* pre-tax profit = interest income - funding cost - operating cost - action cost - provision charge;
* capital_t = capital_0 + cumulative profit (no tax, no dividends), capital_0 =
  ``opening_capital_pct`` of the opening book; risk-weighted assets = risk weight x
  book balance (the book actually held: it runs off once lending stops); capital
  ratio = capital / RWA against ``capital_ratio_floor_pct``.

The balance sheet, per path and month::

    loans net_t + cash_t = liabilities_t + other_t + capital_t
    loans net_t = book_t - provisions_t - suspense_t

with the gross book ``B + A`` of the live loans, the provisions held (the
provision requirement), the interest in suspense ``suspense_t = sum_{k <= t}
(I_k + penalty_k - income_k)`` (contractual and penalty interest accrued on the
loans but not recognised as income: a contra-asset, never released, so written-off
and later collected unrecognised interest stay in it: prudent), the cash buffer and
the liabilities of :mod:`simulator.accounts.liquidity` (emergency funding included).
``other`` is what the scenario's opening balance sheet leaves unexplained, ``loans
net_0 + cash_0 - liabilities_0 - capital_0``, held constant (no cash, no cost). The
identity then holds in every month because every flow is booked twice: the book
moves by ``new lending + I + penalty - collected - prepaid - charge-offs``, the cash
by the flows of the liquidity module, and capital by the profit, whose provision
charge is ``delta provisions + charge-offs - recoveries``.
"""
import numpy as np

from ..model.engine import layout as L
from .ifrs9 import stage_of_states


def profit_and_capital(aggregates, series, scenario):
    """Interest income, pre-tax profit, capital and the capital ratio per path and month.

    Parameters
    ----------
    aggregates : array (n_paths, n_months + 1, N_METRICS)
    series : dict
        Needs ``ecl_stage_3``, ``balance_stage_3``, ``funding_cost``, ``operating_cost``,
        ``action_cost``, ``provision_charge``, ``provision_requirement``, ``book_balance``,
        ``liquidity_buffer`` and ``liabilities_outstanding``.
    scenario : Scenario

    Returns
    -------
    dict of str -> numpy.ndarray (n_paths, n_months + 1)
        ``interest_income``, ``pre_tax_profit``, ``cumulative_profit``, ``capital``,
        ``capital_ratio``, ``capital_breach`` (1 where below the floor), and the balance
        sheet: ``interest_in_suspense``, ``loans_net`` and ``other_net_liabilities``.
    """
    capital_spec = scenario.funding.capital
    stage3 = stage_of_states(scenario.provisioning.ifrs9) == 3
    accrued = aggregates[:, :, L.INTEREST_DUE:L.INTEREST_DUE + L.N_LIVE_STATES]
    with np.errstate(invalid="ignore", divide="ignore"):
        net_share = np.where(series["balance_stage_3"] > 0,
                             1.0 - series["ecl_stage_3"] / np.where(series["balance_stage_3"] > 0,
                                                                     series["balance_stage_3"], 1.0), 1.0)
    income = accrued[:, :, ~stage3].sum(axis=2)
    income[:, 1:] += accrued[:, 1:, stage3].sum(axis=2) * np.clip(net_share[:, :-1], 0.0, 1.0)
    income[:, 0] = 0.0
    profit = (income - series["funding_cost"] - series["operating_cost"] - series["action_cost"]
              - series["provision_charge"])
    profit[:, 0] = 0.0
    opening_capital = capital_spec.resolved.opening_capital * series["book_balance"][:, :1]
    capital = opening_capital + np.cumsum(profit, axis=1)
    risk_weighted = capital_spec.resolved.risk_weight * series["book_balance"]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(risk_weighted > 0, capital / np.where(risk_weighted > 0, risk_weighted, 1.0), np.nan)
    accrued_all = accrued.sum(axis=2) + aggregates[:, :, L.PENALTY]
    accrued_all[:, 0] = 0.0
    suspense = np.cumsum(accrued_all - income, axis=1)
    loans_net = series["book_balance"] - series["provision_requirement"] - suspense
    other = (loans_net[:, :1] + series["liquidity_buffer"][:, :1] - series["liabilities_outstanding"][:, :1]
             - capital[:, :1])
    return {"interest_income": income, "pre_tax_profit": profit, "cumulative_profit": np.cumsum(profit, axis=1),
            "capital": capital, "capital_ratio": ratio,
            "capital_breach": (ratio < capital_spec.resolved.capital_ratio_floor).astype(float),
            "interest_in_suspense": suspense, "loans_net": loans_net,
            "other_net_liabilities": np.broadcast_to(other, capital.shape).copy()}
