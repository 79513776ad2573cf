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

All of them moved again (the three structural scenarios' and their
keep-lending aggregates; roll_rate_example's did not) when replacements went to
applicants in work: under the constant balance sheet a closed loan's slot is
offered to a borrower in work (a lender lends to applicants whose income passes
its debt-to-income test) instead of one unemployed with the segment's current
unemployment rate, so the replacement no longer draws a second Philox block
(docs/backtest.md); and the shipped baseline mixes (``starting_dpd_pct``) were
recalibrated to the model's new steady state (``scenarios/steady_state_mix.py``).

Each scenario is run at 64 paths. ``summary`` is the sha256 of ``summary.json``
(keys sorted) without ``wall_seconds`` and ``versions``; ``aggregates`` is the
sha256 of the raw bytes of the per-path aggregates. They were recorded with
numba 0.68.1 and numpy 2.4.6; another version of a numeric library may move the
last bit of some results and so the digests, which is also a change to look at
before accepting. They do not depend on the processor (x86-64 with or without
AVX-512, AVX2 or FMA).
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
        "summary": "72315006aeaf78be669669bf3a3059cb4ef4f03bab1353d4c84af7152e4c76a6",
        "aggregates": "cbb2321f02e6ce44e5c07184503909beca531143f19582263e0121d4b56f5df5",
    },
    "severe": {
        "summary": "e90a878a864a295453c18697841783c5e03bc150b2b961da15e35cb3b5cbd36f",
        "aggregates": "49628821affd59ccb1d62753c7a99cf401dd078d90214643cbc65e164a861787",
    },
    "severe_with_actions": {
        "summary": "fe110a1af45eaa2d6c9697f9443d4daf2986606f77c357ca42c16f82148e17e1",
        "aggregates": "ffb3cc01fe3c3743a085e6456d063f32ab9956fe58cb1f1dfe70d2ad649c8e98",
    },
    "roll_rate_example": {
        "summary": "071c13d908e3bf2e21a9bdcc7fd5c92a8cc1097f13c2e5b66e2ab23424175885",
        "aggregates": "ba411b4886a2c456497a4f642e5b7385c7ec3698b738798ecff1c514dd1028cf",
    },
}

KEEP_LENDING_AGGREGATES = {
    "baseline": "cbb2321f02e6ce44e5c07184503909beca531143f19582263e0121d4b56f5df5",
    "severe": "02b9691c9f434b7aa219cb6654c4a0bd830d1280f309b572a22420aaaa6629d2",
    "severe_with_actions": "6578e2cc721ccde462e3474dc950ed495152f5c610fa1b82a26a0842b164ab75",
    "roll_rate_example": "ece59f98eefad2c7c326f1bafd2a9e4699ac9f96983132f5366af7f94b700fd5",
}
"""The aggregates digests recorded before the cash fed back into lending: ``keep_lending`` must reproduce them."""


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
