"""The public API and the wiring of the figures (loaded on first use of :mod:`simulator`'s names).

The workflows compute and write data; figures belong to the presentation layer,
which they may not import. So this module, the one place above both, hands each
workflow object the presentation function that draws it (the assignments below):
``results.plot`` and ``comparison.plot`` are :class:`.presentation.plots.Plots`,
and a ``save`` with ``plots=True`` writes its figures through ``Plots.write`` or
the object's ``write_figures``. The package root (:mod:`simulator`) loads it the
first time one of its names is used (``simulator.run``, ``simulator.compare`` ...),
and the command line in the commands that draw.
"""
from .inputs.errors import InputError
from .inputs.loader import load_scenario
from .inputs.schema import Scenario
from .presentation.plots import Plots, write_reverse_figure, write_sensitivity_figures, write_weighted_figure
from .presentation.report import write_calibration_outputs
from .version import __version__
from .workflows.calibration import Calibration
from .workflows.comparison import Comparison, compare
from .workflows.results import Results, load_results, run
from .workflows.reverse import ReverseStress, reverse_stress
from .workflows.sensitivity import Sensitivity
from .workflows.weighted import WeightedEcl

Results.plot_accessor = Plots
WeightedEcl.write_figures = write_weighted_figure
Sensitivity.write_figures = write_sensitivity_figures
ReverseStress.write_figures = write_reverse_figure
Calibration.write_figures = write_calibration_outputs

__all__ = ["Comparison", "InputError", "Results", "Scenario", "compare", "load_results", "load_scenario",
           "reverse_stress", "run", "__version__"]
