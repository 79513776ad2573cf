"""Consumer-credit stress simulator.

The package is layered; each layer imports only the layers before it:
:mod:`.inputs` -> :mod:`.model` -> :mod:`.accounts` -> :mod:`.workflows` ->
:mod:`.presentation` -> :mod:`.cli`. This root is the public API, on top of
presentation (importing it registers the figures with the workflows).

>>> import simulator
>>> results = simulator.run("scenarios/severe.yaml", paths=100)   # doctest: +SKIP
>>> results.headline_table()                                       # doctest: +SKIP
>>> results.plot.overdue_rates()                                   # doctest: +SKIP
>>> simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100).table  # doctest: +SKIP
>>> simulator.reverse_stress("scenarios/severe.yaml", "liquidity", paths=100).summary  # doctest: +SKIP
"""
from . import presentation  # noqa: F401  (registers the figures with the workflows)
from .inputs.errors import InputError
from .inputs.loader import load_scenario
from .inputs.schema import Scenario
from .version import __version__
from .workflows.comparison import Comparison, compare
from .workflows.results import Results, load_results, run
from .workflows.reverse import reverse_stress

__all__ = ["Comparison", "InputError", "Results", "Scenario", "compare", "load_results", "load_scenario",
           "reverse_stress", "run", "__version__"]
