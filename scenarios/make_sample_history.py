"""Regenerate the calibration example: scenarios/sample_history.parquet and sample_history_macro.csv.

Run from the repository root: ``python scenarios/make_sample_history.py``. The
history is path 0 of ``history_truth.yaml`` simulated by the engine (no real
borrowers), with a fixed seed, so it is reproducible and its parameters are
known: ``simulate calibrate`` on it should find the baseline's structural
parameters (unemployment sensitivity scale 1, transitory income sd 15%,
savings buffer 4 months, willingness shift 0).
"""
from pathlib import Path

from simulator.workflows.calibration import engine_history
from simulator.inputs.loader import load_scenario

HERE = Path(__file__).resolve().parent
SEED = 2023


def main():
    history, macro = engine_history(load_scenario(HERE / "history_truth.yaml"), SEED)
    history.to_parquet(HERE / "sample_history.parquet", index=False)
    macro.round(4).to_csv(HERE / "sample_history_macro.csv", index=False)
    print(f"wrote {len(history)} loan-months of {history.loan_id.nunique()} loans to "
          f"{HERE / 'sample_history.parquet'} and {len(macro)} months to {HERE / 'sample_history_macro.csv'}")


if __name__ == "__main__":
    main()
