"""Calibration of the behaviour models to a lender's loan history: ``simulate calibrate``.

The data flow: a history (:mod:`simulator.inputs.history`) gives roll-rate matrices,
their intervals and the credit cycle (:mod:`simulator.estimation.rollrates`), the
roll-rate back-test (:mod:`simulator.estimation.rollrate_backtest`) and the structural fit
(:mod:`simulator.estimation.structural_fit`); this module runs them
(:func:`calibrate`), writes what they estimated as scenario blocks and a
calibration directory (:class:`Calibration`) and adds
:func:`engine_history`: a loan-month history (and its macro series) simulated by
the project's own engine from known parameters, for tests and the shipped sample.
"""
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..estimation.rollrate_backtest import backtest_errors, cycle_volatility, one_factor_matrices, roll_rate_backtest
from ..estimation.rollrates import bootstrap_cohort, cohort_estimate, fit_credit_cycle, satellite_regression
from ..estimation.structural_fit import PARAMETERS, fit_structural, history_moments, not_identified, on_history_economy
from ..inputs.errors import InputError
from ..inputs.history import extract_transitions, read_history, read_macro
from ..inputs.loader import load_scenario
from ..inputs.schema import ROLL_RATE_COLUMNS
from ..model.engine import layout as L
from ..model.engine.kernels import (PANEL_BALANCE, PANEL_COLUMNS, PANEL_NEW_BALANCE, PANEL_NEW_STATE, PANEL_STATE,
                                    simulate_roll_rate, simulate_structural)
from ..model.engine.simulate import (engine_months, recorders_group, roll_rate_arguments, settle_borrowers,
                                     structural_arguments)
from ..model.macro import macro_paths
from ..model.sampling import resolve_sampling
from ..model.portfolio import build_book, originations, with_new_lending
from .results import figure_writer, json_number, write_atomically, write_json

FIRST_MONTH_LABEL = "2023-01"
"""Label of month 0 of a history the engine simulates."""


# --------------------------------------------------------------------- histories from the engine
def engine_history(scenario, seed, first_month=FIRST_MONTH_LABEL):
    """The loan-month history of path 0 of ``scenario``, simulated by the engine, and its macro series.

    Every loan of the book is recorded, with the replacement (or new) loans
    written during the horizon: a loan is identified by its slot in the book and
    the month it was written. Rows hold the state at month end (``dpd_state``
    0-8, charged-off and closed loans in their exit month) and the balance.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        The history's seed, for its book (synthetic book, settling, new loans) and
        its path alike: another seed is another lender's book and history. (A run,
        :func:`simulator.workflows.results.run`, draws its book from
        ``portfolio.seed`` instead; with ``portfolio.seed == seed`` the two agree.)
    first_month : str
        ``YYYY-MM`` label of month 0.

    Returns
    -------
    history : pandas.DataFrame
        Columns ``loan_id, month, dpd_state, balance, segment`` (the format of
        :func:`simulator.inputs.history.read_history`), sorted by loan and month.
    macro : pandas.DataFrame
        Columns ``month, unemployment_pct, income_growth_pct, rate_pct``: path 0's
        realised economy.
    """
    n_months = scenario.run.horizon_months
    book = build_book(scenario, seed)
    if scenario.portfolio.source == "synthetic":
        book = settle_borrowers(scenario, book, seed)
    book = with_new_lending(book, originations(scenario, book.n_loans, seed))
    n_engine = engine_months(scenario)
    path_ids = np.zeros(1, dtype=np.int64)
    macro = macro_paths(scenario.macro, seed, path_ids, n_engine, resolve_sampling(scenario.run))
    panel = np.full((book.n_loans, n_engine + 1, PANEL_COLUMNS), np.nan)
    out = np.zeros((1, n_engine + 1, len(book.segment_names), L.N_METRICS))
    vintage = np.zeros((1, n_engine + 1, n_engine + 1))
    recorders = recorders_group(out, vintage, panel=panel)
    if scenario.behaviour.model == "structural":
        simulate_structural(*structural_arguments(scenario, book, seed, path_ids, macro, recorders))
    else:
        simulate_roll_rate(*roll_rate_arguments(scenario, book, seed, path_ids, macro, recorders))
    panel = panel[:, :n_months + 1]
    history = _panel_rows(panel, np.asarray(book.segment_names)[book.segment], _month_labels(first_month, n_months))
    macro_frame = pd.DataFrame({"month": _month_labels(first_month, n_months),
                                "unemployment_pct": 100.0 * macro.unemployment[0, :n_months + 1],
                                "income_growth_pct": 100.0 * macro.income_growth[0, :n_months + 1],
                                "rate_pct": 100.0 * macro.policy_rate[0, :n_months + 1]})
    return history, macro_frame


