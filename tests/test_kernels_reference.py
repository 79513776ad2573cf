"""The numba kernels against the independent plain-numpy reference (tests/reference_numpy.py).

Both sides see the same book, the same macro inputs and the same Philox words, so
every aggregate of every path and month must agree to floating-point round-off
(the reference adds its sums in another order and uses scipy's ``ndtri``/``ndtr``
and numpy's ``exp``/``**``). Counts must agree exactly, and so must the vintage
counts (loans written in month v first reaching 90+ DPD k months later).
"""
import ast
import inspect
import textwrap
from collections import namedtuple
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from simulator.model.engine import groups, kernels, layout
from simulator.model.engine import rng as engine_rng
from simulator.model.engine.layout import (BALANCE, CHARGEOFF, CHARGEOFF_COUNT, CONTACTS, COUNT, FORWARD_CURED_LIFE,
                                           FORWARD_DEFAULT_12M, FORWARD_EAD_LIFE, FORWARD_LOSS_12M, M1_CURED,
                                     M1_ROLLED, M1_START, METRIC_NAMES, N_LIVE_STATES, N_METRICS, N_OUTCOMES,
                                     NEW_LENDING, NEW_LOANS, PREPAID, RECOVERY, REDEFAULTS, RESTRUCTURED_BALANCE,
                                     RESTRUCTURED_COUNT, RESTRUCTURED_FORWARD_LOSS, RESTRUCTURINGS, TRANSITION,
                                     UNEMPLOYED, book_aggregates)
from simulator.model.engine.simulate import simulate_paths, simulate_segments
from simulator.model.portfolio import build_book, originations, with_new_lending
from simulator.inputs.loader import load_scenario, scenario_from_dict
from tests import reference_numpy
from tests.reference_numpy import (NOT_REDONE, ROLL_RATE_FIELDS, STRUCTURAL_FIELDS, philox4x32_numpy, reference_paths,
                                   uniform32_numpy, uniform52_numpy)

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
SEED = 20261128
N_LOANS = 300
N_PATHS = 3
N_MONTHS = 14
RTOL = 1e-9
ATOL = 1e-6
"""Absolute tolerance in currency units: balances here are ~1e6-1e7, so this is ~1e-13 relative."""

COUNT_METRICS = ([COUNT + k for k in range(N_LIVE_STATES)] + [RESTRUCTURED_COUNT + k for k in range(N_LIVE_STATES)]
                 + [CHARGEOFF_COUNT, UNEMPLOYED, M1_START, M1_CURED, M1_ROLLED, CONTACTS, RESTRUCTURINGS, REDEFAULTS,
                    NEW_LOANS]
                 + list(range(TRANSITION, TRANSITION + N_LIVE_STATES * N_OUTCOMES)))

