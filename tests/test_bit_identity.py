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
default definition (default at 90 DPD instead of charge-off, issue 11): the
aggregates gained the exposure, loss-at-default and cure columns and their
forward losses and defaults count default events; every other aggregate column
was checked identical to the previous commit's, and the summaries moved only in
the figures built on ECL (provisions, profit, capital).
All eight moved again for a stationary
baseline (issue 11 §2): books with their stated delinquency mix and long-run loan
ages, settled into their slots' own states, and the baseline's recalibrated mix;
the aggregates' again for a new column, labour_market_unemployed.
The summaries moved once more when they gained their ``warnings`` list (issue 12).
All eight moved with results by segment (issue 14 part 3): the kernels keep their
sums per segment and the book's aggregates are the segments' added in segment
order, so money columns moved by rounding only (at most 6e-13 relative over the
eleven shipped scenarios at 64 paths; every count column identical); the
summaries gained ``by_segment``, and the IFRS 9 ECL is now the sum of the
segments' ECL at their own rates (peak provision requirement, mean over 64 paths:
-0.04% baseline, +0.02% severe, +0.10% severe_with_actions, -0.02%
roll_rate_example; -0.04% to +0.11% over the eleven; losses and overdue rates
unchanged to the rounding).

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
        "summary": "8939ce98ac835c60899b9aae6bd3dd6a580cf1886d2623a2f69dfebd530f7904",
        "aggregates": "d7378172435c40fdc9ecc0f895f8c3f01f0a65edbed7bad34df5832fb9353835",
    },
    "severe": {
        "summary": "da5b9d9d537311c1ef45bd88970af0add5acce4b55cdd201cc6981acc13d4deb",
        "aggregates": "706a869982a841bdbe49082bda40d047a24cd08d2b5f9332764d7d65b851ccfd",
    },
    "severe_with_actions": {
        "summary": "65b2bc486bea6e62de28e2491b6d08538929df16c14f17070ee749b866557ae5",
        "aggregates": "594b59995de43c67c3c32695bd7f165a84466909aee4836d96d352eee28d9af0",
    },
    "roll_rate_example": {
        "summary": "576ce9b977fd2842e1c429d63751cc7bd15a04a22bc2d00b40fa0f55d601fe05",
        "aggregates": "798c905cec934e1da64bb1bc9e4091d8a4abc744f78a81264e5d1f7345586de2",
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
