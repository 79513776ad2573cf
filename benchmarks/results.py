"""Re-measure the shipped scenarios and rewrite the results table of ``docs/results.md``.

Runs each shipped scenario with ``simulate run`` (its own settings: 1,000 paths x
20,000 loans x 36 months, seed 20261128, unless ``--paths`` says otherwise) and the
IFRS 9 scenario set with ``simulate ecl``, in child processes of this checkout, and
replaces the part of the page between its ``results:begin`` and ``results:end``
markers with the table, stamped with the date, the machine (CPU model, cores) and
the commit. The readings below the table are prose: check them against the new
figures by hand.

    python benchmarks/results.py                 # the published figures (about 10 minutes on 2 cores)
    python benchmarks/results.py --paths 16      # a quick check that it all runs (the page says 16 paths)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "results.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

SCENARIOS = ("baseline", "adverse", "severe", "covid_shock", "roll_rate_example", "tape_example",
             "severe_with_actions", "collections", "restructuring", "underwriting", "high_risk_lending")
"""The scenarios of the table, in its order (the shipped single scenarios)."""
SCENARIO_SET = "ifrs9_weighted"


def simulate(*args):
    """Run ``simulate ARGS`` on this checkout in a child process (fails loudly)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-m", "simulator.cli", *args], check=True, cwd=ROOT, env=env)


def machine():
    """CPU model and core count, e.g. ``Intel(R) Xeon(R) ... , 2 cores``."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        model = names[0] if names else model
    return f"{model}, {os.cpu_count()} cores"


def commit():
    """The checkout's commit (with ``+changes`` when the tree is not clean)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def pct(value, decimals=2):
    return f"{100 * value:.{decimals}f}%"


def row(name, summary):
    """One line of the table from a run's ``summary.json``."""
    metrics = summary["metrics"]

    def mean(key):
        return metrics[key]["mean"]

    def spread(key, decimals):
        return (f"{pct(mean(key), decimals)} ({100 * metrics[key]['p05']:.{decimals}f}-"
                f"{pct(metrics[key]['p95'], decimals)})")

    breached = mean("liquidity_breached")
    if breached == 0:
        liquidity = "never"
    elif breached < 1:
        liquidity = f"{pct(breached, 1)} of paths"
    else:
        first, last = (round(metrics["survival_horizon_months"][key]) for key in ("p05", "p95"))
        liquidity = f"every path, month {first}" + (f"-{last}" if last != first else "")
    failure = pct(mean("failure_probability"), 1)
    capital = pct(mean("min_capital_ratio"), 1)
    if mean("capital_floor_breached") > 0:
        capital += f" ({100 * mean('capital_floor_breached'):.0f}% breach)"
    cells = [name, spread("peak_overdue_rate_90p", 2), pct(mean("final_overdue_rate_90p")),
             pct(mean("m1_collection_rate"), 1), spread("cumulative_loss_rate", 1),
             f"{pct(metrics['loss_var_99']['value'], 1)} / {pct(metrics['loss_es_99']['value'], 1)}",
             f"{mean('peak_provision_requirement') / 1e6:.2f} m", liquidity, failure, capital]
    return "| " + " | ".join(cells) + " |"


def standard_errors(summaries):
    """The range of the Monte Carlo standard errors of the table's key means, over the scenarios."""
    def span(key, scale, unit):
        errors = [summary["metrics"][key]["se"] * scale for summary in summaries]
        return f"{min(errors):.3f}-{max(errors):.3f}{unit}"
    return (f"Monte Carlo standard errors of the means: {span('peak_overdue_rate_90p', 100, ' points')} for the "
            f"peak 90+ rate, {span('cumulative_loss_rate', 100, ' points')} for the loss, "
            f"{span('peak_provision_requirement', 1e-6, ' m')} for the peak provision; see each `summary.json`.")


def measure(paths, out):
    """Run everything into ``out``; return the table's lines, the standard errors' line and the weighted-ECL line."""
    sizing = ["--paths", str(paths)] if paths else []
    lines = ["| scenario | peak 90+ DPD | final 90+ | M1 collection | cumulative net loss | 99% VaR / ES of loss "
             "| peak provision | cash reaches its floor (lending stops) | lender fails | min capital ratio |",
             "|" + "---|" * 10]
    summaries = []
    for name in SCENARIOS:
        simulate("run", f"scenarios/{name}.yaml", "--out", str(out / name), "--no-plots", "--quiet", *sizing)
        summaries.append(json.loads((out / name / "summary.json").read_text()))
        lines.append(row(name, summaries[-1]))
    simulate("ecl", f"scenarios/{SCENARIO_SET}.yaml", "--out", str(out / SCENARIO_SET), "--no-plots", "--quiet",
             *sizing)
    ecl = json.loads((out / SCENARIO_SET / "weighted_ecl.json").read_text())
    parts = ", ".join(f"{item['scenario']} {item['ecl']['total'] / 1e6:.2f} m x {100 * item['weight']:.0f}%"
                      for item in ecl["scenarios"])
    weighted = (f"`simulate ecl scenarios/{SCENARIO_SET}.yaml` ({ecl['paths']} paths): probability-weighted ECL at "
                f"the reporting date {ecl['weighted_ecl']['total'] / 1e6:.2f} m ({parts}).")
    return lines, standard_errors(summaries), weighted


def render(stamp, lines, errors, weighted, paths):
    """The generated block of the page."""
    size = (f"{paths} paths" if paths else "the shipped settings: 1,000 paths") + \
        " x 20,000 loans x 36 months, seed 20261128 (the tape scenario has 3,000 loans)"
    return "\n".join([
        BEGIN, "",
        f"`simulate run scenarios/<name>.yaml` with {size}. Means across paths with the 5-95% range; overdue "
        "rates as % of outstanding balance, loss as % of the opening balance, money in the book's currency. "
        + errors, "", stamp, "", *lines, "", weighted, "", END])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=None, help="paths per scenario (default: each scenario's own)")
    parser.add_argument("--page", type=Path, default=PAGE, help="the page to rewrite (default: docs/results.md)")
    args = parser.parse_args(argv)
    text = args.page.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{args.page}: no '{BEGIN}' ... '{END}' block to replace")
    stamp = (f"Measured on {datetime.date.today().isoformat()} on {machine()}, commit {commit()}, by "
             f"`python benchmarks/results.py{f' --paths {args.paths}' if args.paths else ''}`.")
    with tempfile.TemporaryDirectory() as tmp:
        lines, errors, weighted = measure(args.paths, Path(tmp))
    head, rest = text.split(BEGIN, 1)
    block = render(stamp, lines, errors, weighted, args.paths)
    args.page.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")
    print(f"wrote {args.page}")


if __name__ == "__main__":
    main()
