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
ages, settled into their slots' own states.

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
        "summary": "ae45ba0db653de13f70b980db0e402023e88a081ff483e81a1c408af9db1631a",
        "aggregates": "368fa51b56c394d8414fa88879ed7aef3575b45b82110e9f6a9ea150180269b8",
    },
    "severe": {
        "summary": "89ab5c3e291c4847f8480e75c5572c58a4f25019b389a761ce99eb9714644f81",
        "aggregates": "13b18272b247b71defc5d3deeb3e884beada904e6751ef55b8636f595cbd4d4d",
    },
    "severe_with_actions": {
        "summary": "c8352ccbf912fbb47002c97d35db2aaa4d66e0d61a8a7fab71beafca258a9aa6",
        "aggregates": "5ffd9715ea2675c87108cb133864e72851af4c588ed2d1b8b0aaa2d718aef378",
    },
    "roll_rate_example": {
        "summary": "1187e8766ac51de8ba8d3d61f6d1881185a993a3973309724bd6491c7dba5588",
        "aggregates": "f474ee1448bd865be976e54aac7342cbaa1c5abfac742377247a998f3bd98bd9",
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
