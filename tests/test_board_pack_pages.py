"""Every page of the board pack, in English and Chinese, for the kinds of directory a pack is built from: a comparison
(baseline, severe, severe with actions), an ``ecl`` run, a reverse stress test, a sensitivity, and the calibration
report. Small runs (16 paths, 1,500 loans, 12 months), built once per module.

Each page is drawn and checked for what a reader would be misled or lose by: text outside the page or outside its
table cell (matplotlib's window extents), a headline metric missing from the appendix, a title whose number is not
the statistic of the line drawn under it, and (Chinese) a metric name left in English.
"""
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.table import Table
from matplotlib.text import Text

import simulator
from simulator.accounts.metrics import REPORTED_METRICS, TAIL_METRICS
from simulator.accounts.names import READABLE_NAMES
from simulator.inputs.loader import load_scenario, load_scenario_set
from simulator.presentation.labels import metric_label
from simulator.presentation.plots import house_style, line_extreme
from simulator.presentation.report import backtest_readings, build_pages, calibration_pages, findings, pack_inputs
from simulator.workflows.calibration import calibrate
from simulator.workflows.reverse import reverse_stress
from simulator.workflows.sensitivity import sensitivity
from simulator.workflows.weighted import run_weighted

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PATHS, LOANS, MONTHS = 16, 1500, 12
SLACK = 1.0
"""Pixels a text may pass its page or cell by (antialiasing of the extents)."""


def small(scenario):
    return scenario.with_loans(LOANS).with_run(paths=PATHS, horizon_months=MONTHS, seed=5)


@pytest.fixture(scope="module")
def directories(tmp_path_factory):
    """One directory of each kind a pack is built from."""
    root = tmp_path_factory.mktemp("packs")
    compared = simulator.compare([small(load_scenario(SCENARIOS / f"{name}.yaml"))
                                  for name in ("baseline", "severe", "severe_with_actions")])
    spec, members = load_scenario_set(SCENARIOS / "ifrs9_weighted.yaml")
    weighted = run_weighted(spec, [small(m) for m in members])
    reverse = reverse_stress(small(load_scenario(SCENARIOS / "baseline.yaml")), "cumulative_loss_rate>0.3",
                             shocks_from=load_scenario(SCENARIOS / "severe.yaml"), tolerance=0.2)
    moved = sensitivity(small(load_scenario(SCENARIOS / "severe.yaml")), params=["macro.shocks.unemployment"],
                        paths=PATHS)
    return {"compare": [compared.save(root / "compare", plots=False)],
            "ecl": [weighted.save(root / "ecl", plots=False)],
            "reverse": [reverse.save(root / "reverse", plots=False)],
            "sensitivity": [moved.save(root / "sensitivity", plots=False)]}


@pytest.fixture(scope="module")
def calibration():
    return calibrate(SCENARIOS / "sample_history.parquet", SCENARIOS / "sample_history_macro.csv",
                     n_replicates=10).figures()


def drawn_pages(dirs, lang):
    """``[(section, figure)]`` of the pack of ``dirs``, drawn (the caller closes them)."""
    with house_style(lang) as used:
        pages = list(build_pages(lang=used, **pack_inputs(dirs)))
        for _, fig in pages:
            fig.canvas.draw()
    return pages


