"""The house figures: one style for every chart the simulator draws.

Every figure takes a list of runs (one run, or the members of a comparison,
the first being the reference) and draws each scenario in its own fixed colour
(:func:`scenario_colour`) with its median path and the 5-95% band across paths.
Titles state the finding, computed from the numbers; axes carry units (percent
of balance, the book's currency, months); a footnote names the scenarios, seed,
paths, loans and date. Figures are sized for a 16:9 slide and saved as PNG and
SVG.

Labels come from :mod:`simulator.presentation.labels` in English or Chinese. For Chinese a
CJK font is needed: an installed one (:data:`CJK_FAMILIES`) or the subset of
Droid Sans Fallback shipped in ``simulator/fonts`` (the GB 2312 characters,
Apache 2.0). If neither can be loaded the figures fall back to English with a
warning rather than draw boxes.

Only this module and the report modules (:mod:`simulator.presentation.report`,
:mod:`simulator.presentation.validation_report`) import matplotlib; the Agg
backend is used so figures work on machines without a screen.
"""
import textwrap
import unicodedata
import warnings
import zlib
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager, patheffects  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, PercentFormatter  # noqa: E402

from ..accounts.metrics import metric_kind  # noqa: E402
from .labels import metric_label, parameter_label, shown_name, text  # noqa: E402

SLIDE_SIZE = (12.0, 5.6)
"""Figure size in inches: a 16:9 slide's content area, readable when projected."""

HOUSE_RC = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "legend.fontsize": 10, "figure.titlesize": 14,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
    "savefig.dpi": 150, "svg.fonttype": "path", "pdf.fonttype": 42,
}
"""Matplotlib settings of the house style."""

SCENARIO_COLOURS = {
    "baseline": "#1f4e79", "adverse": "#ed7d31", "severe": "#c00000", "covid_shock": "#7030a0",
    "severe_with_actions": "#00a651", "collections": "#2e75b6", "restructuring": "#548235",
    "underwriting": "#bf8f00", "high_risk_lending": "#843c0c", "roll_rate_example": "#5b9bd5",
    "tape_example": "#44546a",
}
"""Fixed colours of the shipped scenarios, so a scenario looks the same in every figure."""

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
COUNTERFACTUAL_COLOUR = "#7f7f7f"
STAGE_COLOURS = ("#9dc3e6", "#f4b183", "#c00000")
LIMIT_COLOUR = "#c00000"

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC",
                "Hiragino Sans GB", "Heiti SC", "Droid Sans Fallback")
"""Installed fonts that draw simplified Chinese, in order of preference."""

SHIPPED_CJK_FONT = Path(__file__).parent / "fonts" / "DroidSansFallback-GB2312.ttf"
LATIN_FAMILY = "DejaVu Sans"


class FontFallbackWarning(UserWarning):
    """Chinese labels were asked for but no font can draw them; English is used instead."""


def scenario_colour(name):
    """The colour of scenario ``name``: fixed for shipped scenarios, else a stable pick from :data:`PALETTE`."""
    return SCENARIO_COLOURS.get(name, PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)])


def cjk_font():
    """Family name of a font that draws simplified Chinese, or ``None``.

    An installed family from :data:`CJK_FAMILIES` is preferred; otherwise the
    shipped subset font is registered with matplotlib and used.
    """
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in installed:
            return family
    try:
        font_manager.fontManager.addfont(str(SHIPPED_CJK_FONT))
    except (OSError, RuntimeError):
        return None
    return font_manager.FontProperties(fname=str(SHIPPED_CJK_FONT)).get_name()


@contextmanager
def house_style(lang="en"):
    """Apply the house style; yields the language actually used (``en`` if Chinese cannot be drawn).

    With ``lang="zh"`` the font family is the Latin font followed by a CJK font,
    so digits and Latin letters come from the first and Chinese from the second
    (matplotlib's per-glyph font fallback).
    """
    settings = dict(HOUSE_RC)
    if lang == "zh":
        family = cjk_font()
        if family is None:
            warnings.warn("no font that can draw Chinese was found (looked for "
                          f"{', '.join(CJK_FAMILIES[:3])}, ... and {SHIPPED_CJK_FONT}); labels are in English. "
                          "Install Noto Sans CJK SC or reinstall the package to get the shipped font.",
                          FontFallbackWarning, stacklevel=3)
            lang = "en"
        else:
            settings["font.family"] = [LATIN_FAMILY, family]
    with plt.rc_context(settings):
        yield lang


# --------------------------------------------------------------------- building blocks
def _months(members):
    return np.arange(members[0].scenario.run.horizon_months + 1)


def fan(ax, months, bands, colour, label=None):
    """Median line and the 5-95% band across paths: ``bands`` are the 5th, 50th and 95th percentiles by month
    (:meth:`~simulator.workflows.results.Results.band`)."""
    p05, p50, p95 = bands
    ax.fill_between(months, p05, p95, color=colour, alpha=0.18, linewidth=0)
    ax.plot(months, p50, color=colour, linewidth=2.2, label=label)


def _legend(ax, members, lang, extra=()):
    """Legend: one line per scenario, the band swatch, then ``extra`` handles."""
    handles = [Line2D([], [], color=scenario_colour(r.scenario.name), linewidth=2.2,
                      label=f"{shown_name(r.scenario.name, lang)} ({text('median', lang)})") for r in members]
    handles.append(Patch(color="0.5", alpha=0.3, label=text("band", lang)))
    figure_legend(ax.figure, handles + list(extra))


def figure_legend(fig, handles):
    """A legend under the charts, outside every axes, so it never covers the data; :func:`reserve_legend` puts it
    in place when the page is laid out."""
    longest = max(len(handle.get_label()) for handle in handles)
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4 if longest <= 28 else 2),
               frameon=False)


