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
ages, settled into their slots' own states, and the baseline's recalibrated mix.

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
        "aggregates": "f667a5aeb8e6ead420984517d354049cbcbb71e28d305ce165c8d54a9ea66d86",
    },
    "severe": {
        "summary": "36d6b452ed74b381cfc7dfc9146cdf356b3f9594defddbb754a67723d0ec6c3d",
        "aggregates": "fa6e7422922e5cba9e83ccfdad4b52ceffadacb998145d49b5d332a196ad4c54",
    },
    "severe_with_actions": {
        "summary": "e86136e471e5a8ec2b44f5819fa27ff13927c53fef3b7d424d2e51678ad02ea1",
        "aggregates": "fb7bcc72327890d060e2c67625543f595157afc22d59cfb280eb78aa339335d3",
    },
    "roll_rate_example": {
        "summary": "6698147e9abbe13abfbfd5ab3de5593f9d810b84e1ecfd0ec8c3604eaebec874",
        "aggregates": "829ca6ad7bf61776e4d5fc0b2366e6ec10f6888608212e60ab5d1c3a0917cc81",
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
