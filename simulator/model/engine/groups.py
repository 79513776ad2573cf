"""The kernels' inputs and outputs, passed as a few named groups.

:func:`~simulator.model.engine.kernels.simulate_structural` and
:func:`~simulator.model.engine.kernels.simulate_roll_rate` take one argument per
group below instead of dozens of positional arrays and scalars, so a kernel's
signature reads in a few names and a new parameter is added to one group (its
class here, its builder in :mod:`simulator.model.engine.simulate`, its use in the
kernel). The groups are plain :func:`collections.namedtuple` classes, which numba
types as (heterogeneous) tuples: a field keeps the exact numba type it had as an
argument of its own (int64, float64, boolean, arrays of their dtype), so grouping
changes no arithmetic. They are defined at module level so that the kernels'
on-disk cache (``cache=True``) finds the same types in every process.

A kernel unpacks the fields its ``prange`` loop uses into local variables
before the loop. Reached through the tuple inside the loop, a field is reloaded
from memory on every access (the structural kernel measured 3-4 % slower), and a
write to an array is silently dropped by numba's parallel dead-code elimination
(numba issue #5872; reproduced with numba 0.68.1).

The roll-rate kernel reads a subset of :class:`Book` and ignores the snapshot of
:class:`Recorders`; both kernels share :class:`Run`, :class:`Losses`,
:class:`Collections` and :class:`Recorders`.

Shapes: ``n_paths`` paths in the block, ``n_loans`` slots in the book,
``n_months`` engine months (the arrays indexed by month have ``n_months + 1``
rows, month 0 being the opening book), ``n_segments`` segments.
"""
from collections import namedtuple


class Run(namedtuple("Run", ["seed", "path_ids", "streams", "flips", "replace_closed", "stop_month"])):
    """Which paths to simulate, and the balance sheet.

    Attributes
    ----------
    seed : int
        The random streams' key (:func:`simulator.model.engine.rng.seed_key`).
    path_ids : int64 array (n_paths,)
        Global path numbers (the random streams' path word); row ``k`` of the
        recorders is path ``path_ids[k]``.
    streams : int64 array (n_paths,)
        The random streams' path word of each row: the path itself, or under
        antithetic sampling its pair ``path // 2``.
    flips : uint64 array (n_paths,)
        ``MASK32`` for the second path of an antithetic pair, whose every word is
        complemented (:func:`simulator.model.engine.rng.philox_words`), else 0.
    replace_closed : bool
        Constant balance sheet: a loan that matures, prepays or is charged off is
        replaced at the end of the month by a new current loan from its slot's
        origination template. False: run-off, the slot stays empty.
    stop_month : int64 array (n_paths,)
        Month from which row ``k``'s path writes no new loan (neither replacements
        nor originations): the lender has run out of cash and lets the book run off
        (:func:`simulator.workflows.results.simulate_with_funding`).
        :data:`~simulator.model.engine.kernels.NEVER`: lending never stops.
    """
    __slots__ = ()


class Book(namedtuple("Book", [
        "segment", "principal", "arrears", "apr", "remaining_term", "amortisation", "dpd_state",
        "income", "savings", "other_debt", "employed",
        "original_principal", "original_term", "original_income", "original_savings",
        "birth_month", "risk_scale"])):
    """The loans, one entry per slot: the :class:`~simulator.model.portfolio.LoanBook` columns the kernels read.

    The roll-rate kernel has no borrowers and reads only ``segment`` ..
    ``dpd_state``, ``original_principal``, ``original_term``, ``birth_month`` and
    ``risk_scale``.

    Attributes
    ----------
    segment : int32 array (n_loans,)
        Index of the loan's segment.
    principal, arrears : float arrays (n_loans,)
        Scheduled principal ``B`` and arrears ``A`` when the loan is written.
    apr : float array (n_loans,)
        Annual contract rate (fraction); the monthly rate is ``apr / 12``.
    remaining_term : int32 array (n_loans,)
        Instalments left.
    amortisation : int8 array (n_loans,)
        Schedule codes of :mod:`simulator.model.engine.amortisation`.
    dpd_state : int8 array (n_loans,)
        Delinquency state 0..6.
    income, savings, other_debt : float arrays (n_loans,)
        The borrower's monthly permanent income ``P``, savings, and monthly debt
        service to other lenders.
    employed : bool array (n_loans,)
    original_principal, original_term, original_income, original_savings : arrays (n_loans,)
        The slot's origination template for like-for-like replacement.
    birth_month : int32 array (n_loans,)
        Month the loan is written (0: the opening book); the slot is empty before.
    risk_scale : float array (n_loans,)
        Multiplies the borrower's job-loss probability and payment friction
        (structural); the share of a current loan's moves into delinquency that
        happen (roll-rate).
    """
    __slots__ = ()