def reserve_legend(fig, bottom):
    """Place the figure's legend (:func:`figure_legend`) with its lower edge at ``bottom`` (a fraction of the figure
    height) and return where the charts may start above it; ``bottom`` if there is none."""
    if not fig.legends:
        return bottom
    legend = fig.legends[0]
    legend.set_bbox_to_anchor((0.5, bottom), transform=fig.transFigure)
    height = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.bbox.height
    return bottom + height + 0.01


def _rate_axis(ax, lang, decimals=1):
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))
    ax.set_xlabel(text("month", lang))
    ax.set_ylim(bottom=0)


TITLE_CHARACTERS = 95
"""A figure title wraps at this many characters (half as many for Chinese, whose characters are twice as wide)."""


def wrap_lines(text, width):
    """``text`` cut into lines of at most ``width`` characters (``width / 2`` when it holds East Asian wide
    characters)."""
    if any(unicodedata.east_asian_width(c) in "WF" for c in text):
        width //= 2
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]  # "-2.70" stays whole


def wrap_title(text):
    """A title wrapped to :data:`TITLE_CHARACTERS` a line."""
    return "\n".join(wrap_lines(text, TITLE_CHARACTERS))


def _money_axis(ax, axis="y", lang="en"):
    """Money ticks on ``ax``'s ``axis``: in millions (``m``) in English, in 万 (10^4) in Chinese, with as many
    decimals as the axis' span needs to tell ticks apart (one for spans of 2 m or more, two down to 0.2 m, else
    three; in 万 none from 200万, else one)."""
    scale = ax.yaxis if axis == "y" else ax.xaxis

    def label(value, _):
        low, high = scale.get_view_interval()
        if lang == "zh":
            return f"{value / 1e4:,.{0 if abs(high - low) >= 2e6 else 1}f}万"
        decimals = 1 if abs(high - low) >= 2e6 else 2 if abs(high - low) >= 2e5 else 3
        return f"{value / 1e6:,.{decimals}f} m"

    scale.set_major_formatter(FuncFormatter(label))


PANEL_CHARACTERS = {1: 95, 2: 60, 3: 42}
"""A panel title wraps at this many characters, by the number of panels side by side."""


def panel_title(ax, title, panels):
    """Set ``ax``'s title, wrapped to fit one of ``panels`` panels side by side."""
    width = PANEL_CHARACTERS[panels]
    ax.set_title("\n".join(part for line in title.split("\n") for part in wrap_lines(line, width)),
                 fontsize=10 if panels == 3 else 11)


def median_line(results, values):
    """The month-by-month median over paths of a per-path series ``values`` (paths x months): the line the figures
    draw (:func:`fan`)."""
    return results.band(values, (50,))[0]


def line_extreme(line, lowest=False, first_month=0):
    """The highest (or ``lowest``) point of a drawn line from ``first_month`` on: ``(value, month)``. What a title
    quotes about a line, so the number is the line's own."""
    part = np.asarray(line)[first_month:]
    k = int(np.argmin(part) if lowest else np.argmax(part))
    return float(part[k]), k + first_month


def series_peak(results, series, lowest=False, first_month=0):
    """``(value, month)`` of the highest (``lowest``) point of the median line of the run's ``series``."""
    return line_extreme(median_line(results, results.series[series]), lowest, first_month)


def money_text(value, currency, lang="en"):
    """An amount as text: ``6,691,696 CNY`` in English; in Chinese in 万元 (10^4) or, from 10^8, 亿元, the units a
    Chinese reader expects (``669万元``, below 100万 to one decimal: ``0.9万元``; ``1.25亿元``; another currency
    keeps its code: ``669万 USD``)."""
    if lang != "zh":
        return f"{value:,.0f} {currency}"
    unit = "元" if currency == "CNY" else f" {currency}"
    if abs(value) >= 1e8:
        return f"{value / 1e8:,.2f}亿{unit}"
    return f"{value / 1e4:,.{0 if abs(value) >= 1e6 else 1}f}万{unit}"


def median_of(results, metric):
    """Median over paths of a headline metric of ``results`` (under its design)."""
    return float(results.band(results.headline[metric], (50,))[0])


def worst_of(members, metric):
    """The run with the highest median of ``metric`` (the reference if there is one run)."""
    return max(members, key=lambda r: median_of(r, metric))


def _finish(fig, members, lang):
    """Footnote (scenarios, seed, paths, loans, date) and a layout that leaves room for it and the title."""
    first = members[0]
    fig.text(0.01, 0.01, text("footnote", lang, scenarios=", ".join(shown_name(r.scenario.name, lang)
                                                                     for r in members),
                              seed=first.seed, paths=first.scenario.run.paths, loans=f"{first.n_loans:,}",
                              date=date.today().isoformat()), fontsize=8, color="0.4")
    fig.tight_layout(rect=(0, reserve_legend(fig, 0.03), 1, 0.95 if fig.get_suptitle() else 1.0))
    return fig


