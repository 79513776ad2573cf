"""Consumer-credit stress simulator.

>>> import simulator
>>> results = simulator.run("scenarios/severe.yaml", paths=100)   # doctest: +SKIP
>>> results.headline_table()                                       # doctest: +SKIP
>>> results.plot.overdue_rates()                                   # doctest: +SKIP
>>> simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100).table  # doctest: +SKIP
"""
from .version import __version__  # noqa: E402

from .workflows.comparison import Comparison, compare  # noqa: E402
from .inputs.errors import InputError  # noqa: E402
from .workflows.results import Results, run  # noqa: E402
from .inputs.scenario import Scenario, load_scenario  # noqa: E402

__all__ = ["Comparison", "InputError", "Results", "Scenario", "compare", "load_scenario", "run", "__version__"]
