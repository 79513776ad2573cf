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
The summaries moved once more when they gained their ``warnings`` list (issue 12),
and again when they gained the ``sampling`` and ``target_se`` entries (issue 13);
without those two the summaries hashed to the previous digests, and the aggregates
were unchanged (plain Monte Carlo draws what it drew before).

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
        "summary": "fb5f8d8fe911393171c330441208d54e91739a06088b1de947c771ed7ef9ee05",
        "aggregates": "8912250fcc3704a5bb764b9eb2054cbbb0034b96c5ae83f3663e2a5c15d79deb",
    },
    "severe": {
        "summary": "b0a4715acb71ebe4fef03a86e54f47fd6687b326f1da10cce5157b530221ce53",
        "aggregates": "288074f2dd828834c9fcb4ea7db6f8aa49fbb44d504b9e89f527d58fde01574f",
    },
    "severe_with_actions": {
        "summary": "dd8033359fe2d6381ad13c3fe780634cd26309e8c439cd60a29d729653e2753b",
        "aggregates": "cf4f6e600e2c4b2f81d09fc314f838240d2c3e494705e2fea2ba7a2f1015e9b9",
    },
    "roll_rate_example": {
        "summary": "3aa2e96d196e824cff9192c9a7f8f605789480bca7f1d69953054a6007b0e723",
        "aggregates": "aff725f65b5abe92d601f51b532d33388c9e396c20c6b5fc14b96117cbb47cc6",
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