# --------------------------------------------------------------------- figures
def overdue_rates(members, lang="en"):
    """Overdue rate per bucket (1-30, 31-90, 90+), share of balance, median and 5-95% band per scenario; each panel's
    title quotes the peak of the highest median line drawn in it (:func:`series_peak`), the suptitle the 90+ one."""
    months = _months(members)
    fig, axes = plt.subplots(1, 3, figsize=SLIDE_SIZE, sharex=True)
    for ax, bucket in zip(axes, ("1_30", "31_90", "90p")):
        series = f"overdue_rate_{bucket}"
        for results in members:
            fan(ax, months, results.band(results.series[series]), scenario_colour(results.scenario.name))
        worst = max(members, key=lambda r: series_peak(r, series)[0])
        peak, month = series_peak(worst, series)
        panel_title(ax, text("bucket_peak", lang, bucket=text(f"bucket_{bucket}", lang), peak=f"{peak:.2%}",
                             month=month, scenario=shown_name(worst.scenario.name, lang)), 3)
        _rate_axis(ax, lang)
    axes[0].set_ylabel(text("share_of_balance", lang))
    _legend(axes[0], members, lang)
    reference = members[0]
    reference_peak = series_peak(reference, "overdue_rate_90p")[0]
    if len(members) == 1:
        title = text("overdue_title_one", lang, peak=f"{reference_peak:.2%}",
                     scenario=shown_name(reference.scenario.name, lang))
    else:
        worst = max(members[1:], key=lambda r: series_peak(r, "overdue_rate_90p")[0])
        title = text("overdue_title_many", lang, peak=f"{series_peak(worst, 'overdue_rate_90p')[0]:.2%}",
                     scenario=shown_name(worst.scenario.name, lang),
                     reference=shown_name(reference.scenario.name, lang), reference_peak=f"{reference_peak:.2%}")
    fig.suptitle(wrap_title(title))
    return _finish(fig, members, lang)


def _var_99(results):
    """The run's 99% VaR of the cumulative loss rate, as its summary reports it."""
    return results.summary["metrics"]["loss_var_99"]["value"]


def loss_distribution(members, lang="en"):
    """Distribution of the cumulative loss rate across paths per scenario, with the mean and 99% VaR marked."""
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    all_losses = np.concatenate([r.headline["cumulative_loss_rate"] for r in members])
    n_bins = int(np.clip(2 * np.sqrt(len(all_losses) / len(members)), 15, 60))
    bins = np.linspace(all_losses.min(), all_losses.max(), n_bins + 1)
    for results in members:
        losses = results.headline["cumulative_loss_rate"]
        colour = scenario_colour(results.scenario.name)
        if len(members) > 1:  # outlines, so overlapping distributions stay apart
            ax.hist(losses, bins=bins, weights=results.design.weights, color=colour, alpha=0.12,
                    histtype="stepfilled")
            ax.hist(losses, bins=bins, weights=results.design.weights, color=colour, linewidth=2.2,
                    histtype="step")
        else:
            ax.hist(losses, bins=bins, weights=results.design.weights, color=colour, alpha=0.7,
                    histtype="stepfilled", edgecolor=colour)
        ax.axvline(results.mean_of(losses), color=colour, linewidth=2)
        ax.axvline(_var_99(results), color=colour, linestyle="--", linewidth=1.5)
    extra = [Line2D([], [], color="0.2", linewidth=2, label=text("mean", lang)),
             Line2D([], [], color="0.2", linestyle="--", label=text("var99", lang))]
    handles = [Patch(facecolor=scenario_colour(r.scenario.name), alpha=0.6, label=shown_name(r.scenario.name, lang))
               for r in members]
    figure_legend(fig, handles + extra)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel(text("loss_axis", lang, months=members[0].scenario.run.horizon_months))
    ax.set_ylabel(text("paths", lang))
    reference = members[0]
    mean = float(reference.mean_of(reference.headline["cumulative_loss_rate"]))
    if len(members) == 1:
        title = text("loss_title_one", lang, months=reference.scenario.run.horizon_months, mean=f"{mean:.2%}",
                     var=f"{_var_99(reference):.2%}")
    else:
        worst = max(members[1:], key=lambda r: r.mean_of(r.headline["cumulative_loss_rate"]))
        title = text("loss_title_many", lang, scenario=shown_name(worst.scenario.name, lang),
                     reference=shown_name(reference.scenario.name, lang),
                     mean=f"{worst.mean_of(worst.headline['cumulative_loss_rate']):.2%}",
                     reference_mean=f"{mean:.2%}")
    fig.suptitle(title)
    return _finish(fig, members, lang)


def provisions(members, lang="en"):
    """Provision requirement (stacked IFRS 9 stages for one run, median and band per scenario for several)
    against the five-category minimum, and the coverage ratio against its floor."""
    months = _months(members)
    currency = members[0].scenario.portfolio.currency
    fig, (stock, coverage) = plt.subplots(1, 2, figsize=SLIDE_SIZE)
    if len(members) == 1:
        only = members[0]
        series = only.series
        medians = [only.band(series[f"ecl_stage_{k}"], (50,))[0] for k in (1, 2, 3)]
        stock.stackplot(months, *medians, colors=STAGE_COLOURS, alpha=0.9,
                        labels=[text("stage", lang, stage=k) for k in (1, 2, 3)])
        stock.plot(months, only.band(series["five_category_minimum"], (50,))[0], color="black", linestyle="--",
                   label=text("five_category_minimum", lang))
        figure_legend(fig, stock.get_legend_handles_labels()[0])
    else:
        for results in members:
            fan(stock, months, results.band(results.series["provision_requirement"]),
                scenario_colour(results.scenario.name))
        _legend(stock, members, lang)
    worst = max(members, key=lambda r: series_peak(r, "provision_requirement")[0])
    panel_title(stock, text("provision_title", lang, scenario=shown_name(worst.scenario.name, lang),
                            peak=money_text(series_peak(worst, "provision_requirement")[0], currency, lang)), 2)
    stock.set_ylabel(text("provision_axis", lang, currency=currency))
    _money_axis(stock, lang=lang)
    for results in members:
        fan(coverage, months[1:], results.band(results.series["coverage_ratio"][:, 1:]),
            scenario_colour(results.scenario.name))
    floor = members[0].scenario.provisioning.five_category.coverage_floor_pct / 100.0
    coverage.axhline(floor, color=LIMIT_COLOUR, linestyle="--", label=text("floor", lang, floor=f"{floor:.0%}"))
    lowest = lowest_coverage(members)
    panel_title(coverage, text("coverage_title", lang, low=f"{series_peak(lowest, 'coverage_ratio', True, 1)[0]:.0%}",
                               scenario=shown_name(lowest.scenario.name, lang)), 2)
    coverage.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    coverage.set_ylabel(text("coverage_axis", lang))
    coverage.legend(loc="lower left", framealpha=0.9)
    for ax in (stock, coverage):
        ax.set_xlabel(text("month", lang))
        ax.set_ylim(bottom=0)
    return _finish(fig, members, lang)


