"""The board pack: one PDF from run or comparison directories, built with matplotlib.

Pages, in order (section ids in brackets, recorded in the PDF's keywords):

1. cover [``cover``]: the key figures per scenario (:data:`KEY_FIGURES`);
2. for a reverse stress directory, its breach probability curve [``reverse``];
   then one page per theme, each a house figure with a two-line reading computed from
   the numbers: overdue rates [``overdue``], credit losses [``losses``],
   provisions [``provisions``], liquidity [``liquidity``, when the runs have
   liabilities], results by segment [``segments``: 90+ overdue rates and shares of
   the loss and provisions], the effect of management actions [``actions``, one page per run
   with actions] and, for several runs on common random numbers, what each adds
   to the first [``differences``];
3. appendix: every headline metric [``appendix_metrics``; a metric added to
   :data:`simulator.accounts.metrics.HEADLINE_METRICS` appears here without new code], each
   scenario as run [``appendix_scenario``, as many pages as its YAML needs] and
   the run metadata [``appendix_metadata``: seed, paths, loans, versions].
"""
import os
import tempfile
import textwrap
from datetime import date
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_pdf import PdfPages

from ..accounts.metrics import HEADLINE_METRICS, format_value, metric_kind
from ..inputs.errors import InputError
from ..inputs.schema import ROLL_RATE_COLUMNS
from ..version import __version__
from ..workflows.comparison import compare_runs, load_members, unpaired_reasons
from ..workflows.results import check_output_name
from ..workflows.reverse import MARKER as REVERSE_MARKER
from ..workflows.reverse import load_reverse
from ..workflows.sensitivity import MARKER as SENSITIVITY_MARKER
from ..workflows.sensitivity import load_sensitivity
from .labels import metric_label, parameter_label, text
from .plots import (FIGURES, action_effects, calibration_backtest, calibration_cycle, calibration_roll_rates,
                    change_text, has_funding, house_style, median_of, reverse_curve, sensitivity_metrics, shown_path,
                    step_texts, tornado, worst_of, wrap_lines, write_calibration_figures)

PAGE_SIZE = (11.69, 8.27)
"""A4 landscape, inches."""

KEY_FIGURES = ("peak_overdue_rate_1_30", "peak_overdue_rate_31_90", "peak_overdue_rate_90p", "cumulative_loss_rate",
               "loss_var_99", "peak_provision_requirement", "survival_horizon_months", "failure_probability")
"""Columns of the cover table."""

DIFFERENCE_METRICS = ("peak_overdue_rate_90p", "cumulative_loss_rate", "peak_provision_requirement",
                      "min_liquidity_buffer", "cumulative_profit")
"""Rows of the differences page."""

YAML_LINES_PER_COLUMN = 62
HEADER_WIDTH = 16
"""Table headers wrap at this many characters."""


# --------------------------------------------------------------------- readings
def _mean(results, metric):
    return float(results.mean_of(results.headline[metric]))


def reading_overdue(members, lang):
    worst = worst_of(members, "peak_overdue_rate_90p")
    low, high = worst.band(worst.headline["peak_overdue_rate_90p"], (5, 95))
    return (text("read_overdue", lang, scenario=worst.scenario.name,
                 peak=f"{median_of(worst, 'peak_overdue_rate_90p'):.2%}", low=f"{low:.2%}", high=f"{high:.2%}"),
            text("read_overdue_m1", lang, scenario=worst.scenario.name,
                 share=f"{_mean(worst, 'm1_collection_rate'):.1%}"))


def reading_losses(members, lang):
    worst = worst_of(members, "cumulative_loss_rate")
    metrics = worst.summary["metrics"]
    return (text("read_losses", lang, scenario=worst.scenario.name, mean=f"{_mean(worst, 'cumulative_loss_rate'):.2%}",
                 var=f"{metrics['loss_var_99']['value']:.2%}"),
            text("read_losses_es", lang, es=f"{metrics['loss_es_99']['value']:.2%}",
                 se=f"{metrics['loss_es_99']['se']:.2%}"))


def reading_provisions(members, lang):
    worst = worst_of(members, "peak_provision_requirement")
    rule = worst.summary["provisioning"]["binding_rule_at_peak"]
    floor = worst.scenario.provisioning.five_category.coverage_floor_pct / 100.0
    return (text("read_provisions", lang, scenario=worst.scenario.name,
                 peak=f"{median_of(worst, 'peak_provision_requirement'):,.0f}",
                 currency=worst.scenario.portfolio.currency, rule=text(f"rule_{rule}", lang)),
            text("read_provisions_coverage", lang, low=f"{median_of(worst, 'min_coverage_ratio'):.0%}",
                 floor=f"{floor:.0%}", breach=f"{_mean(worst, 'coverage_floor_breached'):.0%}"))


