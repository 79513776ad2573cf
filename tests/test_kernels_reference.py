"""The numba kernels against the independent plain-numpy reference (tests/reference_numpy.py).

Both sides see the same book, the same macro inputs and the same Philox words, so
every aggregate of every path and month must agree to floating-point round-off
(the reference adds its sums in another order and uses scipy's ``ndtri``/``ndtr``
and numpy's ``exp``/``**``). Counts must agree exactly.
"""
from pathlib import Path

import numpy as np
import pytest

from simulator.engine import rng as engine_rng
from simulator.engine.layout import (CHARGEOFF, CHARGEOFF_COUNT, COUNT, M1_CURED, M1_ROLLED, M1_START, METRIC_NAMES,
                                     N_LIVE_STATES, N_METRICS, NEW_LENDING, PREPAID, RECOVERY, UNEMPLOYED)
from simulator.engine.simulate import simulate_paths
from simulator.portfolio import build_book
from simulator.scenario import load_scenario, scenario_from_dict
from tests.reference_numpy import (philox4x32_numpy, reference_paths, uniform32_numpy, uniform52_numpy)

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
SEED = 20261128
N_LOANS = 300
N_PATHS = 3
N_MONTHS = 14
RTOL = 1e-9
ATOL = 1e-6
"""Absolute tolerance in currency units: balances here are ~1e6-1e7, so this is ~1e-13 relative."""

COUNT_METRICS = ([COUNT + k for k in range(N_LIVE_STATES)]
                 + [CHARGEOFF_COUNT, UNEMPLOYED, M1_START, M1_CURED, M1_ROLLED])

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
    changes = {"behaviour.model": "roll_rate",
               "behaviour.roll_rate": {"asset_correlation_pct": 10, "cycle_per_unemployment_pp": 0.5,
                                       "matrices": {"default": ROLL_RATE_MATRIX}},
               **changes}
    return small_scenario(**changes)


def kernel_and_reference(scenario, seed=SEED):
    book = build_book(scenario, seed)
    kernel, _ = simulate_paths(scenario, book, seed, threads=2)
    reference = reference_paths(scenario, book, seed)
    return kernel, reference, book


def assert_agree(kernel, reference):
    assert kernel.shape == reference.shape == (N_PATHS, N_MONTHS + 1, N_METRICS)
    for k, name in enumerate(METRIC_NAMES):
        if k in COUNT_METRICS:
            np.testing.assert_array_equal(reference[:, :, k], kernel[:, :, k], err_msg=f"metric {name}")
        else:
            np.testing.assert_allclose(reference[:, :, k], kernel[:, :, k], rtol=RTOL, atol=ATOL,
                                       err_msg=f"metric {name}")


def assert_exercised(agg, *metrics):
    """The run actually went through the branches the comparison is meant to cover."""
    for k in metrics:
        assert agg[:, 1:, k].sum() > 0, f"no {METRIC_NAMES[k]} in the test run; the comparison would be vacuous"


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
    kernel, reference, book = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    assert_exercised(kernel, CHARGEOFF_COUNT, RECOVERY, PREPAID, NEW_LENDING, M1_CURED, M1_ROLLED, UNEMPLOYED)
    # constant balance sheet: every slot holds exactly one live loan every month
    np.testing.assert_array_equal(kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)


def test_structural_runoff():
    scenario = small_scenario(**{"run.balance_sheet": "runoff"})
    kernel, reference, book = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    assert_exercised(kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED)
    live = kernel[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2)
    assert (np.diff(live, axis=1) <= 0).all() and live[:, -1].max() < book.n_loans
    assert kernel[:, :, NEW_LENDING].sum() == 0.0


def test_structural_macro_shock_and_chunked_paths():
    scenario = small_scenario(**{"macro.shocks": SHOCKS, "run.chunk_paths": 2})
    kernel, reference, _ = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    calm, _, _ = kernel_and_reference(small_scenario())
    assert kernel[:, 1:, UNEMPLOYED].sum() > calm[:, 1:, UNEMPLOYED].sum()


def test_structural_chargeoff_120_dpd():
    scenario = small_scenario(**{"behaviour.chargeoff_dpd": 120,
                                 "portfolio.segments": segments_within_chargeoff(120)})
    kernel, reference, _ = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    assert_exercised(kernel, CHARGEOFF_COUNT)
    # nothing stays live beyond 120 DPD after month 0
    assert kernel[:, 1:, COUNT + 5:COUNT + 7].sum() == 0