def lowest_coverage(members):
    """The run whose median coverage-ratio line (months 1 on, as drawn) falls lowest: the provisions page's title
    and its reading both quote it."""
    return min(members, key=lambda r: series_peak(r, "coverage_ratio", True, 1)[0])


def survival_mean(results):
    """The mean month the liquidity buffer runs out over the paths where it does (``summary.json``'s
    ``survival_horizon_months`` mean: the cover's figure); None when no path runs out."""
    return results.summary["metrics"]["survival_horizon_months"]["mean"]


def liquidity(members, lang="en"):
    """Liquidity buffer per scenario (median and 5-95% band) with zero and the median survival horizon marked; the
    title gives the share of paths whose cash reaches its floor and the probability of failure."""
    months = _months(members)
    horizon = members[0].scenario.run.horizon_months
    currency = members[0].scenario.portfolio.currency
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    extra = []
    for results in members:
        colour = scenario_colour(results.scenario.name)
        fan(ax, months, results.band(results.series["liquidity_buffer"]), colour)
        survival = survival_mean(results)
        if results.mean_of(results.headline["liquidity_breached"]) >= 0.5 and survival is not None:
            ax.axvline(survival, color=colour, linestyle=":", linewidth=1.5)
            extra.append(Line2D([], [], color=colour, linestyle=":",
                                label=text("survival_line", lang, month=f"{survival:.1f}")))
    ax.axhline(0.0, color="black", linewidth=0.8)
    worst = max(members, key=lambda r: r.mean_of(r.headline["liquidity_breached"]))
    share = worst.mean_of(worst.headline["liquidity_breached"])
    failed = worst.mean_of(worst.headline["failure_probability"])
    title = (text("liquidity_title_breach", lang, share=f"{share:.0%}", scenario=shown_name(worst.scenario.name, lang),
                  failed=f"{failed:.1%}") if share > 0
             else text("liquidity_title_safe", lang, months=horizon))
    if any(r.scenario.funding.when_short == "keep_lending" for r in members):
        title = f"{title}\n{text('cash_may_go_negative', lang)}"
    fig.suptitle(title)
    ax.set_xlabel(text("month", lang))
    ax.set_ylabel(text("buffer_axis", lang, currency=currency))
    _money_axis(ax, lang=lang)
    _legend(ax, members, lang, extra)
    return _finish(fig, members, lang)


def action_effects(results, lang="en"):
    """Overdue rates 1-30 and 90+ with and without the run's actions (common random numbers)."""
    months = _months([results])
    fig, axes = plt.subplots(1, 2, figsize=SLIDE_SIZE, sharex=True)
    colour = scenario_colour(results.scenario.name)
    for ax, bucket in zip(axes, ("1_30", "90p")):
        name = f"overdue_rate_{bucket}"
        fan(ax, months, results.counterfactual.band(results.counterfactual.series[name]), COUNTERFACTUAL_COLOUR,
            text("without_actions", lang))
        fan(ax, months, results.band(results.series[name]), colour, text("with_actions", lang))
        effect = results.action_effects[f"peak_overdue_rate_{bucket}"]
        panel_title(ax, text("action_title", lang, bucket=text(f"bucket_{bucket}", lang),
                             difference=f"{effect['difference'] * 100:+.2f}", se=f"{effect['se'] * 100:.3f}"), 2)
        _rate_axis(ax, lang)
    axes[0].set_ylabel(text("share_of_balance", lang))
    axes[0].legend(loc="upper left")
    return _finish(fig, [results], lang)


SCENARIO_LINESTYLES = ("-", "--", ":", "-.")
"""Line styles of the runs in the segment figure (colours there are the segments')."""


def segment_colour(k):
    """The colour of a book's ``k``-th segment (segments are drawn in :data:`PALETTE` order)."""
    return PALETTE[k % len(PALETTE)]


def _segment_statistic(results, segment, metric, statistic="mean"):
    """A segment metric's statistic as the run's ``summary.json`` reports it (``by_segment``)."""
    return results.summary["by_segment"][segment][metric][statistic]