def _month_labels(first_month, n_months):
    start = pd.Period(first_month, freq="M")
    return [str(start + k) for k in range(n_months + 1)]


def _panel_rows(panel, segment_names, labels):
    """Rows of the history from the kernel's recorder (``panel`` of :class:`simulator.model.engine.groups.Recorders`).

    A loan written into slot ``i`` in month ``b`` has its first row at ``b`` (its
    state when written) and one row per later month until its exit; its id is
    ``i * (n_months + 1) + b``.
    """
    n_slots, n_columns = panel.shape[:2]
    months = np.arange(n_columns)
    born = ~np.isnan(panel[:, :, PANEL_NEW_STATE])
    last_birth = np.maximum.accumulate(np.where(born, months[None, :], -1), axis=1)
    moved = ~np.isnan(panel[:, :, PANEL_STATE])
    moved[:, 0] = False
    birth_of_mover = np.zeros_like(last_birth)
    birth_of_mover[:, 1:] = last_birth[:, :-1]  # the loan that was live at the start of the month
    slot_b, month_b = np.nonzero(born)
    slot_m, month_m = np.nonzero(moved)
    slot = np.concatenate([slot_b, slot_m])
    month = np.concatenate([month_b, month_m])
    birth = np.concatenate([month_b, birth_of_mover[slot_m, month_m]])
    state = np.concatenate([panel[slot_b, month_b, PANEL_NEW_STATE], panel[slot_m, month_m, PANEL_STATE]])
    balance = np.concatenate([panel[slot_b, month_b, PANEL_NEW_BALANCE], panel[slot_m, month_m, PANEL_BALANCE]])
    loan_id = slot * n_columns + birth
    order = np.lexsort((month, loan_id))
    return pd.DataFrame({"loan_id": loan_id[order], "month": np.asarray(labels)[month[order]],
                         "dpd_state": np.asarray(ROLL_RATE_COLUMNS)[state[order].astype(np.int64)],
                         "balance": np.round(balance[order], 2), "segment": segment_names[slot[order]]})


# --------------------------------------------------------------------- the whole calibration
MARKER = "calibration.json"
"""The file that marks a calibration directory."""


def fill_empty_rows(matrices, pooled):
    """Matrices (percent) usable in a scenario: each empty (NaN) row takes the pooled row of that state, or, if no
    loan of the history was ever in the state, a placeholder that rolls it one state worse (charged off from the
    last state). Returns the matrices and a sentence per filled row."""
    filled, notes = {}, []
    for name, rows in matrices.items():
        rows = np.array(rows, dtype=float)
        for state in range(7):
            if np.isnan(rows[state]).any():
                if not np.isnan(pooled[state]).any():
                    rows[state] = pooled[state]
                    notes.append(f"segment {name}: no loan was in {ROLL_RATE_COLUMNS[state]}; its row is the "
                                 "pooled row of all segments.")
                else:
                    rows[state] = 0.0
                    rows[state, state + 1] = 100.0
                    notes.append(f"segment {name}: no loan of the history was ever in {ROLL_RATE_COLUMNS[state]}; "
                                 f"its row is a placeholder (100% to {ROLL_RATE_COLUMNS[state + 1]}).")
        filled[name] = [_percent_row(row) for row in rows]
    return filled, notes


