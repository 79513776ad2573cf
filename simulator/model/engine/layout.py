"""Layout of the per-path, per-month aggregates the kernels write.

The kernels reduce each path's loans to one array ``aggregates[path, month, segment, metric]``
of shape ``(n_paths, n_months + 1, n_segments, N_METRICS)``: a loan adds only to its own
segment (``LoanBook.segment``, an index into ``segment_names``). Month 0 holds the
opening book (stocks only); months 1..H hold end-of-month stocks and the month's
flows. Money is in the book's currency. The book's aggregates
``(n_paths, n_months + 1, N_METRICS)`` are the sum over the segment axis
(:func:`book_aggregates`), so every additive book figure is the sum of the segments'.
"""

import numpy as np

N_LIVE_STATES = 7
"""Live delinquency states: 0 current, k = (30(k-1), 30k] days past due for k = 1..6."""
STATE_NAMES = ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90", "dpd_91_120", "dpd_121_150", "dpd_151_180")
"""The live states' names in reported tables (the time series' per-state IFRS 9 rates)."""

BALANCE = 0
"""``BALANCE + k``: outstanding balance (principal + arrears) in live state k, end of month."""
COUNT = BALANCE + N_LIVE_STATES
"""``COUNT + k``: number of loans in live state k, end of month."""
CHARGEOFF = COUNT + N_LIVE_STATES
"""Balance charged off in the month."""
CHARGEOFF_COUNT = CHARGEOFF + 1
RECOVERY = CHARGEOFF_COUNT + 1
"""Cash recovered on earlier charge-offs in the month."""
SCHEDULED = RECOVERY + 1
"""Contractual instalments due in the month on live loans (the collections plan)."""
COLLECTED = SCHEDULED + 1
"""Cash borrowers paid toward instalments, arrears and penalty interest (prepayments excluded)."""
PREPAID = COLLECTED + 1
"""Balances repaid early in the month."""
NEW_LENDING = PREPAID + 1
"""Principal of replacement loans written in the month (constant balance sheet)."""
UNEMPLOYED = NEW_LENDING + 1
"""Number of live loans whose borrower is unemployed, end of month (structural model)."""
M1_START = UNEMPLOYED + 1
"""Loans in 1-30 DPD at the start of the month ..."""
M1_CURED = M1_START + 1
"""... of which current at its end ..."""
M1_ROLLED = M1_CURED + 1
"""... and of which rolled to 31-60 DPD."""
PENALTY = M1_ROLLED + 1
"""Penalty interest accrued on arrears in the month."""
INTEREST_DUE = PENALTY + 1
"""``INTEREST_DUE + k``: contractual interest accrued on scheduled principal of loans in state k
at the start of the month."""
N_OUTCOMES = N_LIVE_STATES + 2
"""Outcomes of a month: the live states, charged off (7) and closed (8, prepaid or matured)."""
TRANSITION = INTEREST_DUE + N_LIVE_STATES
"""``TRANSITION + N_OUTCOMES * k + j``: loans going from live state k (start of month) to outcome j."""
FORWARD_LOSS_12M = TRANSITION + N_LIVE_STATES * N_OUTCOMES
"""``FORWARD_LOSS_12M + k``: the losses from default events within the next 12 months of loans (not
restructured) in live state k at the end of this month: each such loan's charge-off, whenever it comes,
discounted to this month at the loan's own rate (0 for a default that cures). A loan already in default
counts its current default (see :func:`simulator.model.engine.kernels._resolve_default`)."""
FORWARD_LOSS_LIFE = FORWARD_LOSS_12M + N_LIVE_STATES
"""``FORWARD_LOSS_LIFE + k``: the same for default events within the lifetime window (``lifetime_months``)."""
FORWARD_DEFAULT_12M = FORWARD_LOSS_LIFE + N_LIVE_STATES
"""``FORWARD_DEFAULT_12M + k``: number of loans in state k at the end of this month that default within 12 months
(or are in default)."""
FORWARD_DEFAULT_LIFE = FORWARD_DEFAULT_12M + N_LIVE_STATES
"""``FORWARD_DEFAULT_LIFE + k``: the same within the lifetime window."""
FORWARD_EAD_LIFE = FORWARD_DEFAULT_LIFE + N_LIVE_STATES
"""``FORWARD_EAD_LIFE + k``: the exposure at default (balance in the month of default) of those defaults."""
FORWARD_LOSS_AT_DEFAULT_LIFE = FORWARD_EAD_LIFE + N_LIVE_STATES
"""``FORWARD_LOSS_AT_DEFAULT_LIFE + k``: their charge-offs discounted to the month of default (LGD's numerator)."""
FORWARD_CURED_LIFE = FORWARD_LOSS_AT_DEFAULT_LIFE + N_LIVE_STATES
"""``FORWARD_CURED_LIFE + k``: how many of those defaults ended without loss (cured to current, or closed)."""
RESTRUCTURED_BALANCE = FORWARD_CURED_LIFE + N_LIVE_STATES
"""``RESTRUCTURED_BALANCE + k``: balance of restructured loans in live state k, end of month (included in BALANCE)."""
RESTRUCTURED_COUNT = RESTRUCTURED_BALANCE + N_LIVE_STATES
"""``RESTRUCTURED_COUNT + k``: number of restructured loans in live state k (included in COUNT)."""
RESTRUCTURED_FORWARD_LOSS = RESTRUCTURED_COUNT + N_LIVE_STATES
"""``RESTRUCTURED_FORWARD_LOSS + k``: the lifetime forward losses (from defaults) of loans restructured in that month
(kept apart: the ``FORWARD_*`` metrics cover loans that were not restructured)."""
RESTRUCTURED_FORWARD_DEFAULT = RESTRUCTURED_FORWARD_LOSS + N_LIVE_STATES
"""``RESTRUCTURED_FORWARD_DEFAULT + k``: the same as counts of defaults."""
CONTACTS = RESTRUCTURED_FORWARD_DEFAULT + N_LIVE_STATES
"""Collection contacts made in the month."""
RESTRUCTURINGS = CONTACTS + 1
"""Loans restructured in the month."""
REDEFAULTS = RESTRUCTURINGS + 1
"""Restructured loans charged off in the month."""
NEW_LOANS = REDEFAULTS + 1
"""Number of loans written in the month (replacements and originations); the size of that month's vintage."""
LABOUR_MARKET_UNEMPLOYED = NEW_LOANS + 1
"""Sum over the live loans, end of month, of their segment's labour-market unemployment rate
``u_t x unemployment_sensitivity`` on the path (structural model): the unemployed borrowers the book would
have if its borrowers were out of work at the rate their segment's population faces. Against
:data:`UNEMPLOYED` it shows the selection of who stays on the book."""
N_METRICS = LABOUR_MARKET_UNEMPLOYED + 1

