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
baseline (issue 11 §2): books with their stated delinquency mix and long-run loan ages.

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
        "summary": "e12e145fb7efd06d411d63bc46403360fb4d12691f35290b83a6909a737c4c29",
        "aggregates": "76ea2651c2280dc701cc397a2ba8a289c312ec409a666f94aa7295901885cba2",
    },
    "severe": {
        "summary": "a684ab05cdafc8972911b338ef9853a101b9197afb97a391abdf609e4e5fd379",
        "aggregates": "1b31c7d5c3e85292d342f29b615b91f838e8017d05467144cdcdf33fa2215559",
    },
    "severe_with_actions": {
        "summary": "db331787d85dae6664e741bd4cd560198550e2fa9a0fed238073baf408d245d9",
        "aggregates": "e4e9c4d3b41298510e79da77bdd3d21a046333918da57edb9e7acf77d852c1c7",
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
