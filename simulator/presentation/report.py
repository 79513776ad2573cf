"""The board pack: one PDF from run or comparison directories, built with matplotlib.

Pages, in order (section ids in brackets, recorded in the PDF's keywords):

1. cover [``cover``]: the key figures per scenario (:data:`COVER_CELLS`);
2. findings [``findings``]: three or four sentences generated from the numbers
   (:func:`findings`: what breaks, when, by how much, what the actions buy);
3. for a reverse stress directory, its breach probability curve [``reverse``]; for an
   ``ecl`` directory, the probability-weighted ECL [``weighted_ecl``];
   then one page per theme, each a house figure with a two-line reading computed from
   the numbers: overdue rates [``overdue``], credit losses [``losses``],
   provisions [``provisions``], liquidity [``liquidity``, when the runs have
   liabilities], results by segment [``segments``: 90+ overdue rates and shares of
   the loss and provisions], the effect of management actions [``actions``, one page per run
   with actions] and, for several runs on common random numbers, what each adds
   to the first [``differences``];
4. appendix: every metric of ``summary.json`` [``appendix_metrics``, as many pages as
   they need; a metric added to :data:`simulator.accounts.metrics.HEADLINE_METRICS`
   appears here without new code], each scenario's assumptions in a table
   [``appendix_scenario``: the book, the economy and its shocks, the behaviour model,
   the provisioning floors, the funding, the actions; the full resolved YAML stays in
   the run directory] and the run metadata [``appendix_metadata``: seed, paths, loans,
   versions].

Every number a title or a reading quotes is the statistic it names: a title over
a chart quotes the drawn median line (its peak or trough), a reading or the cover
the mean over paths from ``summary.json``, as the appendix does.
"""
import os
import tempfile
import textwrap
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages

from ..accounts.metrics import (REPORTED_METRICS, TAIL_METRICS, format_difference, format_value, metric_kind,
                               metric_unit)
from ..inputs.errors import InputError
from ..inputs.schema import ROLL_RATE_COLUMNS
from ..version import __version__
from ..workflows.backtest import FLOW_RATES
from ..workflows.backtest import MARKER as BACKTEST_MARKER
from ..workflows.backtest import criterion_text, load_backtest
from ..workflows.comparison import compare_runs, load_members, unpaired_reasons
from ..workflows.results import check_output_name
from ..workflows.reverse import MARKER as REVERSE_MARKER
from ..workflows.reverse import load_reverse
from ..workflows.sensitivity import MARKER as SENSITIVITY_MARKER
from ..workflows.sensitivity import load_sensitivity
from ..workflows.weighted import MARKER as WEIGHTED_MARKER
from ..workflows.weighted import load_weighted
from .backtest_figure import backtest_title, draw_backtest, rate_name, timing_text
from .labels import metric_label, parameter_label, shown_name, text
from .plots import (FIGURES, action_effects, calibration_backtest, calibration_cycle, calibration_roll_rates,
                    change_text, has_funding, house_style, lowest_coverage, median_of, money_text, reverse_curve,
                    sensitivity_metrics, series_peak, shown_path, step_texts, survival_mean, tornado,
                    reserve_legend, weighted_ecl_chart, worst_of, wrap_lines, wrap_title, write_calibration_figures)

PAGE_SIZE = (11.69, 8.27)
"""A4 landscape, inches."""

DIFFERENCE_METRICS = ("peak_overdue_rate_90p", "cumulative_loss_rate", "peak_provision_requirement",
                      "min_liquidity_buffer", "cumulative_profit")
"""Rows of the differences page."""

HEADER_WIDTH = 16
"""Table headers wrap at this many characters."""
LABEL_WIDTH = 18
"""Label columns of tables with two-line rows (the cover) wrap at this many characters."""


# --------------------------------------------------------------------- readings
def _mean(results, metric):
    return float(results.mean_of(results.headline[metric]))


def reading_overdue(members, lang):
    """The highest 90+ median line (the figure's) with its month, the 5-95% range of the paths' own peaks, and the
    M1 collection rate of that run."""
    worst = max(members, key=lambda r: series_peak(r, "overdue_rate_90p")[0])
    peak, month = series_peak(worst, "overdue_rate_90p")
    low, high = worst.band(worst.headline["peak_overdue_rate_90p"], (5, 95))
    name = shown_name(worst.scenario.name, lang)
    return (text("read_overdue", lang, scenario=name, peak=f"{peak:.2%}", month=month, low=f"{low:.2%}",
                 high=f"{high:.2%}"),
            text("read_overdue_m1", lang, scenario=name, share=f"{_mean(worst, 'm1_collection_rate'):.1%}"))


def reading_losses(members, lang):
    worst = worst_of(members, "cumulative_loss_rate")
    metrics = worst.summary["metrics"]
    return (text("read_losses", lang, scenario=shown_name(worst.scenario.name, lang),
                 mean=f"{_mean(worst, 'cumulative_loss_rate'):.2%}", var=f"{metrics['loss_var_99']['value']:.2%}"),
            text("read_losses_es", lang, es=f"{metrics['loss_es_99']['value']:.2%}",
                 se=f"{metrics['loss_es_99']['se']:.2%}"))


def reading_provisions(members, lang):
    """The peak provision need as the cover shows it (mean over paths) for the run where it is highest, the binding
    rule, the lowest coverage line (the panel title's run and number), and both floors' breach shares per run, the
    appendix's statistic (the mean of the yes/no metric)."""
    worst = max(members, key=lambda r: _mean(r, "peak_provision_requirement"))
    lowest = lowest_coverage(members)
    rule = worst.summary["provisioning"]["binding_rule_at_peak"]
    floors = members[0].scenario.provisioning.five_category
    breaches = ", ".join(
        f"{shown_name(r.scenario.name, lang)} {format_value(_mean(r, 'coverage_floor_breached'), 'probability')} / "
        f"{format_value(_mean(r, 'loan_provision_floor_breached'), 'probability')}" for r in members)
    return (text("read_provisions", lang, scenario=shown_name(worst.scenario.name, lang),
                 peak=money_text(_mean(worst, "peak_provision_requirement"), worst.scenario.portfolio.currency, lang),
                 rule=text(f"rule_{rule}", lang), lowest=shown_name(lowest.scenario.name, lang),
                 low=f"{series_peak(lowest, 'coverage_ratio', True, 1)[0]:.0%}"),
            text("read_provisions_coverage", lang, floor=f"{floors.coverage_floor_pct:g}%",
                 loan_floor=f"{floors.loan_provision_floor_pct:g}%", breaches=breaches))


def reading_liquidity(members, lang):
    worst = max(members, key=lambda r: (_mean(r, "liquidity_breached"), -median_of(r, "min_liquidity_buffer")))
    share = _mean(worst, "liquidity_breached")
    name = shown_name(worst.scenario.name, lang)
    if share > 0:
        failed = worst.summary["metrics"]["failure_probability"]
        first = text("read_liquidity_breach", lang, scenario=name, share=f"{share:.0%}",
                     month=f"{survival_mean(worst):.1f}",
                     stopped=f"{_mean(worst, 'lending_stop_probability'):.0%}", failed=f"{failed['mean']:.1%}",
                     failed_se="n/a" if failed["se"] is None else f"{failed['se']:.1%}")
    else:
        low = series_peak(worst, "liquidity_buffer", lowest=True)[0]
        first = text("read_liquidity_safe", lang, scenario=name,
                     low=money_text(low, worst.scenario.portfolio.currency, lang))
    ratio = text("read_liquidity_ratio", lang, share=f"{_mean(worst, 'liquidity_ratio_breached'):.0%}")
    if worst.summary["funding_response"]["cash_may_go_negative_while_lending"]:
        ratio = f"{ratio} ({text('cash_may_go_negative', lang)})"
    return first, ratio


