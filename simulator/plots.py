"""Figures of a run: overdue-rate fan charts and the cumulative loss distribution.

Only this module (and later the report) imports matplotlib; it uses the
non-interactive Agg backend so it works on machines without a screen.
"""
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from .metrics import value_at_risk  # noqa: E402

BUCKET_TITLES = {"1_30": "1-30 days past due", "31_90": "31-90 days past due", "90p": "90+ days past due"}
FAN_COLOUR = "#1f4e79"


def _footnote(fig, results):
    run = results.scenario.run
    fig.text(0.01, 0.01, f"scenario {results.scenario.name} | seed {run.seed} | {run.paths} paths | "
             f"{results.n_loans} loans | {date.today().isoformat()}", fontsize=7, color="0.4")


def _finish(fig, results, top=1.0):
    """House finish of a run figure: the footnote and a tight layout that leaves room for it."""
    _footnote(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, top))
    return fig


def fan_chart(ax, months, values, label, colour=FAN_COLOUR):
    """Median line with the 5-95% band of ``values`` (paths x months) on ``ax``."""
    p05, p50, p95 = np.nanpercentile(values, [5, 50, 95], axis=0)
    ax.fill_between(months, p05, p95, color=colour, alpha=0.2, linewidth=0, label=f"{label} 5-95%")
    ax.plot(months, p50, color=colour, linewidth=2, label=f"{label} median")
    return ax


def _rate_axis(ax):
    """An overdue-rate panel: percent y axis from zero, months on x, light grid."""
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel("month")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def overdue_fan_charts(results):
    """One panel per reported bucket: balance-based overdue rate, median and 5-95% band."""
    months = np.arange(results.scenario.run.horizon_months + 1)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True)
    for ax, (bucket, title) in zip(axes, BUCKET_TITLES.items()):
        values = results.series[f"overdue_rate_{bucket}"]
        fan_chart(ax, months, values, results.scenario.name)
        peak = np.median(values[:, 1:].max(axis=1))
        ax.set_title(f"{title}: median peak {peak:.2%}", fontsize=10)
        _rate_axis(ax)
    axes[0].set_ylabel("share of outstanding balance")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Overdue rates by bucket", fontsize=12)
    return _finish(fig, results, top=0.97)


