"""The rules of a scenario that span sections, and the warnings of a valid scenario.

A rule about one key lives in the key's type and a rule about one section in the
section's model (:mod:`simulator.inputs.schema`); what is here compares sections:
the horizon of ``run`` against the months of shocks and actions, the segments of
``portfolio`` against the roll-rate matrices and the originations, the charge-off
point of ``behaviour`` against the books' delinquency mix and the IFRS 9 default.
:func:`cross_section_problems` runs them once every section is valid.
"""
from __future__ import annotations

import difflib

from scipy.special import ndtr

from .errors import ScenarioWarning, must_be
from .schema import DPD_STATE_KEYS

MIN_APPROVAL_RATE = 0.01
"""A score cut-off must let at least this share of each lending segment's applicants through."""


def cross_section_problems(scenario, source):
    """Every broken rule that spans sections of a scenario whose sections are each valid.

    Parameters
    ----------
    scenario : Scenario
    source : str
        The file (or run) the scenario came from, which starts each message.

    Returns
    -------
    list of str
        House-style messages, empty when the scenario is consistent.
    """
    problems = []
    run, behaviour = scenario.run, scenario.behaviour
    if run.tail_sampling == "importance" and scenario.macro.cycle.volatility == 0:
        problems.append(must_be(source, "run.tail_sampling", "'none' when the cycle has no volatility",
                                run.tail_sampling, "Set macro.cycle.volatility above 0 or drop tail_sampling: "
                                                   "there is no adverse direction to sample more often."))
    horizon = run.horizon_months
    for i, shock in enumerate(scenario.macro.shocks):
        if shock.shape != "path" and shock.start_month > horizon:
            problems.append(must_be(source, f"macro.shocks[{i}].start_month", f"<= run.horizon_months ({horizon})",
                                    shock.start_month, "Start the shock inside the horizon or lengthen it."))
    beyond = DPD_STATE_KEYS[behaviour.chargeoff_dpd // 30 + 1:]
    for i, seg in enumerate(scenario.portfolio.segments):
        share = sum(getattr(seg.starting_dpd_pct, key) for key in beyond)
        if share > 0:
            problems.append(must_be(source, f"portfolio.segments[{i}].starting_dpd_pct",
                                    f"0 beyond behaviour.chargeoff_dpd ({behaviour.chargeoff_dpd}) in {list(beyond)}",
                                    share, "Such loans would already be charged off: move that share to earlier "
                                    "buckets or raise chargeoff_dpd."))
    if behaviour.model == "roll_rate" and behaviour.roll_rate is not None:
        problems.extend(_roll_rate_problems(behaviour.roll_rate, scenario.segment_names, source))
    ifrs9 = scenario.provisioning.ifrs9
    if ifrs9.default_after_dpd >= behaviour.chargeoff_dpd:
        problems.append(must_be(source, "provisioning.ifrs9.default_after_dpd",
                                f"below behaviour.chargeoff_dpd ({behaviour.chargeoff_dpd})", ifrs9.default_after_dpd,
                                f"A loan defaults before it is charged off: lower it below {behaviour.chargeoff_dpd} "
                                "(IFRS 9 presumes default at 90 DPD at the latest) or charge off later."))
    problems.extend(_action_problems(scenario, source))
    return problems


def _roll_rate_problems(spec, segment_names, source):
    """The matrices against the portfolio's segments (their shape is the roll_rate section's own rule)."""
    problems = []
    for name in spec.matrices:
        if name != "default" and name not in segment_names:
            near = difflib.get_close_matches(name, segment_names + ["default"], n=1)
            hint = f"Did you mean '{near[0]}'?" if near else f"Use one of {segment_names + ['default']}."
            problems.append(must_be(source, f"behaviour.roll_rate.matrices.{name}", "named after a segment or "
                                    "'default'", name, hint))
    missing = [n for n in segment_names if n not in spec.matrices] if "default" not in spec.matrices else []
    if missing:
        problems.append(must_be(source, "behaviour.roll_rate.matrices", "a matrix for every segment or a 'default'",
                                sorted(spec.matrices), f"Add a 'default' matrix or one for {missing}."))
    return problems


def _action_problems(scenario, source):
    """The actions against the horizon, the behaviour model and the portfolio."""
    problems = []
    horizon = scenario.run.horizon_months
    for name in ("collections", "restructuring", "originations"):
        action = getattr(scenario.actions, name)
        if action is not None and action.start_month > horizon:
            problems.append(must_be(source, f"actions.{name}.start_month", f"<= run.horizon_months ({horizon})",
                                    action.start_month, "Start the action inside the horizon or remove the block."))
    restructuring = scenario.actions.restructuring
    if restructuring is not None and scenario.behaviour.model == "roll_rate":
        problems.append(must_be(source, "actions.restructuring", "used with behaviour.model 'structural'",
                                "roll_rate", "The roll-rate model has no borrower to restructure: remove the block "
                                "or use the structural model."))
    if scenario.actions.underwriting is not None and scenario.behaviour.model == "roll_rate":
        problems.append(must_be(source, "actions.underwriting", "used with behaviour.model 'structural'",
                                "roll_rate", "The roll-rate model has no applicant's income to underwrite: remove the "
                                "block or use the structural model."))
    if restructuring is not None and restructuring.plan == "holiday":
        shortest = min(min(seg.term_months) for seg in scenario.portfolio.segments)
        if restructuring.months >= shortest:
            problems.append(must_be(source, "actions.restructuring.months",
                                    f"shorter than the shortest loan term ({shortest} months)", restructuring.months,
                                    "A holiday must leave instalments to pay: shorten it."))
    if scenario.actions.originations is not None:
        problems.extend(_origination_problems(scenario.actions.originations, scenario, source))
    return problems


def _origination_problems(spec, scenario, source):
    """The segment mix and the score cut-off against the portfolio's segments."""
    problems = []
    names = scenario.segment_names
    mix = spec.segment_mix_pct or {seg.name: seg.share_pct for seg in scenario.portfolio.segments}
    unknown = [name for name in mix if name not in names]
    if unknown:
        problems.append(must_be(source, "actions.originations.segment_mix_pct", f"keyed by segment names {names}",
                                unknown, "Use the names of portfolio.segments."))
    if spec.score_cutoff is not None:
        approval = {seg.name: float(ndtr((seg.score.mean - spec.score_cutoff) / max(seg.score.sd, 1e-9)))
                    for seg in scenario.portfolio.segments if mix.get(seg.name, 0) > 0}
        starved = sorted(name for name, rate in approval.items() if rate < MIN_APPROVAL_RATE)
        if starved:
            segments = {seg.name: seg for seg in scenario.portfolio.segments}
            highest = min(segments[name].score.mean + 3 * segments[name].score.sd for name in starved)
            problems.append(must_be(source, "actions.originations.score_cutoff",
                                    f"a score the mix's segments can reach (segment(s) {starved} approve fewer "
                                    f"than {MIN_APPROVAL_RATE:.1%} of applicants above it)", spec.score_cutoff,
                                    f"Lower the cut-off below about {highest:.0f} or take those segments out of "
                                    "segment_mix_pct."))
    return problems


FRACTION_LOOKING_PCT = {
    "macro.baseline.unemployment_pct": lambda s: [s.macro.baseline.unemployment_pct],
    "portfolio.segments[*].apr_pct": lambda s: [seg.apr_pct.max for seg in s.portfolio.segments],
    "portfolio.segments[*].essential_spending_pct": lambda s: [seg.essential_spending_pct
                                                               for seg in s.portfolio.segments],
    "portfolio.segments[*].max_total_dti_pct": lambda s: [seg.max_total_dti_pct for seg in s.portfolio.segments],
    "behaviour.structural.job_finding_pct": lambda s: [s.behaviour.structural.job_finding_pct],
    "behaviour.structural.replacement_rate_pct": lambda s: [s.behaviour.structural.replacement_rate_pct],
    "behaviour.recovery.rate_pct": lambda s: [s.behaviour.recovery.rate_pct],
}
"""Percent keys for which a value strictly between 0 and 1 is implausible (an unemployment rate of 0.05%, an APR
of 0.3%, ...): probably a fraction where percent was meant."""


MIN_UNEMPLOYMENT_SHOCK_PP = 0.5
"""An unemployment shock (step, ramp or hump) smaller than this, in percentage points, is probably a fraction where
points were meant (``size_pp: 0.03`` for +3 points): a stress test moves unemployment by a point or more."""


def scenario_warnings(scenario, source):
    """Plausible mistakes in a valid scenario, as house-style messages (see :class:`ScenarioWarning`).

    * a percent key of :data:`FRACTION_LOOKING_PCT` between 0 and 1: a fraction
      where percent was meant;
    * an unemployment shock of less than :data:`MIN_UNEMPLOYMENT_SHOCK_PP` points: a
      fraction where percentage points were meant;
    * a macro ``path`` with more levels than the horizon uses (the tail is ignored).
    """
    found = []
    for field, values_of in FRACTION_LOOKING_PCT.items():
        for value in values_of(scenario):
            if 0.0 < value < 1.0:
                found.append(f"{source}: {field} is {value:g}, which reads as {value:g}% but looks like a fraction; "
                             f"keys ending in _pct are in percent: did you mean {100 * value:g}?")
                break
    for i, shock in enumerate(scenario.macro.shocks):
        if shock.variable == "unemployment" and shock.shape != "path" and \
                0.0 < abs(shock.size_pp) < MIN_UNEMPLOYMENT_SHOCK_PP:
            found.append(f"{source}: macro.shocks[{i}].size_pp is {shock.size_pp:g}, an unemployment shock of "
                         f"{shock.size_pp:g} percentage points, below {MIN_UNEMPLOYMENT_SHOCK_PP:g}; size_pp is in "
                         f"points of the rate (3.0 moves 5.2% to 8.2%): did you mean {100 * shock.size_pp:g}?")
    horizon = scenario.run.horizon_months
    for i, shock in enumerate(scenario.macro.shocks):
        if shock.shape != "path":
            continue
        step = 1 if shock.frequency == "monthly" else 3
        used = -(-horizon // step)
        if len(shock.levels_pct) > used:
            found.append(f"{source}: macro.shocks[{i}].levels_pct has {len(shock.levels_pct)} {shock.frequency} "
                         f"levels; a {horizon}-month horizon uses the first {used}, the other "
                         f"{len(shock.levels_pct) - used} are ignored. Drop them or lengthen run.horizon_months.")
    return found

