"""The shipped scenarios' results, bit for bit.

The expected digests below were recorded at commit 499e54b, before the kernels'
arguments were grouped into named tuples (:mod:`simulator.model.engine.groups`):
a refactoring of the engine must leave them unchanged. Any change to them is a
change of the random stream or of the model's numbers and must be deliberate:
update them in the same commit as the change that moves them, and say why.

History: the ``summary`` digests changed once, when the headline metric
``peak_book_unemployment_rate`` was added; without that metric the four summaries
still hash to the 499e54b digests (checked when they were updated), and the
``aggregates`` digests are the 499e54b ones. They changed again with the IFRS 9
default definition (default at 90 DPD instead of charge-off): the
aggregates gained the exposure, loss-at-default and cure columns and their
forward losses and defaults count default events; every other aggregate column
was checked identical to the previous commit's, and the summaries moved only in
the figures built on ECL (provisions, profit, capital).
All eight moved again for a stationary
baseline: books with their stated delinquency mix and long-run loan
ages, settled into their slots' own states, and the baseline's recalibrated mix;
the aggregates' again for a new column, labour_market_unemployed.
The summaries moved once more when they gained their ``warnings`` list,
and again when they gained the ``sampling`` and ``target_se`` entries;
without those two the summaries hashed to the previous digests, and the aggregates
were unchanged (plain Monte Carlo draws what it drew before).
All eight moved with results by segment: the kernels keep their
sums per segment and the book's aggregates are the segments' added in segment
order, so money columns moved by rounding only (at most 6e-13 relative over the
eleven shipped scenarios at 64 paths; every count column identical); the
summaries gained ``by_segment``, and the IFRS 9 ECL is now the sum of the
segments' ECL at their own rates (peak provision requirement, mean over 64 paths:
-0.04% baseline, +0.02% severe, +0.10% severe_with_actions, -0.02%
roll_rate_example; -0.04% to +0.11% over the eleven; losses and overdue rates
unchanged to the rounding). All eight moved again when randomised QMC became the
default sampling: the cycle's innovations are scrambled Sobol points, so
every path's macro path is new; the shipped results were re-run and re-read.
severe_with_actions' summary moved once more, in the last bits of its action
effects' means, which now go through the run's estimator (``describe``) instead
of ``np.mean`` (its aggregates unchanged).
All eight moved when the results became the same on every processor (the digests
above had been recorded on a processor with AVX-512 and failed on one without): the
engine's inputs no longer go through BLAS (the Householder rotation's norms and dot
products, the five-category minimum, the weighted pooling), numpy's SIMD-dispatched
``exp``/``log``/``power`` or the C library's ``exp``/``log``/``pow``/``erfc`` (which
glibc picks by processor), but through :mod:`simulator.model.portable` and
:mod:`simulator.model.fdlibm`; and the synthetic book's normals are AS 241 inverse-CDF
normals of 52-bit uniforms instead of numpy's ziggurat, so each shipped synthetic
book is a new draw of the same segments (means moved by that book noise, which the
reported ``se`` does not cover; see the reproducibility page). The new digests
were checked identical with numpy restricted to its baseline SIMD and glibc to its
non-FMA maths (``tests/test_machine_independence.py`` does so on every run).
The four summaries moved again (aggregates unchanged) when the outputs were made to
say what they are (docs/outputs.md): ``liquidity_shortfall`` renamed
``total_collections_shortfall``; every metric gained ``p01``; yes/no metrics keep
only ``mean`` and ``se``; ``survival_horizon_months`` is over the paths that run out
(with ``paths``) instead of counting horizon + 1 for the others; the tail figures
gained ``paths_beyond`` and ``reliable``; and ``metric_units`` was added. No model
number moved: the means, percentiles and errors of the other metrics are computed
as before.
All eight moved again when the lender's cash began to feed back into its lending
(docs/funding.md): under the default ``funding.when_short: stop_lending`` a
path whose buffer would go negative writes no loan from that month on and its book
runs off, so the aggregates of severe, severe_with_actions and roll_rate_example
moved from each stopping path's stop month on (months before are the same bits;
baseline's 64 paths never stop and its aggregates are unchanged); the summaries
gained the stop, emergency funding and failure metrics and ``funding_response``,
and the liquidity ratio now counts only cash held. Under ``keep_lending`` the
engine's aggregates are the previous digests, bit for bit
(:data:`KEEP_LENDING_AGGREGATES`).

All eight and the keep-lending aggregates moved again with the back-test's model
fix (docs/backtest.md): under the constant balance sheet a closed loan's slot now
goes to an applicant in work (a lender lends to applicants whose income passes its
debt-to-income test) instead of one unemployed with the segment's current
unemployment rate, and the replacement no longer draws a second Philox block; the
baseline's segment mixes (``starting_dpd_pct``, also roll_rate_example's book)
were recalibrated to the model's new steady state (``scenarios/steady_state_mix.py``);
and the synthetic books' burn-in (``settle_borrowers``) runs 360 months instead of
120 on its own Philox key instead of the run's. At 200 paths the baseline's
cumulative loss rate went from 15.2% to 12.0%, its peak 90+ rate from 1.87% to
1.48% and its peak provisions from 3.80 m to 3.11 m (severe: 8.98% to 7.28%, 4.58%
to 3.82%, 5.09 m to 4.11 m; severe_with_actions: 6.04% to 5.20%, 3.37% to 3.01%,
3.17 m to 2.62 m): fewer new loans start with a borrower out of work. The keep-lending aggregates were re-recorded with
them: the stop month's code path was checked against the numpy reference
(``tests/test_kernels_reference.py``, lending stopping on some paths).

Each scenario is run at 64 paths. ``summary`` is the sha256 of ``summary.json``
(keys sorted) without ``wall_seconds`` and ``versions``; ``aggregates`` is the
sha256 of the raw bytes of the per-path aggregates. They were recorded with
numba 0.68.1 and numpy 2.4.6; another version of a numeric library may move the
last bit of some results and so the digests, which is also a change to look at
before accepting. They do not depend on the processor (x86-64 with or without
AVX-512, AVX2 or FMA).
The structural scenarios' digests (summaries, aggregates and the keep-lending aggregates) moved once
more when the opening book's burn-in became 360 months on random streams of its own: 120 months left a baseline
book's balance rising by 4-5e-5 a month (about 3 standard errors over 40 books), and a burn-in keyed like the run
handed the run's first paths the draws that shaped the opening states; roll_rate_example (no burn-in) is unchanged.
"""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import simulator

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PATHS = 64
EXPECTED = {
    "baseline": {
        "summary": "943d784e86e9134bef927e8f66a9740998262177f98f1d519510f07471f88e4f",
        "aggregates": "76349e5fd50eeede0e222980a1f1303f0f9741d4a8d5a48785fe5cd012339cbf",
    },
    "severe": {
        "summary": "76af6e917d0bfc85f98f089ff6c93b133493fa627d17987467e724735cc565f8",
        "aggregates": "b4f34c7d68638a7827b8fcc125cd0a3643e503649aa545bacf33ce89165b5af9",
    },
    "severe_with_actions": {
        "summary": "93c8b90bc5c114469f41f0779bc543c1072db01fd9e228ed10fb1edf9e374451",
        "aggregates": "7ece81ec8b3548b6566277704f56e34e0c78b01d1c8333c6f7d4660c01fa6224",
    },
    "roll_rate_example": {
        "summary": "4ab4fce5b9fcf4b31ec5611c977020546d3761586a604a59ae24b3e583f35955",
        "aggregates": "a84fa52e5bb030a99c89250861e873cf2a0658ca36acd2758ef5e964251a1fb5",
    },
}