class Economy(namedtuple("Economy", ["unemployment", "separation", "finding", "income_growth", "dti_cap"])):
    """The structural model's economy on each path, and the lender's underwriting in it.

    Attributes
    ----------
    unemployment, separation, finding : float arrays (n_paths, n_months + 1, n_segments)
        Segment unemployment rate (the labour-market rate the segment's borrowers
        face) and the monthly job-loss and job-finding probabilities that track it.
        Every live loan adds its segment's rate to the aggregate
        ``LABOUR_MARKET_UNEMPLOYED``. The book's own share of unemployed borrowers
        differs: their delinquent loans stay on the book longer, and new loans go to
        applicants in work.
    income_growth : float array (n_paths, n_months + 1)
        Monthly growth factor ``(1 + g)^(1/12)`` for annual income growth ``g``.
    dti_cap : float array (n_paths, n_months + 1, n_segments)
        The lender's cap on a new loan's total debt-to-income ratio (its annuity plus
        other debt service, over income) in the month: a slot whose applicant is above
        it is declined and stays empty until the cap admits it (``inf`` when the
        lender's underwriting does not move with the cycle, ``actions.underwriting``).
    """
    __slots__ = ()


class RollRateEconomy(namedtuple("RollRateEconomy", ["cycle_z"])):
    """The roll-rate model's economy on each path.

    Attributes
    ----------
    cycle_z : float array (n_paths, n_months + 1)
        Credit-cycle index ``z``; a larger ``z`` moves the transition rows'
        mass to worse outcomes (:func:`simulator.model.engine.kernels.conditional_roll_cdf`).
    """
    __slots__ = ()


class Behaviour(namedtuple("Behaviour", [
        "essential_share", "replacement_rate", "permanent_shock", "transitory_shock",
        "savings_target_months", "missed_when_able", "willingness", "prepayment"])):
    """The structural model's borrowers (see :func:`simulator.model.engine.kernels.simulate_structural`).

    Attributes
    ----------
    essential_share : float array (n_segments,)
        Essential spending as a share of permanent income.
    replacement_rate : float
        Income of an unemployed borrower as a share of permanent income.
    permanent_shock, transitory_shock : float arrays (SHOCK_POINTS,)
        Equiprobable mean-one income shock factors (:mod:`simulator.model.engine.shocks`).
    savings_target_months : float
        Savings are capped at this many months of essential spending.
    missed_when_able : float
        Chance a current borrower who could pay does not (payment friction plus
        strategic default), times the loan's ``risk_scale``.
    willingness : float array (7,)
        Chance a borrower in delinquency state ``d`` is willing to pay; index 0 unused.
    prepayment : float
        Monthly chance a current loan with instalments left prepays in full.
    """
    __slots__ = ()


class RollRateBehaviour(namedtuple("RollRateBehaviour", ["thresholds", "rho"])):
    """The roll-rate model's transitions (see :func:`simulator.model.engine.kernels.simulate_roll_rate`).

    Attributes
    ----------
    thresholds : float array (n_segments, 7, 9)
        ``Phi^-1`` of each state's base cumulative transition probabilities over
        the outcomes in :data:`simulator.model.engine.kernels.ROLL_ORDER`, scaled
        so that the base matrix is the average over the cycle.
    rho : float
        Asset correlation of the one-factor model.
    """
    __slots__ = ()


class Losses(namedtuple("Losses", [
        "chargeoff_state", "penalty_uplift", "recovery_rate", "recovery_months", "lifetime_months",
        "default_state"])):
    """How arrears and losses are booked (both models).

    Attributes
    ----------
    chargeoff_state : int
        Charge-off DPD / 30: a loan beyond this state is charged off (``B + A``
        written off).
    penalty_uplift : float
        Arrears accrue penalty interest at ``APR (1 + penalty_uplift) / 12`` a month.
    recovery_rate : float
        Share of a charge-off recovered, in equal parts over the next
        ``recovery_months`` months (inside the engine months; at once if 0).
    recovery_months : int
    lifetime_months : int
        Window of the lifetime forward losses: a default event this many months
        ahead or nearer counts for a month
        (:func:`simulator.model.engine.kernels._resolve_default`).
    default_state : int
        First live state in default (IFRS 9): ``default_after_dpd // 30 + 1``
        (4, 91-120 DPD, for the presumption of B5.5.37); at most ``chargeoff_state``.
    """
    __slots__ = ()


