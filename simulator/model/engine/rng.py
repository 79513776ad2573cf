"""Counter-based random numbers for the kernels: Philox4x32-10 and inverse-CDF normals.

Every random number in a run is a pure function of ``(seed, path, loan, month,
draw)``: the seed is the Philox key and the other four integers are the
counter. Nothing is carried from one draw to the next, so a borrower-month's
numbers do not depend on thread count, chunk size, worker count or on which
loans closed early, and two scenarios run with the same seed see the same
numbers (common random numbers).

Counter layout, 4 x 32 bits: ``(loan, month, block, path)``. One call gives four
32-bit words; a kernel asks for ``block = 0, 1, ...`` as it needs more words in
the same loan-month. The macro stream uses the reserved loan id
:data:`MACRO_STREAM`; book generation uses numpy's own generator seeded from
the same seed (see :mod:`simulator.model.portfolio`).

References
----------
Salmon, Moraes, Dror and Shaw (2011), "Parallel random numbers: as easy as
1, 2, 3", SC'11 (Philox4x32-10 and its known-answer vectors).
Wichura (1988), "Algorithm AS 241: the percentage points of the normal
distribution", Applied Statistics 37(3), 477-484 (PPND16, used for normals).
"""
import math

import numpy as np
from numba import njit

from .. import fdlibm

MASK32 = np.uint64(0xFFFFFFFF)
PHILOX_M0 = np.uint64(0xD2511F53)
PHILOX_M1 = np.uint64(0xCD9E8D57)
PHILOX_W0 = np.uint64(0x9E3779B9)
PHILOX_W1 = np.uint64(0xBB67AE85)
SHIFT32 = np.uint64(32)
MACRO_STREAM = 0xFFFFFFFF
"""Reserved loan id of the per-path macro (credit-cycle) stream."""

TWO_POW_M32 = 2.0 ** -32
TWO_POW_M52 = 2.0 ** -52


@njit(cache=True, inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 block: four 32-bit counter words and two key words to four words.

    All arguments and results are ``np.uint64`` holding 32-bit values.
    """
    for _ in range(10):
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        n0 = (p1 >> SHIFT32) ^ c1 ^ k0
        n1 = p1 & MASK32
        n2 = (p0 >> SHIFT32) ^ c3 ^ k1
        n3 = p0 & MASK32
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1, c2, c3


@njit(cache=True, inline="always")
def philox_words(c0, c1, c2, c3, k0, k1, flip):
    """:func:`philox4x32`'s four words, each XOR ``flip``: ``0`` keeps them, ``MASK32`` gives the antithetic words.

    The complement ``2^32 - 1 - w`` of a word turns its uniform ``u`` into ``1 - u``
    (:func:`uniform32`, :func:`uniform52`) and a ``b``-bit index ``i`` into
    ``2^b - 1 - i``, the mirrored point of an equiprobable discretisation.
    """
    w0, w1, w2, w3 = philox4x32(c0, c1, c2, c3, k0, k1)
    return w0 ^ flip, w1 ^ flip, w2 ^ flip, w3 ^ flip


@njit(cache=True, inline="always")
def seed_key(seed):
    """Split a 64-bit seed into the two 32-bit Philox key words."""
    s = np.uint64(seed)
    return s & MASK32, (s >> SHIFT32) & MASK32


@njit(cache=True, inline="always")
def uniform32(word):
    """A uniform on the open interval (0, 1) from one 32-bit word: ``(w + 1/2) 2^-32``.

    The word is converted through int64 (exact below 2^63), which compiles to one
    instruction where a uint64 conversion needs several.
    """
    return (float(np.int64(word)) + 0.5) * TWO_POW_M32


@njit(cache=True, inline="always")
def uniform52(word_hi, word_lo):
    """A uniform on (0, 1) with 52 random bits from two 32-bit words: ``(b + 1/2) 2^-52``.

    52 bits (not 53) so that ``b + 1/2`` is exact in float64 and the largest value,
    ``1 - 2^-53``, stays below 1 (``ndtri`` is then always finite).
    """
    bits = ((word_hi >> np.uint64(6)) << np.uint64(26)) | (word_lo >> np.uint64(6))
    return (float(np.int64(bits)) + 0.5) * TWO_POW_M52


@njit(cache=True)
def ndtri(p):
    """Inverse of the standard normal CDF, Wichura's AS 241 (PPND16).

    Relative accuracy about 1e-16 over (0, 1); exactly antisymmetric in
    ``p - 1/2``, which suits antithetic and quasi-Monte Carlo draws.
    """
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545561 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    r = p if q < 0.0 else 1.0 - p
    if r <= 0.0:
        return -math.inf if q < 0.0 else math.inf
    r = math.sqrt(-fdlibm.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r -= 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    value = num / den
    return -value if q < 0.0 else value


@njit(cache=True)
def norm_cdf(x):
    """Standard normal CDF, ``Phi(x) = erfc(-x / sqrt 2) / 2`` (:func:`simulator.model.fdlibm.ndtr`)."""
    return fdlibm.ndtr(x)


@njit(cache=True)
def macro_normals(seed, path_ids, n_months, out):
    """Fill ``out[k, m]`` with standard normals of the macro stream of path ``path_ids[k]``.

    Month ``m`` uses counter ``(MACRO_STREAM, m, 0, path)``; one Philox call per
    month gives one normal (from a 52-bit uniform).
    """
    k0, k1 = seed_key(seed)
    loan = np.uint64(MACRO_STREAM)
    for k in range(path_ids.shape[0]):
        path = np.uint64(path_ids[k])
        for m in range(n_months):
            w0, w1, _, _ = philox4x32(loan, np.uint64(m), np.uint64(0), path, k0, k1)
            out[k, m] = ndtri(uniform52(w0, w1))
