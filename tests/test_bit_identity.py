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
The three structural scenarios' digests moved (roll_rate_example's did not) when a
replacement loan under the constant balance sheet went to an applicant in work
instead of one unemployed with the segment's current unemployment rate (a lender
lends to applicants whose income passes its debt-to-income test; docs/backtest.md's
back-test): fewer new loans start with a borrower out of work, so delinquency and
losses fall a little, and the replacement no longer draws a second Philox block.

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
        "summary": "3132d7e43d26d9e973130846b504485ee4c1f7611e07cfe80b8c90d71343a694",
        "aggregates": "baa53e573c072a2a54a2dd51f9637ad5617b605fac2bd04c390dc793f048f3a5",
    },
    "severe": {
        "summary": "5db03da028e8117b6dd7e6113b0fc3f7e7552323346c62e113b130d636f64994",
        "aggregates": "ab965d4e6458c5e612f0c3f1533255122b2e61c720df7997a156b1b2e000097f",
    },
    "severe_with_actions": {
        "summary": "713d7b579b63f863769bc51140c274181e4099249a61f014a1057a713058b7fa",
        "aggregates": "28353747ea64bdf4365a3647ff1775e79cd1fc283a4286d9ca7d9205f50c08b8",
    },
    "roll_rate_example": {
        "summary": "a14c9e29196529c29b6dd5f2da68a2c6747447dac332a06a4afa16aa69a28ef8",
        "aggregates": "ece59f98eefad2c7c326f1bafd2a9e4699ac9f96983132f5366af7f94b700fd5",
    },
}


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
