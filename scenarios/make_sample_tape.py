"""Regenerate scenarios/sample_tape.csv: 3,000 loans drawn from the baseline segments.

Run from the repository root: ``python scenarios/make_sample_tape.py``. The tape
is generated (no real borrowers) with a fixed seed, so it is reproducible.
"""
from pathlib import Path

from simulator.model.portfolio import book_to_tape, build_book
from simulator.inputs.scenario import load_scenario

HERE = Path(__file__).resolve().parent
N_LOANS = 3000
SEED = 42


def main():
    scenario = load_scenario(HERE / "baseline.yaml").with_loans(N_LOANS)
    tape = book_to_tape(build_book(scenario, SEED))
    tape.to_csv(HERE / "sample_tape.csv", index=False)
    print(f"wrote {len(tape)} loans to {HERE / 'sample_tape.csv'}")


if __name__ == "__main__":
    main()
