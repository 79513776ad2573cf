"""Estimation: what is fitted to data.

Owns the roll-rate cohorts, their bootstrap intervals, the credit-cycle index
and the satellite regression of the index on the economy (:mod:`.rollrates`,
with the Numba maximum-likelihood kernel of the monthly cycle index), the
one-factor roll-rate model on a scenario's terms and its back-test on a history
(:mod:`.rollrate_backtest`) and the structural model's simulated method of moments
(:mod:`.structural_fit`). It reads data already validated by
:mod:`simulator.inputs.history` and returns estimates; the job that reads the
files, runs the estimators and writes a calibration directory is
:mod:`simulator.workflows.calibration`.

May import: inputs, model, accounts. Imported by: workflows and above.
"""
