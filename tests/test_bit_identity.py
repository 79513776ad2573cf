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
        "summary": "dee0ef7d9cd8afec371a54614453277f16648e2ed69c25b959242e940a442c71",
        "aggregates": "4b233f94fb0117edb07f8dd83737958df0fce9796265a96f6391df325a4101cf",
    },
    "severe": {
        "summary": "e33c17737f0a33c0e16d2fcdedccd73c91346a9e08e95afc89d76b682211bfe8",
        "aggregates": "0c052f0a4ced61a3a59ba3aab49839713466fcf58cd7117c03b7b0ba8554a979",
    },
    "severe_with_actions": {
        "summary": "8578453facfb180b14780fb47aa8001ec488d38c40abef8cce0ffec4a8407f31",
        "aggregates": "c0df999ac97bfb24e1b14228d4b072c5a27322581c7d80a077692628908c738b",
    },
    "roll_rate_example": {
        "summary": "087ffacb3b5b397b077db47362c55b373210f827d39b43e001b093bb0b5cd96b",
        "aggregates": "59d1afede1d8fcfd4d30e568189547c6349a61feeef01a2c1fbc06782f20be62",
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