def _percent_row(row, decimals=4):
    """A row of percentages rounded to ``decimals`` places that still sums to exactly 100 (the rounding residue goes
    to the largest entry)."""
    rounded = np.round(np.asarray(row, dtype=float) * 100.0 / np.sum(row), decimals)
    largest = int(np.argmax(rounded))
    rounded[largest] = round(rounded[largest] + 100.0 - rounded.sum(), decimals)
    return rounded.tolist()


@dataclass
class Calibration:
    """Everything ``simulate calibrate`` estimates from a history; :meth:`save` writes it.

    Attributes
    ----------
    history : simulator.inputs.history.History
    macro : pandas.DataFrame or None
    cohort, cohort_balance : simulator.estimation.rollrates.CohortEstimate
        Count- and balance-weighted matrices by segment.
    pooled : simulator.estimation.rollrates.CohortEstimate
        Count-weighted, all segments together.
    intervals : simulator.estimation.rollrates.CohortIntervals
    cycle : simulator.estimation.rollrates.CycleFit
    satellite : simulator.estimation.rollrates.SatelliteFit or None
        Cycle index on unemployment (the link a scenario uses); None without a macro series.
    satellite_full : simulator.estimation.rollrates.SatelliteFit or None
        The same with every macro column of the file (a diagnostic).
    backtest : pandas.DataFrame or None
        Per month: observed 90+ share, the roll-rate model's projection fitted on the
        months before the hold-out, the structural fit's simulation, ``in_sample``.
    structural : simulator.estimation.structural_fit.StructuralFit or None
    base : Scenario or None
        The scenario the structural fit ran on (``--scenario``).
    base_path : Path or None
        Its file, which the calibrated scenario extends.
    holdout_months : int
    seconds : dict
        Wall time of each stage.
    """

    history: object
    macro: object
    cohort: object
    cohort_balance: object
    pooled: object
    intervals: object
    cycle: object
    satellite: object
    satellite_full: object
    backtest: object
    structural: object
    base: object
    base_path: object
    holdout_months: int
    seconds: dict

    write_figures = None
    """Writes the calibration figures (under ``plots/``) and ``calibration_report.pdf`` into a directory,
    ``write_figures(directory, lang)``; :meth:`save` calls it. The package root (:mod:`simulator`) sets it to
    :func:`simulator.presentation.report.write_calibration_outputs`: figures belong to the presentation layer, which
    the workflows may not import."""

    # ------------------------------------------------------------- scenario blocks
    def roll_rate_block(self):
        """``behaviour.roll_rate`` for a scenario, and notes on filled rows (see :func:`fill_empty_rows`)."""
        rho = self.cycle.rho if np.isfinite(self.cycle.rho) else 0.0
        if self.satellite is not None and rho > 0:
            baseline = (self.base.macro.baseline.unemployment_pct if self.base is not None
                        else float(self.macro["unemployment_pct"].iloc[0]))
            z0 = self.satellite.coef[0] + self.satellite.coef[1] * (baseline - self.satellite.baseline_unemployment_pct)
            matrices = one_factor_matrices(self.cohort.matrix, rho, z0, cycle_volatility(self.satellite, self.cycle))
            k = max(self.satellite.cycle_per_unemployment_pp, 0.0)
        else:
            matrices, k = self.cohort.matrix, 0.0
        pooled = 100.0 * self.pooled.matrix[0]
        rows, notes = fill_empty_rows({name: 100.0 * matrices[g] for g, name in enumerate(self.cohort.group_names)},
                                      pooled)
        block = {"asset_correlation_pct": round(100.0 * rho, 4), "cycle_per_unemployment_pp": round(k, 4),
                 "matrices": rows}
        return block, notes

    def structural_block(self):
        """``behaviour.structural`` with the fitted parameters (None without a structural fit)."""
        if self.structural is None:
            return None
        fitted = self.structural.scenario.behaviour.structural
        return {"transitory_income_sd_pct": round(fitted.transitory_income_sd_pct, 3),
                "savings_target_months": round(fitted.savings_target_months, 3),
                "willingness": {k: round(v, 3) for k, v in fitted.willingness.model_dump().items()}}

    def behaviour_block(self):
        """The ``behaviour`` block: the roll-rate model as estimated (``model: roll_rate``) and the structural fit."""
        roll_rate, _ = self.roll_rate_block()
        # null: an inherited structural prepayment rate does not apply (the matrices' closed column is prepayment)
        block = {"model": "roll_rate", "prepayment_pct": None, "roll_rate": roll_rate}
        structural = self.structural_block()
        if structural is not None:
            block["structural"] = structural
        return {"behaviour": block}

    def scenario_overrides(self):
        """A full scenario on top of ``--scenario``: the behaviour block, the segments' fitted unemployment
        sensitivities and the residual credit cycle (volatility and persistence)."""
        overrides = dict(self.behaviour_block())
        if self.structural is not None:
            overrides["portfolio"] = {"segments": [
                segment.model_dump(mode="json") for segment in self.structural.scenario.portfolio.segments]}
        if self.satellite is not None:
            volatility = cycle_volatility(self.satellite, self.cycle)
            overrides["macro"] = {"cycle": {"volatility": round(float(np.clip(volatility, 0.0, 5.0)), 4),
                                            "persistence": round(float(np.clip(self.satellite.residual_ar1, 0.0, 0.99)),
                                                                 4)}}
        return overrides

    # ------------------------------------------------------------- tables
    def roll_rate_table(self):
        """Long table: segment, from, to, count- and balance-weighted rates, bootstrap se and interval, moves."""
        rows = []
        for g, name in enumerate(self.cohort.group_names):
            for k in range(7):
                for j in range(9):
                    rows.append({"segment": name, "from_state": ROLL_RATE_COLUMNS[k], "to_state": ROLL_RATE_COLUMNS[j],
                                 "rate": self.cohort.matrix[g, k, j],
                                 "rate_balance_weighted": self.cohort_balance.matrix[g, k, j],
                                 "se": self.intervals.se[g, k, j], "lower": self.intervals.lower[g, k, j],
                                 "upper": self.intervals.upper[g, k, j], "moves": self.cohort.counts[g, k, j],
                                 "exposure": self.cohort.exposure[g, k]})
        return pd.DataFrame(rows)

    def cycle_table(self):
        """Per month: the cycle index and its se, the satellite model's fitted index, the macro series."""
        table = pd.DataFrame({"month": self.history.month_labels, "z": self.cycle.z, "z_se": self.cycle.z_se})
        if self.macro is not None:
            table["unemployment_pct"] = self.macro["unemployment_pct"].to_numpy()
            if self.satellite is not None:
                table["z_fitted"] = (self.satellite.coef[0] + self.satellite.coef[1]
                                     * (table["unemployment_pct"] - self.satellite.baseline_unemployment_pct))
        return table

    def monthly_roll_rates(self):
        """Per month, pooled over segments: the observed rates of the key moves and the model's at the fitted
        cycle index (``P(z_t)``, exposure-weighted over segments)."""
        exposure = self.cohort.monthly_exposure  # (months, groups, 7)
        total = exposure.sum(axis=1)[..., None]
        rho = self.cycle.rho if np.isfinite(self.cycle.rho) else 0.0
        z = np.nan_to_num(self.cycle.z)
        fitted_by_group = one_factor_matrices(np.nan_to_num(self.cohort.matrix), rho, z)  # (months, groups, 7, 9)
        with np.errstate(invalid="ignore", divide="ignore"):  # a state empty in a month: NaN, not a rate
            observed = self.cohort.monthly_counts.sum(axis=1) / total
            fitted = (fitted_by_group * exposure[..., None]).sum(axis=1) / total
        table = {"month": self.history.month_labels}
        for name, (k, j) in KEY_MOVES.items():
            table[f"{name}_observed"] = observed[:, k, j]
            table[f"{name}_fitted"] = fitted[:, k, j]
        frame = pd.DataFrame(table)
        return frame.iloc[1:].reset_index(drop=True)

    # ------------------------------------------------------------- output
    def summary(self):
        """The content of ``calibration.json``."""
        history = self.history
        summary = {
            "history": {"source": history.source, "rows": int(history.n_rows), "loans": int(history.n_loans),
                        "months": int(history.n_months), "first_month": history.month_labels[0],
                        "last_month": history.month_labels[-1], "segments": list(history.segment_names),
                        "transitions": int(self.cohort.counts.sum())},
            "empty_rows": [list(row) for row in self.cohort.empty_rows],
            "warnings": list(self.cohort.warnings) + list(self.cycle.warnings) + self.roll_rate_block()[1],
            "credit_cycle": {"rho": json_number(self.cycle.rho), "rho_se": json_number(self.cycle.rho_se),
                             "rho_interval": [json_number(self.cycle.rho_lower), json_number(self.cycle.rho_upper)],
                             "level": self.cycle.level},
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }
        for key, fit in (("satellite", self.satellite), ("satellite_all_macro", self.satellite_full)):
            if fit is not None:
                summary[key] = {"coefficients": dict(zip(fit.names, fit.coef.tolist())),
                                "se_ols": dict(zip(fit.names, fit.se_ols.tolist())),
                                "se_hac": dict(zip(fit.names, fit.se_hac.tolist())), "hac_lags": fit.hac_lags,
                                "r_squared": fit.r_squared, "adj_r_squared": fit.adj_r_squared,
                                "residual_sd": fit.residual_sd, "durbin_watson": fit.durbin_watson,
                                "residual_ar1": fit.residual_ar1, "months": fit.n_obs,
                                "baseline_unemployment_pct": fit.baseline_unemployment_pct}
        if self.backtest is not None:
            summary["backtest"] = backtest_errors(self.backtest, self.holdout_months)
        if self.structural is not None:
            fit = self.structural
            summary["structural"] = {
                "parameters": fit.parameters_, "se": {k: json_number(v) for k, v in fit.se_.items()}, "start": fit.start,
                "objective": fit.objective,
                "evaluations": fit.evaluations,
                "moments": fit.moment_table.replace({np.nan: None}).to_dict(orient="records"),
                "not_identified": not_identified(fit)}
        summary["scenario_parameters"] = self.scenario_overrides()
        return summary

    def figures(self):
        """The tables and numbers of the calibration figures and report (:class:`CalibrationFigures`)."""
        history, satellite, structural = self.history, self.satellite, self.structural
        return CalibrationFigures(
            summary=self.summary(), source=history.source, first_month=history.month_labels[0],
            last_month=history.month_labels[-1], n_loans=history.n_loans, segments=list(self.cohort.group_names),
            matrix=self.cohort.matrix, lower=self.intervals.lower, upper=self.intervals.upper,
            level=self.intervals.level, roll_rates=self.monthly_roll_rates(), rho=self.cycle.rho,
            cycle=self.cycle_table() if np.isfinite(self.cycle.z).any() else None,
            satellite_slope=None if satellite is None else satellite.cycle_per_unemployment_pp,
            satellite_r2=None if satellite is None else satellite.r_squared,
            backtest=self.backtest,
            backtest_errors=None if self.backtest is None else backtest_errors(self.backtest, self.holdout_months),
            moments=None if structural is None else structural.moment_table,
            objective=None if structural is None else structural.objective)

    def save(self, out_dir, plots=True, lang="en"):
        """Write the calibration directory atomically: ``calibration.json``, ``behaviour.yaml``, ``scenario.yaml``
        (with a base scenario), ``roll_rates.csv``, ``cycle_index.csv``, ``monthly_roll_rates.csv``,
        ``backtest.csv``, ``moments.csv``, the figures and ``calibration_report.pdf``."""
        def write(directory):
            write_json(directory / MARKER, self.summary())
            header = (f"# Calibrated on {self.history.source} ({self.history.month_labels[0]} to "
                      f"{self.history.month_labels[-1]}) by simulate calibrate; see calibration.json.\n"
                      "# Use it with `extends:` or paste it into a scenario. model: roll_rate uses the estimated "
                      "matrices;\n# model: structural uses the structural fit (whose unemployment sensitivity is "
                      "in scenario.yaml).\n")
            (directory / "behaviour.yaml").write_text(
                header + yaml.safe_dump(self.behaviour_block(), sort_keys=False, default_flow_style=None),
                encoding="utf-8")
            if self.base is not None:
                self.write_scenario(directory / "scenario.yaml")
            self.roll_rate_table().to_csv(directory / "roll_rates.csv", index=False)
            self.cycle_table().to_csv(directory / "cycle_index.csv", index=False)
            self.monthly_roll_rates().to_csv(directory / "monthly_roll_rates.csv", index=False)
            if self.backtest is not None:
                self.backtest.to_csv(directory / "backtest.csv", index=False)
            if self.structural is not None:
                self.structural.moment_table.to_csv(directory / "moments.csv", index=False)
            if plots:
                figure_writer(self.write_figures, "Calibration")(directory, lang)

        return write_atomically(out_dir, write, marker=MARKER)

    def write_scenario(self, path):
        """A scenario that extends the base scenario with the calibrated blocks; checked by loading it."""
        data = {"extends": os.path.relpath(self.base_path, path.parent),
                "name": f"{self.base.name}_calibrated",
                "description": f"{self.base.name} with behaviour calibrated on {self.history.source}",
                **self.scenario_overrides()}
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None),
                        encoding="utf-8")
        load_scenario(path)  # a scenario the calibration wrote must load; if not, that is a bug