def texts_of(fig):
    """Every visible, non-empty text of a drawn figure (titles, labels, ticks, legends, table cells), without the
    labels of ticks outside the axes' view, which matplotlib keeps but does not draw."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            margin = 1e-9 * max(1.0, abs(high - low))
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - margin <= tick.get_loc() <= high + margin:
                    hidden.update((id(tick.label1), id(tick.label2)))
    found = [t for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.figure is fig and id(t) not in hidden]
    cells = [cell.get_text() for table in fig.findobj(Table) for cell in table.get_celld().values()]
    return found + [t for t in cells if t.get_text().strip()]


def outside(fig):
    """Texts that leave the page, and table-cell texts wider than their cell."""
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    found = []
    for t in texts_of(fig):
        box = t.get_window_extent(renderer)
        if box.x0 < page.x0 - SLACK or box.x1 > page.x1 + SLACK or box.y0 < page.y0 - SLACK or \
                box.y1 > page.y1 + SLACK:
            found.append(("page", t.get_text()))
    for table in fig.findobj(Table):
        for cell in table.get_celld().values():
            text, box = cell.get_text(), cell.get_window_extent(renderer)
            if not text.get_text().strip():
                continue
            extent = text.get_window_extent(renderer)
            if extent.width > box.width + SLACK or extent.height > box.height + SLACK:
                found.append(("cell", text.get_text()))
    return found


KINDS = ("compare", "ecl", "reverse", "sensitivity")


@pytest.fixture(scope="module", params=[(kind, lang) for kind in KINDS for lang in ("en", "zh")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def pack(request, directories):
    kind, lang = request.param
    pages = drawn_pages(directories[kind], lang)
    yield kind, lang, pages
    for _, fig in pages:
        plt.close(fig)


def test_no_text_leaves_its_page_or_cell(pack):
    kind, lang, pages = pack
    problems = [(k + 1, section, where, words[:60]) for k, (section, fig) in enumerate(pages)
                for where, words in outside(fig)]
    assert not problems, problems


def test_every_reported_metric_is_in_the_appendix(pack, directories):
    """Every metric of summary.json that any run has (a statistic, not null) is a row of the appendix."""
    kind, lang, pages = pack
    members = pack_inputs(directories[kind])["members"]
    shown = {t.get_text() for section, fig in pages if section == "appendix_metrics" for t in texts_of(fig)}
    expected = {metric_label(m, lang) for m in REPORTED_METRICS
                if any(r.summary["metrics"][m].get("value" if m in TAIL_METRICS else "mean") is not None
                       for r in members)}
    assert expected and not expected - shown, expected - shown


def test_the_findings_page_and_the_ecl_page_are_there(pack):
    kind, lang, pages = pack
    sections = [section for section, _ in pages]
    assert sections[:2] == ["cover", "findings"]
    assert ("weighted_ecl" in sections) == (kind == "ecl")
    assert ("reverse" in sections) == (kind == "reverse")
    assert "appendix_scenario" in sections


def _percent_numbers(title):
    return [float(x) / 100 for x in re.findall(r"(-?\d+\.\d+)%", title)]


def test_overdue_titles_quote_the_peak_of_the_drawn_median_line(pack):
    """Each panel's title quotes the highest median line drawn in it (the lines' own maximum); the reading below
    quotes the same number for 90+."""
    kind, lang, pages = pack
    fig = next(fig for section, fig in pages if section == "overdue")
    for ax in fig.axes:
        lines = [line for line in ax.get_lines() if line.get_linewidth() >= 2]
        highest = max(line_extreme(line.get_ydata())[0] for line in lines)
        (quoted,) = _percent_numbers(ax.get_title())
        assert quoted == pytest.approx(round(highest, 4), abs=5e-5), ax.get_title()
    readings = " ".join(t.get_text() for t in texts_of(fig))
    assert f"{max(line_extreme(l.get_ydata())[0] for l in fig.axes[2].get_lines() if l.get_linewidth() >= 2):.2%}" \
        in readings


def test_provision_title_quotes_the_drawn_line_and_the_reading_the_cover(pack):
    kind, lang, pages = pack
    by_section = dict(pages)
    stock, coverage = by_section["provisions"].axes[:2]
    lowest = min(line_extreme(line.get_ydata(), lowest=True)[0] for line in coverage.get_lines()
                 if line.get_linewidth() >= 2)
    assert f"{lowest:.0%}" in coverage.get_title()
    cover_cells = {t.get_text() for t in texts_of(by_section["cover"])}
    reading = " ".join(t.get_text() for t in texts_of(by_section["provisions"]))
    quoted = [cell for cell in cover_cells if cell and cell in reading and any(ch.isdigit() for ch in cell)]
    assert quoted, "the provisions reading quotes no figure of the cover"


def test_chinese_pages_name_no_metric_in_english(directories):
    pages = drawn_pages(directories["compare"], "zh")
    english = {en for en, zh in READABLE_NAMES.values() if en != zh and len(en) > 6}
    try:
        for section, fig in pages:
            for t in texts_of(fig):
                words = t.get_text()
                assert not any(name in words for name in english), (section, words)
                assert not any(key in words for key in READABLE_NAMES), (section, words)  # no snake_case metric
    finally:
        for _, fig in pages:
            plt.close(fig)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_calibration_report_pages_keep_their_text_inside(calibration, lang):
    with house_style(lang) as used:
        pages = list(calibration_pages(calibration, used))
    try:
        for section, fig in pages:
            fig.canvas.draw()
            assert not outside(fig), (section, outside(fig))
    finally:
        for _, fig in pages:
            plt.close(fig)


# --------------------------------------------------------------------- the findings, from known numbers
def run_numbers(name, loss, var, provision, liquidity=0.0, month=None, coverage=0.0, loans=0.0, capital=0.0,
                actions=None, failure=0.0):
    return {"name": name, "currency": "CNY", "months": 36, "loss": loss, "var_99": var, "peak_provision": provision,
            "coverage_breach": coverage, "loan_provision_breach": loans, "capital_breach": capital, "funded": True,
            "liquidity_breach": liquidity, "survival_month": month, "failure": failure, "actions": actions}


def test_findings_say_what_breaks_when_and_what_actions_buy():
    runs = [run_numbers("baseline", 0.15, 0.18, 3_800_000),
            run_numbers("severe", 0.24, 0.27, 6_700_000, liquidity=1.0, month=7.0, failure=0.125),
            run_numbers("severe_with_actions", 0.15, 0.17, 4_750_000, liquidity=0.25, month=6.0, loans=0.09,
                        actions={"loss": -0.0903, "loss_se": 0.0003, "cost": 1_126_164, "profit": 8_574_933})]
    assert findings(runs) == [
        "severe loses 24.00% of the opening book over 36 months on average, against 15.00% in baseline; 1 path in "
        "100 loses more than 27.00%.",
        "What breaks: in severe cash reaches its floor on 100% of paths, in month 7.0 on average (the lender fails "
        "on 12.5%); in severe with actions cash reaches its floor on 25% of paths, in month 6.0 on average (the "
        "lender fails on 0.0%); in severe with actions the loan-provision ratio falls below its floor on 9% of paths.",
        "The provision need peaks at 6,700,000 CNY on average in severe, against 3,800,000 CNY in baseline.",
        "The management actions in severe with actions change the cumulative loss by -9.03 points (se 0.03) at a "
        "cost of 1,126,164 CNY; cumulative profit changes by +8,574,933 CNY."]


def test_findings_say_when_nothing_breaks_and_use_wan_yuan_in_chinese():
    runs = [run_numbers("baseline", 0.15, 0.18, 3_800_000)]
    english = findings(runs)
    assert english[1] == ("Nothing breaks: the liquidity buffer, the provision floors and the capital floor hold on "
                          "every path of every scenario.")
    assert english[2] == "The provision need peaks at 3,800,000 CNY on average in baseline."
    assert findings(runs, "zh")[2] == "基准情景拨备要求峰值平均为380万元。"


# --------------------------------------------------------------------- the back-test pack
@pytest.fixture(scope="module")
def backtest_directory(tmp_path_factory):
    """The US card book's back-test as its scenario names it, at a small size (its fit is not what is checked)."""
    from simulator.workflows.backtest import scenario_backtest
    done = scenario_backtest(SCENARIOS / "us_card_2007.yaml", paths=2, loans=LOANS, seed=5)
    return [done.save(tmp_path_factory.mktemp("backtest") / "bt")]


