"""Each synthetic segment's long-run delinquency mix under the model: the ``starting_dpd_pct`` that starts a
scenario's book in its own steady state.

A synthetic book opens with each segment's stated ``starting_dpd_pct`` (to within
a loan) and its borrowers settled into that mix (docs/model.md, "Opening book").
If the stated mix is not the model's own long-run mix, the book drifts towards
the model's from month 1 (a start-up transient that has nothing to do with the
scenario). This script measures the model's mix: the scenario with cycle
volatility 0, no shocks and no management actions under the constant balance
sheet (the same economy every month), ``--books`` books drawn as the scenario's
own is (book ``k`` with ``portfolio.seed + k`` and path seed ``run.seed + k``),
each run on ``--paths`` independent paths for ``--last`` months; the mix of each
segment is its loans' share in each delinquency state (by count, as
``starting_dpd_pct`` is), averaged over months ``--first`` to ``--last`` of all
paths and books. It prints the mixes as YAML, in percent, rounded to 2 decimals
with the largest remainder kept so that each sums to 100, and the standard error
of each figure (the sd of the book means over sqrt(books)).

Only the structural model has a long-run mix of its own that differs from its
inputs; a roll-rate segment's is its transition matrix's stationary mix.

Usage (from the repository root)::

    python scenarios/steady_state_mix.py scenarios/baseline.yaml --books 16 --paths 8

The mix depends a little on the stated mix itself (the opening book's templates
are drawn with it), so after setting the printed mix, running the script again
shows whether it has settled (each figure within a few standard errors of the last).
"""
import argparse
from pathlib import Path

import numpy as np

from simulator.inputs.loader import load_scenario
from simulator.inputs.schema import DPD_STATE_KEYS, ActionsSpec
from simulator.model.engine.layout import COUNT, N_LIVE_STATES
from simulator.model.engine.simulate import settle_borrowers, simulate_segments
from simulator.model.portfolio import build_book


def calm(scenario, book, paths, months):
    """The scenario's ``book``-th synthetic book (0: its own) in the same economy every month: cycle volatility 0,
    no shocks, no actions, the constant balance sheet, plain Monte Carlo on ``paths`` paths for ``months`` months."""
    macro = scenario.macro.model_copy(update={
        "shocks": [], "cycle": scenario.macro.cycle.model_copy(update={"volatility": 0.0})})
    portfolio = scenario.portfolio.model_copy(update={"seed": scenario.portfolio.seed + book})
    return scenario.model_copy(update={"macro": macro, "portfolio": portfolio, "actions": ActionsSpec()}).with_run(
        paths=paths, seed=(scenario.run.seed or 0) + book, horizon_months=months, balance_sheet="constant",
        sampling="mc", tail_sampling="none")


def book_mixes(scenario, books, paths, first, last):
    """Per book, each segment's share of loans in each live delinquency state, averaged over months
    ``first..last`` of its paths: array ``(books, n_segments, 7)``."""
    mixes = []
    for book in range(books):
        run = calm(scenario, book, paths, last)
        seed = run.portfolio.seed
        loans = settle_borrowers(run, build_book(run, seed), seed)
        by_segment, _, _ = simulate_segments(run, loans, run.run.seed)
        counts = by_segment[:, first:last + 1, :, COUNT:COUNT + N_LIVE_STATES]
        shares = counts / counts.sum(axis=3, keepdims=True)
        mixes.append(shares.mean(axis=(0, 1)))
    return np.array(mixes)


def rounded_percent(shares, decimals=2):
    """``shares`` (summing to 1) in percent rounded to ``decimals``, summing to exactly 100 (largest remainder)."""
    unit = 10.0 ** -decimals
    scaled = np.asarray(shares) * 100.0 / unit
    floors = np.floor(scaled)
    short = int(round(100.0 / unit - floors.sum()))
    floors[np.argsort(floors - scaled)[:short]] += 1
    return np.round(floors * unit, decimals)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--books", type=int, default=16)
    parser.add_argument("--paths", type=int, default=8)
    parser.add_argument("--first", type=int, default=120, help="first month averaged")
    parser.add_argument("--last", type=int, default=240, help="last month averaged (and months run)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if scenario.behaviour.model != "structural":
        parser.error(f"{args.scenario}: behaviour.model must be 'structural'; got '{scenario.behaviour.model}'.")
    mixes = book_mixes(scenario, args.books, args.paths, args.first, args.last)
    mean = mixes.mean(axis=0)
    se = mixes.std(axis=0, ddof=1) / np.sqrt(args.books) if args.books > 1 else np.full_like(mean, np.nan)
    print(f"# {args.scenario}: long-run mix by count, months {args.first}-{args.last}, "
          f"{args.books} books x {args.paths} paths, cycle volatility 0, no shocks or actions")
    for k, segment in enumerate(scenario.portfolio.segments):
        stated = [getattr(segment.starting_dpd_pct, key) for key in DPD_STATE_KEYS]
        percent = rounded_percent(mean[k])
        body = ", ".join(f"{key}: {value:.2f}" for key, value in zip(DPD_STATE_KEYS, percent))
        print(f"- {segment.name}\n  starting_dpd_pct: {{{body}}}")
        print("  # se (pp): " + ", ".join(f"{100 * value:.3f}" for value in se[k]))
        print("  # stated : " + ", ".join(f"{value:.2f}" for value in stated))


if __name__ == "__main__":
    main()
