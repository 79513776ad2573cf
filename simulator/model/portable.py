"""Array arithmetic whose bits do not depend on the processor: the engine's inputs and pinned figures go through here.

Three kinds of library code round differently on different machines:

* **BLAS.** ``@``, ``np.dot``, ``np.tensordot``, ``np.einsum`` and ``np.linalg`` call
  OpenBLAS, which picks its kernels (their blocking, and so the order of additions)
  by processor.
* **numpy's SIMD-dispatched transcendentals.** For float64 arrays ``np.exp`` and
  ``np.log`` have AVX-512F implementations, and ``np.power``, ``np.log1p``,
  ``np.expm1`` and others AVX-512 (SVML) ones, chosen at run time on processors with
  AVX-512 and not elsewhere.
* **The C library's maths.** glibc chooses at run time between variants of ``exp``,
  ``log``, ``pow`` and ``erfc`` compiled with and without fused multiply-adds, and
  they round about one call in 2,000-10,000 differently (measured here); scipy's
  ``ndtr`` and numpy's normal generator call them; other operating systems ship other
  libraries.

None of them is used on the way into the engine or into a pinned figure. Instead:

* sums of products (dot products, norms) are :func:`math.fsum` of the products: each
  product is one correctly rounded IEEE multiplication and ``fsum`` returns the
  correctly rounded sum, so the result is one number whatever the order or machine;
* ``exp``, ``log``, ``log1p``, ``power``, ``ndtr`` and ``ndtri`` are computed by
  :mod:`simulator.model.fdlibm` (and Wichura's AS 241 for ``ndtri``), which use only
  IEEE additions, multiplications, divisions and square roots in a fixed order,
  compiled by Numba without ``fastmath`` (so without reassociation or fused
  multiply-adds);
* standard normals for the synthetic book are inverse-CDF normals of 52-bit
  uniforms (:func:`standard_normals`), not numpy's ziggurat, whose rare tail draws go
  through the C library's ``log1p``;
* numpy's elementwise ``+ - * /``, ``sqrt``, ``floor``, comparisons and reductions
  along an axis are IEEE operations in a fixed order and stay numpy.

``tests/test_machine_independence.py`` checks these against pure-Python references and
re-computes the engine's inputs in subprocesses whose numpy dispatch and glibc maths
variants are restricted.
"""
import math

import numpy as np
from numba import vectorize

from . import fdlibm
from .engine.rng import ndtri as _ndtri_scalar

exp = fdlibm.exp_array
log = fdlibm.log_array
log1p = fdlibm.log1p_array
power = fdlibm.pow_array
ndtr = fdlibm.ndtr_array


@vectorize(["float64(float64)"], cache=True)
def ndtri(p):
    """Inverse standard normal CDF (:func:`simulator.model.engine.rng.ndtri`, Wichura's AS 241), elementwise."""
    return _ndtri_scalar(p)


UNIFORM_BITS = 52
"""Random bits of each uniform behind :func:`standard_normals` (as the engine's ``uniform52``)."""


def standard_normals(rng, size):
    """Standard normals from ``rng``: ``ndtri((k + 1/2) 2^-52)`` with ``k`` uniform on ``0..2^52 - 1``.

    The uniforms are exact in float64 and lie strictly inside (0, 1), so every normal
    is finite; AS 241 is exactly antisymmetric, so the law is symmetric.
    """
    k = rng.integers(0, 1 << UNIFORM_BITS, size=size, dtype=np.int64)
    return ndtri((k.astype(float) + 0.5) * 2.0 ** -UNIFORM_BITS)


def sum_of_products(x, y):
    """``sum_i x_i y_i`` of two 1-D arrays, correctly rounded (:func:`math.fsum` of the IEEE products)."""
    products = np.multiply(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return math.fsum(products.tolist())


def norm(x):
    """Euclidean norm ``sqrt(sum_i x_i^2)``: the correctly rounded sum, then the IEEE square root."""
    return math.sqrt(sum_of_products(x, x))


def row_sums_of_products(z, v):
    """``z @ v`` row by row for a 2-D ``z``, each row's sum correctly rounded (:func:`sum_of_products`)."""
    products = np.multiply(np.asarray(z, dtype=float), np.asarray(v, dtype=float)[None, :])
    return np.array([math.fsum(row) for row in products.tolist()], dtype=float).reshape(products.shape[0])
