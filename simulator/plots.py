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


def fan_chart(ax, months, values, label, colour=FAN_COLOUR):
    """Median line with the 5-95% band of ``values`` (paths x months) on ``ax``."""
    p05, p50, p95 = np.nanpercentile(values, [5, 50, 95], axis=0)
    ax.fill_between(months, p05, p95, color=colour, alpha=0.2, linewidth=0, label=f"{label} 5-95%")
    ax.plot(months, p50, color=colour, linewidth=2, label=f"{label} median")
    return ax


def overdue_fan_charts(results):
    """One panel per reported bucket: balance-based overdue rate, median and 5-95% band."""
    months = np.arange(results.scenario.run.horizon_months + 1)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), sharex=True)
    for ax, (bucket, title) in zip(axes, BUCKET_TITLES.items()):
        values = results.series[f"overdue_rate_{bucket}"]
        fan_chart(ax, months, values, results.scenario.name)
        peak = np.median(values[:, 1:].max(axis=1))
        ax.set_title(f"{title}: median peak {peak:.2%}", fontsize=10)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        ax.set_xlabel("month")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("share of outstanding balance")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Overdue rates by bucket", fontsize=12)
    _footnote(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return fig


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
    _footnote(fig, results)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def write_run_plots(results, directory):
    """Write the run's figures as PNG into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in (("overdue_rates", overdue_fan_charts), ("loss_distribution", loss_distribution)):
        fig = make(results)
        fig.savefig(directory / f"{name}.png", dpi=120)
        plt.close(fig)