@dataclass(frozen=True)
class CalibrationFigures:
    """What the calibration figures and report draw, computed here so that the presentation layer computes nothing.

    Attributes
    ----------
    summary : dict
        The content of ``calibration.json`` (:meth:`Calibration.summary`).
    source, first_month, last_month : str
    n_loans : int
        The history's identity, for the figures' footnotes.
    segments : list of str
    matrix, lower, upper : float arrays (n_segments, 7, 9)
        Count-weighted roll-rate matrices and their bootstrap interval at ``level``.
    level : float
    roll_rates : pandas.DataFrame
        :meth:`Calibration.monthly_roll_rates`.
    rho : float
    cycle : pandas.DataFrame or None
        :meth:`Calibration.cycle_table`; None when the history shows no cycle index.
    satellite_slope, satellite_r2 : float or None
    backtest : pandas.DataFrame or None
    backtest_errors : dict or None
        :func:`backtest_errors` of the back-test.
    moments : pandas.DataFrame or None
        The structural fit's moment table.
    objective : float or None
        The structural fit's objective.
    """

    summary: dict
    source: str
    first_month: str
    last_month: str
    n_loans: int
    segments: list
    matrix: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    roll_rates: pd.DataFrame
    rho: float
    cycle: pd.DataFrame = None
    satellite_slope: float = None
    satellite_r2: float = None
    backtest: pd.DataFrame = None
    backtest_errors: dict = None
    moments: pd.DataFrame = None
    objective: float = None


