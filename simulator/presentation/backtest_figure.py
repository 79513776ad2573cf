"""The back-test figure: observed against model, as ratios to the first observation, with unemployment behind."""
from datetime import date
from pathlib import Path

import numpy as np

from .labels import shown_name, text
from .plots import SLIDE_SIZE, house_style, plt, save_figure, scenario_colour

OBSERVED_COLOUR = "#404040"
UNEMPLOYMENT_COLOUR = "#9dc3e6"


def rate_name(rate, lang="en"):
    """The compared rate's short name (``30p`` -> "30+ DPD rate")."""
    return text(f"bt_rate_{rate}", lang)


def timing_text(lag, lang="en"):
    """A lead or lag in periods in words: "in step", "2 periods late", "1 period early"."""
    if lag == 0:
        return text("bt_in_step", lang)
    return text(f"bt_{'late' if lag > 0 else 'early'}{'_one' if abs(lag) == 1 else ''}", lang, n=abs(lag))


def draw_backtest(ax, summary, lang="en", legend=None, ticks=12):
    """Draw the observed and model ratios by period on ``ax`` (left axis) and the unemployment history behind them
    (a second axis on the right); returns that second axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    summary : dict
        A back-test's ``backtest.json`` (:attr:`simulator.workflows.backtest.Backtest.summary`).
    lang : {'en', 'zh'}
    legend : dict, optional
        Where the legend goes (``Axes.legend`` keywords); default the upper right corner.
    ticks : int
        At most this many period labels on the x axis.
    """
    series = summary["series"]
    periods = series["period"]
    x = np.arange(len(periods))
    unemployment_axis = ax.twinx()
    unemployment_axis.fill_between(x, series["unemployment_pct"], color=UNEMPLOYMENT_COLOUR, alpha=0.35,
                                   linewidth=0, label=text("bt_unemployment", lang))
    unemployment_axis.set_ylabel(text("bt_unemployment_axis", lang))
    unemployment_axis.set_ylim(0, 1.6 * max(series["unemployment_pct"]))
    unemployment_axis.grid(False)
    ax.set_zorder(unemployment_axis.get_zorder() + 1)
    ax.patch.set_visible(False)
    observed, model = summary["observed"], summary["model"]
    ax.plot(x, series["observed_ratio"], color=OBSERVED_COLOUR, linewidth=2.2, marker="o", markersize=3,
            label=text("bt_observed", lang, peak=f"{observed['peak_ratio']:.2f}", period=observed["peak_period"]))
    ax.plot(x, [np.nan if v is None else v for v in series["model_ratio"]],
            color=scenario_colour(summary["scenario"]), linewidth=2.2,
            label=text("bt_model", lang, scenario=shown_name(summary["scenario"], lang),
                       peak=f"{model['peak_ratio']:.2f}", period=model["peak_period"]))
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    step = max(1, -(-len(periods) // ticks))
    ax.set_xticks(x[::step], [periods[i] for i in x[::step]])
    ax.set_ylabel(text("bt_axis", lang, rate=rate_name(summary["rate"], lang), period=periods[0]))
    handles = ax.get_legend_handles_labels()
    extra = unemployment_axis.get_legend_handles_labels()
    ax.legend(handles[0] + extra[0], handles[1] + extra[1], framealpha=0.9, **(legend or {"loc": "upper right"}))
    return unemployment_axis


def backtest_title(summary, lang="en"):
    """The figure's title: the window, the mean absolute ratio error (lag 0) and the lag at which it is least."""
    periods = summary["series"]["period"]
    return text("bt_title", lang, start=periods[0], end=periods[-1], error=f"{summary['mean_abs_ratio_error']:.3f}",
                timing=timing_text(summary["best_lag"], lang))


def backtest_chart(summary, lang="en", footnote=True):
    """Observed and model ratios by period (left axis) and the unemployment history (right axis), titled with
    :func:`backtest_title` and a footnote naming the series, the seed and the size.

    Parameters
    ----------
    summary : dict
        A back-test's ``backtest.json`` (:attr:`simulator.workflows.backtest.Backtest.summary`).
    lang : {'en', 'zh'}
    footnote : bool
        Left out on a page that states the series, seed and size in its text.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    draw_backtest(ax, summary, lang)
    fig.suptitle(backtest_title(summary, lang))
    if footnote:
        fig.text(0.01, 0.01, text("bt_footnote", lang, observed=Path(summary["observed_series"]).name,
                                  rate=rate_name(summary["rate"], lang), macro=Path(summary["macro_series"]).name,
                                  seed=summary["seed"], paths=summary["paths"], loans=f"{summary['loans']:,}",
                                  date=date.today().isoformat()), fontsize=8, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


def write_backtest_figure(backtest, directory, lang="en"):
    """Write :func:`backtest_chart` of ``backtest`` as ``backtest.png`` and ``.svg`` into ``directory``, labelled in
    ``lang`` (English when Chinese cannot be drawn)."""
    with house_style(lang) as used:
        save_figure(backtest_chart(backtest.summary, used), Path(directory) / "backtest")