def loss_distribution(results):
    """Histogram of the cumulative loss rate across paths with the 99% and 99.9% VaR marked."""
    losses = results.headline["cumulative_loss_rate"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.hist(losses, bins=min(60, max(10, len(losses) // 10)), color=FAN_COLOUR, alpha=0.7)
    for level, style in ((0.99, "--"), (0.999, ":")):
        var = value_at_risk(losses, level)
        ax.axvline(var, color="#c00000", linestyle=style, label=f"VaR {level:.1%}: {var:.2%}")
    ax.axvline(losses.mean(), color="black", label=f"mean: {losses.mean():.2%}")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
    ax.set_xlabel(f"cumulative net credit loss over {results.scenario.run.horizon_months} months, "
                  "share of opening balance")
    ax.set_ylabel("paths")
    ax.set_title(f"Credit loss distribution: mean {losses.mean():.2%}, 99% VaR {value_at_risk(losses, 0.99):.2%}",
                 fontsize=11)
    ax.legend(fontsize=8)
    return _finish(fig, results)


STAGE_COLOURS = ("#9dc3e6", "#f4b183", "#c00000")


def provision_charts(results):
    """Provision stock by IFRS 9 stage (medians, stacked) against the five-category minimum, and the coverage ratio."""
    months = np.arange(results.scenario.run.horizon_months + 1)
    series = results.series
    fig, (stock, coverage) = plt.subplots(1, 2, figsize=(13, 4.2))
    medians = [np.median(series[f"ecl_stage_{k}"], axis=0) for k in (1, 2, 3)]
    stock.stackplot(months, *medians, colors=STAGE_COLOURS, labels=["Stage 1", "Stage 2", "Stage 3"], alpha=0.9)
    stock.plot(months, np.median(series["five_category_minimum"], axis=0), color="black", linestyle="--",
               label="five-category minimum")
    peak = np.median(results.headline["peak_provision_requirement"])
    stock.set_title(f"Provision requirement peaks at {peak:,.0f} {results.scenario.portfolio.currency} (median)",
                    fontsize=10)
    stock.set_ylabel(f"provision stock, {results.scenario.portfolio.currency}")
    stock.legend(fontsize=8, loc="upper left")
    fan_chart(coverage, months[1:], series["coverage_ratio"][:, 1:], results.scenario.name)
    floor = results.scenario.provisioning.five_category.coverage_floor_pct / 100.0
    coverage.axhline(floor, color="#c00000", linestyle="--", label=f"regulatory floor {floor:.0%}")
    low = np.nanmedian(results.headline["min_coverage_ratio"])
    coverage.set_title(f"Provision coverage ratio: lowest {low:.0%} (median path)", fontsize=10)
    coverage.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    coverage.set_ylabel("provisions / NPL")
    coverage.legend(fontsize=8)
    for ax in (stock, coverage):
        ax.set_xlabel("month")
        ax.grid(alpha=0.3)
    return _finish(fig, results)


def liquidity_chart(results):
    """Liquidity buffer fan chart with zero and the median survival horizon marked."""
    months = np.arange(results.scenario.run.horizon_months + 1)
    buffer = results.series["liquidity_buffer"]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    fan_chart(ax, months, buffer, results.scenario.name)
    ax.axhline(0.0, color="black", linewidth=0.8)
    survival = results.headline["survival_horizon_months"]
    breached = results.headline["liquidity_breached"].mean()
    horizon = results.scenario.run.horizon_months
    if breached > 0:
        median_survival = np.median(survival)
        if median_survival <= horizon:
            ax.axvline(median_survival, color="#c00000", linestyle="--",
                       label=f"median survival horizon: month {median_survival:.0f}")
        title = f"Liquidity buffer runs out on {breached:.0%} of paths"
    else:
        title = f"Liquidity buffer stays positive on every path over {horizon} months"
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("month")
    ax.set_ylabel(f"liquidity buffer, {results.scenario.portfolio.currency}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _finish(fig, results)


def action_effect_chart(results):
    """Overdue rates with and without the scenario's actions (medians and 5-95% bands, common random numbers)."""
    months = np.arange(results.scenario.run.horizon_months + 1)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharex=True)
    for ax, bucket in zip(axes, ("1_30", "90p")):
        name = f"overdue_rate_{bucket}"
        fan_chart(ax, months, results.counterfactual.series[name], "without actions", colour="#7f7f7f")
        fan_chart(ax, months, results.series[name], "with actions", colour=FAN_COLOUR)
        effect = results.action_effects[f"peak_overdue_rate_{bucket}"]
        ax.set_title(f"{BUCKET_TITLES[bucket]}: peak {effect['difference'] * 100:+.2f} points with actions "
                     f"(se {effect['se'] * 100:.3f})", fontsize=10)
        _rate_axis(ax)
    axes[0].set_ylabel("share of outstanding balance")
    axes[0].legend(fontsize=8, loc="upper left")
    return _finish(fig, results)


RUN_FIGURES = (("overdue_rates", overdue_fan_charts), ("loss_distribution", loss_distribution),
               ("provisions", provision_charts), ("liquidity_buffer", liquidity_chart))


def weighted_ecl_chart(weighted):
    """Mean IFRS 9 ECL per scenario over the horizon and the probability-weighted path."""
    table = weighted.timeseries
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for name, rows in table.groupby("scenario", sort=False):
        is_weighted = name == "weighted"
        label = "probability-weighted" if is_weighted else f"{name} ({rows['weight'].iloc[0]:.0%})"
        ax.plot(rows["month"], rows["ifrs9_ecl"], linewidth=3 if is_weighted else 1.5,
                color="black" if is_weighted else None, label=label)
    total = weighted.reporting_date["weighted_ecl"]["total"]
    currency = weighted.members[0].scenario.portfolio.currency
    ax.set_title(f"Probability-weighted ECL today: {total:,.0f} {currency}", fontsize=11)
    ax.set_xlabel("month")
    ax.set_ylabel(f"IFRS 9 ECL, {currency} (mean over paths)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def comparison_chart(comparison):
    """Median overdue rate per bucket for each compared scenario (common random numbers)."""
    first = comparison.members[0]
    months = np.arange(first.scenario.run.horizon_months + 1)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True)
    for ax, (bucket, title) in zip(axes, BUCKET_TITLES.items()):
        for results in comparison.members:
            ax.plot(months, np.median(results.series[f"overdue_rate_{bucket}"], axis=0), linewidth=2,
                    label=results.scenario.name)
        ax.set_title(title, fontsize=10)
        _rate_axis(ax)
    axes[0].set_ylabel("share of outstanding balance (median path)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Overdue rates by scenario, common random numbers", fontsize=12)
    return _finish(fig, first, top=0.95)


def save_figure(fig, path):
    """Save ``fig`` as PNG at ``path`` (folders created) and release it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_run_plots(results, directory):
    """Write the run's figures as PNG into ``directory`` (with the action effects when there are actions)."""
    for name, make in RUN_FIGURES:
        save_figure(make(results), Path(directory) / f"{name}.png")
    if results.counterfactual is not None:
        save_figure(action_effect_chart(results), Path(directory) / "action_effects.png")