def reading_actions(results, lang):
    effects = results.action_effects
    overdue, loss = effects["peak_overdue_rate_90p"], effects["cumulative_loss_rate"]
    return (text("read_actions", lang, overdue=f"{overdue['difference'] * 100:+.2f}",
                 overdue_se=f"{overdue['se'] * 100:.2f}", loss=f"{loss['difference'] * 100:+.2f}",
                 loss_se=f"{loss['se'] * 100:.2f}"),
            text("read_actions_cost", lang,
                 cost=money_text(effects["total_action_cost"]["with_actions"], results.scenario.portfolio.currency,
                                 lang),
                 profit=("+" if effects["cumulative_profit"]["difference"] >= 0 else "")
                 + money_text(effects["cumulative_profit"]["difference"], results.scenario.portfolio.currency, lang)))


def reading_segments(members, lang):
    heaviest = max(members, key=lambda r: _segment_mean(r, "all", "cumulative_loss_rate"))

    def shares(metric):
        stats = heaviest.summary["by_segment"]
        return ", ".join(f"{shown_name(segment, lang)} {stats[segment][metric]['mean']:.1%} "
                         f"({stats[segment][metric]['se']:.1%})" for segment in heaviest.segment_names)

    return (text("read_segments_loss", lang, scenario=shown_name(heaviest.scenario.name, lang),
                 shares=shares("loss_share")),
            text("read_segments_provisions", lang, shares=shares("provision_share")))


def _segment_mean(results, segment, metric):
    return results.summary["by_segment"][segment][metric]["mean"]


def reading_sensitivity(sensitivity, metric, lang):
    """The largest effect on ``metric`` with its standard errors, the next two, the largest's elasticity and the
    parameters not moved."""
    ranked = sensitivity.ranked(metric)
    kind = metric_kind(metric)
    currency = sensitivity.base.scenario.portfolio.currency
    minus, plus = step_texts(sensitivity.settings["step"])
    top = ranked.iloc[0]
    lines = [text("read_sensitivity", lang, metric=metric_label(metric, lang),
                  parameter=parameter_label(top["parameter"], lang), minus=minus, plus=plus,
                  down=change_text(top["difference_down"], kind, currency),
                  down_se=change_text(top["se_difference_down"], kind, signed=False),
                  up=change_text(top["difference_up"], kind, currency),
                  up_se=change_text(top["se_difference_up"], kind, signed=False))]
    lines[0] = lines[0][:1].upper() + lines[0][1:]
    if len(ranked) > 1:
        move, direction = next(((move, d) for move, d in ((plus, "up"), (minus, "down"))
                                if top[f"elasticity_{d}"] == top[f"elasticity_{d}"]), (plus, "up"))
        elasticity, se = top[f"elasticity_{direction}"], top[f"se_elasticity_{direction}"]
        lines.append(text("read_sensitivity_next", lang, plus=move,
                          others=", ".join(parameter_label(key, lang) for key in ranked["parameter"][1:3]),
                          elasticity="n/a" if elasticity != elasticity else f"{elasticity:+.2f}",
                          se="n/a" if se != se else f"{se:.2f}"))
    skipped = sensitivity.settings["skipped"]
    if skipped:
        lines.append(text("read_sensitivity_skipped", lang,
                          skipped=", ".join(parameter_label(s["parameter"], lang) for s in skipped)))
    return tuple(lines)


READINGS = {"overdue_rates": ("overdue", "theme_overdue", reading_overdue),
            "loss_distribution": ("losses", "theme_losses", reading_losses),
            "provisions": ("provisions", "theme_provisions", reading_provisions),
            "liquidity": ("liquidity", "theme_liquidity", reading_liquidity),
            "segments": ("segments", "theme_segments", reading_segments)}
"""Figure name (:data:`simulator.presentation.plots.FIGURES`) -> (section id, heading, reading)."""


# --------------------------------------------------------------------- pages
LINE_CHARACTERS = 112
"""A reading under a chart wraps at this many characters (half as many in Chinese)."""


def _page(fig, heading, lines=(), chart=True):
    """Make ``fig`` an A4 landscape page: heading on top, the figure's own title below it, ``lines`` under the chart
    (a ``chart`` figure's axes are laid out again to make room)."""
    fig.set_size_inches(*PAGE_SIZE)
    fig.text(0.03, 0.955, heading, fontsize=18, color="#1f4e79")
    if fig.get_suptitle():
        fig.suptitle(fig.get_suptitle(), y=0.90)
    lines = [part for line in lines for part in wrap_lines(line, LINE_CHARACTERS)]
    bottom = 0.06 + 0.035 * len(lines)
    if chart:
        fig.tight_layout(rect=(0.02, reserve_legend(fig, bottom + 0.01), 0.98, 0.87))
    for k, line in enumerate(lines):
        fig.text(0.03, bottom - 0.035 * (k + 1), line, fontsize=12)
    return fig


