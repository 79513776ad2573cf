"""Consumer-credit stress simulator.

>>> import simulator
>>> results = simulator.run("scenarios/severe.yaml", paths=100)   # doctest: +SKIP
>>> results.headline_table()                                       # doctest: +SKIP
>>> results.plot.overdue_rates()                                   # doctest: +SKIP
>>> simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100).table  # doctest: +SKIP
"""
__version__ = "0.1.0"

from .comparison import Comparison, compare  # noqa: E402
from .errors import InputError  # noqa: E402
from .results import Results, run  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402

__all__ = ["Comparison", "InputError", "Results", "Scenario", "compare", "load_scenario", "run", "__version__"]
