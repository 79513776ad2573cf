"""Workflows: the jobs users run.

Owns a run and its results and run directory (:mod:`.results`), scenario
comparison on common random numbers (:mod:`.comparison`), probability-weighted
ECL over a scenario set (:mod:`.weighted`), sensitivities to the assumptions
(:mod:`.sensitivity`), calibration from a loan history (:mod:`.calibration`,
whose estimators are in :mod:`simulator.estimation`) and the model's own checks
against independent references (:mod:`.validation`), and where the engine's blocks of paths run
(:mod:`.cluster`: a Dask cluster, the optional extra ``distributed``).

May import: inputs, model, accounts, estimation. Imported by: presentation, the
package root and the command line. The workflows write data files and never
import the presentation layer: the package root hands their objects the
functions that draw them (``Results.plot_accessor`` and each job's
``write_figures``), see :mod:`simulator`.
"""
