"""Presentation: figures, the board pack, the calibration and validation reports, labels and fonts.

Owns the house style (:mod:`.plots`), the PDF board pack and calibration report
(:mod:`.report`), the model validation report and its Markdown twin
(:mod:`.validation_report`) and every label in English and Chinese (:mod:`.labels`, the font
in ``fonts/``). It draws what it is given (runs, comparisons and the tables a
workflow prepared) and computes no model quantity.

May import: inputs, model, accounts, estimation, workflows. Imported by: the package root and
the command line.

On import it registers its entry points with
:mod:`simulator.workflows.presenter`, so that a workflow can save figures into its
run directory and offer ``results.plot`` without importing this layer.
"""
from pathlib import Path

from ..workflows.presenter import register
from .plots import (Plots, write_calibration_figures, write_figures, write_reverse_figure, write_sensitivity_figures,
                    write_weighted_figure)
from .report import write_calibration_report


def write_calibration_outputs(inputs, directory, lang="en"):
    """The calibration figures (``directory / "plots"``) and ``directory / "calibration_report.pdf"``."""
    write_calibration_figures(inputs, Path(directory) / "plots", lang)
    write_calibration_report(inputs, Path(directory) / "calibration_report.pdf", lang)


register(figure_accessor=Plots, write_run_figures=write_figures, write_weighted_figure=write_weighted_figure,
         write_sensitivity_figures=write_sensitivity_figures, write_calibration_outputs=write_calibration_outputs,
         write_reverse_figure=write_reverse_figure)
