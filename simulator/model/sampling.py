"""How the paths' shared draws are sampled: plain Monte Carlo, randomised QMC, antithetic pairs, importance sampling.

All borrowers of a path share one set of draws, the innovations ``eps_0..eps_n`` of
the credit-cycle factor (:func:`simulator.model.macro.cycle_factor`); they carry most
of the variance of a book-level figure (87-91% of the mean loss's on the shipped
books). Borrower-level draws always stay on the counter-based Philox streams
(:mod:`simulator.model.engine.rng`). This module decides how the path-level
innovations are drawn:

``mc``
    Independent standard normals from each path's Philox macro stream.
``antithetic``
    Paths ``2k`` and ``2k + 1`` share the normals of pair ``k``'s stream, with opposite
    signs. Each pair is one independent replicate.
``rqmc`` (the default)
    Scrambled Sobol points (:class:`scipy.stats.qmc.Sobol`: a random linear matrix
    scramble with a random digital shift), ``m = run.rqmc_points`` points per
    independent scramble (:func:`resolve_sampling` picks ``m`` for ``auto``); path
    ``p`` is point ``p mod m`` of scramble ``p // m`` (a last scramble may be partial:
    its points are the first of the scrambled sequence, still each uniform). The points are
    rotated (:func:`householder`) so that the first, best-distributed Sobol coordinate
    lies along :func:`loss_direction`, the innovations' direction that moves the
    average cycle over the horizon most. Each scramble is one independent
    replicate: standard errors come from the spread between scrambles, never from
    the points of one scramble as if they were independent.

``tail_sampling: importance`` adds ``theta u`` to the innovations of every second
replicate (odd paths, pairs or scrambles), with ``u`` the unit :func:`loss_direction`
and ``theta = run.importance_shift``, so that half the paths sample adverse cycles,
and weights every path by the balance heuristic of the two-component mixture
(defensive importance sampling; Hesterberg 1995, Veach and Guibas 1995)::

    w = phi(z) / (phi(z) / 2 + phi(z - theta) / 2) = 1 / (1/2 + exp(theta z - theta^2 / 2) / 2),  z = u . eps

which is unbiased for the stratified half-and-half allocation and never exceeds 2,
so means lose at most half their efficiency while the tail gains the shifted paths.
An even and an odd replicate together form one independent replicate. Weighted
statistics (:mod:`simulator.accounts.metrics`) then estimate the same quantities as
plain Monte Carlo.

Every path's draws are a pure function of ``(seed, path id, run settings)``, so any
block size and worker count give the same bits.

References
----------
Owen (1997), "Scrambled net variance for integrals of smooth functions", Annals of
Statistics 25(4), 1541-1562. Glasserman (2003), *Monte Carlo Methods in Financial
Engineering*, sections 4.2 (antithetic variates), 4.6 (importance sampling) and 5.5
(randomised QMC). L'Ecuyer and Lemieux (2002), "Recent advances in randomized
quasi-Monte Carlo methods" (error estimation from independent randomisations).
"""
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from . import portable
from .engine.rng import macro_normals

SOBOL_STREAM = 11
"""Key of the seed sequence that scrambles the Sobol points (with the seed and the scramble number)."""

UNIFORM_CLIP = 2.0 ** -53
"""Sobol coordinates are kept in ``[2^-53, 1 - 2^-53]`` so that their normals are finite."""


AUTO_RQMC_POINTS = 32
"""Points per scramble under ``rqmc_points: auto`` (measured best of 16-64 in ``benchmarks/variance.py``)."""
MIN_SCRAMBLES = 8
"""``auto`` uses fewer points per scramble when a run has fewer than this many scrambles of 32."""


def resolve_sampling(run):
    """``run`` with a concrete ``rqmc_points``: for ``auto``, 32, or the largest power of 2 giving at least
    :data:`MIN_SCRAMBLES` scrambles (1 below 16 paths: one point per scramble, which is plain Monte Carlo)."""
    if run.rqmc_points != "auto":
        return run
    points = max(1, min(AUTO_RQMC_POINTS, run.paths // MIN_SCRAMBLES))
    return run.model_copy(update={"rqmc_points": 1 << (points.bit_length() - 1)})


def loss_direction(cycle, horizon_months, n_months):
    """Unit vector of the innovations ``eps_0..eps_n`` along which the horizon's average cycle moves most.

    With ``x_t = phi x_{t-1} + sigma sqrt(1 - phi^2) eps_t`` the average
    ``xbar = (1/H) sum_{t=1..H} x_t`` is linear in the innovations, with weights
    ``a_j ∝ sum_{t=j..H} phi^(t-j) = (1 - phi^(H-j+1)) / (1 - phi)`` for ``1 <= j <= H``,
    0 beyond the horizon, and for ``eps_0`` (used only by a stationary start, where
    ``x_0 = sigma eps_0``) ``a_0 ∝ sum_{t=1..H} phi^t / sqrt(1 - phi^2)``. The
    direction is ``a / |a|``.

    Returns
    -------
    numpy.ndarray (n_months + 1,)
    """
    phi = cycle.persistence
    a = np.zeros(n_months + 1)
    j = np.arange(1, min(horizon_months, n_months) + 1)
    a[j] = (1.0 - portable.power(phi, (horizon_months - j + 1).astype(float))) / (1.0 - phi)
    if cycle.start == "stationary":
        powers = portable.power(phi, np.arange(1, horizon_months + 1, dtype=float))
        a[0] = math.fsum(powers.tolist()) / math.sqrt(1.0 - phi * phi)
    return a / portable.norm(a)


def householder(z, u):
    """Rotate standard normal rows ``z`` so that their first coordinate lies along the unit vector ``u``.

    The reflection ``Q = I - 2 v v' / (v' v)`` with ``v = e_1 - u`` is orthogonal and
    maps ``e_1`` to ``u``; ``Q z`` is again standard normal. The sums ``v' v`` and
    ``z_k' v`` are correctly rounded (:mod:`simulator.model.portable`), so every row's
    bits are one function of that row and ``u``, on any processor.
    """
    v = -u.copy()
    v[0] += 1.0
    norm2 = portable.sum_of_products(v, v)
    if norm2 == 0.0:
        return z
    projection = portable.row_sums_of_products(z, v)
    return z - projection[:, None] * v[None, :] * (2.0 / norm2)


def sobol_normals(seed, scramble, n_points, dimension):
    """All points of one scramble: ``n_points`` scrambled Sobol points as standard normals ``(n_points, dimension)``.

    The scramble is keyed by ``(seed, SOBOL_STREAM, scramble)``.
    """
    generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SOBOL_STREAM, scramble])))
    points = qmc.Sobol(dimension, scramble=True, seed=generator).random_base2(int(n_points).bit_length() - 1)
    return portable.ndtri(np.clip(points, UNIFORM_CLIP, 1.0 - UNIFORM_CLIP))