ROLL_RATE_MATRIX = [
    # current 1-30 31-60 61-90 91-120 121-150 151-180 charged_off closed
    [93.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
    [50.0, 30.0, 17.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0],
    [20.0, 10.0, 30.0, 38.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    [10.0, 5.0, 5.0, 30.0, 48.0, 0.0, 0.0, 0.0, 2.0],
    [5.0, 2.0, 2.0, 3.0, 30.0, 56.0, 0.0, 0.0, 2.0],
    [3.0, 1.0, 1.0, 1.0, 2.0, 30.0, 60.0, 0.0, 2.0],
    [2.0, 1.0, 0.0, 0.0, 0.0, 1.0, 30.0, 64.0, 2.0],
]

CONTACT_PCT = {"dpd_1_30": 80, "dpd_31_60": 90, "dpd_61_90": 90, "dpd_91_plus": 90}
CAPACITY = 3
"""Contacts a month in the capacity-bound cases: far fewer than the delinquent accounts that pass the draw."""

SHOCKS = [
    {"shape": "hump", "variable": "unemployment", "size_pp": 6.0, "start_month": 1, "peak_month": 6,
     "hold_months": 3, "decay_months": 6},
    {"shape": "step", "variable": "income_growth", "size_pp": -8.0, "start_month": 2},
]


# --------------------------------------------------------------------------- helpers
def small_scenario(**changes):
    """The baseline scenario cut down to a small book and horizon, with nested overrides.

    ``changes`` maps dotted paths (``"behaviour.chargeoff_dpd"``) to values; the
    result is validated again with :func:`scenario_from_dict`.
    """
    base = load_scenario(BASELINE).with_loans(N_LOANS).with_run(paths=N_PATHS, horizon_months=N_MONTHS)
    data = base.model_dump(mode="json")
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return scenario_from_dict(data)


def segments_within_chargeoff(chargeoff_dpd, all_current=False):
    """The baseline segments with no loan starting beyond ``chargeoff_dpd`` (the scenario check requires it).

    Shares beyond the charge-off point move to the last bucket before it; with
    ``all_current`` every loan starts current.
    """
    segments = small_scenario().model_dump(mode="json")["portfolio"]["segments"]
    keys = list(segments[0]["starting_dpd_pct"])  # current, dpd_1_30, ..., dpd_151_180
    last = chargeoff_dpd // 30
    for segment in segments:
        mix = segment["starting_dpd_pct"]
        if all_current:
            mix.update({key: (100.0 if key == "current" else 0.0) for key in keys})
            continue
        for key in keys[last + 1:]:
            mix[keys[last]] += mix[key]
            mix[key] = 0.0
    return segments


def roll_rate_scenario(**changes):
    changes = {"behaviour.model": "roll_rate", "behaviour.prepayment_pct": None,
               "behaviour.roll_rate": {"asset_correlation_pct": 10, "cycle_per_unemployment_pp": 0.5,
                                       "matrices": {"default": ROLL_RATE_MATRIX}},
               **changes}
    return small_scenario(**changes)


Run = namedtuple("Run", "kernel reference book kernel_vintages reference_vintages")
"""Aggregates and vintages of the engine (``kernel*``) and of the numpy reference on one book."""


def lending_book(scenario, seed=SEED):
    """The book the engine runs, as :func:`simulator.workflows.results.run` builds it: the opening book plus new lending."""
    book = build_book(scenario, seed)
    return with_new_lending(book, originations(scenario, book.n_loans, seed))


def kernel_and_reference(scenario, seed=SEED, book=None, stop_months=None):
    """The kernel's and the reference's aggregates and vintages of one scenario (lending stopping on each path at
    ``stop_months``, default never)."""
    if book is None:
        book = lending_book(scenario, seed)
    if stop_months is None:
        kernel, _, kernel_vintages = simulate_paths(scenario, book, seed, threads=2)
    else:
        by_segment, _, kernel_vintages = simulate_segments(scenario, book, seed, threads=2, stop_months=stop_months)
        kernel = book_aggregates(by_segment)
    reference, reference_vintages = reference_paths(scenario, book, seed, stop_months=stop_months)
    return Run(kernel, reference, book, kernel_vintages, reference_vintages)


def assert_agree(run):
    """Every aggregate of every path and month, and every vintage count, agree; the vintages are consistent."""
    kernel, reference = run.kernel, run.reference
    assert kernel.shape == reference.shape == (N_PATHS, N_MONTHS + 1, N_METRICS)
    for k, name in enumerate(METRIC_NAMES):
        if k in COUNT_METRICS:
            np.testing.assert_array_equal(reference[:, :, k], kernel[:, :, k], err_msg=f"metric {name}")
        else:
            np.testing.assert_allclose(reference[:, :, k], kernel[:, :, k], rtol=RTOL, atol=ATOL,
                                       err_msg=f"metric {name}")
    assert run.kernel_vintages.shape == run.reference_vintages.shape == (N_PATHS, N_MONTHS + 1, N_MONTHS + 1)
    np.testing.assert_array_equal(run.reference_vintages, run.kernel_vintages, err_msg="vintages")
    assert_vintages_consistent(kernel, run.kernel_vintages, run.book.birth_month)


def assert_vintages_consistent(agg, vintages, birth_month, new_current=True):
    """Vintage counts against the aggregates (months 0..n of both).

    * counts are whole and non-negative;
    * no vintage has more loans first at 90+ than were written in it (the opening
      book for ``v = 0``, ``NEW_LOANS`` of month ``v`` after);
    * at ``k = 0``: the opening book's loans beyond 90 DPD; none of a later vintage
      if new loans start current (``new_current``: always, from a scenario);
    * the loans first at 90+ in month ``m`` (``v + k = m``, ``v < m``) are among the
      month's moves from a live state up to 90 DPD to one beyond it or to charge-off
      (a charge-off counts as reaching 90+).
    """
    assert (vintages >= 0).all() and (vintages == np.round(vintages)).all()
    ever = vintages.sum(axis=2)
    assert (ever[:, 0] <= (np.asarray(birth_month) == 0).sum()).all()
    assert (ever[:, 1:] <= agg[:, 1:, NEW_LOANS]).all()
    np.testing.assert_array_equal(vintages[:, 0, 0], agg[:, 0, COUNT + 4:COUNT + N_LIVE_STATES].sum(axis=1))
    if new_current:
        np.testing.assert_array_equal(vintages[:, 1:, 0], 0)
    moves = agg[:, :, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES].reshape(
        agg.shape[0], agg.shape[1], N_LIVE_STATES, N_OUTCOMES)
    into_90 = moves[:, :, :4, 4:N_LIVE_STATES].sum(axis=(2, 3)) + moves[:, :, :4, N_LIVE_STATES].sum(axis=2)
    n_months = agg.shape[1] - 1
    for m in range(1, n_months + 1):
        v = np.arange(m)
        assert (vintages[:, v, m - v].sum(axis=1) <= into_90[:, m]).all(), f"month {m}"


def assert_replacements_are_new_loans(agg):
    """Constant balance sheet: every loan closed in a month is replaced by a new loan of that month."""
    moves = agg[:, :, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES].reshape(
        agg.shape[0], agg.shape[1], N_LIVE_STATES, N_OUTCOMES)
    np.testing.assert_array_equal(agg[:, :, NEW_LOANS], moves[:, :, :, 7:].sum(axis=(2, 3)))


def assert_exercised(agg, *metrics):
    """The run actually went through the branches the comparison is meant to cover."""
    for k in metrics:
        assert agg[:, 1:, k].sum() > 0, f"no {METRIC_NAMES[k]} in the test run; the comparison would be vacuous"


# --------------------------------------------------------------------------- the reference's fields
KERNEL_GROUPS = {
    kernels.simulate_structural: (STRUCTURAL_FIELDS, (groups.Run, groups.Book, groups.Economy, groups.Behaviour,
                                                      groups.Losses, groups.Collections, groups.Restructuring,
                                                      groups.Recorders)),
    kernels.simulate_roll_rate: (ROLL_RATE_FIELDS, (groups.Run, groups.Book, groups.RollRateEconomy,
                                                    groups.RollRateBehaviour, groups.Losses, groups.Collections,
                                                    groups.Recorders)),
}
"""Each kernel, the fields its reference reads per argument, and the argument's group class."""


def kernel_reads(kernel):
    """``{argument: fields read}`` of a kernel, from its source (``book.apr`` reads field ``apr`` of ``book``)."""
    function = ast.parse(textwrap.dedent(inspect.getsource(kernel.py_func))).body[0]
    reads = {argument.arg: set() for argument in function.args.args}
    for node in ast.walk(function):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in reads:
            reads[node.value.id].add(node.attr)
    return reads


def names_used(module):
    """The names a module's code uses (loads), imported or its own."""
    return {node.id for node in ast.walk(ast.parse(inspect.getsource(module))) if isinstance(node, ast.Name)}


@pytest.mark.parametrize("kernel", KERNEL_GROUPS, ids=lambda kernel: kernel.__name__)
def test_reference_reads_every_field_the_kernel_reads(kernel):
    """A field a kernel starts to read must be redone by its reference (or listed in ``NOT_REDONE``, with why)."""
    reference_fields, group_classes = KERNEL_GROUPS[kernel]
    reads = kernel_reads(kernel)
    assert list(reads) == list(reference_fields)
    for (argument, fields), group in zip(reads.items(), group_classes):
        assert fields <= set(group._fields), f"{argument}: {sorted(fields - set(group._fields))}"
        redone = set(reference_fields[argument].split())
        assert redone | set(NOT_REDONE.get(argument, "").split()) == fields, argument
        assert redone <= fields, argument


def test_every_group_field_is_read_by_a_kernel():
    """The groups hold only what a kernel reads, so the check above covers every field of
    :mod:`simulator.model.engine.groups`."""
    read = {}
    for kernel, (_, group_classes) in KERNEL_GROUPS.items():
        for group, fields in zip(group_classes, kernel_reads(kernel).values()):
            read.setdefault(group, set()).update(fields)
    for group, fields in read.items():
        assert fields == set(group._fields), group.__name__


def test_reference_writes_every_aggregate_column_the_kernels_write():
    """Every column of :mod:`layout` is written by the kernels and by the reference."""
    columns = {name for name, value in vars(layout).items()
               if name.isupper() and isinstance(value, int) and not name.startswith("N_")}
    assert columns <= names_used(kernels)
    assert columns <= names_used(reference_numpy)


# --------------------------------------------------------------------------- random numbers
KNOWN_ANSWERS = [
    # counter (4 words), key (2 words) -> output (Random123 kat_vectors, philox4x32 10 rounds)
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_numpy_philox_known_answers(counter, key, expected):
    words = philox4x32_numpy(*(np.array([c], dtype=np.uint64) for c in counter), *key)
    assert tuple(int(w[0]) for w in words) == expected


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_numba_philox_known_answers(counter, key, expected):
    words = engine_rng.philox4x32(*(np.uint64(c) for c in counter), *(np.uint64(k) for k in key))
    assert tuple(int(w) for w in words) == expected


def test_numpy_philox_matches_numba_on_engine_counters():
    rng = np.random.default_rng(1)
    counters = rng.integers(0, 2 ** 32, size=(4, 200), dtype=np.uint64)
    seed = int(rng.integers(0, 2 ** 63))
    k0, k1 = (np.uint64(k) for k in engine_rng.seed_key(seed))  # boxed to Python int when called from Python
    assert (int(k0), int(k1)) == (seed & 0xFFFFFFFF, seed >> 32)
    vectorised = philox4x32_numpy(*counters, k0, k1)
    for j in range(counters.shape[1]):
        scalar = engine_rng.philox4x32(*(np.uint64(c) for c in counters[:, j]), k0, k1)
        assert tuple(int(w) for w in scalar) == tuple(int(v[j]) for v in vectorised)


def test_uniforms_and_normals_match_engine():
    rng = np.random.default_rng(2)
    words = rng.integers(0, 2 ** 32, size=(2, 1000), dtype=np.uint64)
    words[:, :4] = [[0, 0xFFFFFFFF, 0, 0xFFFFFFFE], [0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]]
    u32 = uniform32_numpy(words[0])
    u52 = uniform52_numpy(words[0], words[1])
    assert 0.0 < u32.min() and u32.max() < 1.0
    for j in range(words.shape[1]):
        assert u32[j] == engine_rng.uniform32(np.uint64(words[0, j]))
        assert u52[j] == engine_rng.uniform52(np.uint64(words[0, j]), np.uint64(words[1, j]))
    from scipy.special import ndtri
    inner = u52 < 1.0
    as241 = np.array([engine_rng.ndtri(p) for p in u52[inner]])
    np.testing.assert_allclose(as241, ndtri(u52[inner]), rtol=1e-13, atol=1e-15)


def test_uniform52_is_inside_open_interval():
    top = np.uint64(0xFFFFFFFF)
    assert engine_rng.uniform52(top, top) < 1.0
    assert np.isfinite(engine_rng.ndtri(engine_rng.uniform52(top, top)))


# --------------------------------------------------------------------------- structural kernel
def test_structural_constant_balance_sheet():
    scenario = small_scenario()
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel, book = run.kernel, run.book
    assert_exercised(kernel, CHARGEOFF_COUNT, RECOVERY, PREPAID, NEW_LENDING, M1_CURED, M1_ROLLED, UNEMPLOYED,
                     FORWARD_DEFAULT_12M, FORWARD_CURED_LIFE, FORWARD_EAD_LIFE + 4)
    # constant balance sheet: every slot holds exactly one live loan every month
    np.testing.assert_array_equal(kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)


def test_structural_runoff():
    scenario = small_scenario(**{"run.balance_sheet": "runoff"})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel, book = run.kernel, run.book
    assert_exercised(kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED)
    live = kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2)
    assert (np.diff(live, axis=1) <= 0).all() and live[:, -1].max() < book.n_loans
    assert kernel[:, :, NEW_LENDING].sum() == 0.0


def test_structural_macro_shock_and_chunked_paths():
    scenario = small_scenario(**{"macro.shocks": SHOCKS, "run.chunk_paths": 2})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    calm = kernel_and_reference(small_scenario()).kernel
    assert kernel[:, 1:, UNEMPLOYED].sum() > calm[:, 1:, UNEMPLOYED].sum()


def test_structural_cyclical_underwriting_leaves_declined_slots_empty():
    # a hump of +6 pp with the cap cut 4 pp per pp: the cap falls below many applicants' DTI and rises again
    scenario = small_scenario(**{"macro.shocks": SHOCKS[:1],
                                 "actions.underwriting": {"dti_cap_cut_pp_per_unemployment_pp": 4.0}})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    live = run.kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2)
    assert live.min() < run.book.n_loans, "no slot was declined: the case is vacuous"
    assert (live[:, -1] > live.min(axis=1)).all(), "no empty slot was filled again when the cap rose"
    np.testing.assert_array_equal(live[:, 0], run.book.n_loans)


def test_structural_chargeoff_120_dpd():
    scenario = small_scenario(**{"behaviour.chargeoff_dpd": 120,
                                 "portfolio.segments": segments_within_chargeoff(120)})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    assert_exercised(kernel, CHARGEOFF_COUNT)
    # nothing stays live beyond 120 DPD after month 0
    assert kernel[:, 1:, COUNT + 5:COUNT + 7].sum() == 0


def test_structural_recovery_at_once():
    scenario = small_scenario(**{"behaviour.recovery.months": 0})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    np.testing.assert_allclose(kernel[:, :, RECOVERY], 0.094 * kernel[:, :, CHARGEOFF], rtol=1e-12)


def test_structural_other_amortisation_types():
    segments = small_scenario().model_dump(mode="json")["portfolio"]["segments"]
    segments[1]["amortisation"] = "equal_principal"
    segments[2]["amortisation"] = "interest_first"
    scenario = small_scenario(**{"portfolio.segments": segments})
    run = kernel_and_reference(scenario)
    assert set(np.unique(run.book.amortisation)) == {0, 1, 2}
    assert_agree(run)


def test_structural_numpy_draws_is_same_model():
    """The benchmark's ``draws="numpy"`` variant: same model, other numbers; check invariants only."""
    scenario = small_scenario()
    book = build_book(scenario, SEED)
    agg, vintages = reference_paths(scenario, book, SEED, draws="numpy", rng=np.random.default_rng(3))
    assert agg.shape == (N_PATHS, N_MONTHS + 1, N_METRICS)
    assert_vintages_consistent(agg, vintages, book.birth_month)
    assert np.isfinite(agg).all() and (agg >= 0).all()
    np.testing.assert_array_equal(agg[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)
    kernel, *_ = simulate_paths(scenario, book, SEED)
    # month 0's stocks are the book itself (its forward losses depend on the draws)
    np.testing.assert_allclose(agg[:, 0, :CHARGEOFF], kernel[:, 0, :CHARGEOFF], rtol=1e-12)


# --------------------------------------------------------------------------- management actions
def collections(capacity=None, **changes):
    return {"contact_pct": CONTACT_PCT, "capacity_accounts_per_month": capacity, **changes}


def assert_action_stocks_consistent(agg):
    """Restructured stocks are parts of the totals; nothing is restructured at month 0.

    (Forward losses are split, not nested: restructured months feed only the
    restructured forward metrics.)
    """
    for part, whole in ((RESTRUCTURED_BALANCE, BALANCE), (RESTRUCTURED_COUNT, COUNT)):
        assert (agg[:, :, part:part + N_LIVE_STATES] <= agg[:, :, whole:whole + N_LIVE_STATES] * (1 + 1e-12)).all()
    assert agg[:, 0, RESTRUCTURED_COUNT:RESTRUCTURED_COUNT + N_LIVE_STATES].sum() == 0
    assert (agg[:, :, REDEFAULTS] <= agg[:, :, CHARGEOFF_COUNT]).all()


@pytest.mark.parametrize("capacity, changes", [
    (CAPACITY, {}),
    (None, {"cure_effect_pct": 60, "instalment_effect_pct": 15, "start_month": 3}),
    (None, {"cure_effect_pct": 10, "instalment_effect_pct": 70}),
], ids=["capacity3", "unlimited-start3-cure", "unlimited-instalment"])
def test_structural_collections(capacity, changes):
    """Collections in the structural model; unequal effects tell ``willing_all`` from ``willing_instalment``."""
    scenario = small_scenario(**{"actions.collections": collections(capacity, **changes)})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    assert_exercised(kernel, CONTACTS, CHARGEOFF_COUNT, M1_CURED)
    contacts = kernel[:, :, CONTACTS]
    assert contacts[:, 0].sum() == 0
    if capacity is not None:
        assert contacts.max() == capacity, "the capacity never binds: the first-come-first-served order is untested"
        assert (contacts[:, 1:] == capacity).mean() > 0.5
    else:
        assert contacts.max() > 3 * CAPACITY
        start = changes.get("start_month", 1)
        assert contacts[:, 1:start].sum() == 0 and (contacts[:, start:] > 0).all()
    assert kernel[:, :, RESTRUCTURINGS].sum() == 0


RESTRUCTURING_CASES = {
    # plan, eligibility and options; each eligibility criterion is exercised on its own
    "holiday2-job_loss": ({"plan": "holiday", "months": 2, "on_job_loss": True, "on_dpd_1_30": False},
                          {"macro.shocks": SHOCKS}),
    "extension6-dpd_1_30": ({"plan": "extension", "months": 6, "on_job_loss": False, "on_dpd_1_30": True}, {}),
    "rate_cut50-income_drop": ({"plan": "rate_cut", "rate_cut_pct": 50, "on_job_loss": False, "on_dpd_1_30": False,
                                "income_drop_pct": 30, "max_per_loan": 2}, {}),
    "holiday2-all-repeat-runoff": ({"plan": "holiday", "months": 2, "income_drop_pct": 25, "max_per_loan": 3,
                                    "take_up_pct": 80, "start_month": 2}, {"run.balance_sheet": "runoff"}),
    "rate_cut50-all-collections": ({"plan": "rate_cut", "rate_cut_pct": 50, "income_drop_pct": 40},
                                   {"actions.collections": collections(CAPACITY)}),
}


@pytest.mark.parametrize("case", list(RESTRUCTURING_CASES))
def test_structural_restructuring(case):
    plan, changes = RESTRUCTURING_CASES[case]
    scenario = small_scenario(**{"actions.restructuring": plan, **changes})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel, book = run.kernel, run.book
    assert_exercised(kernel, RESTRUCTURINGS, REDEFAULTS, RESTRUCTURED_FORWARD_LOSS, CHARGEOFF_COUNT, PREPAID)
    assert_action_stocks_consistent(kernel)
    assert kernel[:, 1:, RESTRUCTURED_COUNT + 1:RESTRUCTURED_COUNT + N_LIVE_STATES].sum() > 0  # restructured, then late
    start = plan.get("start_month", 1)
    assert kernel[:, 1:start, RESTRUCTURINGS].sum() == 0
    if plan.get("max_per_loan", 1) > 1:
        # the runs agree until a loan takes a second plan, which only the repeat run allows
        single = small_scenario(**{"actions.restructuring": {**plan, "max_per_loan": 1}, **changes})
        once, *_ = simulate_paths(single, book, SEED, threads=2)
        differ = (kernel[:, :, RESTRUCTURINGS] != once[:, :, RESTRUCTURINGS]).any(axis=0)
        assert differ.any(), "no loan took a second plan"
        first = np.argmax(differ)
        assert (kernel[:, first, RESTRUCTURINGS] >= once[:, first, RESTRUCTURINGS]).all()
    if "actions.collections" in changes:
        assert kernel[:, 1:, CONTACTS].max() == CAPACITY
    if scenario.run.balance_sheet == "constant":
        np.testing.assert_array_equal(kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)


def test_structural_restructuring_other_amortisation_types():
    """Plans on equal-principal and interest-first loans (the annuity is recomputed but not used)."""
    segments = small_scenario().model_dump(mode="json")["portfolio"]["segments"]
    segments[1]["amortisation"] = "equal_principal"
    segments[2]["amortisation"] = "interest_first"
    for plan in ({"plan": "holiday", "months": 2}, {"plan": "extension", "months": 4}):
        scenario = small_scenario(**{"portfolio.segments": segments, "actions.restructuring": plan})
        run = kernel_and_reference(scenario)
        assert_agree(run)
        kernel = run.kernel
        assert_exercised(kernel, RESTRUCTURINGS)


def test_structural_actions_numpy_draws_invariants():
    """The ``draws="numpy"`` variant with both actions on: invariants only."""
    scenario = small_scenario(**{"actions.collections": collections(CAPACITY),
                                 "actions.restructuring": {"plan": "holiday", "months": 2}})
    book = build_book(scenario, SEED)
    agg, vintages = reference_paths(scenario, book, SEED, draws="numpy", rng=np.random.default_rng(4))
    assert_vintages_consistent(agg, vintages, book.birth_month)
    assert np.isfinite(agg).all() and (agg >= 0).all()
    np.testing.assert_array_equal(agg[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)
    assert agg[:, 1:, CONTACTS].max() == CAPACITY and agg[:, 1:, RESTRUCTURINGS].sum() > 0
    assert_action_stocks_consistent(agg)


# --------------------------------------------------------------------------- roll-rate kernel
@pytest.mark.parametrize("changes", [
    {},
    {"run.balance_sheet": "runoff"},
    {"behaviour.chargeoff_dpd": 120, "behaviour.recovery.months": 0,
     "portfolio.segments": segments_within_chargeoff(120)},
    {"macro.shocks": SHOCKS, "run.chunk_paths": 2},
], ids=["constant", "runoff", "chargeoff120-recovery0", "shock-chunked"])
def test_roll_rate(changes):
    scenario = roll_rate_scenario(**changes)
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    assert_exercised(kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED, M1_ROLLED, FORWARD_DEFAULT_12M, FORWARD_CURED_LIFE,
                     FORWARD_EAD_LIFE + 4)


@pytest.mark.parametrize("capacity, changes", [
    (CAPACITY, {}),
    (None, {"cure_effect_pct": 40, "instalment_effect_pct": 40, "start_month": 2}),
], ids=["capacity3", "unlimited-start2"])
def test_roll_rate_collections(capacity, changes):
    scenario = roll_rate_scenario(**{"actions.collections": collections(capacity, **changes)})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    kernel = run.kernel
    assert_exercised(kernel, CONTACTS, CHARGEOFF_COUNT, M1_CURED, M1_ROLLED)
    contacts = kernel[:, :, CONTACTS]
    if capacity is not None:
        assert contacts.max() == capacity and (contacts[:, 1:] == capacity).mean() > 0.5
    else:
        start = changes["start_month"]
        assert contacts[:, 1:start].sum() == 0 and contacts.max() > 3 * CAPACITY
        # month `start` begins from the same book and the same draws as without collections:
        # contacts only turn rolls worse into cures or stays
        plain = kernel_and_reference(roll_rate_scenario()).kernel
        flows = (kernel - plain)[:, start, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES]
        flows = flows.reshape(N_PATHS, N_LIVE_STATES, N_OUTCOMES)
        np.testing.assert_array_equal(flows[:, 0], 0)
        assert (flows[:, 1:, 0] >= 0).all() and flows[:, 1:, 0].sum() > 0
        assert (flows[:, :, 7] <= 0).all()


def test_roll_rate_nothing_live_beyond_chargeoff():
    matrix = [list(row) for row in ROLL_RATE_MATRIX]
    matrix[3] = [10.0, 5.0, 5.0, 30.0, 20.0, 28.0, 0.0, 0.0, 2.0]  # 61-90 DPD may jump to 121-150 DPD
    scenario = roll_rate_scenario(**{
        "behaviour.chargeoff_dpd": 120, "portfolio.segments": segments_within_chargeoff(120, all_current=True),
        "behaviour.roll_rate": {"asset_correlation_pct": 10, "cycle_per_unemployment_pp": 0.5,
                                "matrices": {"default": matrix}}})
    run = kernel_and_reference(scenario)
    assert_agree(run)  # the reference follows the kernel, so they agree ...
    kernel = run.kernel
    assert kernel[:, 1:, COUNT + 5:COUNT + 7].sum() == 0  # ... but loans live on at 121-180 DPD


def test_structural_snapshot_matches_reference():
    from simulator.model.engine.kernels import simulate_structural
    from simulator.model.engine.layout import N_METRICS as n_metrics
    from simulator.model.engine.simulate import recorders_group, structural_arguments
    from simulator.model.macro import macro_paths
    from simulator.model.sampling import resolve_sampling

    scenario = small_scenario()
    book = build_book(scenario, 3)
    path_ids = np.arange(2, dtype=np.int64)
    macro = macro_paths(scenario.macro, 3, path_ids, scenario.run.horizon_months, resolve_sampling(scenario.run))
    month = scenario.run.horizon_months - 2

    def recorders(snapshot, segments=()):
        out = np.zeros((2, scenario.run.horizon_months + 1, *segments, n_metrics))
        vintage = np.zeros((2, scenario.run.horizon_months + 1, scenario.run.horizon_months + 1))
        return recorders_group(out, vintage, month, snapshot)

    engine = np.full((2, book.n_loans, 7), np.nan)
    simulate_structural(*structural_arguments(scenario, book, 3, path_ids, macro,
                                              recorders(engine, (len(book.segment_names),))))
    reference = np.full((2, book.n_loans, 7), np.nan)
    from tests.reference_numpy import structural_reference
    structural_reference(*structural_arguments(scenario, book, 3, path_ids, macro, recorders(reference)))
    np.testing.assert_array_equal(engine[..., [0, 1, 6]], reference[..., [0, 1, 6]])
    np.testing.assert_allclose(engine[..., 2:6], reference[..., 2:6], rtol=1e-9)
    assert set(np.unique(engine[..., 0])) <= set(range(7)) and engine[..., 1].min() == 0
    assert not np.array_equal(engine[0], engine[1])  # each path's own loans


# --------------------------------------------------------------------------- new lending and vintages
ORIGINATIONS = {"volume_pct": 5, "score_cutoff": 620, "pd_improvement_pct": 30}
NEW_PER_MONTH = 15
"""5 % of the 300 opening loans."""


def assert_originations_booked(run, spec):
    """New loans enter in the block's months only, at its volume, each once, and nothing is replaced."""
    agg, book = run.kernel, run.book
    start, end = spec.get("start_month", 1), spec.get("end_month") or N_MONTHS
    n_opening = int((book.birth_month == 0).sum())
    assert n_opening == N_LOANS and book.n_loans == N_LOANS + NEW_PER_MONTH * (end - start + 1)
    new = book.birth_month > 0
    np.testing.assert_array_equal(np.unique(book.birth_month[new]), np.arange(start, end + 1))
    np.testing.assert_array_equal(book.dpd_state[new], 0)
    np.testing.assert_allclose(book.risk_scale[new], 1.0 - spec["pd_improvement_pct"] / 100.0)
    np.testing.assert_array_equal(book.risk_scale[~new], 1.0)
    if spec.get("score_cutoff") is not None:
        assert book.score[new].min() >= spec["score_cutoff"]
    months = np.arange(N_MONTHS + 1)
    expected = np.where((months >= start) & (months <= end), NEW_PER_MONTH, 0)
    np.testing.assert_array_equal(agg[:, :, NEW_LOANS], np.broadcast_to(expected, (N_PATHS, N_MONTHS + 1)))
    lending = np.array([book.principal[book.birth_month == m].sum() if m > 0 else 0.0 for m in months])
    np.testing.assert_allclose(agg[:, :, NEW_LENDING], np.broadcast_to(lending, (N_PATHS, N_MONTHS + 1)), rtol=1e-12)
    # no like-for-like replacement next to originations: live(m) = live(m - 1) - closed(m) + written(m)
    live = agg[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2)
    assert (live[:, 0] == n_opening).all()
    moves = agg[:, :, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES].reshape(
        N_PATHS, N_MONTHS + 1, N_LIVE_STATES, N_OUTCOMES)
    closed = moves[:, :, :, 7:].sum(axis=(2, 3))
    np.testing.assert_array_equal(np.diff(live, axis=1), agg[:, 1:, NEW_LOANS] - closed[:, 1:])


def assert_same_but_risk_scale(run, plain):
    """``plain``: the same books with risk_scale 1. They agree until the new loans' risk matters, not after."""
    for name in ("segment", "principal", "dpd_state", "birth_month", "score", "employed"):
        np.testing.assert_array_equal(getattr(run.book, name), getattr(plain.book, name), err_msg=name)
    np.testing.assert_array_equal(run.kernel[:, 0], plain.kernel[:, 0])
    # month 1: the first new loans are only written (their months start at 2)
    np.testing.assert_array_equal(run.kernel[:, 1, :FORWARD_LOSS_12M], plain.kernel[:, 1, :FORWARD_LOSS_12M])
    assert not np.array_equal(run.kernel, plain.kernel), "risk_scale changed nothing: the comparison is vacuous"


@pytest.mark.parametrize("spec, changes", [
    (ORIGINATIONS, {}),
    (ORIGINATIONS, {"macro.shocks": SHOCKS, "actions.collections": collections(CAPACITY),
                    "actions.restructuring": {"plan": "holiday", "months": 2, "income_drop_pct": 30}}),
    ({**ORIGINATIONS, "pd_improvement_pct": 0, "score_cutoff": None, "start_month": 3, "end_month": 9}, {}),
], ids=["pd30", "pd30-shock-actions", "pd0-months3to9-nocutoff"])
def test_structural_originations(spec, changes):
    scenario = small_scenario(**{"actions.originations": spec, **changes})
    assert scenario.run.balance_sheet == "constant"  # ... but originations replace the replacement
    run = kernel_and_reference(scenario)
    assert_agree(run)
    assert_originations_booked(run, spec)
    assert_exercised(run.kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED, M1_ROLLED, UNEMPLOYED)
    if "actions.restructuring" in changes:
        assert_exercised(run.kernel, CONTACTS, RESTRUCTURINGS)
        assert_action_stocks_consistent(run.kernel)
    if spec["pd_improvement_pct"] > 0:
        plain = kernel_and_reference(small_scenario(**{
            "actions.originations": {**spec, "pd_improvement_pct": 0}, **changes}))
        assert_agree(plain)
        assert_same_but_risk_scale(run, plain)


@pytest.mark.parametrize("spec, changes", [
    (ORIGINATIONS, {}),
    (ORIGINATIONS, {"actions.collections": collections(CAPACITY), "run.balance_sheet": "runoff"}),
    ({**ORIGINATIONS, "pd_improvement_pct": 0, "start_month": 2, "end_month": 30}, {}),
], ids=["pd30", "pd30-collections-runoff", "pd0-months2to30"])
def test_roll_rate_originations(spec, changes):
    scenario = roll_rate_scenario(**{"actions.originations": spec, **changes})
    run = kernel_and_reference(scenario)
    assert_agree(run)
    assert_originations_booked(run, {**spec, "end_month": min(spec.get("end_month") or N_MONTHS, N_MONTHS)})
    assert_exercised(run.kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED, M1_ROLLED)
    # some of the new vintages reach 90+ (the risk rule acts on loans that go delinquent)
    assert run.kernel_vintages[:, 1:].sum() > 0
    flows = run.kernel[:, :, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES].reshape(
        N_PATHS, N_MONTHS + 1, N_LIVE_STATES, N_OUTCOMES)
    if spec["pd_improvement_pct"] > 0:
        plain = kernel_and_reference(roll_rate_scenario(**{
            "actions.originations": {**spec, "pd_improvement_pct": 0}, **changes}))
        assert_agree(plain)
        assert_same_but_risk_scale(run, plain)
        # fewer of the current loans' moves into arrears happen; the opening book's are the same
        assert flows[:, :, 0, 1:8].sum() < plain.kernel[:, :, TRANSITION + 1:TRANSITION + 8].sum()


@pytest.mark.parametrize("model", ["structural", "roll_rate"])
def test_constant_balance_sheet_vintages(model):
    """Constant balance sheet: each replacement is a new loan (and a new vintage) of the month it is written."""
    from simulator.accounts.metrics import vintage_curve

    make = small_scenario if model == "structural" else roll_rate_scenario
    run = kernel_and_reference(make())
    assert_agree(run)
    kernel, vintages = run.kernel, run.kernel_vintages
    assert_replacements_are_new_loans(kernel)
    assert_exercised(kernel, NEW_LOANS, NEW_LENDING)
    # replacements' vintages reach 90+ within the horizon (the curve is not all opening book)
    within = sum(vintages[:, v, :N_MONTHS - v + 1].sum() for v in range(1, N_MONTHS + 1))
    assert within > 0
    # the opening book's vintage does not depend on what replaces its closed loans
    runoff = kernel_and_reference(make(**{"run.balance_sheet": "runoff"}))
    assert_agree(runoff)
    np.testing.assert_array_equal(vintages[:, 0], runoff.kernel_vintages[:, 0])
    assert runoff.kernel_vintages[:, 1:].sum() == 0 and runoff.kernel[:, :, NEW_LOANS].sum() == 0
    # the metric the report shows, from either side
    curve = vintage_curve(kernel, vintages)
    np.testing.assert_array_equal(curve, vintage_curve(run.reference, run.reference_vintages))
    assert np.nanmax(curve) > 0


@pytest.mark.parametrize("model, balance_sheet, actions", [
    ("structural", "constant", {"actions.collections": collections(CAPACITY),
                                "actions.restructuring": {"plan": "extension", "months": 6}}),
    ("structural", "runoff", {}),
    ("roll_rate", "constant", {}),
    ("roll_rate", "runoff", {"actions.collections": collections(CAPACITY)}),
], ids=["structural-constant-actions", "structural-runoff", "roll_rate-constant", "roll_rate-runoff-collections"])
def test_kernels_birth_months_and_risk_scale(model, balance_sheet, actions):
    """The kernels called directly on a book of any birth months and risk scales, over all engine months.

    Seasoned loans born in months 1..H, in the last engine month and after it, in any
    book order (so newborns compete for collections capacity with the opening
    book), with risk scales on both sides of 1, under replacement too (not
    reachable from a scenario, where originations turn replacement off).
    """
    from simulator.model.engine.kernels import simulate_roll_rate, simulate_structural
    from simulator.model.engine.simulate import (engine_months, recorders_group, roll_rate_arguments,
                                                 structural_arguments)
    from simulator.model.macro import macro_paths
    from simulator.model.sampling import resolve_sampling
    from tests.reference_numpy import roll_rate_reference, structural_reference

    make = small_scenario if model == "structural" else roll_rate_scenario
    scenario = make(**{"run.balance_sheet": balance_sheet, **actions})
    n_months = engine_months(scenario)
    book = build_book(scenario, SEED)
    rng = np.random.default_rng(7)
    birth = rng.choice([0, 0, 0, 0, 1, 2, 5, N_MONTHS, n_months - 1, n_months], size=book.n_loans)
    late = 20  # appended, never born: births after the last engine month are skipped
    born = replace(book, birth_month=birth.astype(np.int32), risk_scale=rng.uniform(0.3, 1.6, book.n_loans))
    tail = book.n_loans - late
    never = replace(born, birth_month=np.where(np.arange(book.n_loans) < tail, born.birth_month,
                                               n_months + 1 + np.arange(book.n_loans) % 3).astype(np.int32))
    path_ids = np.arange(N_PATHS, dtype=np.int64)
    macro = macro_paths(scenario.macro, SEED, path_ids, n_months, resolve_sampling(scenario.run))
    kernel, arguments = ((simulate_structural, structural_arguments) if model == "structural"
                         else (simulate_roll_rate, roll_rate_arguments))
    reference = structural_reference if model == "structural" else roll_rate_reference

    def simulate(implementation, loans):
        """The book's aggregates and vintages of the kernel (summed over its segment axis) or of the reference
        (book-level) on ``loans``."""
        segments = (len(loans.segment_names),) if implementation is kernel else ()
        out = np.zeros((N_PATHS, n_months + 1, *segments, N_METRICS))
        vintage = np.zeros((N_PATHS, n_months + 1, n_months + 1))
        implementation(*arguments(scenario, loans, SEED, path_ids, macro, recorders_group(out, vintage)))
        return (book_aggregates(out) if segments else out), vintage

    def engine(loans):
        return simulate(kernel, loans)

    out, vintage = engine(never)
    ref, ref_vintage = simulate(reference, never)
    for k, name in enumerate(METRIC_NAMES):
        if k in COUNT_METRICS:
            np.testing.assert_array_equal(ref[:, :, k], out[:, :, k], err_msg=f"metric {name}")
        else:
            np.testing.assert_allclose(ref[:, :, k], out[:, :, k], rtol=RTOL, atol=ATOL, err_msg=f"metric {name}")
    np.testing.assert_array_equal(ref_vintage, vintage, err_msg="vintages")
    # loans born after the last month leave no trace: same as the book without them
    head = replace(never, **{f: getattr(never, f)[:tail] for f in (
        "segment", "principal", "arrears", "apr", "remaining_term", "amortisation", "dpd_state", "income",
        "savings", "other_debt", "employed", "score", "original_principal", "original_term", "original_income",
        "original_savings", "birth_month", "risk_scale")})
    out_head, vintage_head = engine(head)
    np.testing.assert_array_equal(out_head, out)
    np.testing.assert_array_equal(vintage_head, vintage)
    # births: written at the end of their month, in their state (replacements: current); the vintage starts there
    writes = never.birth_month[:tail]
    moves = out[:, :, TRANSITION:TRANSITION + N_LIVE_STATES * N_OUTCOMES].reshape(
        N_PATHS, n_months + 1, N_LIVE_STATES, N_OUTCOMES)
    replaced = moves[:, :, :, 7:].sum(axis=(2, 3)) if balance_sheet == "constant" else np.zeros((N_PATHS, n_months + 1))
    written = np.bincount(writes, minlength=n_months + 1)
    written[0] = 0
    np.testing.assert_array_equal(out[:, :, NEW_LOANS], written + replaced)
    written_90 = np.bincount(writes, weights=never.dpd_state[:tail] >= 4, minlength=n_months + 1)
    np.testing.assert_array_equal(vintage[:, :, 0], np.broadcast_to(written_90, (N_PATHS, n_months + 1)))
    assert written_90[1:].sum() > 0 and written[n_months] > 0
    if balance_sheet == "runoff":
        lending = np.bincount(writes, weights=never.principal[:tail], minlength=n_months + 1)
        lending[0] = 0.0
        np.testing.assert_allclose(out[:, :, NEW_LENDING], np.broadcast_to(lending, (N_PATHS, n_months + 1)),
                                   rtol=1e-12)
    np.testing.assert_array_equal(out[:, 0, COUNT:COUNT + N_LIVE_STATES].sum(axis=1), (writes == 0).sum())
    assert vintage[:, 1:, 1:].sum() > 0, "no later-written loan first reached 90+ after it was written"
    assert_vintages_consistent(out, vintage, never.birth_month, new_current=False)
    if model == "structural" and "actions.restructuring" in actions:
        assert out[:, :, RESTRUCTURINGS].sum() > 0 and out[:, :, CONTACTS].max() == CAPACITY


# --------------------------------------------------------------------------- the lender out of cash
STOP_MONTHS = np.array([kernels.NEVER, 4, 9])
"""Each test path's stop month: one never stops, one stops early in the hump of :data:`SHOCKS`, one late."""


def assert_lending_stops(run, stop_months):
    """No loan is written from a path's stop month on, and some are before it."""
    for p, stop in enumerate(stop_months):
        if stop < N_MONTHS:
            assert run.kernel[p, stop:, NEW_LOANS].sum() == 0, f"path {p}"
            assert run.kernel[p, 1:stop, NEW_LOANS].sum() > 0, f"path {p}: nothing written before the stop"


@pytest.mark.parametrize("changes", [
    {},
    {"macro.shocks": SHOCKS[:1], "actions.underwriting": {"dti_cap_cut_pp_per_unemployment_pp": 4.0}},
    {"actions.originations": ORIGINATIONS},
], ids=["constant", "cyclical-underwriting", "originations"])
def test_structural_lending_stops(changes):
    """From the stop month on nothing is written: no replacement, no empty slot offered again, no origination; the
    months before the stop are the same bits as lending throughout (but for the forward-looking columns)."""
    scenario = small_scenario(**changes)
    run = kernel_and_reference(scenario, stop_months=STOP_MONTHS)
    assert_agree(run)
    assert_lending_stops(run, STOP_MONTHS)
    plain = kernel_and_reference(scenario).kernel
    np.testing.assert_array_equal(run.kernel[0], plain[0])
    for p, stop in enumerate(STOP_MONTHS[1:], start=1):
        np.testing.assert_array_equal(run.kernel[p, :stop, :FORWARD_LOSS_12M], plain[p, :stop, :FORWARD_LOSS_12M])


@pytest.mark.parametrize("changes", [{}, {"actions.originations": ORIGINATIONS}], ids=["constant", "originations"])
def test_roll_rate_lending_stops(changes):
    run = kernel_and_reference(roll_rate_scenario(**changes), stop_months=STOP_MONTHS)
    assert_agree(run)
    assert_lending_stops(run, STOP_MONTHS)
