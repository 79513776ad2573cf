"""The board pack: pages and sections, charts with data, a page rendered, Chinese, and bad input."""
import io
import json
import re
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

import simulator
from simulator.accounts.metrics import HEADLINE_METRICS, REPORTED_METRICS, TAIL_METRICS, metric_kind
from simulator.accounts.names import metric_name
from simulator.cli import main
from simulator.presentation.labels import shown_name
from simulator.presentation.plots import house_style
from simulator.presentation.report import build_pages
from simulator.workflows.comparison import KEY_SERIES, load_members
from simulator.inputs.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
THEMES = ("overdue", "losses", "provisions", "liquidity", "segments", "actions")


def small(name, seed=5):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(1500).with_run(paths=16, horizon_months=12,
                                                                                seed=seed)


@pytest.fixture(scope="module")
def comparison_dir(tmp_path_factory):
    """A comparison of the baseline and the severe case with management actions, saved without figures."""
    comparison = simulator.compare([small("baseline"), small("severe_with_actions")])
    return comparison.save(tmp_path_factory.mktemp("report") / "cmp", plots=False)


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


def _pdf_sections(path):
    match = re.search(rb"/Keywords \(sections: ([a-z_ ]+)\)", path.read_bytes())
    return match.group(1).decode().split()


def test_board_pack_has_the_cover_every_theme_and_the_appendix(comparison_dir, tmp_path):
    out = tmp_path / "board.pdf"
    result = cli("report", comparison_dir, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5] == b"%PDF-"
    sections = _pdf_sections(out)
    assert _pdf_pages(out) == len(sections)
    assert f"{len(sections)} pages" in result.output
    assert sections[0] == "cover"
    for section in THEMES + ("differences", "appendix_metrics", "appendix_scenario", "appendix_metadata"):
        assert section in sections, section
    assert sections.index("appendix_metrics") > max(sections.index(theme) for theme in THEMES)
    assert sections.count("actions") == 1  # only the scenario with actions gets an actions page


def test_every_theme_page_has_a_chart_with_data_and_a_two_line_reading(comparison_dir):
    members = load_members([comparison_dir])
    with house_style("en") as lang:
        for section, figure in build_pages(members, [comparison_dir], lang):
            if section in THEMES:
                lines = [line for ax in figure.axes for line in ax.get_lines()
                         if len(line.get_ydata()) > 2 and np.isfinite(np.asarray(line.get_ydata(), float)).any()]
                patches = [p for ax in figure.axes for p in ax.patches]
                assert lines or patches, section
                sentences = [t.get_text() for t in figure.texts if t.get_text().endswith(").")
                             or t.get_text().endswith(".")]
                assert len(sentences) >= 2, (section, [t.get_text() for t in figure.texts])
            plt.close(figure)


def test_a_rendered_page_is_not_blank(comparison_dir):
    members = load_members([comparison_dir])
    with house_style("en") as lang:
        pages = dict(build_pages(members, [comparison_dir], lang))
        buffer = io.BytesIO()
        pages["overdue"].savefig(buffer, format="png", dpi=60)
    plt.close("all")
    pixels = matplotlib.image.imread(io.BytesIO(buffer.getvalue()))[:, :, :3]
    inked = (pixels.mean(axis=2) < 0.9).mean()
    coloured = (pixels.std(axis=2) > 0.1).mean()  # the scenario colours, not just black text
    assert inked > 0.02 and coloured > 0.005


def test_cover_shows_the_key_figures_of_each_scenario(comparison_dir):
    members = load_members([comparison_dir])
    with house_style("en") as lang:
        cover = next(build_pages(members, [comparison_dir], lang))[1]
    cells = [cell.get_text().get_text().replace("\n", " ") for table in cover.axes[0].tables
             for cell in table.get_celld().values()]
    for results in members:
        assert shown_name(results.scenario.name) in cells
        peak = results.summary["metrics"]["peak_overdue_rate_90p"]["mean"]
        assert any(cell.startswith(f"{peak:.2%}") for cell in cells)
    plt.close("all")


