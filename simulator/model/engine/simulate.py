"""Orchestration: turn a scenario and a loan book into per-path aggregates.

This module converts the scenario's percentages into the kernels' fractions,
builds each block of paths' macro inputs, calls the kernel block by block and
reports progress. Blocks bound memory, drive the progress bar and are the unit of
work a block mapper hands out (to this process, or to the workers of a cluster:
:mod:`simulator.workflows.cluster`): the kernels' streams are keyed by global path
number, so any block size, thread count or number of workers gives the same bits.
"""
import math
import os
from dataclasses import fields

import numba
import numpy as np

from ...inputs.errors import InputError
from ...inputs.schema import DPD_STATE_KEYS, ActionsSpec
from .. import portable
from ..macro import central_path, macro_paths
from ..portfolio import LoanBook
from ..sampling import resolve_sampling
from .groups import (Behaviour, Book, Collections, Economy, Losses, Recorders, Restructuring, RollRateBehaviour,
                     RollRateEconomy, Run)
from .kernels import (EXTENSION, HOLIDAY, NEVER, PANEL_COLUMNS, RATE_CUT, ROLL_ORDER, SNAPSHOT_COLUMNS,
                      simulate_roll_rate, simulate_structural)
from .layout import N_LIVE_STATES, N_METRICS, book_aggregates
from .rng import MASK32
from .shocks import equiprobable_lognormal

NO_PANEL = np.zeros((0, 0, PANEL_COLUMNS))
"""The kernels' loan-history recorder when no history is recorded."""

NO_SNAPSHOT = np.zeros((0, 0, SNAPSHOT_COLUMNS))
"""The structural kernel's snapshot recorder when no snapshot is taken."""

SETTLE_STREAM = 2
"""Key of the seed sequence that picks donors in :func:`settle_borrowers`."""

MEMORY_FRACTION = 0.5
"""A run may use at most this share of the machine's available memory."""


def estimate_bytes(n_paths, n_months, n_loans, chunk_paths, n_segments=1, lookahead=0):
    """Bytes a run needs: the aggregates (per segment and the book's) and vintages, the book, and one block's
    engine output and inputs."""
    aggregates = n_paths * (n_months + 1) * ((n_segments + 1) * N_METRICS + n_months + 1) * 8
    book = n_loans * 16 * 8
    block = (min(chunk_paths, n_paths) * (n_months + lookahead + 1)
             * (n_segments * N_METRICS + n_months + lookahead + 1 + 3 * n_segments + 8) * 8)
    return aggregates + book + block


