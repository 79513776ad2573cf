"""The model validation report: a PDF for the model validator and its Markdown twin, from ``simulate validate-model``.

Both say the same, from a :class:`simulator.workflows.validation.Validation`:
what was run (version, date, size, seed, k, time) and the verdict; a summary
table with one row per compared figure; then for each check its claim, its
independent reference, every figure with the measured value, the reference value,
the Monte Carlo standard error, the tolerance (``k`` standard errors) and
pass/fail, and a note on how it was computed; last, the method (how the
standard errors and tolerances are made, and how to add a check).

PDF pages, with their section ids (recorded in the PDF's keywords):
``summary`` (one page per :data:`SUMMARY_ROWS_PER_PAGE` rows), then per check its
id (e.g. ``markov_powers``) for its page of figures and, when its rows carry
curves, two pages of charts (measured against reference,
:func:`simulator.presentation.plots.validation_curves`, and the gap in standard
errors, :func:`simulator.presentation.plots.validation_gaps`), and ``method``.
The report draws what the workflow measured; it computes nothing.
"""
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt

from ..inputs.errors import InputError
from ..workflows.validation import BACKTEST_COMPONENT
from ..version import __version__
from .backtest_figure import backtest_chart
from .plots import house_style, validation_curves, validation_gaps
from .report import _page, _table_page, backtest_readings, check_writable, save_pages, write_file_atomically

SUMMARY_ROWS_PER_PAGE = 24
NOTE_WIDTH = 62
"""Notes wrap at this many characters in the PDF's tables."""
TEXT_WIDTH = 150
"""Claims and references wrap at this many characters on a page."""


# --------------------------------------------------------------------- formatting
def format_figure(value, unit, digits=4):
    """A measured or reference figure as text: fractions in percent, counts whole, numbers to ``digits`` figures."""
    if value is None:
        return "-"
    if unit == "fraction":
        return f"{100 * value:.{digits}g}%"
    if unit == "count":
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def rule_text(row):
    """How a row passes, in the row: ``exact`` (no standard error), ``|gap| <= k se`` (two-sided), ``gap > k se``
    (one-sided: the figure must move away from its reference, so a large gap is the pass) or ``<= limit`` (a
    back-test's acceptance criterion, its limit in the reference column)."""
    if row.rule == "at_most":
        return "\u2264 limit"
    if row.se is None:
        return "exact"
    return f"gap > {row.k:g} se" if row.rule == "above" else f"|gap| \u2264 {row.k:g} se"


def result_word(row):
    return "pass" if row.passed else "FAIL"


def _row_cells(row, digits=4):
    """Measured, reference, se, tolerance and the gap in se of a row, as text."""
    gap = ("-" if not row.se or row.measured is None or row.expected is None
           else f"{(row.measured - row.expected) / row.se:+.2f}")
    return [format_figure(row.measured, row.unit, digits), format_figure(row.expected, row.unit, digits),
            format_figure(row.se, row.unit, 3), format_figure(row.tolerance, row.unit, 3), gap, rule_text(row)]


def groups(validation):
    """The rows grouped by check, in report order: ``[(check id, [rows])]``."""
    grouped = {}
    for row in validation.results:
        grouped.setdefault(row.check, []).append(row)
    return list(grouped.items())


def headline(validation):
    """One sentence: what was run."""
    settings = validation.settings
    return (f"consumer-credit-stress {__version__}, {validation.day}: the {settings.size} version, seed "
            f"{settings.seed}, tolerance k = {settings.k:g} standard errors; {len(groups(validation))} checks in "
            f"{validation.seconds:.0f} s.")


