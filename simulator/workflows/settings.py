"""The workflows' defaults and choices that the command line shows before anything runs.

Constants only, no imports beyond the standard library: ``simulate --help`` and each
command's options read them without loading numpy, numba, pandas or the engine (see
:mod:`simulator.cli`). The workflow modules import them from here, so each lives in
one place.
"""
from pathlib import Path

BACKTEST_RATES = {"30p": "30+ DPD rate by balance ((31-90 + 90+) / outstanding)",
                  "90p": "90+ DPD rate by balance (90+ / outstanding)",
                  "chargeoff": "net charge-off rate, annualised ((charge-offs - recoveries) x 12 / outstanding)"}
"""The model rates a back-test can compare, with their definitions."""

BACKTEST_PATHS = 16
"""Paths of a back-test unless asked: with the cycle off the paths differ only by borrower-level draws."""

SENSITIVITY_PATHS = 200
"""Paths per run of a sensitivity unless ``paths`` is given (fewer if the scenario asks fewer): a sensitivity runs
the scenario ``1 + 2 x parameters`` times, and common random numbers make the differences precise at this count."""

SENSITIVITY_PARAMETERS = (
    "behaviour.structural.job_finding_pct", "behaviour.structural.replacement_rate_pct",
    "behaviour.structural.savings_target_months", "behaviour.structural.willingness",
    "behaviour.structural.payment_friction_pct", "behaviour.recovery.rate_pct", "macro.cycle.volatility",
    "macro.shocks.unemployment", "funding.liabilities.rollover_pct",
)
"""The parameters a sensitivity moves when none are named: the most material assumptions of the structural model,
the loss given default, the economy's uncertainty and stress, and funding."""

VALIDATION_SEED = 20261128
"""Default seed of every model check."""

VALIDATION_BASELINE = Path("scenarios/baseline.yaml")
VALIDATION_STRESS = Path("scenarios/severe.yaml")
"""The scenarios the model checks run unless others are given."""
