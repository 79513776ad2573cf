"""The shipped scenarios' results, bit for bit.

The expected digests below were recorded at commit 499e54b, before the kernels'
arguments were grouped into named tuples (:mod:`simulator.model.engine.groups`):
a refactoring of the engine must leave them unchanged. Any change to them is a
change of the random stream or of the model's numbers and must be deliberate:
update them in the same commit as the change that moves them, and say why.

History: the ``summary`` digests changed once, when the headline metric
``peak_book_unemployment_rate`` was added; without that metric the four summaries
still hash to the 499e54b digests (checked when they were updated), and the
``aggregates`` digests are the 499e54b ones. All eight moved for a stationary
baseline (issue 11 §2): books with their stated delinquency mix and long-run loan
ages, settled into their slots' own states, and the baseline's recalibrated mix;
the aggregates' again for a new column, labour_market_unemployed.

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
        "summary": "ea7b84513fda6c6c3db357a85688c7dc7298ffe07c3d143a8aa23367c46e3caa",
        "aggregates": "08cdf5d47f3120a27e61b3ebf38d43a66162961a31bd6751ab28a3f36e6c8dc3",
    },
    "severe": {
        "summary": "36d6b452ed74b381cfc7dfc9146cdf356b3f9594defddbb754a67723d0ec6c3d",
        "aggregates": "93410f30653efd35375e3590de979ac459d3df1cfb79ef789887913c1a0903e9",
    },
    "severe_with_actions": {
        "summary": "e86136e471e5a8ec2b44f5819fa27ff13927c53fef3b7d424d2e51678ad02ea1",
        "aggregates": "d605c818e9902339933cc6dfed711ec43891bf51c7cac8634269573974020760",
    },
    "roll_rate_example": {
        "summary": "6698147e9abbe13abfbfd5ab3de5593f9d810b84e1ecfd0ec8c3604eaebec874",
        "aggregates": "7a4e4e08100980e1098cd275b95e09a742007ec798026faf495288ba05e699bb",
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