METHOD = (
    "Each check simulates with a fixed seed and compares a figure with a reference computed independently of the "
    "engine (a closed form, or numpy/scipy code that shares nothing with the kernels).",
    "Tolerance: a figure passes if |measured - reference| <= k se, with se the Monte Carlo standard error of the "
    "measured figure computed for that figure (binomial over loan-paths for shares; the sample sd over paths for "
    "means; the delta method for an sd or a ratio of variances; the binomial count below a quantile divided by the "
    "reference's density for a quantile). No tolerance is a loose constant. A check over months passes only if "
    "every month does; the row shows the last (or peak) month and its note the worst month's z = gap / se.",
    "With k = 5 a comparison fails by chance about once in 1.7 million; the checks pass for any seed "
    "(--seed gives another one). Judge the model on the full version: the quick one (--quick, what the test suite "
    "runs) has standard errors up to 20 times larger and catches only gross errors. The determinism check has no "
    "standard error: the figures must agree bit for bit, and a run with another seed must not (else the "
    "comparison could not fail).",
    "A check is one function in simulator/workflows/validation.py returning CheckResult rows, plus one line in "
    "its CHECKS list; this report and its Markdown twin need no change.",
)


# --------------------------------------------------------------------- PDF
def summary_pages(validation):
    """The summary table (every row), :data:`SUMMARY_ROWS_PER_PAGE` rows a page."""
    header = ["check", "figure", "measured", "reference", "se", "tolerance (k se)", "gap / se", "rule", "result"]
    rows = [[row.component, row.figure] + _row_cells(row) + [result_word(row)] for row in validation.results]
    pages = range(0, len(rows), SUMMARY_ROWS_PER_PAGE)
    for number, start in enumerate(pages):
        heading = "Model validation" + (f" (continued, {number + 1} of {len(pages)})" if number else "")
        fig = _table_page(heading, header, rows[start:start + SUMMARY_ROWS_PER_PAGE], font_size=8,
                          label_columns=2, row_height=1.35)
        lines = textwrap.wrap(headline(validation), TEXT_WIDTH) if number == 0 else []
        _text_block(fig, lines, fontsize=11)
        if number == 0:
            fig.text(0.03, 0.90 - 0.032 * len(lines), verdict(validation), fontsize=14, va="top", weight="bold",
                     color="#1a7f37" if validation.passed else "#c00000")
        ax = fig.axes[0]
        ax.set_position((0.03, 0.05, 0.94, 0.80 - 0.032 * len(lines) - (0.05 if number == 0 else 0)))
        table = ax.tables[0]
        table.auto_set_column_width(list(range(len(header))))
        _colour_results(table, len(header) - 1)
        yield fig


def verdict(validation):
    """"All 19 figures pass" or "2 of 19 figures FAIL: <which>"."""
    total = len(validation.results)
    if validation.passed:
        return f"All {total} figures of {len(groups(validation))} checks pass."
    failed = [row for row in validation.results if not row.passed]
    return (f"{len(failed)} of {total} figures FAIL: "
            + "; ".join(f"{row.component}: {row.figure}" for row in failed[:3]) + ("; ..." if len(failed) > 3 else ""))


def _text_block(fig, lines, top=0.90, fontsize=10, step=0.032):
    for number, line in enumerate(lines):
        fig.text(0.03, top - step * number, line, fontsize=fontsize, va="top")


def check_page(rows, k):
    """One check: its claim and reference above a table of its figures with their notes."""
    first = rows[0]
    exact = all(row.se is None for row in rows)
    limits = all(row.rule == "at_most" for row in rows)
    lines = (textwrap.wrap("Claim: " + first.claim, TEXT_WIDTH)
             + textwrap.wrap("Reference: " + first.reference, TEXT_WIDTH)
             + textwrap.wrap("Set-up: " + first.setup, TEXT_WIDTH)
             + [f"Run time {first.seconds:.1f} s; "
                + ("each figure must not exceed its limit (the reference column)." if limits else
                   "exact comparison (no standard error)." if exact else
                   f"tolerance k = {k:g} standard errors; gap / se = (measured - reference) / se.")])
    header = ["figure", "measured", "reference", "se", "tolerance", "gap / se", "rule", "result", "note"]
    cells = [[textwrap.fill(row.figure, 30)] + _row_cells(row, digits=5) + [result_word(row),
                                                                           textwrap.fill(row.note, NOTE_WIDTH)]
             for row in rows]
    fig = _table_page(first.component, header, cells, font_size=8, label_columns=1, row_height=1.0)
    _text_block(fig, lines)
    ax = fig.axes[0]
    top = 0.86 - 0.032 * len(lines)
    ax.set_position((0.03, 0.05, 0.94, top - 0.05))
    table = ax.tables[0]
    table.auto_set_column_width(list(range(len(header))))
    _colour_results(table, len(header) - 2)
    for (row, column), cell in table.get_celld().items():
        if row > 0 and column == len(header) - 1:
            cell.set_text_props(ha="left")
            cell.PAD = 0.02
    _fit_row_heights(table, cells, top - 0.05)
    return fig