KEEP_LENDING_AGGREGATES = {
    "baseline": "76349e5fd50eeede0e222980a1f1303f0f9741d4a8d5a48785fe5cd012339cbf",
    "severe": "25b60b82808ed1cd6b5cfb7f93b83642055913527a77b155c510477c475a7e5f",
    "severe_with_actions": "4553520c48818178e2609b74ad0efd59fe71677df619713ff444bdb9473bee38",
    "roll_rate_example": "ece59f98eefad2c7c326f1bafd2a9e4699ac9f96983132f5366af7f94b700fd5",
}
"""The aggregates digests of the engine without feedback from cash to lending: ``keep_lending`` must reproduce them.
They were the pinned aggregates before the feedback (checked equal when it was merged); the structural books' moved
with the 360-month burn-in on its own streams, recorded from the engine without feedback (roll_rate_example has no
burn-in)."""


def digests(results):
    """sha256 of the summary (without wall time and versions) and of the aggregates' bytes."""
    summary = dict(results.summary)
    summary.pop("wall_seconds")
    summary.pop("versions")
    return {"summary": hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest(),
            "aggregates": hashlib.sha256(np.ascontiguousarray(results.aggregates).tobytes()).hexdigest()}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_results_bit_identical(name):
    got = digests(simulator.run(SCENARIOS / f"{name}.yaml", paths=PATHS))
    changed = [f"{name}: {digest} digest changed: expected {expected}, got {got[digest]}"
               for digest, expected in EXPECTED[name].items() if got[digest] != expected]
    assert not changed, "\n".join(changed)


@pytest.mark.parametrize("name", sorted(KEEP_LENDING_AGGREGATES))
def test_keep_lending_reproduces_the_credit_figures_without_feedback(name):
    scenario = simulator.load_scenario(SCENARIOS / f"{name}.yaml")
    keep = scenario.model_copy(update={"funding": scenario.funding.model_copy(update={"when_short": "keep_lending"})})
    assert digests(simulator.run(keep, paths=PATHS))["aggregates"] == KEEP_LENDING_AGGREGATES[name]