def available_bytes():
    """Memory available to this process (bytes), from the OS."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def check_fits(scenario, n_loans, source="run"):
    """Refuse, before any work, a run whose aggregates would not fit in memory."""
    run = scenario.run
    need = estimate_bytes(run.paths, run.horizon_months, n_loans, run.chunk_paths, len(scenario.portfolio.segments),
                          engine_months(scenario) - run.horizon_months)
    have = available_bytes() * MEMORY_FRACTION
    if need > have:
        raise InputError(f"{source}: a run of {run.paths} paths x {run.horizon_months} months x {n_loans} loans "
                         f"needs about {need / 2**30:.1f} GiB; this machine can give it {have / 2**30:.1f} GiB. "
                         "Use fewer paths (paths=) or a smaller book (loans=).")


def labour_market_rates(unemployment, sensitivity, baseline_unemployment, job_finding, elasticity):
    """Monthly job-finding and job-loss probabilities that make each segment track its unemployment path.

    Segment unemployment ``u_s = min(u sensitivity_s, 0.95)``; job finding
    ``f = f0 (u_s,0 / u_s)^elasticity`` (fewer jobs to find when unemployment is high),
    and the separation rate solves the flow identity
    ``u_t = u_{t-1} (1 - f_t) + (1 - u_{t-1}) s_t``, so the expected unemployment of a
    book of borrowers follows the scenario's path month by month.

    Parameters
    ----------
    unemployment : array (n_paths, n_months + 1), fractions
    sensitivity : array (n_segments,)
    baseline_unemployment : float
    job_finding : float
        ``f0``, monthly, at baseline unemployment.
    elasticity : float

    Returns
    -------
    unemployment, separation, finding : arrays (n_paths, n_months + 1, n_segments)
    """
    u = np.clip(unemployment[:, :, None] * sensitivity[None, None, :], 1e-4, 0.95)
    u_base = np.clip(baseline_unemployment * sensitivity, 1e-4, 0.95)
    finding = np.clip(job_finding * portable.power(u_base[None, None, :] / u, elasticity), 0.005, 0.95)
    separation = np.zeros_like(u)
    previous = u[:, :-1, :]
    separation[:, 1:, :] = np.clip((u[:, 1:, :] - previous + finding[:, 1:, :] * previous) / (1.0 - previous),
                                   0.0, 1.0)
    return u, separation, finding


def roll_rate_thresholds(scenario):
    """One-factor thresholds ``(n_segments, 7, 9)`` over :data:`ROLL_ORDER`.

    ``theta_k = Phi^-1(C_k) sqrt(1 - rho + rho sigma^2)`` where ``C_k`` is the base
    cumulative probability of the k best outcomes and ``sigma`` the cycle factor's
    stationary sd. Then ``E[Phi((theta_k - sqrt(rho) x) / sqrt(1 - rho))] = C_k``
    for ``x ~ N(0, sigma^2)``: the base matrix is the average over the cycle (and is
    reproduced exactly when ``sigma = 0``).
    """
    spec = scenario.resolved.behaviour.roll_rate
    rho = spec.asset_correlation
    sigma = scenario.macro.cycle.volatility
    scale = math.sqrt(1.0 - rho + rho * (sigma * sigma))
    thresholds = np.empty((len(scenario.portfolio.segments), len(DPD_STATE_KEYS), len(ROLL_ORDER)))
    for s, name in enumerate(scenario.segment_names):
        matrix = np.asarray(spec.matrices.get(name, spec.matrices.get("default")), dtype=float)
        thresholds[s] = roll_order_thresholds(matrix) * scale
    return thresholds


PROBABILITY_ROUNDING = 1e-12
"""Cumulative probabilities this close to 0 or 1 are taken as 0 or 1 (their thresholds are infinite)."""


def roll_order_thresholds(matrix):
    """``Phi^-1`` of each row's cumulative probabilities over the outcomes in :data:`ROLL_ORDER` (best to worst).

    Parameters
    ----------
    matrix : float array (..., 9)
        Transition probabilities (fractions), columns in ``ROLL_RATE_COLUMNS`` order.

    Returns
    -------
    float array (..., 9)
        The cut between outcome ``k`` and ``k + 1`` of ``ROLL_ORDER``; ``-inf`` / ``inf``
        where the cumulative probability is within :data:`PROBABILITY_ROUNDING` of
        0 / 1 (the last column is ``inf``).
    """
    cumulative = np.cumsum(np.asarray(matrix, dtype=float)[..., ROLL_ORDER], axis=-1)
    cumulative = np.where(cumulative >= 1.0 - PROBABILITY_ROUNDING, 1.0, cumulative)
    return portable.ndtri(np.where(cumulative <= PROBABILITY_ROUNDING, 0.0, cumulative))


def engine_compiled(model):
    """Whether the kernel of ``model`` (``structural`` or ``roll_rate``) is in numba's on-disk cache.

    The first run after installing compiles it (about 20 s); later runs load it.
    Reads numba's cache index (an internal of numba's ``FunctionCache``); if that
    cannot be read, says ``True`` (the caller then just says nothing).
    """
    kernel = simulate_structural if model == "structural" else simulate_roll_rate
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:
        return True


def simulate_paths(scenario, book, seed, progress=None, threads=None, first_path=0, map_blocks=None):
    """The book's aggregates of :func:`simulate_segments`: ``(book_aggregates(by segment), central, vintages)``,
    the aggregates of shape ``(n_paths, n_months + 1, N_METRICS)`` (parameters as there; lending never stops)."""
    segment_aggregates, central, vintages = simulate_segments(scenario, book, seed, progress, threads, first_path,
                                                              map_blocks)
    return book_aggregates(segment_aggregates), central, vintages


def simulate_segments(scenario, book, seed, progress=None, threads=None, first_path=0, map_blocks=None,
                      path_ids=None, stop_months=None):
    """Run the scenario's behaviour model on ``book`` for paths ``first_path .. run.paths - 1`` (or the paths
    ``path_ids``), keeping each segment's aggregates.

    The paths are cut into blocks of ``run.chunk_paths`` path numbers; each block is
    one call of :func:`simulate_block`, whose output depends only on ``(scenario,
    book, seed, path ids, stop months)``, so the blocks may run in any order, in
    any process or on any machine, and the aggregates are the same bits.

    Parameters
    ----------
    scenario : Scenario
    book : LoanBook
    seed : int
    progress : callable, optional
        Called with the number of paths finished as each block finishes.
    threads : int, optional
        Engine threads of an in-process run (default: the scenario's ``run.threads``,
        else all cores). A ``map_blocks`` sets its own.
    first_path : int
        The first path to simulate (a run is extended by simulating only its new
        paths; path ``p``'s numbers depend on ``p`` alone).
    path_ids : int64 array, optional
        The paths to simulate instead, in this order (e.g. only the paths whose
        lending stops); ``first_path`` is then ignored.
    stop_months : int64 array, optional
        Per path simulated (aligned with ``path_ids``, else with ``first_path ..``),
        the month from which it writes no new loan (the book runs off, see
        :class:`~simulator.model.engine.groups.Run`); default: lending never stops.
    map_blocks : callable, optional
        ``map_blocks(function, shared, blocks)`` computes ``function(*shared, block)``
        for every block and yields ``(index of the block, result)`` as each finishes,
        in any order (e.g. on a Dask cluster:
        :func:`simulator.workflows.cluster.engine_cluster`). Default:
        :func:`map_in_process`, the blocks one after the other in this process.

    Returns
    -------
    segment_aggregates : numpy.ndarray (n_paths, n_months + 1, n_segments, N_METRICS)
        ``n_paths = run.paths - first_path``, or ``len(path_ids)``;
        per segment of ``book.segment_names``; the book's are their sum
        (:func:`~simulator.model.engine.layout.book_aggregates`).
    central : dict of str -> numpy.ndarray
        The scenario's central macro path (percent).
    vintages : numpy.ndarray (n_paths, n_months + 1, n_months + 1)
        Loans written in month v first reaching 90+ DPD (or charged off) k months
        later (``[p, v, k]``); entries with v + k > H come from the run past the
        horizon and are not reported.
    """
    scenario = scenario.model_copy(update={"run": resolve_sampling(scenario.run)})
    run = scenario.run
    if map_blocks is None:
        threads = threads or run.threads or numba.config.NUMBA_NUM_THREADS
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        map_blocks = map_in_process
    n_months = run.horizon_months
    n_segments = len(book.segment_names)
    if path_ids is None:
        path_ids = np.arange(first_path, run.paths, dtype=np.int64)
    path_ids = np.asarray(path_ids, dtype=np.int64)
    stop_months = np.full(len(path_ids), NEVER, dtype=np.int64) if stop_months is None else (
        np.asarray(stop_months, dtype=np.int64))
    if stop_months.shape != path_ids.shape or (stop_months < 1).any():
        raise ValueError(f"simulate_segments: stop_months must be months >= 1, one per path; got {stop_months}.")
    aggregates = np.zeros((len(path_ids), n_months + 1, n_segments, N_METRICS))
    vintages = np.zeros((len(path_ids), n_months + 1, n_months + 1))
    rows = path_blocks(0, len(path_ids), run.chunk_paths)
    blocks = [(path_ids[block], stop_months[block]) for block in rows]
    for index, (out, vintage) in map_blocks(simulate_block, (scenario, book, seed), blocks):
        aggregates[rows[index]] = out
        vintages[rows[index]] = vintage
        if progress is not None:
            progress(len(rows[index]))
    central = {name: level[:n_months + 1] for name, level in central_path(scenario.macro,
                                                                          engine_months(scenario)).items()}
    return aggregates, central, vintages


def path_blocks(first_path, n_paths, chunk_paths):
    """The path numbers ``first_path .. n_paths - 1`` cut into consecutive blocks of at most ``chunk_paths`` (int64
    arrays)."""
    return [np.arange(start, min(start + chunk_paths, n_paths), dtype=np.int64)
            for start in range(first_path, n_paths, chunk_paths)]


def map_in_process(function, shared, blocks):
    """The default block mapper of :func:`simulate_paths`: ``function(*shared, block)`` for each block in turn,
    in this process; yields ``(index, result)``."""
    for index, block in enumerate(blocks):
        yield index, function(*shared, block)


def simulate_block(scenario, book, seed, block):
    """One block of paths: its macro paths, one kernel call, the output cut to the horizon.

    A pure function of its arguments (the kernels' random streams are keyed by
    ``(seed, path id)``), run with the calling thread's numba thread count.

    Parameters
    ----------
    scenario : Scenario
    book : LoanBook
    seed : int
    block : tuple (path_ids, stop_months)
        The block's path numbers, int64 ``(n_block,)``, and the month each stops
        lending, int64 ``(n_block,)`` (:data:`~simulator.model.engine.kernels.NEVER`: never).

    Returns
    -------
    out : numpy.ndarray (n_block, n_months + 1, n_segments, N_METRICS)
        The block's aggregates per segment, months 0..H.
    vintage : numpy.ndarray (n_block, n_months + 1, n_months + 1)
        The block's vintage counts (see :func:`simulate_paths`).
    """
    path_ids, stop_months = block
    n_months = scenario.run.horizon_months
    n_engine = engine_months(scenario)
    macro = macro_paths(scenario.macro, seed, path_ids, n_engine, scenario.run)
    out = np.zeros((len(path_ids), n_engine + 1, len(book.segment_names), N_METRICS))
    vintage = np.zeros((len(path_ids), n_engine + 1, n_engine + 1))
    recorders = recorders_group(out, vintage)
    if scenario.behaviour.model == "structural":
        simulate_structural(*structural_arguments(scenario, book, seed, path_ids, macro, recorders, stop_months))
    else:
        simulate_roll_rate(*roll_rate_arguments(scenario, book, seed, path_ids, macro, recorders, stop_months))
    return out[:, :n_months + 1].copy(), vintage[:, :n_months + 1, :n_months + 1].copy()


RESOLUTION_SLACK_MONTHS = 6
"""Months the engine runs beyond the fastest road from default to charge-off (see :func:`engine_months`)."""


def engine_months(scenario):
    """Months the engine simulates: the horizon, the lifetime-ECL window and the time a default takes to resolve.

    The ECL of month t counts the defaults of the next ``lifetime_months`` (12 for
    Stage 1) and whatever each goes on to lose, so the engine runs past the horizon
    H (on the scenario's macro path continued, its last shock levels held) by the
    window plus the months from default to charge-off: at least
    ``chargeoff_dpd / 30 - default_after_dpd / 30`` (the loan misses every month),
    plus :data:`RESOLUTION_SLACK_MONTHS` for defaults that linger (a borrower who
    pays the instalment but not the arrears stays in the bucket). Recoveries after
    charge-off need no simulated months: their present value enters through the LGD
    (:func:`simulator.accounts.ifrs9.loss_given_default`). Months 0..H are reported.
    """
    ifrs9 = scenario.provisioning.ifrs9
    default_to_chargeoff = scenario.behaviour.chargeoff_dpd // 30 - ifrs9.default_after_dpd // 30
    return scenario.run.horizon_months + ifrs9.lifetime_months + default_to_chargeoff + RESOLUTION_SLACK_MONTHS


def structural_arguments(scenario, book, seed, path_ids, macro, recorders, stop_months=None):
    """The arguments of :func:`simulate_structural` for a block of paths, in order.

    Parameters
    ----------
    scenario : Scenario
    book : LoanBook
    seed : int
    path_ids : int64 array (n_paths,)
    macro : MacroPaths
        The block's macro paths (:func:`simulator.model.macro.macro_paths`).
    recorders : Recorders
        The outputs (:func:`recorders_group`).
    stop_months : int64 array (n_paths,), optional
        The month each path stops lending (default: never; :func:`run_group`).
    """
    return (run_group(scenario, seed, path_ids, stop_months), book_group(book), economy_group(scenario, macro),
            behaviour_group(scenario), losses_group(scenario), collections_group(scenario),
            restructuring_group(scenario), recorders)


def roll_rate_arguments(scenario, book, seed, path_ids, macro, recorders, stop_months=None):
    """The arguments of :func:`simulate_roll_rate` for a block of paths, in order (parameters as for
    :func:`structural_arguments`)."""
    return (run_group(scenario, seed, path_ids, stop_months), book_group(book),
            roll_rate_economy_group(scenario, macro),
            roll_rate_behaviour_group(scenario), losses_group(scenario), collections_group(scenario), recorders)


def run_group(scenario, seed, path_ids, stop_months=None):
    """The paths to simulate, their random streams (antithetic pairs share one, the second complemented), the
    balance sheet (replacement under the constant balance sheet, unless new lending is modelled by originations)
    and the month each path stops lending (``stop_months``; default :data:`NEVER`)."""
    replace_closed = scenario.run.balance_sheet == "constant" and scenario.actions.originations is None
    antithetic = scenario.run.sampling == "antithetic"
    streams = path_ids // 2 if antithetic else path_ids
    flips = np.where(antithetic & (path_ids % 2 == 1), MASK32, np.uint64(0)).astype(np.uint64)
    stop_month = (np.full(len(path_ids), NEVER, dtype=np.int64) if stop_months is None
                  else np.ascontiguousarray(stop_months, dtype=np.int64))
    return Run(seed=seed, path_ids=path_ids, streams=streams, flips=flips, replace_closed=replace_closed,
               stop_month=stop_month)


def book_group(book):
    """The kernels' view of a :class:`~simulator.model.portfolio.LoanBook`: its columns, the same arrays."""
    return Book(**{name: getattr(book, name) for name in Book._fields})


def economy_group(scenario, macro):
    """The structural model's economy: segment labour-market rates (:func:`labour_market_rates`) and monthly
    income growth factors."""
    spec = scenario.resolved.behaviour.structural
    sensitivity = np.array([s.unemployment_sensitivity for s in scenario.portfolio.segments])
    unemployment, separation, finding = labour_market_rates(
        macro.unemployment, sensitivity, scenario.resolved.macro.baseline.unemployment,
        spec.job_finding, spec.job_finding_elasticity)
    income_growth = portable.power(1.0 + macro.income_growth, 1.0 / 12.0)
    return Economy(unemployment=unemployment, separation=separation, finding=finding, income_growth=income_growth,
                   dti_cap=underwriting_dti_cap(scenario, macro.unemployment))


def underwriting_dti_cap(scenario, unemployment):
    """The lender's cap on a new loan's total debt-to-income ratio per path, month and segment.

    ``cap = max_total_dti_s - cut max(u_t - u_0, 0)`` (:class:`~simulator.inputs.schema.UnderwritingSpec`), or
    ``inf`` throughout without ``actions.underwriting``: the slot's own template passed the segment's cap when it
    was drawn, so only a cyclical cut can decline it.

    Parameters
    ----------
    unemployment : array (n_paths, n_months + 1), fractions

    Returns
    -------
    array (n_paths, n_months + 1, n_segments)
    """
    n_segments = len(scenario.portfolio.segments)
    spec = scenario.actions.underwriting
    if spec is None:
        return np.full(unemployment.shape + (n_segments,), np.inf)
    caps = np.array([s.resolved.max_total_dti for s in scenario.portfolio.segments])
    excess = np.maximum(unemployment - scenario.resolved.macro.baseline.unemployment, 0.0)
    return caps[None, None, :] - spec.dti_cap_cut_pp_per_unemployment_pp * excess[:, :, None]


def roll_rate_economy_group(scenario, macro):
    """The roll-rate model's economy: the cycle index (:func:`roll_rate_cycle_index`)."""
    return RollRateEconomy(cycle_z=roll_rate_cycle_index(scenario, macro))


def behaviour_group(scenario):
    """The structural model's borrowers, the scenario's percentages as fractions."""
    behaviour = scenario.resolved.behaviour
    spec = behaviour.structural
    permanent_sd = spec.permanent_income_sd / np.sqrt(12.0)
    return Behaviour(
        essential_share=np.array([s.essential_spending for s in scenario.resolved.portfolio.segments]),
        replacement_rate=spec.replacement_rate,
        permanent_shock=equiprobable_lognormal(permanent_sd),
        transitory_shock=equiprobable_lognormal(spec.transitory_income_sd),
        savings_target_months=spec.savings_target_months,
        missed_when_able=spec.missed_when_able,
        willingness=np.array(spec.willingness.by_state),
        prepayment=behaviour.prepayment)


def roll_rate_behaviour_group(scenario):
    """The roll-rate model's transitions: one-factor thresholds (:func:`roll_rate_thresholds`) and correlation."""
    return RollRateBehaviour(thresholds=roll_rate_thresholds(scenario),
                             rho=scenario.resolved.behaviour.roll_rate.asset_correlation)


def losses_group(scenario):
    """Penalty interest, charge-off, recoveries and the forward-loss window, shared by both models."""
    behaviour = scenario.resolved.behaviour
    return Losses(chargeoff_state=behaviour.chargeoff_dpd // 30,
                  penalty_uplift=behaviour.penalty_rate_uplift,
                  recovery_rate=behaviour.recovery.rate, recovery_months=behaviour.recovery.months,
                  lifetime_months=scenario.provisioning.ifrs9.lifetime_months,
                  default_state=scenario.provisioning.ifrs9.default_after_dpd // 30 + 1)


def collections_group(scenario):
    """The collections action: contact rates by state, effects, capacity, start month (off: :data:`NEVER`)."""
    spec = scenario.resolved.actions.collections
    if spec is None or spec.start_month > scenario.run.horizon_months:
        return Collections(contact_rate=np.zeros(N_LIVE_STATES), cure_effect=0.0, instalment_effect=0.0,
                           contact_capacity=np.inf, start=NEVER)
    capacity = np.inf if spec.capacity_accounts_per_month is None else float(spec.capacity_accounts_per_month)
    return Collections(contact_rate=np.array(spec.contact.by_state), cure_effect=spec.cure_effect,
                       instalment_effect=spec.instalment_effect, contact_capacity=capacity,
                       start=spec.start_month)


def restructuring_group(scenario):
    """The restructuring action (off: starts :data:`NEVER`)."""
    spec = scenario.resolved.actions.restructuring
    if spec is None or spec.start_month > scenario.run.horizon_months:
        return Restructuring(start=NEVER, on_job_loss=False, on_dpd_1_30=False, income_drop=0.0,
                             take_probability=0.0, plan=HOLIDAY, plan_months=1, rate_cut=0.0, max_restructurings=0)
    return Restructuring(
        start=spec.start_month, on_job_loss=spec.on_job_loss, on_dpd_1_30=spec.on_dpd_1_30,
        income_drop=0.0 if spec.income_drop is None else spec.income_drop,
        take_probability=spec.take_probability,
        plan={"holiday": HOLIDAY, "extension": EXTENSION, "rate_cut": RATE_CUT}[spec.plan], plan_months=spec.months,
        rate_cut=spec.rate_cut, max_restructurings=spec.max_per_loan)


def recorders_group(out, vintage, snapshot_month=-1, snapshot=None, panel=None):
    """The kernels' outputs: ``out`` and ``vintage`` (zeroed by the caller), and optionally the ``snapshot`` of the
    block's first paths at ``snapshot_month`` (structural) and path 0's loan history ``panel`` (both NaN-filled by
    the caller)."""
    return Recorders(snapshot_month=snapshot_month, snapshot=NO_SNAPSHOT if snapshot is None else snapshot,
                     panel=NO_PANEL if panel is None else panel, vintage=vintage, out=out)


def roll_rate_cycle_index(scenario, macro):
    """Cycle index ``z = x + k (u_central - u_baseline)`` (pp) driving the roll-rate model."""
    spec = scenario.behaviour.roll_rate
    shift = spec.cycle_per_unemployment_pp * (macro.central["unemployment"]
                                              - scenario.macro.baseline.unemployment_pct)
    return macro.cycle + shift[None, :]


SETTLE_MONTHS = 360
"""Months of the burn-in that settles the opening borrowers' hidden state.

Thirty years: every slot has renewed its loan many times and prepayments have
mixed the ages of loans of the same term. A 36-month loan that is neither prepaid
(1% a month) nor charged off is renewed on the same month-of-term cycle, so a slot
forgets its opening loan's age only slowly: after 24 months the 36-month slots
still held their opening loans and a baseline book's balance grew by about 1% over
the horizon; after 120 months it still grew by 4-5e-5 a month (about 3 standard
errors over 40 books x 10 paths, ``tests/test_stationarity.py``); after 360 months
that drift is gone (within 0.6 standard errors)."""

SETTLE_PATHS = 8
"""Independent paths of the burn-in: each slot's candidate opening states (fewer for books of more than
:data:`SETTLE_DONORS` / 8 loans)."""

SETTLE_DONORS = 1_000_000
"""Most loan states (paths x book) the burn-in records: bounds the snapshot's memory (56 bytes each)."""


def settle_borrowers(scenario, book, seed):
    """Start a synthetic book in the model's steady state, keeping its loans' slots and its delinquency mix.

    A loan's delinquency state is observed; its borrower's employment, savings and
    income relative to the loan are not, and a book whose hidden states do not fit
    its delinquency states leaves its starting mix in the first months: a start-up
    transient that has nothing to do with the scenario. So the book is first run for
    :data:`SETTLE_MONTHS` months on :data:`SETTLE_PATHS` independent paths of the
    baseline economy (no shocks, no cycle, no management actions, plain sampling): each slot then has
    that many settled states, draws from its own long-run distribution (its loan,
    arrears, remaining term and borrower), and each slot opens in one of them
    (:func:`choose_settled_states`), chosen at random subject to the book keeping each
    segment's count of loans in each delinquency state. The slots keep their
    origination templates, so the book's long-run level is that of its own loans, and
    its opening mix is the one it was given. Only where a slot's own settled states
    cannot meet the counts (a mix far from the model's, or a tiny book) does a slot
    take another slot's settled loan in the state it lacks, with that slot's template
    (hot-deck, donors without replacement while they last), or, if no path ever
    reaches that state, a loan of the unsettled book in it. Only the structural model
    has hidden borrower state; other books are returned unchanged.

    Returns
    -------
    LoanBook
    """
    if scenario.behaviour.model != "structural":
        return book
    quiet = scenario.macro.model_copy(update={
        "shocks": [], "cycle": scenario.macro.cycle.model_copy(update={"volatility": 0.0})})
    calm = scenario.model_copy(update={"macro": quiet, "actions": ActionsSpec()}).with_run(
        horizon_months=SETTLE_MONTHS, balance_sheet="constant", sampling="mc", tail_sampling="none")
    n_paths = int(np.clip(SETTLE_DONORS // max(book.n_loans, 1), 1, SETTLE_PATHS))
    path_ids = np.arange(n_paths, dtype=np.int64)
    snapshot = np.full((n_paths, book.n_loans, SNAPSHOT_COLUMNS), np.nan)
    out = np.zeros((n_paths, SETTLE_MONTHS + 1, len(book.segment_names), N_METRICS))
    vintage = np.zeros((n_paths, SETTLE_MONTHS + 1, SETTLE_MONTHS + 1))
    macro = macro_paths(quiet, seed, path_ids, SETTLE_MONTHS)
    simulate_structural(*structural_arguments(calm, book, settle_seed(seed), path_ids, macro,
                                              recorders_group(out, vintage, SETTLE_MONTHS, snapshot)))
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, SETTLE_STREAM])))
    source_slot = np.arange(book.n_loans)
    source_path = np.full(book.n_loans, -1)
    for segment in range(len(book.segment_names)):
        slots = np.flatnonzero(book.segment == segment)
        target = np.bincount(book.dpd_state[slots], minlength=N_LIVE_STATES)
        candidates = snapshot[:, slots, 0].T.astype(np.int64)
        choice, short = choose_settled_states(candidates, target, rng)
        source_path[slots] = choice
        left_over = np.split(slots[choice < 0], np.cumsum(short)[:-1])
        for state in np.flatnonzero(short):
            takers = left_over[state]
            pool_path, pool_slot = np.nonzero(snapshot[:, slots, 0] == state)
            if len(pool_slot):
                pick = rng.permutation(len(pool_slot))[np.arange(len(takers)) % len(pool_slot)]
                source_slot[takers], source_path[takers] = slots[pool_slot[pick]], pool_path[pick]
            else:
                unsettled = slots[book.dpd_state[slots] == state]
                source_slot[takers] = rng.permutation(unsettled)[np.arange(len(takers)) % len(unsettled)]
    columns = {f.name: getattr(book, f.name)[source_slot] for f in fields(book) if f.name != "segment_names"}
    settled = source_path >= 0
    rows = snapshot[np.maximum(source_path, 0), source_slot]
    for k, name in enumerate(("dpd_state", "employed", "savings", "income", "principal", "arrears",
                              "remaining_term")):
        columns[name] = np.where(settled, rows[:, k], columns[name]).astype(columns[name].dtype)
    return LoanBook(**columns, segment_names=book.segment_names)


def settle_seed(seed):
    """The Philox key of the burn-in of :func:`settle_borrowers`: 63 bits of ``SeedSequence([seed, SETTLE_STREAM, 1])``
    (not the sequence that seeds the choice of settled states).

    Not ``seed`` itself: the shipped scenarios use the same number as book seed and run seed, and a burn-in keyed
    like the run would hand the run's first paths the very draws (loan, month, path) that shaped the opening states
    (which slot renewed its loan when, who lost a job), so the run's months would not be independent of where the
    book started.
    """
    state = np.random.SeedSequence([seed, SETTLE_STREAM, 1]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) | (int(state[1]) >> 1))