def reading_liquidity(members, lang):
    worst = max(members, key=lambda r: (_mean(r, "liquidity_breached"), -median_of(r, "min_liquidity_buffer")))
    share = _mean(worst, "liquidity_breached")
    if share > 0:
        failed = worst.summary["metrics"]["failure_probability"]
        first = text("read_liquidity_breach", lang, scenario=worst.scenario.name, share=f"{share:.0%}",
                     month=f"{median_of(worst, 'survival_horizon_months'):.0f}",
                     stopped=f"{_mean(worst, 'lending_stop_probability'):.0%}", failed=f"{failed['mean']:.1%}",
                     failed_se=f"{failed['se']:.1%}")
    else:
        first = text("read_liquidity_safe", lang, scenario=worst.scenario.name,
                     low=f"{median_of(worst, 'min_liquidity_buffer'):,.0f}",
                     currency=worst.scenario.portfolio.currency)
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
            text("read_actions_cost", lang, cost=f"{effects['total_action_cost']['with_actions']:,.0f}",
                 profit=f"{effects['cumulative_profit']['difference']:+,.0f}",
                 currency=results.scenario.portfolio.currency))


def reading_segments(members, lang):
    heaviest = max(members, key=lambda r: _segment_mean(r, "all", "cumulative_loss_rate"))

    def shares(metric):
        stats = heaviest.summary["by_segment"]
        return ", ".join(f"{segment} {stats[segment][metric]['mean']:.1%} ({stats[segment][metric]['se']:.1%})"
                         for segment in heaviest.segment_names)

    return (text("read_segments_loss", lang, scenario=heaviest.scenario.name, shares=shares("loss_share")),
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
        fig.tight_layout(rect=(0.02, bottom + 0.02, 0.98, 0.87))
    for k, line in enumerate(lines):
        fig.text(0.03, bottom - 0.035 * (k + 1), line, fontsize=12)
    return fig


def _table_page(heading, header, rows, lines=(), font_size=10, label_columns=1, row_height=1.4):
    """A page holding a table (``rows`` of strings under ``header``; the first ``label_columns`` left-aligned)."""
    fig = plt.figure(figsize=PAGE_SIZE)
    ax = fig.add_axes((0.03, 0.12 + 0.035 * len(lines), 0.94, 0.78 - 0.035 * len(lines)))
    ax.axis("off")
    header = [textwrap.fill(label, HEADER_WIDTH) for label in header]
    table = ax.table(cellText=rows, colLabels=header, loc="upper center", cellLoc="right", colLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(font_size)
    table.scale(1.0, row_height)
    for (row, column), cell in table.get_celld().items():
        if row == 0:
            cell.set_facecolor("#dde6f0")
        if column <= label_columns - 1:
            cell.set_text_props(ha="left")
    return _page(fig, heading, lines, chart=False)


def cover_page(members, lang):
    """Title and the key figures per scenario: mean over paths, with the 5-95% range for rates."""
    columns = [m for m in KEY_FIGURES
               if has_funding(members) or m not in ("survival_horizon_months", "failure_probability")]
    rows = []
    for results in members:
        row = [results.scenario.name]
        for metric in columns:
            stats = results.summary["metrics"].get(metric, {})
            if "value" in stats:
                row.append(format_value(stats["value"], metric_kind(metric)))
            elif metric == "survival_horizon_months":  # over the paths that run out, with their share
                share = results.summary["metrics"]["liquidity_breached"]["mean"]
                row.append(text("never", lang) if not stats.get("paths")
                           else f"{median_of(results, metric):.0f} ({share:.0%})")
            else:
                kind = metric_kind(metric)
                row.append(f"{format_value(stats['mean'], kind)}\n({format_value(stats['p05'], kind)}-"
                           f"{format_value(stats['p95'], kind)})" if kind == "rate"
                           else format_value(stats["mean"], kind))
        rows.append(row)
    header = [text("scenario", lang)] + [metric_label(m, lang) for m in columns]
    first = members[0]
    names = ", ".join(r.scenario.name for r in members)
    fig = _table_page(text("report_title", lang), header, rows, font_size=10, row_height=3.2)
    fig.axes[0].set_position((0.03, 0.10, 0.94, 0.62))
    fig.text(0.03, 0.88, text("report_subtitle", lang, scenarios=names), fontsize=14)
    fig.text(0.03, 0.84, text("report_prepared", lang, date=date.today().isoformat(), version=__version__,
                              paths=first.scenario.run.paths), fontsize=10, color="0.3")
    fig.text(0.03, 0.77, text("key_figures", lang), fontsize=13, color="#1f4e79")
    if len(members) == 1:
        fig.text(0.03, 0.80, first.scenario.description or "", fontsize=10, color="0.3")
    return fig


def differences_page(comparison, lang):
    """Differences of the key metrics to the reference, with paired and independent standard errors."""
    table = comparison.table
    reference = comparison.members[0].scenario.name
    others = table[(table.scenario != reference) & table.metric.isin(DIFFERENCE_METRICS)]
    rows = []
    for row in others.itertuples():
        kind = metric_kind(row.metric)
        rows.append([row.scenario, metric_label(row.metric, lang), format_value(row.difference, kind),
                     format_value(row.se_difference, kind), format_value(row.se_independent, kind),
                     f"x{row.variance_reduction:.0f}" if row.variance_reduction == row.variance_reduction else "n/a"])
    losses = others[others.metric == "cumulative_loss_rate"]
    worst = losses.loc[losses.difference.idxmax()]
    lines = (text("read_differences", lang, reference=reference),
             text("read_differences_worst", lang, scenario=worst.scenario, loss=f"{worst.difference * 100:+.2f}",
                  se=f"{worst.se_difference * 100:.3f}"))
    header = [text("scenario", lang), "", text("difference", lang), text("se", lang), text("se_independent", lang),
              text("variance_reduction", lang)]
    return _table_page(text("theme_differences", lang, reference=reference), header, rows, lines, label_columns=2)


def metrics_page(members, lang):
    """Every headline metric of every run (mean over paths)."""
    rows = []
    for metric in HEADLINE_METRICS:
        values = [r.summary["metrics"].get(metric, {}).get("mean") for r in members]
        if all(v is None for v in values):
            continue
        rows.append([metric_label(metric, lang)] + [format_value(v, metric_kind(metric)) for v in values])
    header = [""] + [r.scenario.name for r in members]
    return _table_page(text("appendix_metrics", lang), header, rows, font_size=7)


def scenario_pages(results, lang):
    """The resolved scenario YAML in two monospace columns per page, as many pages as it needs."""
    lines = results.scenario.to_yaml().splitlines()
    per_page = 2 * YAML_LINES_PER_COLUMN
    for start in range(0, len(lines), per_page):
        fig = plt.figure(figsize=PAGE_SIZE)
        for column in range(2):
            chunk = lines[start + column * YAML_LINES_PER_COLUMN:start + (column + 1) * YAML_LINES_PER_COLUMN]
            fig.text(0.03 + 0.48 * column, 0.90, "\n".join(chunk), fontsize=6.5, family="monospace", va="top")
        yield _page(fig, text("appendix_scenario", lang, scenario=results.scenario.name), chart=False)


def metadata_page(members, directories, lang):
    """Seed, paths, loans, horizon, model, run time and versions of each run."""
    rows = []
    for results in members:
        summary = results.summary
        versions = ", ".join(f"{k} {v}" for k, v in summary["versions"].items())
        rows.append([results.scenario.name, str(summary["seed"]), f"{summary['paths']:,}", f"{summary['loans']:,}",
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


def build_pages(members, directories=(), lang="en", comparison=None, sensitivities=(), reverses=()):
    """Yield ``(section, figure)`` for every page of the board pack, in order (call inside ``house_style``);
    ``sensitivities`` are :class:`~simulator.workflows.sensitivity.Sensitivity` objects, ``reverses`` the
    ``reverse.json`` of reverse stress directories (one page each after the cover)."""
    yield "cover", cover_page(members, lang)
    for summary in reverses:
        yield "reverse", reverse_page(summary, lang)
    for name, (draw, applies) in FIGURES.items():
        if applies(members):
            section, heading, reading = READINGS[name]
            yield section, _page(draw(members, lang), text(heading, lang), reading(members, lang))
    for results in members:
        if results.counterfactual is not None:
            yield "actions", _page(action_effects(results, lang),
                                   text("theme_actions", lang, scenario=results.scenario.name),
                                   reading_actions(results, lang))
    if comparison is not None:
        yield "differences", differences_page(comparison, lang)
    for sensitivity in sensitivities:
        for metric in sensitivity_metrics(sensitivity):
            yield "sensitivity", _page(tornado(sensitivity, metric, lang),
                                       text("theme_sensitivity", lang, metric=metric_label(metric, lang)),
                                       reading_sensitivity(sensitivity, metric, lang))
    yield "appendix_metrics", metrics_page(members, lang)
    for results in members:
        for fig in scenario_pages(results, lang):
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
    members = load_members(directories)
    sensitivities = [load_sensitivity(d) for d in directories if (Path(d) / SENSITIVITY_MARKER).is_file()]
    reverses = [load_reverse(d) for d in directories if (Path(d) / REVERSE_MARKER).is_file()]
    comparison = None
    if len(members) > 1 and not (allow_different and unpaired_reasons(members)):
        comparison = compare_runs(members)  # refuses runs that do not share random numbers, saying why
    sections = []

    def write_pdf(staging):
        with house_style(lang) as used:
            sections.extend(save_pages(staging, build_pages(members, directories, used, comparison, sensitivities,
                                                                   reverses),
                                       title=text("report_title", used),
                                       subject=", ".join(r.scenario.name for r in members)))

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
            font_size=8, row_height=3.0)
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
