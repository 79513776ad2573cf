"""Provisioning: the Chinese five-category regulatory minimum from the delinquency buckets.

Five-category classification by days past due (credit-card thresholds of the
商业银行信用卡业务监督管理办法 Art. 92) and minimum provision rates (PBOC 2002
provisioning guideline; general reserve 1% of loans):

==========  ==============  =========
category    DPD             rate
==========  ==============  =========
正常 normal  0               1%
关注 special 1-90            2%
次级 sub     91-120          25%
可疑 doubt   121-180         50%
损失 loss    > 180           100% (charged off here, so not on the book)
==========  ==============  =========

References
----------
reference/domain-facts.md, "Provisioning and liquidity rules".
"""
import numpy as np

from .engine.layout import BALANCE, N_LIVE_STATES

FIVE_CATEGORY_RATE_BY_STATE = np.array([0.01, 0.02, 0.02, 0.02, 0.25, 0.50, 0.50])
"""Minimum provision rate per live DPD state (current, 1-30, ..., 151-180)."""


def five_category_requirement(aggregates):
    """Regulatory minimum provision per path and month, in currency.

    ``sum_k rate_k x balance in state k`` with the rates of
    :data:`FIVE_CATEGORY_RATE_BY_STATE`.

    Parameters
    ----------
    aggregates : array (n_paths, n_months + 1, N_METRICS)

    Returns
    -------
    numpy.ndarray (n_paths, n_months + 1)
    """
    balances = aggregates[:, :, BALANCE:BALANCE + N_LIVE_STATES]
    return balances @ FIVE_CATEGORY_RATE_BY_STATE