def test_report_in_chinese(comparison_dir, tmp_path):
    out = tmp_path / "board_zh.pdf"
    result = cli("report", comparison_dir, "-o", out, "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    assert _pdf_pages(out) == len(_pdf_sections(out))


def test_comparison_workbook_is_formatted_for_a_finance_reader(comparison_dir):
    """Read back with openpyxl: sheet order, the headline in the documented order with VaR and ES, each cell's number
    format by the metric's unit, frozen headers, widths that fit the names; the long sheets still read into pandas
    as the CSV."""
    workbook = openpyxl.load_workbook(comparison_dir / "comparison.xlsx")
    names = ["baseline", "severe_with_actions"]
    assert workbook.sheetnames == ["read me", "headline", *(label for label, _ in KEY_SERIES.values()),
                                   "differences", "differences by segment", *(f"series {n}" for n in names)]
    headline = workbook["headline"]
    header = [cell.value for cell in headline[1]]
    assert header == ["metric", "unit", "key", *names, *(f"se {n}" for n in names)]
    keys = [row[2].value for row in headline.iter_rows(min_row=2)]
    assert keys == [m for m in REPORTED_METRICS if m in keys] and set(TAIL_METRICS) <= set(keys)
    assert set(HEADLINE_METRICS) - set(keys) <= {"survival_horizon_months"}  # kept when any run has it
    expected_format = {"rate": "0.00%", "probability": "0.0%", "money": "#,##0", "count": "#,##0", "months": "0.0"}
    summary = json.loads((comparison_dir / "runs" / "baseline" / "summary.json").read_text(encoding="utf-8"))
    for row in headline.iter_rows(min_row=2):
        metric, value = row[2].value, row[3]
        assert row[0].value == metric_name(metric)
        if value.value is not None:
            assert value.number_format == expected_format[metric_kind(metric)], metric
            stats = summary["metrics"][metric]
            assert value.value == pytest.approx(stats["value" if metric in TAIL_METRICS else "mean"], rel=1e-12)
    assert headline["B2"].value == "%" and headline.freeze_panes == "B2"
    assert headline.column_dimensions["A"].width >= max(len(metric_name(k)) for k in keys)
    overdue = workbook[KEY_SERIES["overdue_rate_90p"][0]]
    assert [cell.value for cell in overdue[1]][:3] == ["month", "baseline mean", "baseline 5th pct"]
    assert overdue["B2"].number_format == "0.00%" and overdue.freeze_panes == "A2"
    assert [overdue.cell(row=k + 2, column=1).value for k in range(13)] == list(range(13))
    provisions = workbook[KEY_SERIES["provision_requirement"][0]]
    assert provisions["B3"].number_format == "#,##0"
    differences = workbook["differences"]
    assert differences.freeze_panes == "B2" and all(cell.font.bold for cell in differences[1])
    read_me = [row[0].value for row in workbook["read me"].iter_rows(min_row=2)]
    assert {"headline", "differences", "units"} <= set(read_me)
    sheets = pd.read_excel(comparison_dir / "comparison.xlsx", sheet_name=None)
    table = pd.read_csv(comparison_dir / "comparison.csv")
    pd.testing.assert_frame_equal(sheets["differences"][table.columns], table, check_dtype=False)


# --------------------------------------------------------------------- bad input
def test_missing_run_directory_is_refused(tmp_path):
    result = cli("report", tmp_path / "nowhere", "-o", tmp_path / "board.pdf")
    assert result.exit_code == 2
    assert "nowhere: not found" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "board.pdf").exists()


def test_a_directory_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    result = cli("report", tmp_path / "empty", "-o", tmp_path / "board.pdf")
    assert result.exit_code == 2 and "not a run, comparison, ECL, sensitivity or reverse stress directory" in result.output


def test_unwritable_output_is_refused_and_nothing_is_left(comparison_dir, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = cli("report", comparison_dir, "-o", blocker / "board.pdf")
    assert result.exit_code == 2 and "cannot be written" in result.output
    result = cli("report", comparison_dir, "-o", tmp_path / "board.png")
    assert result.exit_code == 2 and "the board pack is a PDF" in result.output
    assert list(tmp_path.iterdir()) == [blocker]


def test_runs_of_different_seeds_are_refused_unless_asked(tmp_path):
    dirs = []
    for seed in (1, 2):
        dirs.append(simulator.run(small("baseline", seed).model_copy(update={"name": f"base{seed}"})).save(
            tmp_path / f"run{seed}", plots=False))
    result = cli("report", *dirs, "-o", tmp_path / "board.pdf")
    assert result.exit_code == 2 and "seed 2 instead of 1" in result.output
    assert not (tmp_path / "board.pdf").exists()
    result = cli("report", *dirs, "-o", tmp_path / "board.pdf", "--allow-different")
    assert result.exit_code == 0, result.output
    assert "differences" not in _pdf_sections(tmp_path / "board.pdf")


def test_compare_refuses_an_unwritable_out_before_running(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = cli("compare", SCENARIOS / "baseline.yaml", SCENARIOS / "adverse.yaml", "--out", blocker / "cmp")
    assert result.exit_code == 2 and "cannot be written" in result.output
