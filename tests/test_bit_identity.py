"""The shipped scenarios' results, bit for bit.

The expected digests below were recorded at commit 499e54b, before the kernels'
arguments were grouped into named tuples (:mod:`simulator.model.engine.groups`):
a refactoring of the engine must leave them unchanged. Any change to them is a
change of the random stream or of the model's numbers and must be deliberate:
update them in the same commit as the change that moves them, and say why.

History: the ``summary`` digests changed once, when the headline metric
``peak_book_unemployment_rate`` was added; without that metric the four summaries
still hash to the 499e54b digests (checked when they were updated), and the
``aggregates`` digests are the 499e54b ones.

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
        "summary": "742a0bbaf5841734d7e59abf71cd4f20acbd31e91e77f0a116767daf086ee0fa",
        "aggregates": "51e9cc6c94ef71eb2ef3c665cff9e316019ce22ac64b214cf5c7dbf66085b89e",
    },
    "severe": {
        "summary": "3095801acb9606b83a5a1cb5aa821c3af6e3821cc7227dc0407d283e3bede605",
        "aggregates": "34e0a945b56a197928a7e136f155b31d2055cd38f5b42bdfb77b9a225a7273a7",
    },
    "severe_with_actions": {
        "summary": "5121fd12cef62022689f9ac7e46c4074d73361b1d76f0537b811ee327f7dc9f6",
        "aggregates": "126383b3dc9d946a45f4e7e65bcd68cdd6bde333e8ef2448e5e2027b7c1c22eb",
    },
    "roll_rate_example": {
        "summary": "4608e21853717e5dcdfb2b036a04d73a5d50e7a9c5dcb448810948b21c35e8a5",
        "aggregates": "0a108543dc52fa8c0cf0e3b57839877a07f94b89c44bfaa9d566817037124161",
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
