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

Each scenario is run at 64 paths. ``summary`` is the sha256 of ``summary.json``
(keys sorted) without ``wall_seconds`` and ``versions``; ``aggregates`` is the
sha256 of the raw bytes of the per-path aggregates. They were recorded with
numba 0.68.1 and numpy 2.4.6; another version of a numeric library may move the
last bit of some results and so the digests, which is also a change to look at
before accepting.
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
        "summary": "d27b3a1a94e633e849a197c65821e7d5989c7e9f2c7f0082f4be4cd6bc12e4fd",
        "aggregates": "240438ad81f0e557f65ce2da9e55bae917aec52ee4fc02ebff43a5ff7cc98e93",
    },
    "severe": {
        "summary": "ead71e8cd499081bd8706eec1d99db56c44cf51de37940b4a376f4381d2613f2",
        "aggregates": "3918bf3250ae4c6c1cbbb477c6e9b8dd898e5331abfd08b4d0cfe9749f0b0a84",
    },
    "severe_with_actions": {
        "summary": "a981a4ab17f68a77a065749b6a72d312f37c5cdf688a80f84211a3a3b7f49138",
        "aggregates": "b1c1aca0a2aa473bf67491278cc3035b71e7c60f3e50f15ad65ebe99df17dd9a",
    },
    "roll_rate_example": {
        "summary": "67088c1310fec187b29ff74dea1b97d04bc7251ac4405d39c19543bb11266fe8",
        "aggregates": "4b9638eac44d22891359fa8ae16c2e185f2f9b6c69042f4a01af891057f19d82",
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