def choose_settled_states(candidates, target, rng):
    """Pick one settled state per slot so that the slots' states have the counts ``target``.

    Each slot first takes one of its candidates at random; then, while some state
    has more slots than its target and another fewer, randomly chosen slots of the
    first that have a candidate in the second move to it (to a random such
    candidate), until no move is left.

    Parameters
    ----------
    candidates : int array (n_slots, n_candidates)
        Each slot's settled delinquency states (one per path of the burn-in).
    target : int array (n_states,)
        Slots wanted in each state; sums to ``n_slots``.
    rng : numpy.random.Generator

    Returns
    -------
    choice : int array (n_slots,)
        The chosen candidate of each slot, -1 for slots left over (as many as ``short`` adds up to).
    short : int array (n_states,)
        Slots still missing in each state; the slots marked -1 are to be filled with them.
    """
    n_slots, n_candidates = candidates.shape
    choice = rng.integers(0, n_candidates, size=n_slots)
    state = candidates[np.arange(n_slots), choice]
    excess = np.bincount(state, minlength=len(target)) - target
    moved = True
    while moved:
        moved = False
        for over in np.flatnonzero(excess > 0):
            for under in np.flatnonzero(excess < 0):
                has = candidates == under
                eligible = np.flatnonzero((state == over) & has.any(axis=1))
                n_move = min(excess[over], -excess[under], len(eligible))
                if n_move <= 0:
                    continue
                movers = rng.choice(eligible, size=n_move, replace=False)
                choice[movers] = np.argmax(rng.random((n_move, n_candidates)) * has[movers], axis=1)
                state[movers] = under
                excess[over] -= n_move
                excess[under] += n_move
                moved = True
    for over in np.flatnonzero(excess > 0):
        leave = rng.choice(np.flatnonzero((state == over) & (choice >= 0)), size=excess[over], replace=False)
        choice[leave] = -1
    return choice, np.maximum(-excess, 0)
