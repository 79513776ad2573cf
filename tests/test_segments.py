"""Results by segment: attribution in the kernels, the book as the exact aggregate of its segments, segment ECL
rates, paired differences per segment, and the round trip through a run directory.

Independent checks:

* attribution: the kernels' segment ``s`` aggregates are compared with a run of the
  same book in which every loan of the other segments is never written
  (``birth_month`` after the last engine month: the kernel skips it). Loan indices,
  hence Philox streams, are unchanged, and without a collections capacity loans do
  not interact, so the sub-book's book-level aggregates must equal segment ``s``'s
  exactly (each adds the same loans in the same order);
* the book's figures are recomputed here from the segments' parts, added in a
  Python loop in segment order, and must be equal bit for bit;
* segment ECL on hand-built aggregates against PD x LGD x EAD by hand;
* per-segment paired differences against ``mean`` and ``std(ddof=1) / sqrt(N)`` by hand.
"""
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import simulator
from simulator.accounts.ifrs9 import segment_ecl_by_stage
from simulator.accounts.provisioning import provisioning_series
from simulator.accounts.metrics import (SEGMENT_METRICS, SEGMENT_SERIES, describe, paired_difference,
                                        segment_parts)
from simulator.inputs.errors import InputError
from simulator.model.engine import layout as L
from simulator.model.engine.simulate import engine_months, settle_borrowers, simulate_paths, simulate_segments
from simulator.model.portfolio import build_book
from simulator.workflows.results import load_results
from tests.test_kernels_reference import roll_rate_scenario, small_scenario
from tests.test_provisioning import MINIMAL_SEGMENT, hand_built, lgd_by_hand, scenario_with

SEED = 4242


def by_hand_total(parts):
    """Sum over the last axis (segments), left to right in a Python loop."""
    total = parts[..., 0].copy()
    for k in range(1, parts.shape[-1]):
        total = total + parts[..., k]
    return total


@pytest.fixture(scope="module")
def baseline():
    return simulator.run(small_scenario(**{"run.horizon_months": 18}), paths=5, seed=SEED)


@pytest.mark.parametrize("make", [small_scenario, roll_rate_scenario], ids=["structural", "roll_rate"])
def test_each_segment_holds_exactly_its_own_loans(make):
    scenario = make()
    book = build_book(scenario, SEED)
    if scenario.behaviour.model == "structural":
        book = settle_borrowers(scenario, book, SEED)
    by_segment, _, _ = simulate_segments(scenario, book, SEED)
    assert by_segment.shape[2] == len(book.segment_names) == 3
    never = engine_months(scenario) + 1
    for s in range(len(book.segment_names)):
        alone = replace(book, birth_month=np.where(book.segment == s, book.birth_month, never).astype(np.int32))
        sub_book, _, _ = simulate_paths(scenario, alone, SEED)
        np.testing.assert_array_equal(sub_book, by_segment[:, :, s], err_msg=book.segment_names[s])
        assert by_segment[:, 0, s, L.COUNT:L.COUNT + L.N_LIVE_STATES].sum() == np.sum(book.segment == s) * 3