def _colour_results(table, column):
    for (row, col), cell in table.get_celld().items():
        if row > 0 and col == column:
            cell.set_text_props(color="#1a7f37" if cell.get_text().get_text() == "pass" else "#c00000",
                                weight="bold")


def _fit_row_heights(table, cells, available):
    """Give each table row a height for its tallest (wrapped) cell, within ``available`` (axes fraction)."""
    line = min(0.035, available / max(1, 1.3 + sum(max(c.count("\n") + 1 for c in row) for row in cells)))
    for (row, col), cell in table.get_celld().items():
        lines = 1.3 if row == 0 else max(c.count("\n") + 1 for c in cells[row - 1]) + 0.4
        cell.set_height(line * lines)


def validation_pages(validation):
    """Yield ``(section, figure)`` for every page of the report, in order (call inside ``house_style``)."""
    for fig in summary_pages(validation):
        yield "summary", fig
    k = validation.settings.k
    for check, rows in groups(validation):
        yield check, check_page(rows, k)
        if any(row.curve is not None for row in rows):
            yield check, _page(validation_curves(rows, k), rows[0].component)
            yield check, _page(validation_gaps(rows, k), rows[0].component)
    for summary in validation.backtests:
        lines = backtest_statistics(summary) + (_acceptance_note(summary),) + backtest_readings(summary, "en")[2:]
        yield "backtest", _page(backtest_chart(summary, footnote=False), f"{BACKTEST_COMPONENT}: {summary['scenario']}",
                                lines)
    fig = plt.figure()
    y = 0.88
    for paragraph in METHOD + (_sizes(validation),):
        for line in textwrap.wrap(paragraph, 140):
            fig.text(0.03, y, line, fontsize=10, va="top")
            y -= 0.032
        y -= 0.02
    yield "method", _page(fig, "Method", chart=False)


def backtest_statistics(summary):
    """A back-test's statistics (``backtest.json``) in two sentences: each series' peak and end ratio, then the mean
    absolute ratio error and the lag at which it is least."""
    observed, model = summary["observed"], summary["model"]
    return (f"{summary['rate_definition']}, {summary['from']} to {summary['to']}, ratios to {summary['from']}: "
            f"observed peak {observed['peak_ratio']:.2f} in {observed['peak_period']}, "
            f"end {observed['end_ratio']:.2f}; "
            f"model peak {model['peak_ratio']:.2f} in {model['peak_period']}, end {model['end_ratio']:.2f}.",
            f"Mean absolute ratio error {summary['mean_abs_ratio_error']:.3f}; least "
            f"({summary['mean_abs_ratio_error_at_best_lag']:.3f}) at lag {summary['best_lag']:+d} periods (positive: "
            f"the model late). {summary['paths']} paths x {summary['loans']:,} loans, seed {summary['seed']}.")


def _acceptance_note(summary):
    """Whether the back-test's criteria count in the verdict."""
    if "acceptance" not in summary:
        return "No acceptance criteria given (the scenario's backtest.acceptance): this back-test is information."
    criteria = summary["acceptance"]["criteria"]
    return (f"Acceptance: {sum(row['passed'] for row in criteria)} of {len(criteria)} criteria pass (rows "
            f"'{BACKTEST_COMPONENT}: {summary['scenario']}' of the summary, counted in the verdict).")


def _sizes(validation):
    versions = ", ".join(f"{name} {version}" for name, version in validation.versions.items())
    seconds = ", ".join(f"{check} {rows[0].seconds:.1f} s" for check, rows in groups(validation))
    return (f"This run: the {validation.settings.size} version ({validation.seconds:.0f} s in all: {seconds}); "
            f"{versions}. Rerun with `simulate validate-model` (add --quick for the small version).")