def test_structural_recovery_at_once():
    scenario = small_scenario(**{"behaviour.recovery.months": 0})
    kernel, reference, _ = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    np.testing.assert_allclose(kernel[:, :, RECOVERY], 0.094 * kernel[:, :, CHARGEOFF], rtol=1e-12)


def test_structural_other_amortisation_types():
    segments = small_scenario().model_dump(mode="json")["portfolio"]["segments"]
    segments[1]["amortisation"] = "equal_principal"
    segments[2]["amortisation"] = "interest_first"
    scenario = small_scenario(**{"portfolio.segments": segments})
    kernel, reference, book = kernel_and_reference(scenario)
    assert set(np.unique(book.amortisation)) == {0, 1, 2}
    assert_agree(kernel, reference)


def test_structural_numpy_draws_is_same_model():
    """The benchmark's ``draws="numpy"`` variant: same model, other numbers; check invariants only."""
    scenario = small_scenario()
    book = build_book(scenario, SEED)
    agg = reference_paths(scenario, book, SEED, draws="numpy", rng=np.random.default_rng(3))
    assert agg.shape == (N_PATHS, N_MONTHS + 1, N_METRICS)
    assert np.isfinite(agg).all() and (agg >= 0).all()
    np.testing.assert_array_equal(agg[:, :, COUNT:COUNT + N_LIVE_STATES].sum(axis=2), book.n_loans)
    kernel, _ = simulate_paths(scenario, book, SEED)
    # month 0's stocks are the book itself (its forward losses depend on the draws)
    np.testing.assert_allclose(agg[:, 0, :CHARGEOFF], kernel[:, 0, :CHARGEOFF], rtol=1e-12)


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
    kernel, reference, _ = kernel_and_reference(scenario)
    assert_agree(kernel, reference)
    assert_exercised(kernel, CHARGEOFF_COUNT, PREPAID, M1_CURED, M1_ROLLED)


def test_roll_rate_nothing_live_beyond_chargeoff():
    matrix = [list(row) for row in ROLL_RATE_MATRIX]
    matrix[3] = [10.0, 5.0, 5.0, 30.0, 20.0, 28.0, 0.0, 0.0, 2.0]  # 61-90 DPD may jump to 121-150 DPD
    scenario = roll_rate_scenario(**{
        "behaviour.chargeoff_dpd": 120, "portfolio.segments": segments_within_chargeoff(120, all_current=True),
        "behaviour.roll_rate": {"asset_correlation_pct": 10, "cycle_per_unemployment_pp": 0.5,
                                "matrices": {"default": matrix}}})
    kernel, reference, _ = kernel_and_reference(scenario)
    assert_agree(kernel, reference)  # the reference follows the kernel, so they agree ...
    assert kernel[:, 1:, COUNT + 5:COUNT + 7].sum() == 0  # ... but loans live on at 121-180 DPD


def test_structural_snapshot_matches_reference():
    from simulator.engine.kernels import simulate_structural
    from simulator.engine.layout import N_METRICS as n_metrics
    from simulator.engine.simulate import structural_arguments
    from simulator.macro import macro_paths

    scenario = small_scenario()
    book = build_book(scenario, 3)
    path_ids = np.arange(2, dtype=np.int64)
    macro = macro_paths(scenario.macro, 3, path_ids, scenario.run.horizon_months)
    month = scenario.run.horizon_months - 2
    engine = np.full((book.n_loans, 7), np.nan)
    out = np.zeros((2, scenario.run.horizon_months + 1, n_metrics))
    simulate_structural(*structural_arguments(scenario, book, 3, path_ids, macro, month, engine), out)
    reference = np.full((book.n_loans, 7), np.nan)
    from tests.reference_numpy import structural_reference
    structural_reference(*structural_arguments(scenario, book, 3, path_ids, macro, month, reference))
    np.testing.assert_array_equal(engine[:, [0, 1, 6]], reference[:, [0, 1, 6]])
    np.testing.assert_allclose(engine[:, 2:6], reference[:, 2:6], rtol=1e-9)
    assert set(np.unique(engine[:, 0])) <= set(range(7)) and engine[:, 1].min() == 0
