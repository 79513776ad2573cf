"""Consumer-credit stress simulator.

The package is layered; each layer imports only the layers before it:
:mod:`.inputs` -> :mod:`.model` -> :mod:`.accounts` -> :mod:`.estimation` ->
:mod:`.workflows` -> :mod:`.presentation` -> :mod:`.api` -> :mod:`.cli`. This root
is the public API: its names (``simulator.run``, ``simulator.compare`` ...) come from
:mod:`.api`, which is imported the first time one of them is used (PEP 562), so that
importing the package, or its command line for ``simulate --help``, loads neither
numpy nor numba, pandas or matplotlib. :mod:`.api` also hands the workflow objects
the presentation functions that draw them (``results.plot`` ...).

>>> import simulator
>>> results = simulator.run("scenarios/severe.yaml", paths=100)   # doctest: +SKIP
>>> results.headline_table()                                       # doctest: +SKIP
>>> results.plot.overdue_rates()                                   # doctest: +SKIP
>>> simulator.compare(["scenarios/baseline.yaml", "scenarios/severe.yaml"], paths=100).table  # doctest: +SKIP
>>> simulator.reverse_stress("scenarios/severe.yaml", "liquidity", paths=100).summary  # doctest: +SKIP
"""
from .version import __version__

__all__ = ["Comparison", "InputError", "Results", "Scenario", "compare", "load_results", "load_scenario",
           "reverse_stress", "run", "__version__"]


def __getattr__(name):
    """The API's names, from :mod:`simulator.api` on first use (the one deliberate import inside a function of
    this module; ``tests/test_architecture.py`` lists it)."""
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
