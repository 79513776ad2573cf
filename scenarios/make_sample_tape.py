"""Regenerate scenarios/sample_tape.csv (3,000 loans drawn from the baseline segments), or write a larger tape.

Run from the repository root::

    python scenarios/make_sample_tape.py                                  # the shipped sample
    python scenarios/make_sample_tape.py --loans 1000000 --out big.parquet  # a tape for scale tests

The tape is generated (no real borrowers) with a fixed seed, so it is
reproducible; ``.csv`` or ``.parquet`` by the file's extension.
"""
import argparse
from pathlib import Path

from simulator.inputs.loader import load_scenario
from simulator.model.portfolio import book_to_tape, build_book

HERE = Path(__file__).resolve().parent
N_LOANS = 3000
SEED = 42


def write_tape(n_loans, out, seed=SEED):
    """Draw ``n_loans`` loans from the baseline segments and write them to ``out`` (CSV or Parquet)."""
    scenario = load_scenario(HERE / "baseline.yaml").with_loans(n_loans)
    tape = book_to_tape(build_book(scenario, seed))
    if Path(out).suffix in (".parquet", ".pq"):
        tape.to_parquet(out, index=False)
    else:
        tape.to_csv(out, index=False)
    return len(tape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=N_LOANS)
    parser.add_argument("--out", type=Path, default=HERE / "sample_tape.csv")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    print(f"wrote {write_tape(args.loans, args.out, args.seed)} loans to {args.out}")


if __name__ == "__main__":
    main()
