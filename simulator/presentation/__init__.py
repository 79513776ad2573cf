"""Presentation: figures, the board pack, the calibration and validation reports, labels and fonts.

Owns the house style (:mod:`.plots`), the PDF board pack and calibration report
(:mod:`.report`), the model validation report and its Markdown twin
(:mod:`.validation_report`) and every label in English and Chinese (:mod:`.labels`, the font
in ``fonts/``). It draws what it is given (runs, comparisons and the tables a
workflow prepared) and computes no model quantity.

May import: inputs, model, accounts, estimation, workflows. Imported by: the package root and
the command line.

The workflows' objects draw and save their figures through functions of this
layer that the package root (:mod:`simulator`) hands them:
:class:`.plots.Plots` behind ``results.plot`` and ``comparison.plot`` (its
``write`` saves a run directory's figures), and
:func:`.plots.write_weighted_figure`, :func:`.plots.write_sensitivity_figures`,
:func:`.plots.write_reverse_figure` and :func:`.report.write_calibration_outputs`
as the ``write_figures`` of the other jobs.
"""
