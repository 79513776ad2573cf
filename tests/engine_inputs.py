"""Digests of everything the engine is fed, for the machine-independence tests.

``python tests/engine_inputs.py`` (run from the repository root) prints the digests
as JSON, so a test can compute them again in a subprocess whose numpy SIMD
dispatch or C-library maths variants are restricted and compare them with its own
(:mod:`tests.test_machine_independence`).

The digests cover, for the shipped scenarios named in :data:`SCENARIOS`: the
opening book (synthetic, settled into its steady state, with new lending; or read
from a tape), every array of every argument group handed to the kernels for a
block of paths, the per-path macro paths and cycle innovations under every
sampling scheme (plain, antithetic, randomised QMC with its rotated Sobol points,
each with and without importance sampling) and the paths' importance weights,
and a small full run's aggregates and ``summary.json``.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import simulator  # noqa: E402
from simulator.inputs.loader import load_scenario  # noqa: E402
from simulator.model.engine.simulate import (engine_months, recorders_group, roll_rate_arguments,  # noqa: E402
                                             settle_borrowers, structural_arguments)
from simulator.model.macro import macro_paths  # noqa: E402
from simulator.model.portfolio import build_book, originations, with_new_lending  # noqa: E402
from simulator.model.sampling import cycle_innovations, path_design, resolve_sampling  # noqa: E402

SCENARIOS = ("baseline", "severe_with_actions", "roll_rate_example", "tape_example", "underwriting")
PATHS = 8
N_LOANS = 1500
SAMPLINGS = (("mc", "none"), ("antithetic", "none"), ("rqmc", "none"),
             ("mc", "importance"), ("antithetic", "importance"), ("rqmc", "importance"))


def digest(array):
    """sha256 of an array's dtype, shape and bytes."""
    array = np.ascontiguousarray(array)
    return hashlib.sha256(f"{array.dtype.str}{array.shape}".encode() + array.tobytes()).hexdigest()


def small(name):
    """Shipped scenario ``name`` at :data:`PATHS` paths (and :data:`N_LOANS` loans if synthetic)."""
    scenario = load_scenario(REPO / "scenarios" / f"{name}.yaml").with_run(paths=PATHS)
    if scenario.portfolio.source == "synthetic":
        scenario = scenario.model_copy(update={"portfolio": scenario.portfolio.model_copy(update={"n_loans": N_LOANS})})
    return scenario


def book_of(scenario):
    """The book a run starts from: built, settled (synthetic books) and with its new lending."""
    seed = scenario.portfolio.seed
    book = build_book(scenario, seed)
    if scenario.portfolio.source == "synthetic":
        book = settle_borrowers(scenario, book, seed)
    return with_new_lending(book, originations(scenario, book.n_loans, seed))


def kernel_arguments(scenario, book):
    """The argument groups of one kernel call over paths 0..PATHS-1 (recorders excluded)."""
    seed = scenario.run.seed
    path_ids = np.arange(PATHS, dtype=np.int64)
    n_engine = engine_months(scenario)
    macro = macro_paths(scenario.macro, seed, path_ids, n_engine, resolve_sampling(scenario.run))
    recorders = recorders_group(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1)))
    arguments = (structural_arguments if scenario.behaviour.model == "structural" else roll_rate_arguments)(
        scenario, book, seed, path_ids, macro, recorders)
    return macro, arguments[:-1]


def input_digests():
    """``{label: sha256}`` of every array the engine is fed (see the module docstring)."""
    digests = {}
    for name in SCENARIOS:
        scenario = small(name)
        book = book_of(scenario)
        macro, groups = kernel_arguments(scenario, book)
        for field in ("unemployment", "income_growth", "policy_rate", "cycle"):
            digests[f"{name}.macro.{field}"] = digest(getattr(macro, field))
        for group in groups:
            for field, value in zip(group._fields, group):
                if isinstance(value, np.ndarray):
                    digests[f"{name}.{type(group).__name__}.{field}"] = digest(value)
                else:
                    digests[f"{name}.{type(group).__name__}.{field}"] = repr(value)
    severe = small("severe")
    n_engine = engine_months(severe)
    for sampling, tail in SAMPLINGS:
        run = resolve_sampling(severe.run.model_copy(update={"sampling": sampling, "tail_sampling": tail,
                                                             "paths": 64}))
        for start in (0.0, "stationary"):
            cycle = severe.macro.cycle.model_copy(update={"start": start})
            label = f"severe.{sampling}.{tail}.start_{start}"
            path_ids = np.arange(run.paths, dtype=np.int64)
            digests[f"{label}.innovations"] = digest(cycle_innovations(run, cycle, 17, path_ids, n_engine))
            macro = macro_paths(severe.macro.model_copy(update={"cycle": cycle}), 17, path_ids, n_engine, run)
            digests[f"{label}.unemployment"] = digest(macro.unemployment)
            design = path_design(run, cycle, 17, n_engine)
            digests[f"{label}.weights"] = "none" if design.weights is None else digest(design.weights)
    return digests


def run_digests(name="baseline"):
    """sha256 of a small run's aggregates and ``summary.json`` (without wall time and versions)."""
    results = simulator.run(REPO / "scenarios" / f"{name}.yaml", paths=PATHS, loans=N_LOANS)
    summary = dict(results.summary)
    summary.pop("wall_seconds")
    summary.pop("versions")
    return {f"{name}.run.aggregates": digest(results.aggregates),
            f"{name}.run.summary": hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()}


if __name__ == "__main__":
    print(json.dumps({**input_digests(), **run_digests("baseline"), **run_digests("roll_rate_example")}))