def _table_page(heading, header, rows, lines=(), font_size=10, label_columns=1, row_height=1.4, wrap_labels=False):
    """A page holding a table (``rows`` of strings under ``header``; the first ``label_columns`` left-aligned, and
    wrapped at :data:`LABEL_WIDTH` if ``wrap_labels``). ``row_height`` scales a line of text: each row is as many
    lines tall as its most wrapped cell."""
    fig = plt.figure(figsize=PAGE_SIZE)
    ax = fig.add_axes((0.03, 0.12 + 0.035 * len(lines), 0.94, 0.78 - 0.035 * len(lines)))
    ax.axis("off")
    header = ["\n".join(wrap_lines(label, HEADER_WIDTH)) for label in header]
    rows = [[textwrap.fill(cell, LABEL_WIDTH) if column < label_columns and wrap_labels else cell
             for column, cell in enumerate(row)] for row in rows]
    table = ax.table(cellText=rows, colLabels=header, loc="upper center", cellLoc="right", colLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(font_size)
    cells = table.get_celld()
    line_height = cells[(0, 0)].get_height() * row_height  # one line of text with its padding
    for row, cells_of_row in enumerate([header] + rows):  # every row as tall as its most wrapped cell
        n_lines = max(str(cell).count("\n") + 1 for cell in cells_of_row)
        for column in range(len(header)):
            cells[(row, column)].set_height(line_height * (n_lines + 0.4 * (n_lines > 1)))
    for (row, column), cell in cells.items():
        if row == 0:
            cell.set_facecolor("#dde6f0")
        if column <= label_columns - 1:
            cell.set_text_props(ha="left")
    return _page(fig, heading, lines, chart=False)


def _rate_cell(results, metric, lang):
    """Mean over paths with the 5-95% range across paths below it."""
    stats, kind = results.summary["metrics"][metric], metric_kind(metric)
    return (f"{format_value(stats['mean'], kind)}\n({format_value(stats['p05'], kind)}-"
            f"{format_value(stats['p95'], kind)})")


def _tail_cell(results, metric, lang):
    return format_value(results.summary["metrics"][metric]["value"], metric_kind(metric))


def _money_cell(results, metric, lang):
    return money_text(results.summary["metrics"][metric]["mean"], results.scenario.portfolio.currency, lang)


def _probability_cell(results, metric, lang):
    """A yes/no metric's probability over paths."""
    return format_value(results.summary["metrics"][metric]["mean"], "probability")


def _survival_cell(results, metric, lang):
    """The mean month the buffer runs out over the paths where it does, with their share; "never" if none does."""
    month = survival_mean(results)
    if month is None:
        return text("never", lang)
    return f"{month:.1f} ({results.summary['metrics']['liquidity_breached']['mean']:.0%})"


COVER_CELLS = {
    "peak_overdue_rate_1_30": (_rate_cell, lambda members: True),
    "peak_overdue_rate_31_90": (_rate_cell, lambda members: True),
    "peak_overdue_rate_90p": (_rate_cell, lambda members: True),
    "cumulative_loss_rate": (_rate_cell, lambda members: True),
    "loss_var_99": (_tail_cell, lambda members: True),
    "peak_provision_requirement": (_money_cell, lambda members: True),
    "survival_horizon_months": (_survival_cell, has_funding),
    "failure_probability": (_probability_cell, has_funding),
}
"""Columns of the cover table: metric -> (cell text of a run, ``cell(results, metric, lang)``; whether the column
applies to the runs). A new cover figure is one entry here (and its label in
:data:`simulator.accounts.names.READABLE_NAMES`). Every cell is the statistic of ``summary.json`` the pages quote:
the mean over paths (rates with their 5-95% range), the VaR's value, the survival month's mean over the paths that
run out, the probability that the lender fails."""


def cover_page(members, lang, title_names=None):
    """Title and the key figures per scenario (:data:`COVER_CELLS`)."""
    columns = [metric for metric, (_, applies) in COVER_CELLS.items() if applies(members)]
    rows = [[shown_name(results.scenario.name, lang)]
            + [COVER_CELLS[metric][0](results, metric, lang) for metric in columns] for results in members]
    header = [text("scenario", lang)] + [metric_label(m, lang) for m in columns]
    first = members[0]
    names = ", ".join(shown_name(r.scenario.name, lang) for r in members)
    font_size = 10 if len(columns) <= 7 else 9  # eight figures a row (with the failure probability) fit at 9 points
    fig = _table_page(text("report_title", lang), header, rows, font_size=font_size, row_height=1.5,
                      wrap_labels=True)
    fig.axes[0].set_position((0.03, 0.08, 0.94, 0.62))
    fig.text(0.03, 0.88, wrap_title(text("report_subtitle", lang, scenarios=names)), fontsize=14, va="top")
    fig.text(0.03, 0.81, text("report_prepared", lang, date=date.today().isoformat(), version=__version__,
                              paths=first.scenario.run.paths), fontsize=10, color="0.3")
    fig.text(0.03, 0.735, text("key_figures", lang), fontsize=13, color="#1f4e79")
    if len(members) == 1 and first.scenario.description:
        fig.text(0.03, 0.785, wrap_title(first.scenario.description), fontsize=9, color="0.3")
    return fig


# --------------------------------------------------------------------- findings
def finding_numbers(results):
    """The figures :func:`findings` reads from one run, all ``summary.json`` statistics as the pack quotes them."""
    metrics = results.summary["metrics"]
    numbers = {"name": results.scenario.name, "currency": results.scenario.portfolio.currency,
               "months": results.scenario.run.horizon_months,
               "loss": metrics["cumulative_loss_rate"]["mean"], "var_99": metrics["loss_var_99"]["value"],
               "peak_provision": metrics["peak_provision_requirement"]["mean"],
               "coverage_breach": metrics["coverage_floor_breached"]["mean"],
               "loan_provision_breach": metrics["loan_provision_floor_breached"]["mean"],
               "capital_breach": metrics["capital_floor_breached"]["mean"],
               "funded": len(results.scenario.funding.liabilities) > 0,
               "liquidity_breach": metrics["liquidity_breached"]["mean"],
               "failure": metrics["failure_probability"]["mean"],
               "survival_month": metrics["survival_horizon_months"]["mean"], "actions": None}
    if results.counterfactual is not None:
        effects = results.action_effects
        numbers["actions"] = {"loss": effects["cumulative_loss_rate"]["difference"],
                              "loss_se": effects["cumulative_loss_rate"]["se"],
                              "cost": effects["total_action_cost"]["with_actions"],
                              "profit": effects["cumulative_profit"]["difference"]}
    return numbers


def findings(runs, lang="en"):
    """Three or four sentences for the first page, from the numbers of each run (:func:`finding_numbers`; the first
    run is the reference): how much the worst run loses and its 1-in-100 tail; what breaks (liquidity, provision and
    capital floors) in which run, when and on what share of paths, or that nothing does; the peak provision need;
    what the management actions buy and cost. The words come from :data:`~simulator.presentation.labels.TEXTS`."""
    reference = runs[0]
    worst = max(runs, key=lambda r: r["loss"])

    def name(run):
        return shown_name(run["name"], lang)

    def money(value, run):
        return money_text(value, run["currency"], lang)

    lines = [text("finding_loss" if worst is reference else "finding_loss_vs", lang, scenario=name(worst),
                  loss=f"{worst['loss']:.2%}", months=worst["months"], var=f"{worst['var_99']:.2%}",
                  reference=name(reference), reference_loss=f"{reference['loss']:.2%}")]
    breaks = []
    for run in runs:
        if run["funded"] and run["liquidity_breach"] > 0:
            breaks.append(text("finding_liquidity", lang, scenario=name(run), share=f"{run['liquidity_breach']:.0%}",
                               month=f"{run['survival_month']:.1f}", failed=f"{run['failure']:.1%}"))
        for key in ("coverage_breach", "loan_provision_breach", "capital_breach"):
            if run[key] > 0:
                breaks.append(text(f"finding_{key}", lang, scenario=name(run), share=f"{run[key]:.0%}"))
    lines.append(text("finding_breaks", lang, what="; ".join(breaks)) if breaks
                 else text("finding_nothing_breaks", lang))
    heaviest = max(runs, key=lambda r: r["peak_provision"])
    lines.append(text("finding_provisions", lang, scenario=name(heaviest), peak=money(heaviest["peak_provision"],
                                                                                     heaviest),
                      reference=name(reference), reference_peak=money(reference["peak_provision"], reference))
                 if heaviest is not reference else
                 text("finding_provisions_one", lang, scenario=name(heaviest),
                      peak=money(heaviest["peak_provision"], heaviest)))
    for run in runs:
        actions = run["actions"]
        if actions is not None:
            lines.append(text("finding_actions", lang, scenario=name(run), loss=f"{actions['loss'] * 100:+.2f}",
                              se=f"{actions['loss_se'] * 100:.2f}", cost=money(actions["cost"], run),
                              profit=("+" if actions["profit"] >= 0 else "") + money(actions["profit"], run)))
            break
    return lines


def findings_page(members, lang, weighted=()):
    """The first page after the cover: :func:`findings` as numbered paragraphs, and the probability-weighted ECL of
    an ``ecl`` run."""
    lines = [line[:1].upper() + line[1:] for line in findings([finding_numbers(r) for r in members], lang)]
    for ecl in weighted:
        lines.append(_weighted_sentence(ecl, lang))
    fig = plt.figure(figsize=PAGE_SIZE)
    size = 14.0  # points; smaller when the findings would not fit in 0.80 of the page at 1.5 line spacing
    for _ in range(2):
        wrapped = [wrap_lines(line, int(FINDING_CHARACTERS * 14.0 / size)) for line in lines]
        n_lines = sum(len(paragraph) for paragraph in wrapped)
        size = min(14.0, 0.80 * PAGE_SIZE[1] * 72 / (1.5 * n_lines + 0.8 * len(wrapped)))
    line_height = 1.5 * size / 72 / PAGE_SIZE[1]
    y = 0.86
    for k, paragraph in enumerate(wrapped, 1):
        fig.text(0.05, y, f"{k}.", fontsize=size, va="top", color="#1f4e79")
        fig.text(0.08, y, "\n".join(paragraph), fontsize=size, va="top", linespacing=1.5)
        y -= line_height * len(paragraph) + 0.8 * size / 72 / PAGE_SIZE[1]
    return _page(fig, text("findings_title", lang), chart=False)


FINDING_CHARACTERS = 96
"""A finding wraps at this many characters a line at 14 points (more at a smaller size; half as many in Chinese)."""


def _shown(value, kind, currency, lang, signed=False):
    """A table cell: :func:`~simulator.accounts.metrics.format_value` (or, ``signed``, ``format_difference``: rates
    in percentage points), except money in Chinese, which is in 万元 or 亿元 (:func:`money_text`)."""
    if kind == "money" and lang == "zh" and value is not None and value == value:
        return ("+" if signed and value >= 0 else "") + money_text(value, currency, lang)
    return format_difference(value, kind) if signed else format_value(value, kind)


def differences_page(comparison, lang):
    """Differences of the key metrics to the reference, with paired and independent standard errors."""
    table = comparison.table
    reference = comparison.members[0].scenario.name
    others = table[(table.scenario != reference) & table.metric.isin(DIFFERENCE_METRICS)]
    currency = comparison.members[0].scenario.portfolio.currency
    rows = []
    for row in others.itertuples():
        kind = metric_kind(row.metric)
        rows.append([shown_name(row.scenario, lang), metric_label(row.metric, lang),
                     _shown(row.difference, kind, currency, lang, signed=True),
                     _shown(row.se_difference, kind, currency, lang), _shown(row.se_independent, kind, currency, lang),
                     f"x{row.variance_reduction:.0f}" if row.variance_reduction == row.variance_reduction else "n/a"])
    losses = others[others.metric == "cumulative_loss_rate"]
    worst = losses.loc[losses.difference.idxmax()]
    lines = (text("read_differences", lang, reference=shown_name(reference, lang)),
             text("read_differences_worst", lang, scenario=shown_name(worst.scenario, lang),
                  loss=f"{worst.difference * 100:+.2f}",
                  se=f"{worst.se_difference * 100:.3f}"))
    header = [text("scenario", lang), "", text("difference", lang), text("se", lang), text("se_independent", lang),
              text("variance_reduction", lang)]
    fig = _table_page(text("theme_differences", lang, reference=shown_name(reference, lang)), header, rows, lines,
                      label_columns=2)
    fig.axes[0].tables[0].auto_set_column_width([0, 1])
    return fig


APPENDIX_ROWS = 22
"""Metrics per appendix page: the table's rows stay readable (10 points) and inside the page."""


def metrics_pages(members, lang):
    """Every metric of ``summary.json`` of every run, in the documented order
    (:data:`~simulator.accounts.metrics.REPORTED_METRICS`: headline metrics, then VaR and ES), over as many pages as
    they need: the mean over paths (for yes/no metrics the share of paths), the tail figures' value, with the
    unit."""
    rows = []
    for metric in REPORTED_METRICS:
        key = "value" if metric in TAIL_METRICS else "mean"
        values = [r.summary["metrics"].get(metric, {}).get(key) for r in members]
        if all(v is None for v in values):
            continue
        kind = metric_kind(metric)
        unit = members[0].scenario.portfolio.currency if kind == "money" else metric_unit(metric)
        rows.append([metric_label(metric, lang), text(f"column_unit_{kind}", lang, unit=unit)]
                    + [_shown(v, kind, members[0].scenario.portfolio.currency, lang) for v in values])
    header = ["", text("unit", lang)] + [shown_name(r.scenario.name, lang) for r in members]
    pages = -(-len(rows) // APPENDIX_ROWS)
    for page in range(pages):
        heading = text("appendix_metrics", lang) + (f" ({page + 1}/{pages})" if pages > 1 else "")
        fig = _table_page(heading, header, rows[page * APPENDIX_ROWS:(page + 1) * APPENDIX_ROWS], font_size=10,
                          label_columns=2, row_height=1.5)
        fig.axes[0].tables[0].auto_set_column_width([0, 1])
        yield fig


def _shock_text(shock, lang):
    """One macro shock in words: variable, shape, size and timing."""
    variable = text(f"variable_{shock.variable}", lang)
    if shock.shape == "path":
        given = shock.levels_pct or []
        levels = ", ".join(f"{level:g}" for level in given[:8]) + (" ..." if len(given) > 8 else "")
        return text("shock_path", lang, variable=variable, frequency=shock.frequency, levels=levels)
    timing = {key: getattr(shock, key) for key in ("start_month", "peak_month", "end_month", "hold_months",
                                                   "decay_months") if getattr(shock, key, None) is not None}
    when = ", ".join(text(f"timing_{key}", lang, value=value) for key, value in timing.items())
    return text("shock", lang, variable=variable, shape=text(f"shape_{shock.shape}", lang), size=f"{shock.size_pp:+g}",
                when=when)


def assumption_rows(results, lang):
    """The scenario's assumptions a board reads, as ``[section, assumption, value]`` rows: the book, the economy
    (baseline, each shock, the credit cycle), the behaviour model, the provisioning floors, the funding and the
    management actions. The full resolved scenario is ``scenario.resolved.yaml`` in the run directory."""
    scenario = results.scenario
    book, macro, funding = scenario.portfolio, scenario.macro, scenario.funding
    currency = book.currency
    rows = [["book", text("a_source", lang), book.source if book.source != "tape" else f"tape {book.tape}"],
            ["", text("a_loans", lang), f"{results.n_loans:,}"],
            ["", text("a_opening_balance", lang), money_text(results.summary["opening_balance"], currency, lang)],
            ["", text("a_segments", lang), ", ".join(f"{shown_name(s.name, lang)} {s.share_pct:g}%"
                                                      for s in book.segments)],
            ["", text("a_horizon", lang), text("a_months", lang, months=scenario.run.horizon_months)],
            ["economy", text("a_baseline", lang), text("a_baseline_values", lang,
                                                       unemployment=f"{macro.baseline.unemployment_pct:g}",
                                                       income=f"{macro.baseline.income_growth_pct:g}",
                                                       rate=f"{macro.baseline.policy_rate_pct:g}")]]
    rows += [["", text("a_shock", lang, k=k + 1), _shock_text(shock, lang)] for k, shock in enumerate(macro.shocks)]
    if not macro.shocks:
        rows.append(["", text("a_shock", lang, k=""), text("a_none", lang)])
    rows.append(["", text("a_cycle", lang), text("a_cycle_values", lang, volatility=f"{macro.cycle.volatility:g}",
                                                  persistence=f"{macro.cycle.persistence:g}",
                                                  start=str(macro.cycle.start))])
    rows.append(["behaviour", text("a_model", lang), scenario.behaviour.model])
    floors = scenario.provisioning.five_category
    rows.append(["provisions", text("a_floors", lang), text("a_floor_values", lang,
                                                             coverage=f"{floors.coverage_floor_pct:g}",
                                                             loans=f"{floors.loan_provision_floor_pct:g}")])
    rows.append(["funding", text("a_buffer", lang), f"{funding.liquidity_buffer_pct:g}%"])
    for liability in funding.liabilities:
        rows.append(["", liability.name, text("a_liability", lang, kind=liability.type,
                                                amount=f"{liability.amount_pct:g}",
                                                maturity=liability.maturity_months,
                                                rollover=f"{liability.rollover_pct:g}",
                                                stressed=("" if liability.stress is None
                                                          or liability.stress.rollover_pct is None else text(
                                                              "a_liability_stress", lang,
                                                              month=liability.stress.from_month,
                                                              rollover=f"{liability.stress.rollover_pct:g}")))])
    actions = scenario.actions
    named = [name for name in ("collections", "restructuring", "originations") if getattr(actions, name) is not None]
    for name in named:
        action = getattr(actions, name)
        start = getattr(action, "start_month", None)
        rows.append(["actions" if name == named[0] else "", text(f"a_action_{name}", lang),
                     text("a_from_month", lang, month=start) if start is not None else text("a_on", lang)])
    if not named:
        rows.append(["actions", "", text("a_none", lang)])
    for row in rows:
        row[0] = text(f"section_{row[0]}", lang) if row[0] else ""
    return rows


def assumptions_pages(members, lang):
    """One page per scenario: its assumptions (:func:`assumption_rows`) in a table."""
    for results in members:
        rows = assumption_rows(results, lang)
        fig = _table_page(text("appendix_scenario", lang, scenario=shown_name(results.scenario.name, lang)),
                          ["", text("assumption", lang), text("value", lang)], rows,
                          (text("resolved_yaml_note", lang),), font_size=9, label_columns=3, row_height=1.35)
        table = fig.axes[0].tables[0]
        table.auto_set_column_width([0, 1, 2])
        yield fig


def metadata_page(members, directories, lang):
    """Seed, paths, loans, horizon, model, run time and versions of each run."""
    rows = []
    for results in members:
        summary = results.summary
        versions = ", ".join(f"{k} {v}" for k, v in summary["versions"].items())
        rows.append([shown_name(results.scenario.name, lang), str(summary["seed"]), f"{summary['paths']:,}",
                     f"{summary['loans']:,}",
                     str(summary["horizon_months"]), summary["behaviour_model"], f"{summary['wall_seconds']:.1f} s",
                     versions])
    header = [text("scenario", lang), "seed", "paths", "loans", "months", "model", "run time", "versions"]
    lines = ("sources: " + ", ".join(shown_path(d) for d in directories),)
    fig = _table_page(text("appendix_metadata", lang), header, rows, lines, font_size=8)
    fig.axes[0].tables[0].auto_set_column_width(list(range(len(header))))
    return fig


def reverse_page(summary, lang):
    """A reverse stress test (``reverse.json``): the breach probability curve, the target and the macro path at the
    breaking severity."""
    macro = summary["macro_at_run_severity"]
    monotone = summary["monotonicity"]
    lines = (f"{text('reverse_target', lang, target=summary['target']['description'])}; "
             f"{summary['runs']} runs, {monotone['paths_not_monotone']} of {summary['paths']} paths not monotone. "
             + (summary["statement"] if lang == "en" else ""),
             text("read_reverse_macro", lang, unemployment=f"{macro['peak_unemployment_pct']:.1f}",
                  month=macro["peak_unemployment_month"], income=f"{macro['income_growth_trough_pct']:.1f}",
                  income_month=macro["income_growth_trough_month"]))
    return _page(reverse_curve(summary, lang), text("theme_reverse", lang), lines)


def _weighted_sentence(weighted, lang):
    """The probability-weighted ECL at the reporting date, by stage, in words."""
    report = weighted.reporting_date
    currency = weighted.members[0].scenario.portfolio.currency
    total = report["weighted_ecl"]
    return text("read_weighted", lang, total=money_text(total["total"], currency, lang),
                stages=", ".join(f"{text('stage', lang, stage=k)} {money_text(total[f'stage_{k}'], currency, lang)}"
                                 for k in (1, 2, 3)),
                contributions=", ".join(f"{shown_name(row['scenario'], lang)} {row['weight']:.0%} x "
                                        f"{money_text(row['ecl']['total'], currency, lang)}"
                                        for row in report["scenarios"]))


def weighted_page(weighted, lang):
    """An ``ecl`` run: the probability-weighted ECL over the horizon, with each scenario's, and its reading."""
    return _page(weighted_ecl_chart(weighted, lang), text("theme_weighted", lang), (_weighted_sentence(weighted,
                                                                                                      lang),))


# --------------------------------------------------------------------- the back-test pack
def _ratio_period(statistics):
    return f"{statistics['peak_ratio']:.2f}x ({statistics['peak_period']})"


def acceptance_text(summary, lang):
    """The back-test's acceptance in a few words: "2 of 3 criteria pass", or "none given"."""
    if "acceptance" not in summary:
        return text("bt_acceptance_none", lang)
    criteria = summary["acceptance"]["criteria"]
    return text("bt_acceptance_summary", lang, passed=sum(row["passed"] for row in criteria), n=len(criteria))


def criterion_label(row, lang):
    """An acceptance criterion's name as the pack shows it."""
    if row["criterion"].startswith("ratio_"):
        return text("bt_criterion_ratio", lang, period=row["criterion"][len("ratio_"):])
    return text(f"bt_criterion_{row['criterion']}", lang)


def backtest_cover(backtests, lang):
    """Title and each back-test's settings and headline figures, one column per back-test: the window, the rate,
    the size and seed, the peak ratios with their periods, the ratios at the end, the mean absolute ratio error, the
    lag of least error and the acceptance (all as ``backtest.json`` holds them)."""
    rows = [[text("bt_window", lang)] + [f"{b['from']} - {b['to']}" for b in backtests],
            [text("bt_rate", lang)] + [rate_name(b["rate"], lang) for b in backtests],
            [text("bt_size", lang)] + [f"{b['paths']:,} x {b['loans']:,}" for b in backtests],
            [text("bt_seed", lang)] + [str(b["seed"]) for b in backtests],
            [text("bt_observed_peak", lang)] + [_ratio_period(b["observed"]) for b in backtests],
            [text("bt_model_peak", lang)] + [_ratio_period(b["model"]) for b in backtests],
            [text("bt_observed_end", lang)] + [f"{b['observed']['end_ratio']:.2f}x" for b in backtests],
            [text("bt_model_end", lang)] + [f"{b['model']['end_ratio']:.2f}x" for b in backtests],
            [text("bt_error", lang)] + [f"{b['mean_abs_ratio_error']:.3f}" for b in backtests],
            [text("bt_best_lag", lang)] + [f"{b['best_lag']:+d}" for b in backtests],
            [text("bt_acceptance", lang)] + [acceptance_text(b, lang) for b in backtests]]
    header = [text("bt_figure", lang)] + [shown_name(b["scenario"], lang) for b in backtests]
    fig = _table_page(text("bt_report_title", lang), header, rows, font_size=11, row_height=1.5)
    fig.axes[0].set_position((0.03, 0.08, 0.94, 0.62))
    names = ", ".join(shown_name(b["scenario"], lang) for b in backtests)
    fig.text(0.03, 0.88, wrap_title(text("bt_report_subtitle", lang, scenarios=names)), fontsize=14, va="top")
    fig.text(0.03, 0.81, text("bt_report_prepared", lang, date=date.today().isoformat(), version=__version__),
             fontsize=10, color="0.3")
    fig.text(0.03, 0.735, text("bt_key_figures", lang), fontsize=13, color="#1f4e79")
    return fig


def backtest_readings(summary, lang):
    """Two sentences from the numbers (the shape of each series, then how they differ and the acceptance) and the
    paragraph on what a back-test does not show."""
    observed, model = summary["observed"], summary["model"]
    periods = summary["series"]["period"]
    shift = periods.index(model["peak_period"]) - periods.index(observed["peak_period"])
    when = (text("bt_peak_same", lang) if shift == 0 else
            text("bt_peak_later" if shift > 0 else "bt_peak_earlier", lang, n=abs(shift)))
    acceptance = ("" if "acceptance" not in summary else
                  text("bt_read_acceptance", lang, passed=sum(r["passed"] for r in summary["acceptance"]["criteria"]),
                       n=len(summary["acceptance"]["criteria"])))
    return (text("bt_read_shape", lang, rate=rate_name(summary["rate"], lang), start=periods[0], end=periods[-1],
                 observed_peak=f"{observed['peak_ratio']:.2f}", observed_period=observed["peak_period"],
                 observed_end=f"{observed['end_ratio']:.2f}", model_peak=f"{model['peak_ratio']:.2f}",
                 model_period=model["peak_period"], timing=when, model_end=f"{model['end_ratio']:.2f}"),
            text("bt_read_error", lang, error=f"{summary['mean_abs_ratio_error']:.3f}",
                 best=f"{summary['mean_abs_ratio_error_at_best_lag']:.3f}",
                 timing=timing_text(summary["best_lag"], lang), acceptance=acceptance),
            text("bt_does_not_show", lang))


CHART_TITLE_CHARACTERS = 75
"""The title over the back-test figure wraps at this many characters (half as many in Chinese)."""
SIDE_TABLE_ROW = 0.04
"""Height of a row of the tables beside the back-test figure, a share of the page (two lines of 8-point text)."""
SIDE_LABEL_CHARACTERS = 30
"""Labels of the tables beside the back-test figure wrap at this many characters (half as many in Chinese)."""


def _side_table(fig, top, header, rows, widths):
    """A table beside the back-test figure, its top at ``top`` (a share of the page), its columns ``widths`` (shares
    of its width; the first, left-aligned, holds wrapped labels); returns its bottom."""
    height = SIDE_TABLE_ROW * (len(rows) + 1)
    ax = fig.add_axes((0.60, top - height, 0.37, height))
    ax.axis("off")
    rows = [["\n".join(wrap_lines(row[0], SIDE_LABEL_CHARACTERS))] + list(row[1:]) for row in rows]
    table = ax.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper center", cellLoc="right",
                     colLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (row, column), cell in table.get_celld().items():
        cell.set_height(1.0 / (len(rows) + 1))
        if row == 0:
            cell.set_facecolor("#dde6f0")
        if column == 0:
            cell.set_text_props(ha="left")
    return top - height


def backtest_page(summary, lang):
    """One back-test: the figure (observed and model ratios, unemployment behind), the statistics and, when given,
    the acceptance criteria in tables beside it, and the readings (:func:`backtest_readings`) under it."""
    fig = plt.figure(figsize=PAGE_SIZE)
    lines = [part for line in backtest_readings(summary, lang) for part in wrap_lines(line, LINE_CHARACTERS)]
    bottom = 0.06 + 0.035 * len(lines)
    chart = fig.add_axes((0.07, bottom + 0.17, 0.45, 0.78 - bottom - 0.17))
    draw_backtest(chart, summary, lang, legend={"loc": "upper center", "bbox_to_anchor": (0.5, -0.09), "fontsize": 8},
                  ticks=7)
    chart.set_title("\n".join(wrap_lines(backtest_title(summary, lang), CHART_TITLE_CHARACTERS)), fontsize=10)
    observed, model = summary["observed"], summary["model"]
    periods = summary["series"]["period"]
    start = summary["series"]
    statistics = [[text("bt_start_level", lang, period=periods[0]), f"{start['observed_pct'][0]:.2f}",
                   f"{start['model_pct'][0]:.2f}"],
                  [text("bt_peak_ratio", lang), f"{observed['peak_ratio']:.2f}", f"{model['peak_ratio']:.2f}"],
                  [text("bt_peak_period", lang), observed["peak_period"], model["peak_period"]],
                  [text("bt_end_ratio", lang, period=periods[-1]), f"{observed['end_ratio']:.2f}",
                   f"{model['end_ratio']:.2f}"],
                  [text("bt_error", lang), "", f"{summary['mean_abs_ratio_error']:.3f}"],
                  [text("bt_best_lag", lang), "", f"{summary['best_lag']:+d}"],
                  [text("bt_error_at_best_lag", lang), "", f"{summary['mean_abs_ratio_error_at_best_lag']:.3f}"]]
    bottom_of_statistics = _side_table(fig, 0.88, ["", text("bt_observed_column", lang), text("bt_model_column", lang)],
                                       statistics, [0.6, 0.2, 0.2])
    if "acceptance" in summary:
        criteria = [[criterion_label(row, lang), criterion_text(row["value"]), criterion_text(row["limit"]),
                     text("bt_pass" if row["passed"] else "bt_fail", lang)]
                    for row in summary["acceptance"]["criteria"]]
        _side_table(fig, bottom_of_statistics - 0.03, [text("bt_criterion", lang), text("bt_value", lang),
                                                       text("bt_limit", lang), text("bt_result", lang)],
                    criteria, [0.52, 0.16, 0.16, 0.16])
    heading = text("bt_page_title", lang, scenario=shown_name(summary["scenario"], lang),
                   observed=Path(summary["observed_series"]).name)
    fig.text(0.03, 0.955, heading, fontsize=18, color="#1f4e79")
    for k, line in enumerate(lines):
        fig.text(0.03, bottom - 0.035 * (k + 1), line, fontsize=11)
    return fig


SERIES_ROWS_PER_PAGE = 26
"""Rows of the aligned series per appendix page."""


def backtest_series_pages(summary, lang):
    """The aligned series (``backtest.csv``) in tables of :data:`SERIES_ROWS_PER_PAGE` rows."""
    series = summary["series"]
    columns = ("observed_pct", "model_pct", "observed_ratio", "model_ratio", "unemployment_pct")
    header = [text("bt_period", lang)] + [text(f"bt_{column}", lang) for column in columns]
    rows = [[period] + ["n/a" if series[column][i] is None else f"{series[column][i]:.2f}" for column in columns]
            for i, period in enumerate(series["period"])]
    note = text("bt_series_note_flow" if summary["rate"] in FLOW_RATES else "bt_series_note_stock", lang)
    for first in range(0, len(rows), SERIES_ROWS_PER_PAGE):
        yield _table_page(text("bt_appendix_series", lang, scenario=shown_name(summary["scenario"], lang)), header,
                          rows[first:first + SERIES_ROWS_PER_PAGE], (note,), font_size=8, row_height=1.1)


def backtest_metadata_page(backtests, directories, lang):
    """Seed, paths, loans, months, the two series and the versions of each back-test."""
    rows = [[shown_name(b["scenario"], lang), str(b["seed"]), f"{b['paths']:,}", f"{b['loans']:,}",
             str(b["horizon_months"]), Path(b["macro_series"]).name, Path(b["observed_series"]).name]
            for b in backtests]
    header = [text("scenario", lang), "seed", "paths", "loans", "months", "macro", "observed"]
    lines = ["versions: " + "; ".join(f"{shown_name(b['scenario'], lang)}: "
                                      + ", ".join(f"{k} {v}" for k, v in b["versions"].items()) for b in backtests),
             "sources: " + ", ".join(shown_path(d) for d in directories)]
    fig = _table_page(text("appendix_metadata", lang), header, rows, lines, font_size=8)
    fig.axes[0].tables[0].auto_set_column_width(list(range(len(header))))
    return fig


def backtest_pages(backtests, directories, lang):
    """Yield ``(section, figure)`` for a back-test pack: the cover [``cover``], one page per back-test
    [``backtest``], the aligned series [``appendix_backtest``] and the metadata [``appendix_metadata``]."""
    yield "cover", backtest_cover(backtests, lang)
    for summary in backtests:
        yield "backtest", backtest_page(summary, lang)
    for summary in backtests:
        for fig in backtest_series_pages(summary, lang):
            yield "appendix_backtest", fig
    yield "appendix_metadata", backtest_metadata_page(backtests, directories, lang)


def build_pages(members=(), directories=(), lang="en", comparison=None, sensitivities=(), reverses=(), weighted=(),
                backtests=()):
    """Yield ``(section, figure)`` for every page of the board pack, in order (call inside ``house_style``);
    ``sensitivities`` are :class:`~simulator.workflows.sensitivity.Sensitivity` objects, ``reverses`` the
    ``reverse.json`` of reverse stress directories (one page each after the findings), ``weighted`` the
    :class:`~simulator.workflows.weighted.WeightedEcl` of ``ecl`` directories (one page each). ``backtests``
    (the ``backtest.json`` of back-test directories, with no runs) make a back-test pack
    (:func:`backtest_pages`)."""
    if backtests:
        yield from backtest_pages(backtests, directories, lang)
        return
    yield "cover", cover_page(members, lang)
    yield "findings", findings_page(members, lang, weighted)
    for summary in reverses:
        yield "reverse", reverse_page(summary, lang)
    for ecl in weighted:
        yield "weighted_ecl", weighted_page(ecl, lang)
    for name, (draw, applies) in FIGURES.items():
        if applies(members):
            section, heading, reading = READINGS[name]
            yield section, _page(draw(members, lang), text(heading, lang), reading(members, lang))
    for results in members:
        if results.counterfactual is not None:
            yield "actions", _page(action_effects(results, lang),
                                   text("theme_actions", lang, scenario=shown_name(results.scenario.name, lang)),
                                   reading_actions(results, lang))
    if comparison is not None:
        yield "differences", differences_page(comparison, lang)
    for sensitivity in sensitivities:
        for metric in sensitivity_metrics(sensitivity):
            yield "sensitivity", _page(tornado(sensitivity, metric, lang),
                                       text("theme_sensitivity", lang, metric=metric_label(metric, lang)),
                                       reading_sensitivity(sensitivity, metric, lang))
    for fig in metrics_pages(members, lang):
        yield "appendix_metrics", fig
    for fig in assumptions_pages(members, lang):
        yield "appendix_scenario", fig
    yield "appendix_metadata", metadata_page(members, directories, lang)


def write_report(directories, out_path, lang="en", allow_different=False):
    """Write the board pack of the runs in ``directories`` to the PDF ``out_path``; returns the sections, in page order.

    A sensitivity directory contributes its base run and its tornado pages.

    Several runs must share book, seed and paths (common random numbers) unless
    ``allow_different``; only runs that do get the differences page. The PDF is written to a temporary file beside
    ``out_path`` and renamed into place, so a failure leaves no partial file.

    Raises
    ------
    InputError
        If a directory is not a run, comparison, ECL or sensitivity directory, the runs are not
        comparable, or ``out_path`` cannot be written.
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".pdf":
        raise InputError(f"{out_path}: the board pack is a PDF; got suffix '{out_path.suffix}'. "
                         "Name the output like board.pdf.")
    check_writable(out_path)
    if out_path.is_dir():
        raise InputError(f"{out_path}: is a directory. Give a file name like {out_path / 'board.pdf'}.")
    inputs = pack_inputs(directories, allow_different)
    sections = []

    backtests = inputs.get("backtests", ())
    title = "bt_report_title" if backtests else "report_title"
    subject = ", ".join([b["scenario"] for b in backtests] + [r.scenario.name for r in inputs.get("members", ())])

    def write_pdf(staging):
        with house_style(lang) as used:
            sections.extend(save_pages(staging, build_pages(lang=used, **inputs), title=text(title, used),
                                       subject=subject))

    write_file_atomically(out_path, write_pdf)
    return sections


def check_writable(*paths):
    """Refuse, before any work, output files whose names are too long or whose folder cannot be written.

    Raises
    ------
    InputError
        Naming the path and the ``-o`` option.
    """
    for path in paths:
        check_output_name(path, "-o")
    existing = next(parent for parent in Path(paths[0]).absolute().parents if parent.exists())
    if not (existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)):
        raise InputError(f"{paths[0]}: cannot be written ({existing} is not a writable directory). "
                         "Choose a writable -o path.")


def pack_inputs(directories, allow_different=False):
    """What :func:`build_pages` draws from ``directories``, as its keyword arguments: the runs, their comparison
    (runs on common random numbers), the sensitivities, reverse stress tests and probability-weighted ECLs; or, for
    back-test directories (marked by ``backtest.json``), their summaries.

    Raises
    ------
    InputError
        If a directory is none of those or the runs are not comparable (unless ``allow_different``).
    """
    marked = [(Path(d) / BACKTEST_MARKER).is_file() for d in directories]
    if any(marked):
        if not all(marked):
            raise InputError(f"{directories[marked.index(False)]}: a back-test pack is made of back-test "
                             "directories only; got a directory that is not one. Make the back-test pack and the "
                             "stress-test pack separately.")
        return {"backtests": [load_backtest(d) for d in directories], "directories": directories}
    members = load_members(directories)
    comparison = None
    if len(members) > 1 and not (allow_different and unpaired_reasons(members)):
        comparison = compare_runs(members)  # refuses runs that do not share random numbers, saying why
    return {"members": members, "directories": directories, "comparison": comparison,
            "sensitivities": [load_sensitivity(d) for d in directories if (Path(d) / SENSITIVITY_MARKER).is_file()],
            "reverses": [load_reverse(d) for d in directories if (Path(d) / REVERSE_MARKER).is_file()],
            "weighted": [load_weighted(d) for d in directories if (Path(d) / WEIGHTED_MARKER).is_file()]}


def save_pages(path, pages, title, subject=None):
    """Save ``(section, figure)`` pages as one PDF at ``path``: numbered, each figure released, the sections in
    page order recorded in the PDF's keywords (``sections: ...``, what the tests read); returns the sections."""
    metadata = {"Title": title, "Author": f"consumer-credit-stress {__version__}"}
    if subject is not None:
        metadata["Subject"] = subject
    sections = []
    with PdfPages(path, metadata=metadata) as pdf:
        for section, fig in pages:
            fig.text(0.97, 0.015, str(len(sections) + 1), ha="right", fontsize=9, color="0.4")
            pdf.savefig(fig)
            plt.close(fig)
            sections.append(section)
        pdf.infodict()["Keywords"] = "sections: " + " ".join(sections)
    return sections


def write_file_atomically(path, write):
    """Write ``path`` through ``write(staging_path)``: a temporary sibling renamed into place with the mode a new
    file would get, so a failure leaves no partial file.

    Raises
    ------
    InputError
        If the folder of ``path`` cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror}). Choose a writable -o path.") from None
    try:
        write(staging)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o666 & ~umask)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.remove(staging)


# --------------------------------------------------------------------- the calibration report
def rho_text(cycle, decimals=2):
    """The asset correlation of ``calibration.json``'s ``credit_cycle`` block with its interval, as text."""
    rho, (lower, upper) = cycle["rho"], cycle["rho_interval"]
    if rho is None:
        return "n/a"
    interval = ("no interval (no bootstrap)" if lower is None or upper is None
                else f"{cycle['level']:.0%} interval {lower:.{decimals}%} to {upper:.{decimals}%}")
    return f"{rho:.{decimals}%} ({interval})"


def calibration_pages(inputs, lang="en"):
    """Yield ``(section, figure)`` for the calibration report: a summary of the estimates, each segment's matrix with
    its bootstrap intervals, the structural fit's moments, and the calibration figures (call inside ``house_style``).

    ``inputs`` is :class:`simulator.workflows.calibration.CalibrationFigures`.
    """
    summary = inputs.summary
    history, cycle = summary["history"], summary["credit_cycle"]
    rows = [[text("calibration_data", lang), f"{history['rows']:,} rows, {history['loans']:,} loans, "
             f"{history['months']} months ({history['first_month']} to {history['last_month']})"],
            ["segments", ", ".join(history["segments"])],
            ["rho", rho_text(cycle, decimals=3)]]
    if "satellite" in summary:
        fit = summary["satellite"]
        rows.append(["cycle_per_unemployment_pp", f"{fit['coefficients']['unemployment_gap_pp']:.3f} (HAC se "
                     f"{fit['se_hac']['unemployment_gap_pp']:.3f}; R² {fit['r_squared']:.2f}; DW "
                     f"{fit['durbin_watson']:.2f}; residual AR(1) {fit['residual_ar1']:.2f})"])
    if "backtest" in summary:
        errors = summary["backtest"]
        rows.append([text("backtest_row", lang), f"{errors['roll_rate_in_sample_mean_abs_pp']:.2f} pp / "
                     f"{errors.get('roll_rate_held_out_mean_abs_pp', float('nan')):.2f} pp "
                     f"({errors['holdout_months']} months held out)"])
    if "structural" in summary:
        fit = summary["structural"]
        for name, value in fit["parameters"].items():
            se = fit["se"][name]
            rows.append([name, f"{value:.3f} (se {'unbounded' if se is None or not np.isfinite(se) else f'{se:.3f}'})"
                         + (f" - {text('not_identified', lang)}" if name in fit["not_identified"] else "")])
    lines = tuple(summary["warnings"][:2])
    fig = _table_page(text("calibration_title", lang, source=history["source"]), ["", ""], rows, lines,
                      font_size=10, row_height=1.6)
    fig.axes[0].tables[0].auto_set_column_width([0, 1])
    yield "calibration_summary", fig
    header = [""] + list(ROLL_RATE_COLUMNS)
    for g, segment in enumerate(inputs.segments):
        matrix_rows = []
        for k in range(7):
            cells = [ROLL_RATE_COLUMNS[k]]
            for j in range(9):
                p = inputs.matrix[g, k, j]
                lo, hi = inputs.lower[g, k, j], inputs.upper[g, k, j]
                interval = f"\n[{lo:.1%}, {hi:.1%}]" if np.isfinite(lo) and np.isfinite(hi) else ""
                cells.append("-" if not np.isfinite(p) else f"{p:.1%}{interval}" if p > 0 else "0")
            matrix_rows.append(cells)
        yield "calibration_matrix", _table_page(
            text("matrix_title", lang, segment=segment, level=f"{inputs.level:.0%}"), header, matrix_rows,
            font_size=8, row_height=1.4)
    if inputs.moments is not None:
        table = inputs.moments
        moment_rows = [[row.moment, f"{row.observed:.4f}", f"{row.fitted:.4f}", f"{row.se:.4f}",
                        f"{row.gap_in_se:+.2f}", text("yes", lang) if row.matched else text("no", lang)]
                       for row in table.itertuples()]
        yield "calibration_moments", _table_page(
            text("moments_title", lang, objective=f"{inputs.objective:.1f}"),
            ["moment", text("observed", lang), "fitted", "se", "gap / se", "matched"], moment_rows, font_size=9)
    yield "calibration_figure", _page(calibration_roll_rates(inputs, lang), text("figure_roll_rates", lang))
    if inputs.cycle is not None:
        yield "calibration_figure", _page(calibration_cycle(inputs, lang), text("figure_cycle", lang))
    if inputs.backtest is not None:
        yield "calibration_figure", _page(calibration_backtest(inputs, lang), text("figure_backtest", lang))


def write_calibration_outputs(calibration, directory, lang="en"):
    """Write the calibration figures into ``directory / "plots"`` and the calibration report into
    ``directory / "calibration_report.pdf"``, both from ``calibration.figures()``
    (:class:`simulator.workflows.calibration.CalibrationFigures`)."""
    inputs = calibration.figures()
    write_calibration_figures(inputs, Path(directory) / "plots", lang)
    write_calibration_report(inputs, Path(directory) / "calibration_report.pdf", lang)


def write_calibration_report(inputs, path, lang="en"):
    """Write the calibration report PDF to ``path`` (inside the calibration directory, which is written atomically);
    returns the sections in page order."""
    with house_style(lang) as used:
        return save_pages(path, calibration_pages(inputs, used), title=text("calibration_title", used,
                                                                              source=inputs.source))
