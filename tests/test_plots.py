"""The house figures: data in every chart, titles that state the numbers, fixed colours, PNG/SVG, Chinese labels."""
import re
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

import simulator
from simulator.accounts.names import READABLE_NAMES
from simulator.presentation import labels, plots
from simulator.inputs.loader import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
FIGURE_NAMES = ("overdue_rates", "loss_distribution", "provisions", "liquidity")


def small(name):
    return load_scenario(SCENARIOS / f"{name}.yaml").with_loans(1500).with_run(paths=16, horizon_months=12, seed=5)


@pytest.fixture(scope="module")
def comparison():
    return simulator.compare([small("baseline"), small("severe")])


@pytest.fixture(scope="module")
def single(comparison):
    return comparison.members[1]


def _lines_with_data(axes):
    return [line for ax in axes for line in ax.get_lines() if np.isfinite(np.asarray(line.get_ydata(), float)).any()
            and len(line.get_ydata()) > 2]


@pytest.mark.parametrize("name", FIGURE_NAMES)
def test_every_figure_draws_data_for_every_scenario(comparison, name):
    axes = getattr(comparison.plot, name)()
    colours = {line.get_color() for line in _lines_with_data(axes)}
    if name != "loss_distribution":  # the loss figure draws histograms and vertical markers, not paths
        assert {plots.scenario_colour("baseline"), plots.scenario_colour("severe")} <= colours
    else:
        assert sum(len(ax.patches) for ax in axes) >= 2
    plt.close("all")


def test_overdue_title_states_the_peak_of_the_drawn_median_line(comparison):
    """The title quotes the highest point of the month-by-month median over paths (the line drawn), not the median
    of each path's peak (a different statistic, which the line does not show)."""
    baseline, severe = comparison.members
    axes = comparison.plot.overdue_rates()
    title = axes[0].figure.get_suptitle()
    for results in (baseline, severe):
        peak = np.median(results.series["overdue_rate_90p"], axis=0).max()
        assert f"{peak:.2%}" in title
    assert "severe" in title and "baseline" in title
    plt.close("all")


def test_loss_title_states_the_mean_and_99_percent_var(single):
    axes = single.plot.loss_distribution()
    losses = np.sort(single.series["cumulative_loss_rate"][:, -1])
    var_99 = losses[int(np.ceil(0.99 * len(losses))) - 1]
    title = axes[0].figure.get_suptitle()
    assert f"{losses.mean():.2%}" in title and f"{var_99:.2%}" in title
    plt.close("all")


def test_scenario_colours_are_the_same_in_every_figure(comparison):
    severe = plots.scenario_colour("severe")
    for name in ("overdue_rates", "provisions", "liquidity"):
        axes = getattr(comparison.plot, name)()
        assert severe in {line.get_color() for line in _lines_with_data(axes)}
        plt.close("all")
    assert plots.scenario_colour("my_scenario") == plots.scenario_colour("my_scenario")
    assert plots.scenario_colour("my_scenario") in plots.PALETTE


def test_rate_axes_are_in_percent_and_money_axes_in_millions(single):
    overdue = single.plot.overdue_rates()
    assert overdue[0].yaxis.get_major_formatter()(0.05, 0).endswith("%")
    liquidity = single.plot.liquidity()
    assert liquidity[0].yaxis.get_major_formatter()(2.5e6, 0) == "2.5 m"
    assert single.scenario.portfolio.currency in liquidity[0].get_ylabel()
    plt.close("all")


def test_footnote_names_scenario_seed_paths_and_loans(single):
    figure = single.plot.overdue_rates()[0].figure
    footnote = " ".join(t.get_text() for t in figure.texts)
    assert f"seed {single.seed}" in footnote and "16 paths" in footnote and "1,500 loans" in footnote
    assert "severe" in footnote
    plt.close("all")


def test_figures_are_written_as_png_and_svg(comparison, tmp_path):
    plots.write_figures(comparison.members, tmp_path)
    for name in FIGURE_NAMES:
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:600]


def test_action_effects_only_for_a_run_with_actions(single):
    with pytest.raises(ValueError, match="management actions"):
        single.plot.action_effects()


# --------------------------------------------------------------------- Chinese labels
def _is_cjk(character):
    """CJK ideographs, CJK punctuation and full-width forms."""
    code = ord(character)
    return 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF


def _covered(font_path, characters):
    charmap = FT2Font(str(font_path)).get_charmap()
    return {c for c in characters if ord(c) in charmap}


def test_zh_figure_text_is_drawn_with_a_cjk_font_without_missing_glyphs(comparison):
    """Every character of every label is in the CJK font chosen, and drawing emits no missing-glyph warning."""
    with plots.house_style("zh") as lang:
        assert lang == "zh"
        family = plt.rcParams["font.family"][-1]
        figure = plots.overdue_rates(comparison.members, lang)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)" before drawing a box
            figure.canvas.draw()
    assert family == plots.cjk_font()
    cjk_path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    latin_path = font_manager.findfont(font_manager.FontProperties(family=plots.LATIN_FAMILY))
    texts = [t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")) if t.get_text()]
    drawn = {c for t in texts for c in t if not c.isspace()}
    chinese = {c for c in drawn if _is_cjk(c)}
    assert chinese, "the zh figure has no Chinese text"
    assert _covered(cjk_path, chinese) == chinese
    assert _covered(cjk_path, drawn) | _covered(latin_path, drawn) == drawn
    plt.close("all")


def test_zh_falls_back_to_english_with_a_warning_when_no_cjk_font(comparison, monkeypatch):
    monkeypatch.setattr(plots, "cjk_font", lambda: None)
    with pytest.warns(plots.FontFallbackWarning, match="labels are in English"):
        axes = comparison.plot.overdue_rates(lang="zh")
    assert re.fullmatch(r"[\x00-\x7f]+", axes[0].figure.get_suptitle())
    plt.close("all")


def test_the_shipped_font_draws_every_chinese_label():
    """The subset font covers every CJK character of the Chinese labels, and it or the Latin font every other
    character (so a new label cannot silently draw boxes)."""
    drawn = {c for table in (labels.TEXTS, READABLE_NAMES, labels.PARAMETER_LABELS)
             for zh in [v[1] for v in table.values()] for c in zh if not c.isspace()}
    chinese = {c for c in drawn if _is_cjk(c)}
    latin_path = font_manager.findfont(font_manager.FontProperties(family=plots.LATIN_FAMILY))
    assert _covered(plots.SHIPPED_CJK_FONT, chinese) == chinese
    assert _covered(plots.SHIPPED_CJK_FONT, drawn) | _covered(latin_path, drawn) == drawn
