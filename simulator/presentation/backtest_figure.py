"""The back-test figure: observed against model, as ratios to the first observation, with unemployment behind."""
from datetime import date
from pathlib import Path

import numpy as np

from .plots import SLIDE_SIZE, house_style, plt, save_figure, scenario_colour

OBSERVED_COLOUR = "#404040"
UNEMPLOYMENT_COLOUR = "#9dc3e6"
RATE_NAMES = {"30p": "30+ DPD rate", "90p": "90+ DPD rate", "chargeoff": "charge-off rate"}


def backtest_chart(summary):
    """Observed and model ratios by period (left axis) and the unemployment history (right axis).

    Parameters
    ----------
    summary : dict
        A back-test's ``backtest.json`` (:attr:`simulator.workflows.backtest.Backtest.summary`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    series = summary["series"]
    periods = series["period"]
    x = np.arange(len(periods))
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    unemployment_axis = ax.twinx()
    unemployment_axis.fill_between(x, series["unemployment_pct"], color=UNEMPLOYMENT_COLOUR, alpha=0.35,
                                   linewidth=0, label="unemployment (right axis)")
    unemployment_axis.set_ylabel("unemployment rate, %")
    unemployment_axis.set_ylim(0, 1.6 * max(series["unemployment_pct"]))
    unemployment_axis.grid(False)
    ax.set_zorder(unemployment_axis.get_zorder() + 1)
    ax.patch.set_visible(False)
    observed, model = summary["observed"], summary["model"]
    ax.plot(x, series["observed_ratio"], color=OBSERVED_COLOUR, linewidth=2.2, marker="o", markersize=3,
            label=f"observed (peak {observed['peak_ratio']:.2f}x in {observed['peak_period']})")
    ax.plot(x, [np.nan if v is None else v for v in series["model_ratio"]],
            color=scenario_colour(summary["scenario"]), linewidth=2.2,
            label=f"model: {summary['scenario']} (peak {model['peak_ratio']:.2f}x in {model['peak_period']})")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step], [periods[i] for i in x[::step]])
    ax.set_ylabel(f"{RATE_NAMES[summary['rate']]} / its value in {periods[0]}")
    handles = ax.get_legend_handles_labels()
    extra = unemployment_axis.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper right", framealpha=0.9)
    lag = summary["best_lag"]
    timing = "in step" if lag == 0 else f"{abs(lag)} period{'s' if abs(lag) > 1 else ''} " \
                                        f"{'late' if lag > 0 else 'early'}"
    fig.suptitle(f"Back-test, {periods[0]}-{periods[-1]}: mean absolute ratio error "
                 f"{summary['mean_abs_ratio_error']:.2f}; the model is closest {timing}")
    fig.text(0.01, 0.01, f"{Path(summary['observed_series']).name} against the model's {summary['rate_definition']}; "
                         f"unemployment {Path(summary['macro_series']).name}; cycle off; seed {summary['seed']}, {summary['paths']} paths, "
                         f"{summary['loans']:,} loans; {date.today().isoformat()}", fontsize=8, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def write_backtest_figure(backtest, directory, lang="en"):
    """Write :func:`backtest_chart` of ``backtest`` as ``backtest.png`` and ``.svg`` into ``directory``.

    The labels are English whatever ``lang`` (the figure's house style follows it).
    """
    with house_style(lang):
        save_figure(backtest_chart(backtest.summary), Path(directory) / "backtest")