def segments(members, lang="en"):
    """Overdue rate 90+ of each segment over time (median, and the 5-95% band for one run) and each segment's
    contribution to the book's cumulative loss rate (means, stacked per scenario, labelled with its share)."""
    months = _months(members)
    fig, (overdue, losses) = plt.subplots(1, 2, figsize=SLIDE_SIZE, gridspec_kw={"width_ratios": (3, 2)})
    for j, results in enumerate(members):
        for k, segment in enumerate(results.segment_names):
            values = results.segment_series["overdue_rate_90p"][:, :, k]
            if len(members) == 1:
                fan(overdue, months, results.band(values), segment_colour(k), segment)
            else:
                overdue.plot(months, results.band(values, (50,))[0], color=segment_colour(k),
                             linestyle=SCENARIO_LINESTYLES[j % len(SCENARIO_LINESTYLES)], linewidth=2)
    reference = members[0]
    peaks = {(j, k): line_extreme(median_line(r, r.segment_series["overdue_rate_90p"][:, :, k]))[0]
             for j, r in enumerate(members) for k in range(len(r.segment_names))}
    (j, k), peak = max(peaks.items(), key=lambda item: item[1])
    panel_title(overdue, text("segment_overdue_title", lang, segment=shown_name(members[j].segment_names[k], lang),
                              scenario=shown_name(members[j].scenario.name, lang), peak=f"{peak:.2%}"), 2)
    _rate_axis(overdue, lang)
    overdue.set_ylabel(text("share_of_balance", lang))
    handles = [Line2D([], [], color=segment_colour(k), linewidth=2.2, label=shown_name(segment, lang))
               for k, segment in enumerate(reference.segment_names)]
    if len(members) == 1:
        handles.append(Patch(color="0.5", alpha=0.3, label=text("band", lang)))
    else:
        handles += [Line2D([], [], color="0.3", linestyle=SCENARIO_LINESTYLES[j % len(SCENARIO_LINESTYLES)],
                           label=shown_name(r.scenario.name, lang)) for j, r in enumerate(members)]
    figure_legend(fig, handles)
    rows = np.arange(len(members))
    widest = max(_segment_statistic(r, "all", "cumulative_loss_rate") for r in members)
    for j, results in enumerate(members):
        left = 0.0
        for k, segment in enumerate(results.segment_names):
            width = _segment_statistic(results, segment, "cumulative_loss_contribution")
            share = _segment_statistic(results, segment, "loss_share")
            losses.barh(j, width, left=left, color=segment_colour(k), height=0.6)
            if width >= 0.08 * widest:  # the label fits inside the bar; white on a dark outline reads on any colour
                losses.text(left + width / 2, j, f"{share:.0%}", ha="center", va="center", color="white",
                            fontsize=10, fontweight="bold",
                            path_effects=[patheffects.withStroke(linewidth=2.5, foreground="0.15")])
            left += width
    losses.set_yticks(rows, ["\n".join(wrap_lines(shown_name(r.scenario.name, lang), 14)) for r in members])
    pad = max(0.5, (3 - len(members)) / 2)
    losses.set_ylim(len(members) - 1 + pad, -pad)  # first run on top; one bar does not fill the panel
    losses.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    losses.set_xlabel(text("loss_contribution_axis", lang, months=reference.scenario.run.horizon_months))
    losses.grid(axis="y", visible=False)
    heaviest = max(members, key=lambda r: _segment_statistic(r, "all", "cumulative_loss_rate"))
    carrier = max(heaviest.segment_names, key=lambda s: _segment_statistic(heaviest, s, "loss_share"))
    panel_title(losses, text("segment_loss_title", lang, segment=shown_name(carrier, lang),
                             scenario=shown_name(heaviest.scenario.name, lang),
                             share=f"{_segment_statistic(heaviest, carrier, 'loss_share'):.0%}"), 3)
    fig.suptitle(text("segments_title", lang))
    return _finish(fig, members, lang)


def has_funding(members):
    """True if the runs have liabilities, so their liquidity figures mean something."""
    return all(len(r.scenario.funding.liabilities) > 0 for r in members)


FIGURES = {
    "overdue_rates": (overdue_rates, lambda members: True),
    "loss_distribution": (loss_distribution, lambda members: True),
    "provisions": (provisions, lambda members: True),
    "liquidity": (liquidity, has_funding),
    "segments": (segments, lambda members: True),
}
"""Figure name -> (function of a list of runs, whether it applies to them)."""


def weighted_ecl_chart(weighted, lang="en"):
    """Mean IFRS 9 ECL per scenario over the horizon and the probability-weighted path."""
    table = weighted.timeseries
    currency = weighted.members[0].scenario.portfolio.currency
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    for name, rows in table.groupby("scenario", sort=False):
        if name == "weighted":
            ax.plot(rows["month"], rows["ifrs9_ecl"], linewidth=3.5, color="black",
                    label=text("weighted_line", lang))
        else:
            ax.plot(rows["month"], rows["ifrs9_ecl"], linewidth=2, color=scenario_colour(name),
                    label=f"{shown_name(name, lang)} ({rows['weight'].iloc[0]:.0%})")
    fig.suptitle(text("weighted_title", lang,
                      total=money_text(weighted.reporting_date["weighted_ecl"]["total"], currency, lang)))
    ax.set_xlabel(text("month", lang))
    ax.set_ylabel(text("weighted_axis", lang, currency=currency))
    _money_axis(ax, lang=lang)
    ax.legend(loc="upper left")
    return _finish(fig, weighted.members, lang)


# --------------------------------------------------------------------- sensitivities
DOWN_COLOUR, UP_COLOUR = "#9dc3e6", "#1f4e79"
"""Bars of the downward and upward moves in a tornado chart."""
Z_95 = 1.96
"""Error bars of the tornado charts: +- this many standard errors (a 95% interval)."""


def change_text(value, kind, currency="", signed=True):
    """A change of a metric as text: rates in percentage points, money with thousands separators; ``signed=False``
    gives a standard error (no sign, no unit)."""
    if value is None or value != value:
        return "n/a"
    sign = "+" if signed else ""
    if kind == "rate":
        return f"{value * 100:{sign}.3f}" + (" pp" if signed else "")
    if kind == "money":
        return f"{value:{sign},.0f}" + (f" {currency}" if signed and currency else "")
    return f"{value:{sign},.2f}"


def step_texts(step):
    """The labels of the two moves, ``-10%`` and ``+10%``."""
    return f"-{step:.0%}", f"+{step:.0%}"