@pytest.fixture(scope="module", params=["en", "zh"])
def backtest_pack(request, backtest_directory):
    pages = drawn_pages(backtest_directory, request.param)
    yield request.param, pages
    for _, fig in pages:
        plt.close(fig)


def test_backtest_pack_pages_keep_their_text_inside(backtest_pack):
    lang, pages = backtest_pack
    assert [section for section, _ in pages] == ["cover", "backtest", "appendix_backtest", "appendix_metadata"]
    problems = [(k + 1, section, where, words[:60]) for k, (section, fig) in enumerate(pages)
                for where, words in outside(fig)]
    assert not problems, problems


def test_backtest_pack_quotes_backtest_json(backtest_pack, backtest_directory):
    """The cover, the back-test page's tables and its reading quote the statistics of backtest.json, one number one
    meaning: the peak ratios, the end ratios, the mean absolute ratio error and each criterion's value and limit."""
    import json
    lang, pages = backtest_pack
    summary = json.loads((backtest_directory[0] / "backtest.json").read_text())
    by_section = dict(pages)
    cover = {t.get_text() for t in texts_of(by_section["cover"])}
    for side in ("observed", "model"):
        assert f"{summary[side]['peak_ratio']:.2f}x ({summary[side]['peak_period']})" in cover
        assert f"{summary[side]['end_ratio']:.2f}x" in cover
    assert f"{summary['mean_abs_ratio_error']:.3f}" in cover
    page = [t.get_text() for t in texts_of(by_section["backtest"])]
    words = " ".join(page)
    reading = "".join(t.get_text() for t in by_section["backtest"].texts if t.get_fontsize() == 11)
    assert reading.replace(" ", "") == "".join(backtest_readings(summary, lang)).replace(" ", "")
    for side in ("observed", "model"):
        assert f"{summary[side]['peak_ratio']:.2f}" in page and summary[side]["peak_period"] in page
        assert f"{summary[side]['peak_ratio']:.2f}" in reading and f"{summary[side]['end_ratio']:.2f}" in reading
    assert f"{summary['mean_abs_ratio_error']:.3f}" in page and f"{summary['mean_abs_ratio_error']:.3f}" in reading
    criteria = summary["acceptance"]["criteria"]
    assert len(criteria) == 3
    for row in criteria:
        assert (f"{row['value']:.2f}" if isinstance(row["value"], float) else str(row["value"])) in page
    passed = sum(row["passed"] for row in criteria)
    assert (f"{passed} of 3 criteria pass" if lang == "en" else f"3项中{passed}项通过") in words
    english = {"observed", "peak ratio", "criterion", "What it does not show", "unemployment"}
    if lang == "zh":
        for section, fig in pages:
            if section in ("cover", "backtest"):
                assert not [t.get_text() for t in texts_of(fig) if any(w in t.get_text() for w in english)], section
