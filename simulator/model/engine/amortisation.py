"""Contractual repayment schedules (the one place that knows how a loan amortises).

Codes used in the loan book's ``amortisation`` array:

* ``EQUAL_INSTALMENT`` (0): annuity, ``I = B r / (1 - (1 + r)^-n)``;
* ``EQUAL_PRINCIPAL`` (1): principal ``B / n`` plus interest ``B r``;
* ``INTEREST_FIRST`` (2): interest ``B r`` each month, principal at the last instalment (bullet).

``B`` is the scheduled principal outstanding, ``r`` the monthly rate (APR / 12) and
``n`` the remaining number of instalments.
"""
import numpy as np
from numba import njit

from .. import fdlibm

EQUAL_INSTALMENT = 0
EQUAL_PRINCIPAL = 1
INTEREST_FIRST = 2
AMORTISATION_CODES = {"equal_instalment": EQUAL_INSTALMENT, "equal_principal": EQUAL_PRINCIPAL,
                      "interest_first": INTEREST_FIRST}


@njit(cache=True, inline="always")
def level_payment(principal, monthly_rate, remaining_term):
    """Annuity payment ``B r / (1 - (1 + r)^-n)`` (``B / n`` when ``r = 0``).

    The power is :func:`simulator.model.fdlibm.pow`, not the C library's, so the payment has the same bits on
    every processor (see :mod:`simulator.model.portable`).
    """
    if remaining_term <= 0:
        return 0.0
    if monthly_rate > 0.0:
        return principal * monthly_rate / (1.0 - fdlibm.pow(1.0 + monthly_rate, float(-remaining_term)))
    return principal / remaining_term


@njit(cache=True, inline="always")
def instalment_split(principal, monthly_rate, remaining_term, amortisation, annuity):
    """Interest and principal parts of this month's contractual instalment.

    Parameters
    ----------
    principal : float
        Scheduled principal outstanding ``B`` before this instalment.
    monthly_rate : float
        ``r = APR / 12``.
    remaining_term : int
        Instalments left including this one, ``n``; ``n <= 0`` means matured (nothing due).
    amortisation : int
        One of the module's codes.
    annuity : float
        The loan's level payment (:func:`level_payment` at origination); used by
        equal-instalment loans, whose payment stays level while ``B`` follows the
        schedule (it always does: a missed instalment moves to arrears).

    Returns
    -------
    interest, principal_part : float
    """
    if remaining_term <= 0 or principal <= 0.0:
        return 0.0, 0.0
    interest = principal * monthly_rate
    if remaining_term == 1:
        return interest, principal
    if amortisation == EQUAL_INSTALMENT:
        return interest, min(annuity - interest, principal)
    if amortisation == EQUAL_PRINCIPAL:
        return interest, principal / remaining_term
    return interest, 0.0


@njit(cache=True)
def scheduled_principal_after(original_principal, monthly_rate, original_term, months_paid, amortisation, out):
    """Scheduled principal outstanding after ``months_paid`` instalments, for arrays of loans."""
    for i in range(original_principal.shape[0]):
        b = original_principal[i]
        annuity = level_payment(b, monthly_rate[i], original_term[i])
        for k in range(months_paid[i]):
            _, part = instalment_split(b, monthly_rate[i], original_term[i] - k, amortisation[i], annuity)
            b -= part
        out[i] = max(b, 0.0)


@njit(cache=True)
def current_instalment(principal, monthly_rate, remaining_term, amortisation, out):
    """This month's contractual instalment (interest + principal) for arrays of loans."""
    for i in range(principal.shape[0]):
        annuity = level_payment(principal[i], monthly_rate[i], remaining_term[i])
        interest, part = instalment_split(principal[i], monthly_rate[i], remaining_term[i], amortisation[i], annuity)
        out[i] = interest + part