def test_book_figures_are_the_aggregate_of_the_segments_exactly(baseline):
    seg = baseline.segment_aggregates
    assert np.array_equal(baseline.aggregates, by_hand_total(np.moveaxis(seg, 2, -1)))
    parts = segment_parts(seg)
    series, by_segment = baseline.series, baseline.segment_series
    balance = by_hand_total(parts["balance"])
    for bucket in ("1_30", "31_90", "90p"):
        assert np.array_equal(series[f"overdue_rate_{bucket}"], by_hand_total(parts[f"balance_{bucket}"]) / balance)
        assert np.array_equal(series[f"overdue_rate_{bucket}_count"],
                              by_hand_total(parts[f"count_{bucket}"]) / by_hand_total(parts["count"]))
        # each segment's rate is its own numerator over its own denominator
        assert np.array_equal(by_segment[f"overdue_rate_{bucket}"], parts[f"balance_{bucket}"] / parts["balance"])
    assert np.array_equal(series["cumulative_loss_rate"], by_hand_total(parts["net_loss"]) / balance[:, :1])
    assert np.array_equal(series["ifrs9_ecl"], by_hand_total(by_segment["ifrs9_ecl"]))
    stages = segment_ecl_by_stage(seg, baseline.scenario)
    for k in range(3):
        assert np.array_equal(series[f"ecl_stage_{k + 1}"], by_hand_total(stages[:, :, :, k]))
    # headline: the horizon's figures, and shares adding up to one
    headline = baseline.headline
    assert np.array_equal(headline["final_overdue_rate_90p"],
                          by_hand_total(parts["balance_90p"][:, -1]) / by_hand_total(parts["balance"][:, -1]))
    assert np.array_equal(headline["cumulative_loss_rate"],
                          by_hand_total(parts["net_loss"][:, -1]) / by_hand_total(parts["balance"][:, 0]))
    values = baseline.segment_headline
    np.testing.assert_allclose(values["loss_share"][:, :-1].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(values["provision_share"][:, :-1].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(values["cumulative_loss_contribution"][:, :-1].sum(axis=1),
                               headline["cumulative_loss_rate"], rtol=1e-12)
    for name in ("peak_overdue_rate_90p", "cumulative_loss_rate", "peak_ifrs9_ecl"):
        assert np.array_equal(values[name][:, -1], headline[name])


def test_segment_loss_rate_by_hand(baseline):
    seg = baseline.segment_aggregates
    for s in range(seg.shape[2]):
        net = (seg[:, 1:, s, L.CHARGEOFF] - seg[:, 1:, s, L.RECOVERY]).sum(axis=1)
        opening = seg[:, 0, s, L.BALANCE:L.BALANCE + L.N_LIVE_STATES].sum(axis=1)
        np.testing.assert_allclose(baseline.segment_headline["cumulative_loss_rate"][:, s], net / opening,
                                   rtol=1e-12)


def test_one_segment_book_rows_equal_the_book_rows():
    scenario = small_scenario(**{"portfolio.segments": [small_scenario().portfolio.segments[1].model_dump(
        mode="json") | {"share_pct": 100}]})
    results = simulator.run(scenario, paths=3, seed=SEED)
    assert results.segment_names == ("near_prime",)
    for name in ("overdue_rate_1_30", "overdue_rate_31_90", "overdue_rate_90p", "cumulative_loss_rate", "ifrs9_ecl"):
        assert np.array_equal(results.segment_series[name][:, :, 0], results.series[name]), name
    table = results.by_segment()
    for name in SEGMENT_METRICS:
        assert table.loc[("near_prime", name)].equals(table.loc[("all", name)]), name
    rows = results.timeseries.set_index(["month", "metric", "segment"])
    for name in ("overdue_rate_90p", "ifrs9_ecl"):
        mine = rows.xs(("near_prime", name), level=("segment", "metric"))
        book = rows.xs(("all", name), level=("segment", "metric"))
        assert mine.equals(book), name


def test_segment_ecl_uses_each_segments_own_rates():
    """Two segments, one path of two months: ECL = LGD_s x (pooled forward loss / pooled balance) x balance, per
    segment and state, summed; a rate pooled over the book would give another number."""
    scenario = scenario_with(recovery={"rate_pct": 40, "months": 6})
    scenario = scenario.model_copy(update={"portfolio": scenario.portfolio.model_copy(update={"segments": [
        scenario.portfolio.segments[0], scenario.portfolio.segments[0].model_copy(update={"name": "b"})]})})
    balance_a = np.zeros((2, 2, 7))
    balance_a[:, :, 0] = [[100.0, 90.0], [120.0, 80.0]]
    balance_a[:, :, 2] = [[10.0, 20.0], [0.0, 30.0]]
    loss_a = np.zeros((2, 2, 7))
    loss_a[:, :, 0] = [[1.0, 2.0], [3.0, 0.5]]
    life_a = np.zeros((2, 2, 7))
    life_a[:, :, 2] = [[4.0, 6.0], [0.0, 9.0]]
    balance_b = 3.0 * balance_a[::-1]
    loss_b = 5.0 * loss_a
    life_b = 0.5 * life_a
    segments = np.stack([hand_built(balance_a, monthly_rate=0.01, loss_12m=loss_a, loss_life=life_a),
                         hand_built(balance_b, monthly_rate=0.02, loss_12m=loss_b, loss_life=life_b)], axis=2)
    expected = np.zeros((2, 2))
    for balance, loss, life, rate in ((balance_a, loss_a, life_a, 0.01), (balance_b, loss_b, life_b, 0.02)):
        lgd = lgd_by_hand(0.4, 6, rate)
        stage_1 = balance[:, :, 0] * lgd * loss[:, :, 0].sum(axis=0) / balance[:, :, 0].sum(axis=0)
        stage_2 = balance[:, :, 2] * lgd * life[:, :, 2].sum(axis=0) / balance[:, :, 2].sum(axis=0)
        expected += stage_1 + stage_2
    ecl = segment_ecl_by_stage(segments, scenario)
    np.testing.assert_allclose(ecl.sum(axis=(2, 3)), expected, rtol=1e-13)
    book = provisioning_series(segments, scenario)["ifrs9_ecl"]
    np.testing.assert_allclose(book, expected, rtol=1e-13)
    pooled = provisioning_series(L.book_aggregates(segments), scenario)["ifrs9_ecl"]
    assert not np.allclose(pooled, expected, rtol=1e-3)


def test_paired_difference_by_hand():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(50, 2))
    other = base + rng.normal(0.3, 0.1, size=(50, 2))
    got = paired_difference(other, base)
    d = other - base
    np.testing.assert_allclose(got["difference"], d.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(got["se_difference"], d.std(axis=0, ddof=1) / np.sqrt(50), rtol=1e-12)
    independent = np.sqrt(other.var(axis=0, ddof=1) / 50 + base.var(axis=0, ddof=1) / 50)
    np.testing.assert_allclose(got["se_independent"], independent, rtol=1e-12)
    np.testing.assert_allclose(got["variance_reduction"], independent ** 2 / got["se_difference"] ** 2, rtol=1e-12)
    steps = rng.integers(-100, 100, size=(50, 2)) / 8.0  # dyadic: steps + 1 - steps is exactly 1
    same = paired_difference(steps + 1.0, steps)
    assert np.array_equal(same["se_difference"], [0.0, 0.0]) and np.isnan(same["variance_reduction"]).all()


def test_compare_reports_segment_differences_with_paired_errors():
    calm = small_scenario(**{"run.horizon_months": 12})
    harsh = small_scenario(**{"run.horizon_months": 12, "name": "harsh", "macro.shocks": [
        {"variable": "unemployment", "shape": "step", "size_pp": 4.0, "start_month": 1}]})
    comparison = simulator.compare([calm, harsh], paths=6, seed=SEED)
    table = comparison.segment_table.set_index(["scenario", "segment", "metric"])
    reference, other = comparison.members
    for k, segment in enumerate(reference.segment_names + ("all",)):
        for name in ("cumulative_loss_rate", "peak_overdue_rate_90p", "loss_share"):
            d = other.segment_headline[name][:, k] - reference.segment_headline[name][:, k]
            row = table.loc[("harsh", segment, name)]
            assert row["difference"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-15)
            assert row["se_difference"] == pytest.approx(d.std(ddof=1) / np.sqrt(len(d)), rel=1e-12, abs=1e-15)
    assert table.loc[(reference.scenario.name, "prime", "cumulative_loss_rate"), "difference"] == 0.0
    book = comparison.table.set_index(["scenario", "metric"]).loc[("harsh", "cumulative_loss_rate")]
    assert table.loc[("harsh", "all", "cumulative_loss_rate"), "difference"] == book["difference"]
    assert table.loc[("harsh", "all", "cumulative_loss_rate"), "se_difference"] == book["se_difference"]


def test_run_directory_round_trip(baseline, tmp_path):
    out = baseline.save(tmp_path / "run", plots=True)
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["by_segment"]) == ["prime", "near_prime", "subprime", "all"]
    assert set(summary["by_segment"]["prime"]) == set(SEGMENT_METRICS)
    stats = describe(baseline.segment_headline["loss_share"][:, 0])
    assert summary["by_segment"]["prime"]["loss_share"]["mean"] == float(stats["mean"])
    assert summary["by_segment"]["prime"]["loss_share"]["se"] == float(stats["se"])
    assert (out / "plots" / "segments.png").is_file()
    loaded = load_results(out)
    assert np.array_equal(loaded.segment_aggregates, baseline.segment_aggregates)
    assert np.array_equal(loaded.aggregates, baseline.aggregates)
    assert loaded.by_segment().equals(baseline.by_segment())
    frame = pd.read_csv(out / "timeseries.csv")
    assert set(frame["segment"]) == {"all", "prime", "near_prime", "subprime"}
    assert set(frame.loc[frame.segment != "all", "metric"]) == set(SEGMENT_SERIES)


def test_by_segment_frame_and_bad_metric(baseline):
    frame = baseline.by_segment("cumulative_loss_rate")
    assert list(frame.index) == ["prime", "near_prime", "subprime", "all"]
    assert list(frame.columns) == ["mean", "p01", "p05", "p50", "p95", "p99", "se"]
    assert frame.loc["all", "mean"] == pytest.approx(float(np.mean(baseline.headline["cumulative_loss_rate"])),
                                                     rel=1e-15)
    with pytest.raises(InputError, match="by_segment: metric must be one of .*; got 'loss'"):
        baseline.by_segment("loss")