class Collections(namedtuple("Collections", [
        "contact_rate", "cure_effect", "instalment_effect", "contact_capacity", "start"])):
    """The collections action (both models).

    Attributes
    ----------
    contact_rate : float array (7,)
        Chance a delinquent account in each state is contacted in a month.
    cure_effect, instalment_effect : float
        Structural: a contacted borrower's willingness ``w`` becomes
        ``w + (1 - w) effect`` for paying in full and for paying the instalment.
        Roll-rate: a contacted loan about to roll worse cures with probability
        ``cure_effect`` and stays (pays the instalment) with ``instalment_effect``.
    contact_capacity : float
        Contacts possible per path and month (``inf``: unlimited), first come,
        first served in book order.
    start : int
        First month of the action (:data:`simulator.model.engine.kernels.NEVER` when off).
    """
    __slots__ = ()


class Restructuring(namedtuple("Restructuring", [
        "start", "on_job_loss", "on_dpd_1_30", "income_drop", "take_probability", "plan", "plan_months",
        "rate_cut", "max_restructurings"])):
    """The restructuring action (structural model only).

    Attributes
    ----------
    start : int
        First month of the action (:data:`simulator.model.engine.kernels.NEVER` when off).
    on_job_loss, on_dpd_1_30 : bool
        Eligibility: a job lost this month; a loan 1-30 DPD.
    income_drop : float
        Also eligible when income this month is below ``(1 - income_drop) P`` (0: not used).
    take_probability : float
        Offer rate x take-up rate.
    plan : int
        :data:`~simulator.model.engine.kernels.HOLIDAY` (no instalment for
        ``plan_months``, interest capitalised, term extended),
        :data:`~simulator.model.engine.kernels.EXTENSION` (term + ``plan_months``) or
        :data:`~simulator.model.engine.kernels.RATE_CUT` (rate x (1 - ``rate_cut``));
        the arrears are capitalised and the loan is current, flagged restructured.
    plan_months : int
    rate_cut : float
    max_restructurings : int
        Plans per loan at most.
    """
    __slots__ = ()


class Recorders(namedtuple("Recorders", ["snapshot_month", "snapshot", "panel", "vintage", "out"])):
    """What the kernels write (the caller allocates and zeroes or NaN-fills these).

    Attributes
    ----------
    snapshot_month : int
        Structural only: month at which the loans of the block's first
        ``n_snapshots`` paths are recorded into ``snapshot`` (-1: never).
    snapshot : float array (n_snapshots, n_loans, SNAPSHOT_COLUMNS)
        Structural only: per path (row ``k`` is the block's path ``path_ids[k]``) and
        loan at ``snapshot_month``, its state, employed (1/0), savings, permanent
        income, scheduled principal, arrears, remaining term (``n_snapshots = 0``:
        none).
    panel : float array (n_recorded, n_months + 1, PANEL_COLUMNS), NaN-filled
        Loan-month history of path 0's first ``n_recorded`` slots (``n_recorded = 0``:
        none), the input of :func:`simulator.workflows.calibration.engine_history`. Per slot
        and month: ``PANEL_STATE``/``PANEL_BALANCE``, the month-end state (0-6, 7
        charged off, 8 closed) and balance of the loan live at the start of the
        month; ``PANEL_NEW_STATE``/``PANEL_NEW_BALANCE``, a loan written in the slot
        that month (the opening book at month 0, originations, replacements).
    vintage : float array (n_paths, n_months + 1, n_months + 1), zeroed
        ``vintage[p, v, k]``: loans written in month v (v = 0: the opening book) that
        first reach 90+ DPD, or are charged off, k months after being written.
    out : float array (n_paths, n_months + 1, n_segments, N_METRICS), zeroed
        The per-path, per-month, per-segment aggregates (layout: :mod:`simulator.model.engine.layout`);
        ``n_segments`` must exceed every ``book.segment``.
    """
    __slots__ = ()