def tornado(sensitivity, metric, lang="en"):
    """Tornado chart of ``metric``: per parameter the change against the base run when it moves down (light) and up
    (dark), largest effect on top (the order of :meth:`~simulator.workflows.sensitivity.Sensitivity.ranked`), with
    error bars of +-1.96 standard errors of the paired differences."""
    ranked = sensitivity.ranked(metric)
    kind = metric_kind(metric)
    currency = sensitivity.base.scenario.portfolio.currency
    step = sensitivity.settings["step"]
    minus, plus = step_texts(step)
    shown = 100.0 if kind == "rate" else 1.0  # rates are drawn in percentage points
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    rows = np.arange(len(ranked))[::-1]
    height = 0.38
    for offset, direction, colour, label in ((height / 2, "down", DOWN_COLOUR, text("step_bar", lang, step=minus,
                                                                                         factor=f"{1 - step:g}")),
                                             (-height / 2, "up", UP_COLOUR, text("step_bar", lang, step=plus,
                                                                                 factor=f"{1 + step:g}"))):
        ax.barh(rows + offset, ranked[f"difference_{direction}"] * shown, height=height, color=colour, label=label,
                xerr=Z_95 * ranked[f"se_difference_{direction}"] * shown, capsize=3,
                error_kw={"ecolor": "0.25", "elinewidth": 1.0})
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(rows, [parameter_label(key, lang) for key in ranked["parameter"]])
    ax.grid(axis="y", visible=False)
    unit = {"rate": text("unit_points", lang), "money": text("unit_money", lang, currency=currency),
            "months": text("unit_months", lang)}.get(kind, "")
    ax.set_xlabel(text("tornado_axis", lang, metric=metric_label(metric, lang), unit=unit))
    if kind == "money":
        _money_axis(ax, "x", lang)
    ax.legend(loc="lower right", framealpha=0.9)
    ax.set_title(text("tornado_subtitle", lang, paths=sensitivity.base.scenario.run.paths), fontsize=10)
    top = ranked.iloc[0]
    title = text("tornado_title", lang, metric=metric_label(metric, lang),
                 parameter=parameter_label(top["parameter"], lang), minus=minus, plus=plus,
                 down=change_text(top["difference_down"], kind, currency),
                 up=change_text(top["difference_up"], kind, currency))
    fig.suptitle(wrap_title(title[:1].upper() + title[1:]))
    return _finish(fig, [sensitivity.base], lang)


def sensitivity_metrics(sensitivity):
    """The tornado metrics that the sensitivity's table holds."""
    present = set(sensitivity.table["metric"])
    return [metric for metric in sensitivity.settings["tornado_metrics"] if metric in present]


def write_sensitivity_figures(sensitivity, directory, lang="en"):
    """Write a tornado chart (:func:`tornado`) per metric of :func:`sensitivity_metrics` into ``directory``."""
    with house_style(lang) as lang:
        for metric in sensitivity_metrics(sensitivity):
            save_figure(tornado(sensitivity, metric, lang), Path(directory) / f"tornado_{metric}")


def _severity_label(summary, lang):
    """The x-axis label of a reverse stress test: the multiplier on which shocks, or the key searched."""
    shock = summary["shock"]
    if shock["kind"] != "multiplier":
        return shock["what"]
    return text("reverse_multiplier", lang, shock=text("reverse_all_shocks", lang) if shock["what"] == "all"
                else shock["what"])


def reverse_title(summary, lang="en"):
    """The finding of a reverse stress test (``reverse.json``) as one line."""
    shock = summary["shock"]
    what = "s" if shock["kind"] == "multiplier" else shock["what"]
    condition = summary["breach"]["condition"]
    if summary["status"] == "never":
        return text("reverse_title_never", lang, condition=condition, what=what, low=f"{shock['range'][0]:g}",
                    high=f"{shock['range'][1]:g}")
    if summary["status"] == "at_mild_end":
        return text("reverse_title_mild", lang, condition=condition, what=what,
                    severity=f"{summary['breaking_severity']:.3g}")
    low, high = summary["interval"]
    return text("reverse_title", lang, condition=condition, what=what, severity=f"{summary['breaking_severity']:.3g}",
                level=f"{summary['confidence']:.0%}", low="n/a" if low is None else f"{low:.3g}",
                high="n/a" if high is None else f"{high:.3g}")


def reverse_curve(summary, lang="en"):
    """Breach probability (or, for a mean target, the metric's mean) against the severity, from ``reverse.json``.

    Each run is a point with a +-1.96 standard-error bar; the target is a dashed line; the breaking severity a
    vertical line with its interval shaded.
    """
    curve = summary["curve"]
    severity = np.array([row["severity"] for row in curve])
    mean_target = summary["target"]["kind"] == "mean"
    key = "metric" if mean_target else "breach_probability"
    value = np.array([row[f"{key}_mean" if mean_target else key] for row in curve], dtype=float)
    se = np.array([row[f"{key}_se"] for row in curve], dtype=float)
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    ax.errorbar(severity, value, yerr=1.96 * se, color=PALETTE[0], marker="o", markersize=4, linewidth=1.8,
                capsize=3, label=text("reverse_points", lang))
    target = summary["breach"]["threshold"] if mean_target else summary["target"]["probability"]
    ax.axhline(target, color=LIMIT_COLOUR, linestyle="--", linewidth=1.4,
               label=text("reverse_target", lang, target=summary["target"]["description"]))
    if summary["breaking_severity"] is not None:
        ax.axvline(summary["breaking_severity"], color="black", linewidth=1.6, label=text("reverse_found", lang))
        low, high = summary["interval"]
        if low is not None or high is not None:
            ax.axvspan(severity.min() if low is None else low, severity.max() if high is None else high,
                       color="0.5", alpha=0.2, linewidth=0)
    ax.set_xlabel(_severity_label(summary, lang))
    if mean_target:
        ax.set_ylabel(text("reverse_mean_axis", lang, metric=metric_label(summary["breach"]["metric"], lang)))
    else:
        ax.set_ylabel(text("reverse_probability_axis", lang))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="best", framealpha=0.9)
    fig.suptitle(reverse_title(summary, lang))
    fig.text(0.01, 0.01, text("reverse_footnote", lang, scenario=shown_name(summary["scenario"], lang),
                              seed=summary["seed"],
                              paths=summary["paths"], loans=f"{summary['loans']:,}", runs=summary["runs"],
                              date=date.today().isoformat()), fontsize=8, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95))
    return fig