METRIC_NAMES = (
    [f"balance_state_{k}" for k in range(N_LIVE_STATES)]
    + [f"count_state_{k}" for k in range(N_LIVE_STATES)]
    + ["chargeoff", "chargeoff_count", "recovery", "scheduled", "collected", "prepaid", "new_lending",
       "unemployed", "m1_start", "m1_cured", "m1_rolled", "penalty"]
    + [f"interest_due_state_{k}" for k in range(N_LIVE_STATES)]
    + [f"transition_{k}_{j}" for k in range(N_LIVE_STATES) for j in range(N_OUTCOMES)]
    + [f"{name}_state_{k}" for name in ("forward_loss_12m", "forward_loss_life", "forward_default_12m",
                                        "forward_default_life", "forward_ead_life", "forward_loss_at_default_life",
                                        "forward_cured_life", "restructured_balance", "restructured_count",
                                        "restructured_forward_loss", "restructured_forward_default")
       for k in range(N_LIVE_STATES)]
    + ["contacts", "restructurings", "redefaults", "new_loans", "labour_market_unemployed"])
assert len(METRIC_NAMES) == N_METRICS



def book_aggregates(segment_aggregates):
    """The book's aggregates: the segments' added in segment order, ``(..., N_METRICS)``.

    ``total = a[..., 0, :] + a[..., 1, :] + ...``, left to right (not numpy's
    pairwise sum), so the book's figures are a fixed function of the segments' and
    any other sum over segments in the same order gives the same bits.

    Parameters
    ----------
    segment_aggregates : float array (n_paths, n_months + 1, n_segments, N_METRICS)

    Returns
    -------
    float array (n_paths, n_months + 1, N_METRICS)
    """
    return segment_total(segment_aggregates, axis=2)


def segment_total(values, axis=-1):
    """Sum over a segment axis, left to right in segment order (see :func:`book_aggregates`)."""
    values = np.moveaxis(np.asarray(values), axis, 0)
    total = values[0].copy()
    for part in values[1:]:
        total += part
    return total


def with_segment_axis(aggregates):
    """``aggregates`` with a segment axis: as they are if they have one, else the book as its only segment
    (``(n_paths, n_months + 1, N_METRICS)`` -> ``(n_paths, n_months + 1, 1, N_METRICS)``)."""
    aggregates = np.asarray(aggregates)
    return aggregates if aggregates.ndim == 4 else aggregates[:, :, None, :]