# --------------------------------------------------------------------- Markdown
def _ratio(value):
    return "n/a" if value is None else f"{value:.2f}"


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def validation_markdown(validation):
    """The report as Markdown (the same content as the PDF, without the charts)."""
    lines = ["# Model validation", "", headline(validation), "", f"**{verdict(validation)}**", "",
             "Each figure is compared with a reference computed independently of the engine; it passes if "
             f"|measured - reference| <= k se, k = {validation.settings.k:g}, se its Monte Carlo standard error; a "
             "one-sided row (rule `gap > k se`) passes only if the figure moves more than k se away from its "
             "reference.", "", "## Summary", "",
             "| check | figure | measured | reference | se | tolerance (k se) | gap / se | rule | result |",
             "|---|---|--:|--:|--:|--:|--:|---|---|"]
    for row in validation.results:
        lines.append("| " + " | ".join(_md(c) for c in [row.component, row.figure] + _row_cells(row)
                                        + [f"**{result_word(row)}**"]) + " |")
    for number, (check, rows) in enumerate(groups(validation), start=1):
        first = rows[0]
        lines += ["", f"## {number}. {first.component}", "", f"*Check `{check}`, {first.seconds:.1f} s.*", "",
                  f"**Claim.** {first.claim}", "", f"**Reference.** {first.reference}", "",
                  f"**Set-up.** {first.setup}", "",
                  "| figure | measured | reference | se | tolerance | gap / se | rule | result | note |",
                  "|---|--:|--:|--:|--:|--:|---|---|---|"]
        for row in rows:
            lines.append("| " + " | ".join(_md(c) for c in [row.figure] + _row_cells(row, digits=5)
                                            + [f"**{result_word(row)}**", row.note]) + " |")
    for summary in validation.backtests:
        lines += ["", f"## {BACKTEST_COMPONENT}: {summary['scenario']}", ""]
        lines += [paragraph + "\n" for paragraph in backtest_statistics(summary) + (_acceptance_note(summary),)
                  + backtest_readings(summary, "en")[2:]]
        lines += ["| period | observed ratio | model ratio | unemployment, % |", "|---|--:|--:|--:|"]
        series = summary["series"]
        lines += [f"| {period} | {_ratio(series['observed_ratio'][i])} | {_ratio(series['model_ratio'][i])} | "
                  f"{_ratio(series['unemployment_pct'][i])} |" for i, period in enumerate(series["period"])]
    lines += ["", "## Method", ""] + [paragraph + "\n" for paragraph in METHOD] + [_sizes(validation), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------- writing
def check_report_path(out_path):
    """Refuse, before any work, an output that is not a writable ``.pdf`` path.

    Returns
    -------
    Path
    Raises
    ------
    InputError
    """
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".pdf":
        raise InputError(f"{out_path}: the validation report is a PDF; got suffix '{out_path.suffix}'. "
                         "Name the output like validation.pdf (the Markdown twin is written beside it).")
    check_writable(out_path, out_path.with_suffix(".md"))
    for path in (out_path, out_path.with_suffix(".md")):  # the PDF and its Markdown twin
        if path.is_dir():
            raise InputError(f"{path}: is a directory, and the report writes {out_path.name} and its Markdown twin "
                             f"{out_path.with_suffix('.md').name}. Remove it or give another -o name.")
    return out_path


def write_validation_report(validation, out_path):
    """Write the PDF to ``out_path`` and its Markdown twin beside it (same name, ``.md``); returns the PDF's sections
    in page order.

    Each file is written to a temporary file in its folder and renamed into place, so a failure leaves no partial
    file.
    """
    out_path = check_report_path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sections = []

    def write_pdf(staging):
        with house_style("en"):
            sections.extend(save_pages(staging, validation_pages(validation), title="Model validation",
                                       subject=f"{validation.settings.size} version, seed {validation.settings.seed}"))

    write_file_atomically(out_path, write_pdf)
    write_file_atomically(out_path.with_suffix(".md"),
                      lambda staging: Path(staging).write_text(validation_markdown(validation), encoding="utf-8"))
    return sections