# --------------------------------------------------------------------- output
def save_figure(fig, stem):
    """Save ``fig`` as ``stem.png`` and ``stem.svg`` (folders created) and release it."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    for suffix in (".png", ".svg"):
        fig.savefig(stem.with_suffix(suffix))
    plt.close(fig)


def write_weighted_figure(weighted, directory, lang="en"):
    """Write the probability-weighted ECL figure (:func:`weighted_ecl_chart`) into ``directory``."""
    with house_style(lang) as lang:
        save_figure(weighted_ecl_chart(weighted, lang), Path(directory) / "weighted_ecl")


def write_reverse_figure(reverse, directory, lang="en"):
    """Write the breach probability curve of a reverse stress test (:func:`reverse_curve` of ``reverse.summary``,
    the content of ``reverse.json``) into ``directory``."""
    with house_style(lang) as lang:
        save_figure(reverse_curve(reverse.summary, lang), Path(directory) / "breach_probability")


def write_figures(members, directory, lang="en"):
    """Write every figure of :data:`FIGURES` that applies to ``members`` into ``directory``, and for a single run
    with actions their effect."""
    with house_style(lang) as lang:
        for name, (draw, applies) in FIGURES.items():
            if applies(members):
                save_figure(draw(members, lang), Path(directory) / name)
        if len(members) == 1 and members[0].counterfactual is not None:
            save_figure(action_effects(members[0], lang), Path(directory) / "action_effects")


class Plots:
    """The house figures of one run or a comparison, for notebooks: ``results.plot.overdue_rates()``.

    Each method draws the figure of the same name and returns its axes.

    Parameters
    ----------
    members : list of Results
        One run, or the runs of a comparison (the first is the reference).
    """

    def __init__(self, members):
        self.members = members

    def write(self, directory, lang="en"):
        """Write the figures of a run directory into ``directory`` (:func:`write_figures`)."""
        write_figures(self.members, directory, lang)

    def _draw(self, draw, lang):
        with house_style(lang) as lang:
            fig = draw(self.members, lang)
        return fig.axes

    def overdue_rates(self, lang="en"):
        """Overdue rate per bucket (see :func:`overdue_rates`)."""
        return self._draw(overdue_rates, lang)

    def loss_distribution(self, lang="en"):
        """Cumulative loss distribution (see :func:`loss_distribution`)."""
        return self._draw(loss_distribution, lang)

    def provisions(self, lang="en"):
        """Provision requirement and coverage (see :func:`provisions`)."""
        return self._draw(provisions, lang)

    def liquidity(self, lang="en"):
        """Liquidity buffer and survival horizon (see :func:`liquidity`)."""
        return self._draw(liquidity, lang)

    def segments(self, lang="en"):
        """Overdue rate 90+ and loss contributions by segment (see :func:`segments`)."""
        return self._draw(segments, lang)

    def action_effects(self, lang="en"):
        """Overdue rates with and without the actions of a single run (see :func:`action_effects`)."""
        if len(self.members) != 1 or self.members[0].counterfactual is None:
            raise ValueError("action_effects needs a single run of a scenario with management actions")
        with house_style(lang) as lang:
            fig = action_effects(self.members[0], lang)
        return fig.axes


# --------------------------------------------------------------------- calibration figures
def calibration_roll_rates(inputs, lang="en"):
    """The key monthly roll and cure rates of a history against the one-factor model at the fitted cycle index.

    ``inputs`` is :class:`simulator.workflows.calibration.CalibrationFigures`; its
    ``roll_rates`` table has a ``<move>_observed`` and ``<move>_fitted`` column per move.
    """
    table = inputs.roll_rates
    moves = [column[:-len("_observed")] for column in table.columns if column.endswith("_observed")]
    months = np.arange(1, len(table) + 1)
    fig, axes = plt.subplots(2, 2, figsize=SLIDE_SIZE, sharex=True)
    for ax, name in zip(axes.flat, moves):
        ax.plot(months, table[f"{name}_observed"], "o", color=SCENARIO_COLOURS["baseline"], markersize=4,
                label=text("observed", lang))
        ax.plot(months, table[f"{name}_fitted"], color=SCENARIO_COLOURS["severe"], linewidth=2,
                label=text("fitted", lang))
        ax.set_title(text(f"move_{name}", lang))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    for ax in axes[1]:
        ax.set_xlabel(text("month", lang))
    axes[0, 0].set_ylabel(text("monthly_rate", lang))
    axes[0, 0].legend(loc="best")
    fig.suptitle(text("roll_rates_title", lang, rho=f"{inputs.rho:.2%}"))
    return _finish_calibration(fig, inputs, lang)


def calibration_backtest(inputs, lang="en"):
    """The 90+ share of a history against the roll-rate projection (and the structural fit), hold-out shaded."""
    table = inputs.backtest
    months = np.arange(len(table))
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    ax.plot(months, table["share_90p_observed"], "o-", color="black", markersize=4, linewidth=1,
            label=text("observed", lang))
    ax.plot(months, table["share_90p_roll_rate"], color=SCENARIO_COLOURS["baseline"], linewidth=2.2,
            label=text("roll_rate_projection", lang))
    if "share_90p_structural" in table:
        ax.plot(months, table["share_90p_structural"], color=SCENARIO_COLOURS["adverse"], linewidth=2.2,
                label=text("structural_simulation", lang))
    held_out = ~table["in_sample"].to_numpy()
    if held_out.any():
        ax.axvspan(months[held_out][0] - 0.5, months[-1] + 0.5, color="0.85", alpha=0.6, label=text("held_out", lang))
    errors = inputs.backtest_errors
    ax.set_title(text("backtest_title", lang, in_sample=f"{errors['roll_rate_in_sample_mean_abs_pp']:.2f}",
                      held_out=f"{errors.get('roll_rate_held_out_mean_abs_pp', float('nan')):.2f}",
                      months=errors["holdout_months"]))
    _rate_axis(ax, lang, decimals=2)
    ax.set_ylabel(text("backtest_axis", lang))
    ax.legend(loc="best")
    return _finish_calibration(fig, inputs, lang)


def calibration_cycle(inputs, lang="en"):
    """The monthly credit-cycle index with its error band and the satellite model's fit on unemployment."""
    table = inputs.cycle
    months = np.arange(len(table))
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    ax.fill_between(months, table["z"] - 2 * table["z_se"], table["z"] + 2 * table["z_se"],
                    color=SCENARIO_COLOURS["baseline"], alpha=0.18, linewidth=0, label=text("cycle_band", lang))
    ax.plot(months, table["z"], "o-", color=SCENARIO_COLOURS["baseline"], markersize=4, label="z")
    if "z_fitted" in table:
        ax.plot(months, table["z_fitted"], color=SCENARIO_COLOURS["severe"], linewidth=2,
                label=text("satellite_line", lang))
        ax.set_title(text("cycle_title", lang, k=f"{inputs.satellite_slope:.2f}", r2=f"{inputs.satellite_r2:.2f}"))
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel(text("month", lang))
    ax.set_ylabel(text("cycle_axis", lang))
    ax.legend(loc="best")
    return _finish_calibration(fig, inputs, lang)