KEY_MOVES = {"current_to_1_30": (0, 1), "cure_1_30": (1, 0), "roll_1_30_to_31_60": (1, 2),
             "roll_31_60_to_61_90": (2, 3)}
"""The moves shown over time (observed and fitted)."""


def calibrate(history_path, macro_path=None, scenario_path=None, holdout_months=6, n_replicates=200, level=0.95,
              seed=0, fixed=(), paths=4, progress=None):
    """Estimate the behaviour models from a loan history (the library side of ``simulate calibrate``).

    Parameters
    ----------
    history_path : str or Path
        Loan-month history (:func:`simulator.inputs.history.read_history`).
    macro_path : str or Path, optional
        Macro series (:func:`simulator.inputs.history.read_macro`); needed for the
        satellite model, the back-test and the structural fit.
    scenario_path : str or Path, optional
        Base scenario: its book and behaviour are the structural fit's starting
        point, and a full calibrated scenario extending it is written.
    holdout_months : int
        Months at the end kept out of the roll-rate back-test's estimation.
    n_replicates, level, seed : int, float, int
        Bootstrap over loans (roll-rate intervals and rho).
    fixed : sequence of str
        Structural parameters held at the base scenario's values.
    paths : int
        Simulated paths of the history per structural-fit evaluation.
    progress : callable, optional
        Called with a short text as each stage starts.

    Returns
    -------
    Calibration
    """
    say = progress or (lambda text: None)
    seconds = {}
    clock = time.perf_counter()
    history = read_history(history_path)
    macro = read_macro(macro_path, history) if macro_path is not None else None
    base = load_scenario(scenario_path) if scenario_path is not None else None
    unknown = sorted(set(fixed) - set(PARAMETERS))
    if unknown:
        raise InputError(f"calibrate: fixed= must name parameters among {', '.join(PARAMETERS)}; got "
                         f"{', '.join(unknown)}. Check the spelling.")
    if not 0 <= holdout_months <= history.n_months - 6:
        raise InputError(f"calibrate: holdout_months= must be between 0 and {history.n_months - 6} for a history "
                         f"of {history.n_months} months (at least 6 months to estimate on); got {holdout_months}.")
    transitions = extract_transitions(history)
    seconds["read_and_validate"] = time.perf_counter() - clock
    say("cohort matrices and bootstrap intervals")
    clock = time.perf_counter()
    cohort = cohort_estimate(transitions, "count")
    cohort_balance = cohort_estimate(transitions, "balance")
    pooled = cohort_estimate(transitions, "count", by_segment=False)
    seconds["cohort_estimate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    intervals = bootstrap_cohort(transitions, n_replicates, level, seed)
    seconds["bootstrap"] = time.perf_counter() - clock
    say("credit-cycle index and rho")
    clock = time.perf_counter()
    cycle = fit_credit_cycle(transitions, n_replicates, level, seed)
    seconds["credit_cycle"] = time.perf_counter() - clock
    satellite = satellite_full = backtest = structural = None
    if macro is not None and np.isfinite(cycle.rho) and cycle.rho > 0:
        satellite = satellite_regression(cycle.z, macro)
        extra = [column for column in ("income_growth_pct", "rate_pct")
                 if column in macro and macro[column].std() > 0]
        satellite_full = satellite_regression(cycle.z, macro, extra_regressors=extra) if extra else None
    if macro is not None:
        say("roll-rate back-test")
        backtest = roll_rate_backtest(history, transitions, macro, holdout_months)
    if macro is not None and base is not None:
        say("structural fit (simulated method of moments)")
        clock = time.perf_counter()
        replay = on_history_economy(base, macro, n_loans=base.portfolio.n_loans, paths=paths)
        observed = history_moments(transitions, history, macro["unemployment_pct"].to_numpy(), seed=seed)
        structural = fit_structural(replay, observed, seed, fixed=fixed)
        seconds["structural_fit"] = time.perf_counter() - clock
        simulated = structural.aggregates.sum(axis=0)[:, L.COUNT:L.COUNT + L.N_LIVE_STATES]
        backtest["share_90p_structural"] = simulated[:, 4:].sum(axis=1) / simulated.sum(axis=1)
    return Calibration(history, macro, cohort, cohort_balance, pooled, intervals, cycle, satellite, satellite_full,
                       backtest, structural, base, None if scenario_path is None else Path(scenario_path).resolve(),
                       holdout_months, seconds)
