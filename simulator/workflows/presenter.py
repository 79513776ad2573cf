"""How the workflows reach the presentation layer without importing it.

A run directory holds figures, a calibration directory a PDF report, and
``results.plot`` returns the house figures; yet the workflows sit below the
presentation layer and may not import it (the layers only import downwards).
So the presentation layer registers its entry points here when it is imported
(:mod:`simulator.presentation` does so in its ``__init__``; the package root
imports it, so they are in place whenever any part of :mod:`simulator` is
imported), and a workflow asks for one by name with :func:`presenter`.

Entry points (see :mod:`simulator.presentation` for what each one is):

``figure_accessor(members)``
    The object behind ``results.plot`` and ``comparison.plot``.
``write_run_figures(members, directory, lang)``
    The house figures of one run or a comparison, as PNG and SVG.
``write_weighted_figure(weighted, directory, lang)``
    The probability-weighted ECL figure.
``write_sensitivity_figures(sensitivity, directory, lang)``
    The tornado charts of a sensitivity.
``write_calibration_outputs(inputs, directory, lang)``
    The calibration figures (``directory / "plots"``) and ``calibration_report.pdf``.
``write_reverse_figure(summary, directory, lang)``
    The breach probability curve of a reverse stress test (``summary`` is ``reverse.json``).
"""
ENTRY_POINTS = ("figure_accessor", "write_run_figures", "write_weighted_figure", "write_sensitivity_figures",
                "write_calibration_outputs", "write_reverse_figure")

_registered = {}


def register(**entry_points):
    """Register the presentation layer's entry points (names from :data:`ENTRY_POINTS`)."""
    unknown = set(entry_points) - set(ENTRY_POINTS)
    if unknown:
        raise ValueError(f"unknown presentation entry points: {sorted(unknown)}")
    _registered.update(entry_points)


def presenter(name):
    """The registered presentation entry point ``name``.

    Raises
    ------
    RuntimeError
        If the presentation layer was never imported (a bug: importing any part of
        :mod:`simulator` imports it).
    """
    try:
        return _registered[name]
    except KeyError:
        raise RuntimeError(f"the presentation layer has not registered {name!r}; it registers itself when "
                           "simulator.presentation is imported") from None