def cycle_innovations(run, cycle, seed, path_ids, n_months):
    """The cycle innovations ``eps[k, t]`` of paths ``path_ids`` (months 0..n_months) under ``run``'s sampling.

    Parameters
    ----------
    run : RunSpec or None
        ``sampling``, ``rqmc_points``, ``tail_sampling``, ``importance_shift`` and the horizon;
        ``None`` is plain Monte Carlo.
    cycle : CycleSpec
    seed : int
    path_ids : int64 array
    n_months : int
        Engine months; the draws cover months 0..n_months.

    Returns
    -------
    numpy.ndarray (len(path_ids), n_months + 1)
    """
    path_ids = np.asarray(path_ids, dtype=np.int64)
    sampling = "mc" if run is None else run.sampling
    if sampling == "antithetic":
        eps = np.empty((len(path_ids), n_months + 1))
        macro_normals(seed, path_ids // 2, n_months + 1, eps)
        eps[path_ids % 2 == 1] *= -1.0
    elif sampling == "rqmc":
        m = run.rqmc_points
        if m == "auto":
            raise ValueError("cycle_innovations: rqmc_points 'auto' must be resolved first (resolve_sampling)")
        eps = np.empty((len(path_ids), n_months + 1))
        u = loss_direction(cycle, run.horizon_months, n_months)
        for scramble in np.unique(path_ids // m):
            rows = path_ids // m == scramble
            points = sobol_normals(seed, int(scramble), m, n_months + 1)[path_ids[rows] % m]
            eps[rows] = householder(points, u)
    else:
        eps = np.empty((len(path_ids), n_months + 1))
        macro_normals(seed, path_ids, n_months + 1, eps)
    if run is not None and run.tail_sampling == "importance":
        shifted = base_replicates(run, path_ids) % 2 == 1
        eps[shifted] += run.importance_shift * loss_direction(cycle, run.horizon_months, n_months)
    return eps


def base_replicates(run, path_ids):
    """The independent replicate of each path before importance sampling pairs them: the path (``mc``), its
    antithetic pair or its scramble (``rqmc_points`` resolved)."""
    if run.sampling == "rqmc":
        return path_ids // run.rqmc_points
    return path_ids // 2 if run.sampling == "antithetic" else path_ids


@dataclass(frozen=True)
class PathDesign:
    """How a run's paths combine into estimates: each path's weight and its independent replicate.

    Attributes
    ----------
    weights : numpy.ndarray (n_paths,) or None
        Likelihood ratios under importance sampling; ``None`` when every path counts
        the same.
    replicates : numpy.ndarray (n_paths,) of int
        The independent replicate each path belongs to: the path itself (``mc``), its
        pair (``antithetic``) or its scramble (``rqmc``).
    """

    weights: object
    replicates: np.ndarray

    @property
    def n_replicates(self):
        return int(self.replicates.max()) + 1 if len(self.replicates) else 0


def path_design(run, cycle, seed, n_engine_months):
    """The :class:`PathDesign` of a run of ``run.paths`` paths.

    Under importance sampling each path's weight is the mixture's balance heuristic
    (module docstring) at ``z = u . eps_p``, the projection of its innovations
    (:func:`cycle_innovations`, recomputed here: a few numbers per path) on the loss
    direction; the other coordinates are drawn alike in both components and cancel.
    """
    run = resolve_sampling(run)
    path_ids = np.arange(run.paths, dtype=np.int64)
    replicates = base_replicates(run, path_ids)
    weights = None
    if run.tail_sampling == "importance":
        eps = cycle_innovations(run, cycle, seed, path_ids, n_engine_months)
        theta = run.importance_shift
        z = portable.row_sums_of_products(eps, loss_direction(cycle, run.horizon_months, n_engine_months))
        weights = 1.0 / (0.5 + 0.5 * portable.exp(theta * z - 0.5 * (theta * theta)))
        replicates = replicates // 2
    return PathDesign(weights=weights, replicates=replicates)