def shown_path(path):
    """``path`` as the reader should see it: relative to the working directory when it is below it, else its name
    (a board pack must not print the absolute folders of the machine that built it)."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


def _finish_calibration(fig, inputs, lang):
    fig.text(0.01, 0.01, f"{shown_path(inputs.source)} | {inputs.first_month} - {inputs.last_month} | "
             f"{inputs.n_loans:,} loans | {date.today().isoformat()}", fontsize=8, color="0.4")
    fig.tight_layout(rect=(0, 0.04, 1, 0.95 if fig.get_suptitle() else 1.0))
    return fig


def write_calibration_figures(inputs, directory, lang="en"):
    """Write the calibration figures (the back-test and cycle index only when there is a macro series)."""
    with house_style(lang) as lang:
        save_figure(calibration_roll_rates(inputs, lang), Path(directory) / "roll_rates_over_time")
        if inputs.backtest is not None:
            save_figure(calibration_backtest(inputs, lang), Path(directory) / "backtest_90p")
        if inputs.cycle is not None:
            save_figure(calibration_cycle(inputs, lang), Path(directory) / "cycle_index")


# --------------------------------------------------------------------- validation figures
def validation_curves(rows, k):
    """One panel per validation row that has a curve: the measured figure (dots) against its reference (line) and
    the band reference +- ``k`` standard errors.

    ``rows`` are :class:`simulator.workflows.validation.CheckResult` of one check; the figure is titled with their
    component.
    """
    curves = [row.curve for row in rows if row.curve is not None]
    columns = 1 if len(curves) == 1 else 2 if len(curves) <= 4 else 4
    fig, axes = plt.subplots(-(-len(curves) // columns), columns, figsize=SLIDE_SIZE, squeeze=False)
    for ax, curve in zip(axes.flat, curves):
        expected, band = np.asarray(curve.expected), k * np.asarray(curve.se)
        ax.fill_between(curve.x, expected - band, expected + band, color=SCENARIO_COLOURS["severe"], alpha=0.15,
                        linewidth=0, label=f"reference \u00b1 {k:g} se")
        ax.plot(curve.x, expected, color=SCENARIO_COLOURS["severe"], linewidth=1.6, label="reference")
        ax.plot(curve.x, curve.measured, "o", color=SCENARIO_COLOURS["baseline"], markersize=2.5, label="measured")
        ax.set_title(curve.y_label, fontsize=10)
        ax.set_xlabel(curve.x_label, fontsize=9)
        ax.tick_params(labelsize=8)
        if curve.log_y:
            ax.set_yscale("log")
            shown = np.concatenate([expected[expected > 0], np.asarray(curve.measured)[np.asarray(curve.measured) > 0]])
            ax.set_ylim(bottom=0.3 * shown.min())
        else:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        if curve.x_percent:
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    for ax in list(axes.flat)[len(curves):]:
        ax.axis("off")
    axes.flat[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"The engine (dots) against the reference (line); the band is the reference \u00b1 {k:g} standard "
                 "errors of the measured figure")
    return fig


def validation_gaps(rows, k):
    """The same curves as :func:`validation_curves` as gaps in standard errors, ``(measured - reference) / se``,
    all on one axes with the pass limits +- ``k``: where the levels chart shows agreement, this shows its size."""
    fig, ax = plt.subplots(figsize=SLIDE_SIZE)
    curves = [row.curve for row in rows if row.curve is not None]
    for number, curve in enumerate(curves):
        se = np.asarray(curve.se, dtype=float)
        shown = se > 0
        gap = (np.asarray(curve.measured) - np.asarray(curve.expected))[shown] / se[shown]
        ax.plot(np.asarray(curve.x)[shown], gap, "o-", color=PALETTE[number % len(PALETTE)], markersize=2.5,
                linewidth=0.8, label=curve.y_label)
    for limit in (-k, k):
        ax.axhline(limit, color=LIMIT_COLOUR, linestyle="--", linewidth=1.2)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylim(-1.2 * k, 1.2 * k)
    ax.set_xlabel(curves[0].x_label)
    ax.set_ylabel("(measured - reference) / se")
    if curves[0].x_percent:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(loc="lower left", fontsize=8, ncol=min(4, len(curves)))
    fig.suptitle(f"The gap in standard errors; a figure passes inside the dashed lines (\u00b1{k:g} se)")
    return fig
