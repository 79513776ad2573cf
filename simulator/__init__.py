"""Consumer-credit stress simulator.

The package is layered; each layer imports only the layers before it:
:mod:`.inputs` -> :mod:`.model` -> :mod:`.accounts` -> :mod:`.estimation` ->
:mod:`.workflows` -> :mod:`.presentation` -> :mod:`.cli`. This root is the public API, on top of
presentation.

The workflows compute and write data; figures belong to the presentation layer,
which they may not import. So this root, the one place above both, hands each
workflow object the presentation function that draws it (the assignments below):
``results.plot`` and ``comparison.plot`` are :class:`.presentation.plots.Plots`,
and a ``save`` with ``plots=True`` writes its figures through ``Plots.write`` or
the object's ``write_figures``. Every module of the package is imported after this
one, so the figures are in place whatever a caller imports.

>>> import simulator
>>> results = simulator.run("scenarios/severe.yaml", paths=100)   # doctest: +SKIP
>>> results.headline_table()                                       # doctest: +SKIP
>>> results.plot.overdue_rates()                                   # doctest: +SKIP
>>> simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100).table  # doctest: +SKIP
>>> simulator.reverse_stress("scenarios/severe.yaml", "liquidity", paths=100).summary  # doctest: +SKIP
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
