"""Scenario files: the schema (typed, frozen pydantic models) and loading.

A scenario is a YAML file with the sections ``run``, ``portfolio``, ``macro``,
``behaviour`` and ``funding``. ``extends: other.yaml`` inherits another scenario
and deep-merges this file's keys over it (mappings merge key by key, lists and
scalars replace), so ``adverse.yaml`` states only what differs from
``baseline.yaml``. Every key ending in ``_pct`` is written in percent (``5.2``
means 5.2%); the code converts to fractions where it uses the value.

Loading reports every problem of a file at once, as :class:`~simulator.inputs.errors.InputError`
messages of the form ``<file>: <field> must be <constraint>; got <value>. <fix>``.
"""
from __future__ import annotations

import datetime
import difflib
import typing
import warnings
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.special import ndtr

from .errors import InputError, excerpt, must_be
from .series import with_table_levels

DPD_STATE_KEYS = ("current", "dpd_1_30", "dpd_31_60", "dpd_61_90",
                  "dpd_91_120", "dpd_121_150", "dpd_151_180")
"""Keys of the live delinquency states, in order; index = months past due."""

N_LIVE_STATES = len(DPD_STATE_KEYS)
ROLL_RATE_COLUMNS = DPD_STATE_KEYS + ("charged_off", "closed")


MAX_MONTH = 1200
"""Months in a scenario (start, end, peak, hold, decay) are at most this (100 years)."""
MAX_MONEY = 1e12
"""Amounts in a scenario (a median loan or income, a cost) are at most this, in the book's currency."""


class Spec(BaseModel):
    """Base of every scenario section: unknown keys refused, instances frozen, no booleans as numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_booleans_as_numbers(cls, data):
        """YAML reads ``yes``/``true`` as booleans, which pydantic would take as 1.

        Such values are handed on as the text ``'true'``/``'false'``, so the number
        field refuses them with its own path and constraint.
        """
        if not isinstance(data, dict):
            return data
        numeric = {name for name, field in cls.model_fields.items()
                   if field.annotation in (int, float)
                   or {int, float} & set(typing.get_args(field.annotation))}
        return {key: (str(value).lower() if isinstance(value, bool) and key in numeric else value)
                for key, value in data.items()}


# --------------------------------------------------------------------------- run
class RunSpec(Spec):
    """How the simulation is run."""

    horizon_months: int = Field(36, ge=1, le=120, description="months simulated, 1-120")
    paths: int = Field(500, ge=1, le=1_000_000, description="Monte Carlo paths")
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1,
                                description="integer seed; drawn and stored when absent")
    balance_sheet: Literal["constant", "runoff"] = Field(
        "constant", description="'constant' replaces closed loans like for like; 'runoff' lets the book amortise")
    chunk_paths: int = Field(32, ge=1, le=1_000_000, description="paths simulated per engine call (memory/progress only)")
    threads: Optional[int] = Field(None, ge=1, le=4096, description="engine threads; all cores when absent")
    sampling: Literal["mc", "rqmc", "antithetic"] = Field(
        "rqmc", description="how the paths' shared cycle draws are sampled: 'rqmc' scrambled Sobol points "
                            "(14-27x less computer time for the same error on the means), 'mc' independent, "
                            "'antithetic' pairs (see the README's 'Variance reduction')")
    rqmc_points: Union[Annotated[int, Field(ge=1, le=65536)], Literal["auto"]] = Field(
        "auto", description="Sobol points per independent scramble under 'rqmc', a power of 2; 'auto': 32, or "
                            "fewer so that there are at least 8 scrambles")
    tail_sampling: Literal["none", "importance"] = Field(
        "none", description="'importance' shifts the cycle toward adverse paths and weights each path by its "
                            "likelihood ratio (tail quantiles, breach probabilities)")
    importance_shift: float = Field(2.0, ge=0, le=5,
                                    description="shift of the cycle's loss-driving direction under 'importance', "
                                                "in standard deviations")


# --------------------------------------------------------------------- portfolio
class LogNormalSpec(Spec):
    """A log-normal distribution given by its median and the sd of its log."""

    median: float = Field(gt=0, le=MAX_MONEY, description="median, in currency units")
    sigma: float = Field(0.5, ge=0, le=3, description="standard deviation of the log")


class RangePctSpec(Spec):
    """A uniform range in percent."""

    min: float = Field(ge=0, le=100, description="lower end, percent")
    max: float = Field(ge=0, le=100, description="upper end, percent")


class ScoreSpec(Spec):
    """Borrower risk score (a bureau-style score, higher = safer), normal and clipped to 300-900."""

    mean: float = Field(650, ge=300, le=900)
    sd: float = Field(60, ge=0, le=300)


class StartingDpdSpec(Spec):
    """Share of the segment's loans in each delinquency state at month 0, percent (sums to 100)."""

    current: float = Field(95.0, ge=0, le=100)
    dpd_1_30: float = Field(2.0, ge=0, le=100)
    dpd_31_60: float = Field(0.8, ge=0, le=100)
    dpd_61_90: float = Field(0.6, ge=0, le=100)
    dpd_91_120: float = Field(0.6, ge=0, le=100)
    dpd_121_150: float = Field(0.5, ge=0, le=100)
    dpd_151_180: float = Field(0.5, ge=0, le=100)

    def as_fractions(self):
        return [getattr(self, key) / 100.0 for key in DPD_STATE_KEYS]


class SegmentSpec(Spec):
    """One segment of the book: who the borrowers are and what loans they hold."""

    name: str = Field(min_length=1)
    share_pct: float = Field(gt=0, le=100, description="share of the book's loans, percent")
    principal: LogNormalSpec = Field(description="original loan amount")
    apr_pct: RangePctSpec = Field(description="annual percentage rate, percent, uniform in [min, max]")
    term_months: list[Annotated[int, Field(ge=3, le=36)]] = Field(
        min_length=1, description="original terms to draw from (equally likely), 3-36 months")
    amortisation: Literal["equal_instalment", "equal_principal", "interest_first"] = "equal_instalment"
    income: LogNormalSpec = Field(description="borrower's monthly income")
    essential_spending_pct: float = Field(55.0, ge=0, le=100, description="essential spending, percent of income")
    other_debt_dti_pct: RangePctSpec = Field(
        RangePctSpec(min=5, max=25), description="other lenders' debt service, percent of income")
    max_total_dti_pct: float = Field(50.0, gt=0, le=200, description="underwriting cap: (this loan's instalment + "
                                     "other debt service) / income at origination, percent; larger loans are cut")
    savings_months: float = Field(1.5, ge=0, le=60, description="mean savings, in months of essential spending")
    starting_dpd_pct: StartingDpdSpec = StartingDpdSpec()
    score: ScoreSpec = ScoreSpec()
    unemployment_sensitivity: float = Field(
        1.0, ge=0, le=5, description="segment unemployment rate / the scenario's unemployment rate")


BOOK_SEED = 20261128
"""Default ``portfolio.seed``: the book is an input, the same whatever ``run.seed`` a run uses."""


class PortfolioSpec(Spec):
    """The loan book: a synthetic book built from segments, or a loan tape."""

    currency: str = "CNY"
    source: Literal["synthetic", "tape"] = "synthetic"
    n_loans: int = Field(20_000, ge=1, le=50_000_000, description="loans in a synthetic book")
    tape: Optional[str] = Field(None, description="loan tape (CSV or Parquet), relative to the scenario file")
    segments: list[SegmentSpec] = Field(min_length=1)
    seed: int = Field(BOOK_SEED, ge=0, le=2**63 - 1,
                      description="seed of the synthetic book, its settling run and the new loans' templates; "
                                  "fixed, so that run.seed (--seed) moves only the Monte Carlo paths")


# ------------------------------------------------------------------------- macro
MacroVariable = Literal["unemployment", "income_growth", "policy_rate"]


class MacroBaselineSpec(Spec):
    """Baseline levels, percent (income growth and policy rate annual)."""

    unemployment_pct: float = Field(5.2, ge=0, le=60)
    income_growth_pct: float = Field(5.0, ge=-50, le=50)
    policy_rate_pct: float = Field(3.0, ge=-5, le=50)


class StepShock(Spec):
    """``size`` added from ``start_month`` (to ``end_month`` inclusive, when given)."""

    shape: Literal["step"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: Optional[int] = Field(None, ge=1, le=MAX_MONTH)


class RampShock(Spec):
    """Linear rise from 0 at ``start_month - 1`` to ``size`` at ``end_month``, held after."""

    shape: Literal["ramp"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: int = Field(ge=1, le=MAX_MONTH)


class HumpShock(Spec):
    """Rise linearly to ``size`` at ``peak_month``, hold ``hold_months``, decay linearly over ``decay_months``."""

    shape: Literal["hump"]
    variable: MacroVariable
    size_pp: float = Field(ge=-100, le=100, description="change in percentage points")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    peak_month: int = Field(ge=1, le=MAX_MONTH)
    hold_months: int = Field(0, ge=0, le=MAX_MONTH)
    decay_months: int = Field(12, ge=0, le=MAX_MONTH)


class LevelsFromSpec(Spec):
    """Where a ``path`` shock reads its levels: a column of a CSV or Parquet table (see :mod:`.series`)."""

    file: str = Field(min_length=1, description="series table (CSV or Parquet), relative to the scenario file")
    column: str = Field(min_length=1, description="the value column, percent levels")
    date_column: Optional[str] = Field(None, description="default: observation_date, date or Date")
    start: Optional[str] = Field(None, description="first period used ('2025 Q1', '2007-01-01'); default the first")
    end: Optional[str] = Field(None, description="last period used; default the last")
    interpolate_gaps: bool = Field(False, description="fill missing values ('.') linearly instead of refusing them")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates_as_text(cls, value):
        """YAML reads an unquoted ``2007-02-01`` as a date: it is handed on as the text it was."""
        return value.isoformat() if isinstance(value, datetime.date) else value


class PathShock(Spec):
    """An explicit path of levels (percent), linearly interpolated from the baseline at month 0.

    Monthly values fall on months 1, 2, ...; quarterly values on months 3, 6, ...
    The last value holds to the end of the horizon. The levels are written in
    ``levels_pct`` or read from a table by ``levels_from`` (its frequency is the
    table's; loading fills ``levels_pct`` in and clears ``levels_from``).
    """

    shape: Literal["path"]
    variable: MacroVariable
    frequency: Literal["monthly", "quarterly"] = "quarterly"
    levels_pct: Optional[list[Annotated[float, Field(ge=-100, le=100)]]] = Field(None, min_length=1)
    levels_from: Optional[LevelsFromSpec] = None

    @model_validator(mode="after")
    def _one_source_of_levels(self):
        if (self.levels_pct is None) == (self.levels_from is None):
            raise ValueError("give exactly one of levels_pct (the levels) and levels_from (a table holding them)")
        return self


Shock = Annotated[Union[StepShock, RampShock, HumpShock, PathShock], Field(discriminator="shape")]


class CycleSpec(Spec):
    """The per-path AR(1) credit-cycle factor ``x`` (stationary sd ``sigma``).

    ``x_t = phi x_{t-1} + sqrt(1 - phi^2) sigma eps_t``. Where it starts is ``start``:
    a number ``k`` starts every path at ``x_0 = k sigma`` (default 0: today's credit
    conditions are those of the central path, which is what a stress projection from
    an observed book assumes); ``stationary`` draws ``x_0 ~ N(0, sigma^2)``, so every
    month's ``x_t`` has the long-run distribution (an unconditional, through-the-cycle
    view, in which a roll-rate matrix is the cycle's average from month 1).
    A positive ``x`` is a worse economy: it adds ``unemployment_loading_pp * x`` to the
    unemployment path and subtracts ``income_growth_loading_pp * x`` from income growth.
    """

    volatility: float = Field(1.0, ge=0, le=5, description="stationary sd sigma; 0 = deterministic")
    persistence: float = Field(0.9, ge=0, lt=1, description="monthly AR(1) coefficient phi")
    unemployment_loading_pp: float = Field(0.6, ge=0, le=10)
    income_growth_loading_pp: float = Field(1.5, ge=0, le=20)
    start: Union[Annotated[float, Field(allow_inf_nan=True)], str] = Field(0.0, union_mode="left_to_right",
                                     description="x_0 in stationary sds (-5 to 5), or 'stationary' "
                                                 "(checked in _check_consistency, for one clear message)")


class MacroSpec(Spec):
    """Baseline levels, shocks on top and the stochastic cycle around the central path."""

    baseline: MacroBaselineSpec = MacroBaselineSpec()
    shocks: list[Shock] = []
    cycle: CycleSpec = CycleSpec()


# --------------------------------------------------------------------- behaviour
class RecoverySpec(Spec):
    """Recoveries after charge-off: ``rate_pct`` of the charged-off balance, paid evenly over ``months``."""

    rate_pct: float = Field(9.4, ge=0, le=100)
    months: int = Field(12, ge=0, le=120, description="0 = sold at charge-off (debt sale)")


class BucketPctSpec(Spec):
    """A percentage per delinquency bucket."""

    dpd_1_30: float = Field(0.0, ge=0, le=100)
    dpd_31_60: float = Field(0.0, ge=0, le=100)
    dpd_61_90: float = Field(0.0, ge=0, le=100)
    dpd_91_plus: float = Field(0.0, ge=0, le=100)

    def by_state(self, current=0.0):
        """Fractions for live states 0..6; ``current`` for state 0, which has no bucket here."""
        tail = self.dpd_91_plus / 100.0
        return [current, self.dpd_1_30 / 100.0, self.dpd_31_60 / 100.0, self.dpd_61_90 / 100.0, tail, tail, tail]


class WillingnessSpec(BucketPctSpec):
    """Chance that a delinquent borrower who can pay does pay this month, percent, by bucket.

    (Current borrowers are governed by payment friction and strategic default instead.)
    """

    dpd_1_30: float = Field(98.0, ge=0, le=100)
    dpd_31_60: float = Field(60.0, ge=0, le=100)
    dpd_61_90: float = Field(45.0, ge=0, le=100)
    dpd_91_plus: float = Field(20.0, ge=0, le=100)


class StructuralSpec(Spec):
    """Parameters of the structural borrower model (DESIGN 3.2)."""

    job_finding_pct: float = Field(33.0, gt=0, le=100, description="monthly job-finding rate at baseline unemployment")
    job_finding_elasticity: float = Field(1.0, ge=0, le=5,
                                          description="finding rate scales as (u_baseline / u_t) ** elasticity")
    replacement_rate_pct: float = Field(60.0, ge=0, le=100, description="income while unemployed, percent")
    permanent_income_sd_pct: float = Field(10.0, ge=0, le=100, description="annual sd of log permanent income")
    transitory_income_sd_pct: float = Field(15.0, ge=0, le=100, description="monthly sd of log transitory income")
    savings_target_months: float = Field(4.0, ge=0, le=60, description="savings buffer target, months of spending")
    strategic_default_pct: float = Field(0.05, ge=0, le=100,
                                         description="monthly chance a current borrower who can pay defaults on purpose")
    payment_friction_pct: float = Field(3.5, ge=0, le=100,
                                        description="monthly chance a current borrower who can pay misses anyway "
                                                    "(late salary, oversight); most cure the next month")
    willingness: WillingnessSpec = WillingnessSpec()


class RollRateSpec(Spec):
    """Roll-rate model: monthly transition matrices and the one-factor cycle link.

    ``matrices`` maps a segment name (or ``default``) to 7 rows (current, 1-30, ...,
    151-180) of 9 percentages (the same 7 states, charged_off, closed), each row
    summing to 100. The matrices are the long-run average over the credit cycle.
    """

    asset_correlation_pct: float = Field(5.0, ge=0, lt=100, description="rho of the one-factor link")
    cycle_per_unemployment_pp: float = Field(0.5, ge=0, le=10,
                                             description="cycle shift (in sd) per pp of unemployment above baseline")
    matrices: dict[str, list[list[Annotated[float, Field(ge=-1e6, le=1e6)]]]]


STRUCTURAL_PREPAYMENT_PCT = 1.0
"""Default monthly prepayment rate of current loans in the structural model, percent."""


class BehaviourSpec(Spec):
    """Borrower behaviour: which model, and what both models share."""

    model: Literal["structural", "roll_rate"] = "structural"
    chargeoff_dpd: Literal[90, 120, 150, 180] = Field(180, description="days past due at which loans are charged off")
    prepayment_pct: Optional[float] = Field(None, ge=0, le=100,
                                            description="monthly prepayment rate of current loans (structural "
                                                        "model; 1.0 when not given); the roll-rate model has "
                                                        "prepayment in its matrices' closed column")
    penalty_rate_uplift_pct: float = Field(50.0, ge=0, le=500,
                                           description="overdue amounts accrue at APR x (1 + uplift)")
    recovery: RecoverySpec = RecoverySpec()
    structural: StructuralSpec = StructuralSpec()
    roll_rate: Optional[RollRateSpec] = None

    @model_validator(mode="before")
    @classmethod
    def _structural_prepayment_default(cls, data):
        """The structural model prepays 1% a month unless told otherwise; the roll-rate model has no such key."""
        if isinstance(data, dict) and data.get("model", "structural") == "structural" \
                and data.get("prepayment_pct") is None:
            data = {**data, "prepayment_pct": STRUCTURAL_PREPAYMENT_PCT}
        return data


DpdThreshold = Literal[0, 30, 60, 90, 120, 150, 180]
"""Delinquency thresholds are whole 30-day buckets: a rule "after N days" applies from N + 1 DPD."""


class Ifrs9Spec(Spec):
    """IFRS 9: the default definition, staging (Stage 2 beyond a DPD backstop or on restructuring, Stage 3 when
    credit-impaired) and the lifetime window.

    A loan defaults when its days past due first exceed ``default_after_dpd`` (90: the
    rebuttable presumption of IFRS 9 B5.5.37), or when it is charged off. Stage 3
    follows the default definition unless ``stage3_after_dpd`` sets an earlier
    trigger (a lender's NPL rule such as 60).
    """

    default_after_dpd: DpdThreshold = Field(90, description="a loan defaults when days past due exceed this "
                                                            "(IFRS 9 B5.5.37: 90 at the latest); below the "
                                                            "charge-off DPD")
    stage2_after_dpd: DpdThreshold = Field(30, description="Stage 2 when days past due exceed this (backstop 30)")
    stage3_after_dpd: Optional[DpdThreshold] = Field(None, description="Stage 3 (credit-impaired) when days past due "
                                                     "exceed this; default: default_after_dpd; at most that")
    lifetime_months: int = Field(24, ge=12, le=60, description="window of lifetime ECL for Stages 2-3, months; "
                                 "the engine simulates this far beyond the horizon")

    @property
    def stage3_dpd(self):
        """The Stage 3 threshold in force: ``stage3_after_dpd``, else the default definition."""
        return self.default_after_dpd if self.stage3_after_dpd is None else self.stage3_after_dpd


class FiveCategoryRatesSpec(Spec):
    """Minimum provision rates per category, percent (PBOC 2002: general 1%, 2%, 25%, 50%, 100%)."""

    normal: float = Field(1.0, ge=0, le=100)
    special_mention: float = Field(2.0, ge=0, le=100)
    substandard: float = Field(25.0, ge=0, le=100)
    doubtful: float = Field(50.0, ge=0, le=100)
    loss: float = Field(100.0, ge=0, le=100)


class FiveCategorySpec(Spec):
    """Five-category classification (正常/关注/次级/可疑/损失) by DPD, rates and regulatory floors.

    Default thresholds are the credit-card rules (Art. 92): 关注 1-90, 次级 91-120,
    可疑 121-180, 损失 beyond 180 DPD.
    """

    special_mention_after_dpd: DpdThreshold = 0
    substandard_after_dpd: DpdThreshold = 90
    doubtful_after_dpd: DpdThreshold = 120
    loss_after_dpd: DpdThreshold = 180
    rates_pct: FiveCategoryRatesSpec = FiveCategoryRatesSpec()
    restructured_category: Literal["special_mention", "substandard"] = Field(
        "special_mention", description="lowest category of a restructured loan (the 2023 measures: at least "
        "关注; 'substandard' for the stricter treatment of restructuring under financial difficulty)")
    coverage_floor_pct: float = Field(150.0, ge=0, le=1000, description="provisions / NPL floor, percent")
    loan_provision_floor_pct: float = Field(2.5, ge=0, le=100, description="provisions / loans floor, percent")

    def thresholds(self):
        return [self.special_mention_after_dpd, self.substandard_after_dpd, self.doubtful_after_dpd,
                self.loss_after_dpd]


class ProvisioningSpec(Spec):
    """IFRS 9 and the five-category rules."""

    ifrs9: Ifrs9Spec = Ifrs9Spec()
    five_category: FiveCategorySpec = FiveCategorySpec()


class StressSpec(Spec):
    """A funding stress on one liability from ``from_month`` on."""

    from_month: int = Field(1, ge=1, le=MAX_MONTH)
    rollover_pct: Optional[float] = Field(None, ge=0, le=100, description="rollover rate under stress, percent")
    spread_add_pct: float = Field(0.0, ge=-10, le=50, description="added to the spread, percentage points")


class LiabilitySpec(Spec):
    """One funding source. Its amount matures evenly over ``maturity_months`` and is rolled at ``rollover_pct``.

    An ``abs`` liability is backed by a share of the book (``amount x overcollateral_pct``);
    once the book's delinquency crosses ``trigger_pct`` (90+ DPD or M1+, see
    ``trigger_metric``) the trigger is hit for good and every collection on the
    backing pool goes to the noteholders (early amortisation) until they are repaid.
    """

    name: str = Field(min_length=1)
    type: Literal["bank_line", "interbank", "abs", "bond"]
    amount_pct: float = Field(ge=0, le=1000, description="amount, percent of the opening book balance")
    maturity_months: int = Field(12, ge=1, le=120, description="average maturity; 1/maturity of it falls due monthly")
    rollover_pct: float = Field(100.0, ge=0, le=100, description="share of maturing amount refinanced, percent")
    spread_pct: float = Field(1.0, ge=-5, le=50, description="annual spread over the policy rate, percent")
    stress: Optional[StressSpec] = None
    trigger_pct: Optional[float] = Field(None, ge=0, le=100, description="ABS delinquency trigger, percent")
    trigger_metric: Literal["90p", "m1p"] = "90p"
    overcollateral_pct: float = Field(110.0, ge=100, le=300, description="ABS pool / notes, percent")


class CapitalSpec(Spec):
    """Capital and its floor: capital / (risk weight x loans)."""

    opening_capital_pct: float = Field(15.0, ge=0, le=100, description="opening capital, percent of the book")
    risk_weight_pct: float = Field(75.0, ge=0, le=1250, description="risk weight of the loans, percent "
                                   "(Basel regulatory retail: 75)")
    capital_ratio_floor_pct: float = Field(10.5, ge=0, le=100, description="minimum capital ratio, percent")


class FundingSpec(Spec):
    """Liquidity buffer, liabilities, operating costs and capital (percent of the opening book balance)."""

    liquidity_buffer_pct: float = Field(10.0, ge=0, le=1000, description="opening liquidity buffer, percent")
    liabilities: list[LiabilitySpec] = []
    operating_cost_pct: float = Field(3.0, ge=0, le=100, description="annual operating cost, percent of the book")
    liquidity_ratio_floor_pct: float = Field(50.0, ge=0, le=1000,
                                             description="liquid assets / liabilities due within a month, percent")
    capital: CapitalSpec = CapitalSpec()


class CollectionsSpec(Spec):
    """Stronger collections: contact delinquent accounts, which makes borrowers who can pay more likely to pay.

    A contacted borrower's willingness ``w`` to pay all arrears (cure) rises to
    ``w + (1 - w) cure_effect`` and to pay at least the instalment to
    ``w + (1 - w) instalment_effect``. In the roll-rate model a contacted loan that
    would roll worse cures instead with probability ``cure_effect`` and stays (pays
    the instalment) with probability ``instalment_effect``.
    """

    contact_pct: BucketPctSpec = Field(description="share of accounts in each bucket contacted per month, percent")
    cure_effect_pct: float = Field(30.0, ge=0, le=100, description="effect of a contact on paying in full, percent")
    instalment_effect_pct: float = Field(30.0, ge=0, le=100,
                                         description="effect of a contact on paying the instalment, percent")
    capacity_accounts_per_month: Optional[int] = Field(None, ge=0, le=10**12, description="contacts the team can make a month")
    cost_per_contact: float = Field(15.0, ge=0, le=MAX_MONEY, description="cost of one contact, book currency")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)


class RestructuringSpec(Spec):
    """Flexible repayment plans for borrowers in difficulty.

    Eligible: a borrower who has just lost the job (``on_job_loss``), a loan 1-30
    DPD (``on_dpd_1_30``), or a borrower whose income this month is more than
    ``income_drop_pct`` below the usual (``None``: not a criterion). An eligible loan
    is offered a plan with probability ``offer_pct`` and takes it with ``take_up_pct``.
    The arrears are capitalised and the loan is current again but flagged
    restructured (IFRS 9 Stage 2; five-category at least 关注). Plans: ``holiday``
    (no instalment for ``months`` months, interest capitalised, term extended by
    ``months``), ``extension`` (term extended by ``months``, lower instalment),
    ``rate_cut`` (rate cut by ``rate_cut_pct``, lower instalment).
    """

    on_job_loss: bool = True
    on_dpd_1_30: bool = True
    income_drop_pct: Optional[float] = Field(None, gt=0, le=100)
    offer_pct: float = Field(100.0, ge=0, le=100)
    take_up_pct: float = Field(60.0, ge=0, le=100)
    plan: Literal["holiday", "extension", "rate_cut"] = "holiday"
    months: int = Field(3, ge=1, le=36, description="holiday length or term extension, months")
    rate_cut_pct: float = Field(0.0, ge=0, le=100, description="rate reduction of a rate_cut plan, percent")
    max_per_loan: int = Field(1, ge=1, le=10)
    cost_per_restructuring: float = Field(50.0, ge=0, le=MAX_MONEY, description="cost of setting up one plan, book currency")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)


MIN_APPROVAL_RATE = 0.01
"""A score cut-off must let at least this share of each lending segment's applicants through."""


class OriginationsSpec(Spec):
    """New lending and its underwriting policy; replaces the like-for-like replacement of a constant book.

    Each month from ``start_month`` to ``end_month`` (default: the horizon),
    ``volume_pct`` percent of the opening number of loans are originated, split by
    ``segment_mix_pct`` (default: the portfolio's shares), as new loans drawn from the
    segment definitions. Applicants scoring below ``score_cutoff`` are declined and
    replaced by approved ones, so the volume is kept with better borrowers.
    ``pd_improvement_pct`` stands for better scoring beyond the cut-off: it scales the
    new borrowers' job-loss hazard and payment friction by ``1 - x`` (in the roll-rate
    model: the share of current new loans that would become delinquent).
    """

    volume_pct: float = Field(ge=0, le=100, description="new loans a month, percent of the opening loan count")
    segment_mix_pct: Optional[dict[str, Annotated[float, Field(ge=0, le=100)]]] = None
    score_cutoff: Optional[float] = Field(None, ge=300, le=900, description="a minimum applicant score on the "
                                          "scores' 300-900 scale")
    pd_improvement_pct: float = Field(0.0, ge=0, lt=100, description="cut in new vintages' default drivers, percent")
    start_month: int = Field(1, ge=1, le=MAX_MONTH)
    end_month: Optional[int] = Field(None, ge=1, le=MAX_MONTH)


class ActionsSpec(Spec):
    """Management actions; each is off unless its block is present."""

    collections: Optional[CollectionsSpec] = None
    restructuring: Optional[RestructuringSpec] = None
    originations: Optional[OriginationsSpec] = None


class Scenario(Spec):
    """A complete, validated scenario."""

    name: str = ""
    description: str = ""
    run: RunSpec = RunSpec()
    portfolio: PortfolioSpec
    macro: MacroSpec = MacroSpec()
    behaviour: BehaviourSpec = BehaviourSpec()
    provisioning: ProvisioningSpec = ProvisioningSpec()
    funding: FundingSpec = FundingSpec()
    actions: ActionsSpec = ActionsSpec()

    @property
    def segment_names(self):
        return [seg.name for seg in self.portfolio.segments]

    def with_run(self, **changes):
        """A copy with ``run`` fields replaced (``None`` values are ignored)."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        return self.model_copy(update={"run": self.run.model_copy(update=changes)})

    def with_loans(self, n_loans):
        """A copy whose synthetic book has ``n_loans`` loans."""
        if n_loans is None:
            return self
        return self.model_copy(update={"portfolio": self.portfolio.model_copy(update={"n_loans": n_loans})})

    def to_yaml(self):
        """The resolved scenario as YAML text (all defaults filled in)."""
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


# ----------------------------------------------------------------------- loading
MAX_SCENARIO_BYTES = 1_000_000
"""A scenario file is a few KB; larger files are refused before they are parsed."""
MAX_NESTING = 50
"""Deepest nesting of mappings and lists a scenario file may have (the schema needs 6)."""
MAX_NODES = 100_000
"""Most values a scenario file may hold once its aliases are expanded (a shipped scenario holds about 400)."""


class ScenarioTooLarge(yaml.YAMLError):
    """A scenario file beyond :data:`MAX_NESTING` or :data:`MAX_NODES` (the parser stops there)."""

    def __init__(self, message, mark):
        super().__init__(message)
        self.problem, self.problem_mark = message, mark


class ScenarioLoader(yaml.SafeLoader):
    """Safe YAML loader that refuses duplicate keys, deep nesting and alias bombs.

    A subclass: the global ``SafeLoader`` is untouched. Nesting is counted while the
    document is composed (before Python's recursion limit could be hit); the number
    of values with every alias expanded is counted on the composed graph, whose
    aliases are shared nodes, so a "billion laughs" file is refused in
    milliseconds without ever being expanded.
    """

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise ScenarioTooLarge(f"nesting deeper than {MAX_NESTING} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node, sizes):
    """Values under ``node`` with every alias expanded, memoised by node (aliases are shared nodes)."""
    if id(node) in sizes:
        return sizes[id(node)]
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        size = 1
    sizes[id(node)] = min(size, MAX_NODES + 1)
    return sizes[id(node)]


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


ScenarioLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text):
    """The document in ``text`` (None if empty), refusing documents beyond the limits."""
    loader = ScenarioLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise ScenarioTooLarge(f"more than {MAX_NODES:,} values once its aliases are expanded "
                                   "(an alias bomb?)", node.start_mark)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _read_yaml(path):
    try:
        size = Path(path).stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise InputError(f"{path}: is {size:,} bytes; a scenario file may have at most {MAX_SCENARIO_BYTES:,} "
                             "(a scenario is a few KB). Check you gave the scenario, not a data file; loan tapes "
                             "go in portfolio.tape.")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found. Check the path and the working directory.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({excerpt(exc)}). Check it is a UTF-8 text file you can read.") \
            from None
    try:
        data = _parse_yaml(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}: YAML syntax error at {where}: {excerpt(problem)}. Fix the file's syntax there.") \
            from None
    except ScenarioTooLarge as exc:
        mark = exc.problem_mark
        raise InputError(f"{path}: refused at line {mark.line + 1}, column {mark.column + 1}: {exc.problem}. "
                         "A scenario needs neither; write the values out.") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: YAML syntax error: {excerpt(exc)}. Fix the file's syntax.") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(must_be(path, "the top level", "a mapping of sections (run, portfolio, ...)",
                                 type(data).__name__, "Start the file with 'portfolio:' and the other sections."))
    return data


def _deep_merge(base, override):
    """Merge ``override`` into ``base``: mappings recursively, everything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _absolutise_tape(data, directory):
    """Paths the file names (its loan tape, its shocks' ``levels_from`` tables) made absolute from its folder."""
    portfolio = data.get("portfolio")
    if isinstance(portfolio, dict) and isinstance(portfolio.get("tape"), str):
        tape = Path(portfolio["tape"])
        if not tape.is_absolute():
            portfolio["tape"] = str((directory / tape).resolve())
    macro = data.get("macro")
    shocks = macro.get("shocks") if isinstance(macro, dict) else None
    for shock in shocks if isinstance(shocks, list) else []:
        table = shock.get("levels_from") if isinstance(shock, dict) else None
        if isinstance(table, dict) and isinstance(table.get("file"), str) and not Path(table["file"]).is_absolute():
            table["file"] = str((directory / table["file"]).resolve())


def _load_raw(path, chain):
    """Read ``path`` and everything it extends, merged (child over parent)."""
    path = Path(path).resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in chain + [path])
        raise InputError(f"{chain[-1]}: extends makes a cycle ({cycle}). Remove one of the 'extends' keys.")
    data = _read_yaml(path)
    _absolutise_tape(data, path.parent)
    parent_name = data.pop("extends", None)
    if parent_name is None:
        return data
    if not isinstance(parent_name, str):
        raise InputError(must_be(path, "extends", "a file name", parent_name, "Write e.g. 'extends: baseline.yaml'."))
    parent_path = (path.parent / parent_name)
    if not parent_path.exists():
        raise InputError(f"{path}: extends names {parent_name!r}, which does not exist at {parent_path}. "
                         "Fix the name; it is relative to this file's folder.")
    parent = _load_raw(parent_path, chain + [path])
    parent.pop("name", None)
    parent.pop("description", None)
    return _deep_merge(parent, data)


def load_scenario(path):
    """Load, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Scenario

    Raises
    ------
    InputError
        With every problem found in the file.
    """
    path = Path(path)
    data = _load_raw(path, [])
    if "weighted_scenarios" in data:
        raise InputError(f"{path}: is a scenario set (it lists weighted_scenarios), not a scenario. Run it with "
                         f"`simulate ecl {path}`, or run one of its scenarios with `simulate run`.")
    data.setdefault("name", path.stem)
    scenario = scenario_from_dict(data, source=str(path))
    for message in scenario_warnings(scenario, path):
        warnings.warn(ScenarioWarning(message), stacklevel=2)
    return scenario


class WeightedScenarioSpec(Spec):
    """One scenario of an IFRS 9 probability-weighted set."""

    scenario: str = Field(min_length=1, description="scenario file, relative to the set file")
    weight_pct: float = Field(gt=0, le=100, description="probability weight, percent")


class SetRunSpec(Spec):
    """Run options applied to every scenario of a set (common random numbers need one seed)."""

    paths: Optional[int] = Field(None, ge=1, le=1_000_000)
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1)


class ScenarioSetSpec(Spec):
    """An IFRS 9 scenario set: scenarios on the same book with probability weights summing to 100."""

    name: str = ""
    description: str = ""
    weighted_scenarios: list[WeightedScenarioSpec] = Field(min_length=1)
    run: SetRunSpec = SetRunSpec()


class ScenarioWarning(UserWarning):
    """A plausible mistake in a valid scenario: the run goes ahead, the CLI prints it, ``--strict`` refuses it."""


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


def scenario_warnings(scenario, source):
    """Plausible mistakes in a valid scenario, as house-style messages (see :class:`ScenarioWarning`).

    * a percent key of :data:`FRACTION_LOOKING_PCT` between 0 and 1: a fraction
      where percent was meant;
    * a macro ``path`` with more levels than the horizon uses (the tail is ignored).
    """
    found = []
    for field, values_of in FRACTION_LOOKING_PCT.items():
        for value in values_of(scenario):
            if 0.0 < value < 1.0:
                found.append(f"{source}: {field} is {value:g}, which reads as {value:g}% but looks like a fraction; "
                             f"keys ending in _pct are in percent: did you mean {100 * value:g}?")
                break
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


def is_scenario_set(path):
    """True if the YAML file at ``path`` is a scenario set (has ``weighted_scenarios``)."""
    return "weighted_scenarios" in _read_yaml(Path(path))


def load_scenario_set(path):
    """Load an IFRS 9 scenario set and every scenario it lists.

    Returns
    -------
    spec : ScenarioSetSpec
    scenarios : list of Scenario
        In the order listed, with the set's run options applied.

    Raises
    ------
    InputError
        Bad set file, weights not summing to 100, unreadable scenarios, or scenarios
        that do not share one book and horizon.
    """
    path = Path(path)
    data = _read_yaml(path)
    if "weighted_scenarios" not in data and ("portfolio" in data or "extends" in data):
        raise InputError(f"{path}: is a scenario, not a scenario set (it has no weighted_scenarios). Run it with "
                         f"`simulate run {path}`, or list it with weights in a set file (see "
                         "scenarios/ifrs9_weighted.yaml).")
    data.setdefault("name", path.stem)
    try:
        spec = ScenarioSetSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError([_describe(err, str(path), ScenarioSetSpec) for err in exc.errors()]) from None
    problems = []
    total = sum(item.weight_pct for item in spec.weighted_scenarios)
    if abs(total - 100.0) > 1e-6:
        problems.append(must_be(path, "weighted_scenarios[*].weight_pct", "percentages summing to 100",
                                round(total, 6), "Adjust the weights so they add up to 100."))
    scenarios = []
    for i, item in enumerate(spec.weighted_scenarios):
        try:
            scenarios.append(load_scenario(path.parent / item.scenario).with_run(paths=spec.run.paths,
                                                                                 seed=spec.run.seed))
        except InputError as exc:
            problems.extend(f"{path}: weighted_scenarios[{i}]: {problem}" for problem in exc.problems)
    if scenarios and not problems:
        first = scenarios[0]
        for i, scenario in enumerate(scenarios[1:], start=1):
            if scenario.portfolio != first.portfolio or scenario.run.horizon_months != first.run.horizon_months:
                problems.append(must_be(path, f"weighted_scenarios[{i}].scenario",
                                        f"a scenario on the same book and horizon as '{first.name}'",
                                        spec.weighted_scenarios[i].scenario,
                                        "Weighted ECL is for one book: use scenarios that extend the same "
                                        "baseline and change only the economy, behaviour or funding."))
    if problems:
        raise InputError(problems)
    return spec, scenarios


def scenario_from_dict(data, source="<scenario>"):
    """Validate a scenario given as a (merged) mapping; see :func:`load_scenario`."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError([_describe(err, source) for err in exc.errors()]) from None
    problems = _check_consistency(scenario, source)
    if problems:
        raise InputError(problems)
    return with_table_levels(scenario, source)


def field_bounds(spec, name):
    """The bounds ``(lower, upper)`` of the number field ``name`` of the model ``spec`` (of its items, for a list of
    numbers), ``-inf``/``inf`` where it has none; strict bounds (``gt``, ``lt``) are returned as they are."""
    field = spec.model_fields[name]
    metadata = list(field.metadata)
    if typing.get_origin(field.annotation) is list:
        item = typing.get_args(field.annotation)[0]
        metadata += [m for info in typing.get_args(item)[1:] for m in getattr(info, "metadata", [])]
    lower, upper = -float("inf"), float("inf")
    for constraint in metadata:
        for key in ("ge", "gt"):
            if getattr(constraint, key, None) is not None:
                lower = float(getattr(constraint, key))
        for key in ("le", "lt"):
            if getattr(constraint, key, None) is not None:
                upper = float(getattr(constraint, key))
    return lower, upper


SHOCK_SHAPES = ("step", "ramp", "hump", "path")


def _format_loc(loc):
    """``('macro', 'shocks', 0, 'hump', 'peak_month')`` -> ``macro.shocks[0].peak_month``.

    The union tag pydantic puts after a shock's index is not a key of the file, so it is dropped.
    """
    text = ""
    previous = None
    for part in loc:
        skip = isinstance(previous, int) and part in SHOCK_SHAPES
        previous = part
        if skip:
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "the top level"


def _describe(err, source, root=None):
    """Turn one pydantic error into a house-style message (``root``: the model validated, default Scenario)."""
    root = root or Scenario
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "extra_forbidden":
        valid = _valid_keys(loc[:-1], root)
        near = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        hint = f"Did you mean '{near[0]}'?" if near else f"Valid keys here: {', '.join(valid)}."
        return f"{source}: unknown key '{_format_loc(loc)}'. {hint}"
    if kind == "missing":
        return f"{source}: {_format_loc(loc)} is required but missing. Add it to the file."
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        shape = err.get("input", {}).get("shape") if isinstance(err.get("input"), dict) else None
        return must_be(source, f"{_format_loc(loc)}.shape", f"one of {', '.join(map(repr, SHOCK_SHAPES))}", shape,
                       "Give each shock a 'shape' key (see the README's macro.shocks).")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return must_be(source, _format_loc(loc), "a mapping of keys", err.get("input"),
                       "Write the section as 'key: value' lines indented under its name.")
    constraint = err["msg"]
    if kind == "too_short":
        constraint = f"a list with at least {err['ctx']['min_length']} item(s)"
    for prefix in ("Input should be ", "Value error, "):
        if constraint.startswith(prefix):
            constraint = constraint[len(prefix):]
    field = _field_info(loc, root)
    fix = f"Expected {field.description}." if field is not None and field.description else \
        "Correct the value (see the README's scenario reference)."
    return must_be(source, _format_loc(loc), constraint, err.get("input"), fix)


def _walk(loc, root):
    """Follow ``loc`` through the schema from ``root``; return the annotation reached and its field info."""
    annotation = root
    field = None
    for part in loc:
        annotation = _unwrap(annotation, part)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if isinstance(part, str) and part in annotation.model_fields:
                field = annotation.model_fields[part]
                annotation = field.annotation
                continue
            if isinstance(part, str):
                # discriminator tag of a union member, e.g. 'hump'
                continue
        field = None
    return annotation, field


def _unwrap(annotation, part):
    """Strip Optional/Annotated/list/dict/union layers so ``part`` can be looked up."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is Annotated:
            annotation = args[0]
        elif origin is Union:
            members = [a for a in args if a is not type(None)]
            chosen = members[0]
            for member in members:
                inner = typing.get_args(member)[0] if typing.get_origin(member) is Annotated else member
                if isinstance(inner, type) and issubclass(inner, BaseModel) and "shape" in inner.model_fields:
                    if part in typing.get_args(inner.model_fields["shape"].annotation):
                        chosen = inner
            if len(members) == 1 or chosen is not members[0] or not isinstance(part, int):
                annotation = chosen
            else:
                return annotation
        elif origin in (list, tuple) and isinstance(part, int):
            annotation = args[0]
            return annotation
        elif origin is dict and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            annotation = args[1]
            return annotation
        else:
            return annotation


def _valid_keys(loc, root):
    annotation, _ = _walk(loc, root)
    annotation = _unwrap(annotation, loc[-1] if loc else None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _field_info(loc, root):
    _, field = _walk(loc, root)
    return field


def sampling_problems(run, cycle, source):
    """What is wrong with ``run``'s sampling settings for ``run.paths`` paths (checked again after ``--paths``)."""
    problems = []
    m = run.rqmc_points
    if m != "auto" and m & (m - 1):
        problems.append(must_be(source, "run.rqmc_points", "a power of 2 or 'auto'", m,
                                f"Use {1 << (m.bit_length() - 1)} or {1 << m.bit_length()}."))
    elif run.sampling == "rqmc" and m != "auto" and run.paths < 2 * m:
        problems.append(must_be(source, "run.paths", f"at least two scrambles of run.rqmc_points ({m}) under rqmc "
                                "(their spread is the standard error)", run.paths,
                                f"Use at least {2 * m} paths, fewer rqmc_points, or rqmc_points: auto."))
    if run.sampling == "antithetic" and run.paths % 2:
        problems.append(must_be(source, "run.paths", "even under antithetic sampling (paths come in pairs)",
                                run.paths, f"Use {run.paths + 1} paths."))
    if run.tail_sampling == "importance" and cycle.volatility == 0:
        problems.append(must_be(source, "run.tail_sampling", "'none' when the cycle has no volatility",
                                run.tail_sampling, "Set macro.cycle.volatility above 0 or drop tail_sampling: "
                                                   "there is no adverse direction to sample more often."))
    return problems


def _check_consistency(scenario, source):
    """Cross-field rules pydantic's per-field checks cannot express."""
    problems = []
    portfolio = scenario.portfolio
    total_share = sum(seg.share_pct for seg in portfolio.segments)
    if abs(total_share - 100.0) > 1e-6:
        problems.append(must_be(source, "portfolio.segments[*].share_pct", "percentages summing to 100",
                                round(total_share, 6), "Adjust the segment shares so they add up to 100."))
    names = [seg.name for seg in portfolio.segments]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(must_be(source, "portfolio.segments[*].name", "unique", duplicates, "Rename the segments."))
    for i, seg in enumerate(portfolio.segments):
        where = f"portfolio.segments[{i}]"
        total = sum(seg.starting_dpd_pct.as_fractions()) * 100.0
        if abs(total - 100.0) > 1e-6:
            problems.append(must_be(source, f"{where}.starting_dpd_pct", "percentages summing to 100",
                                    round(total, 6), "Adjust the delinquency mix so it adds up to 100."))
        for key in ("apr_pct", "other_debt_dti_pct"):
            rng = getattr(seg, key)
            if rng.min > rng.max:
                problems.append(must_be(source, f"{where}.{key}", "a range with min <= max",
                                        {"min": rng.min, "max": rng.max}, "Swap or correct the bounds."))
    if portfolio.source == "tape" and not portfolio.tape:
        problems.append(must_be(source, "portfolio.tape", "a loan tape path when source is 'tape'", None,
                                "Add 'tape: my_loans.csv' or set 'source: synthetic'."))
    behaviour = scenario.behaviour
    if behaviour.model == "roll_rate" and behaviour.prepayment_pct is not None:
        problems.append(must_be(source, "behaviour.prepayment_pct", "absent under the roll-rate model",
                                behaviour.prepayment_pct,
                                "The roll-rate model's prepayment is the matrices' 'closed' column; remove the key "
                                "(or set it to null if it comes from a file this one extends)."))
    start = scenario.macro.cycle.start
    if start != "stationary" and (isinstance(start, str) or not -5.0 <= start <= 5.0):
        problems.append(must_be(source, "macro.cycle.start",
                                "'stationary' or a number of standard deviations from -5 to 5", start,
                                "Use 0 to start at today's conditions (the default), 2 to start two sds into a "
                                "downturn, or 'stationary' to draw the start from the cycle's long-run distribution."))
    problems += sampling_problems(scenario.run, scenario.macro.cycle, source)
    horizon = scenario.run.horizon_months
    for i, shock in enumerate(scenario.macro.shocks):
        where = f"macro.shocks[{i}]"
        if shock.shape in ("step", "ramp") and shock.end_month is not None and shock.end_month < shock.start_month:
            problems.append(must_be(source, f"{where}.end_month", f">= start_month ({shock.start_month})",
                                    shock.end_month, "Make the shock end after it starts."))
        if shock.shape == "hump" and shock.peak_month < shock.start_month:
            problems.append(must_be(source, f"{where}.peak_month", f">= start_month ({shock.start_month})",
                                    shock.peak_month, "Put the peak at or after the start."))
        if shock.shape != "path" and shock.start_month > horizon:
            problems.append(must_be(source, f"{where}.start_month", f"<= run.horizon_months ({horizon})",
                                    shock.start_month, "Start the shock inside the horizon or lengthen it."))
    behaviour = scenario.behaviour
    beyond = DPD_STATE_KEYS[behaviour.chargeoff_dpd // 30 + 1:]
    for i, seg in enumerate(portfolio.segments):
        share = sum(getattr(seg.starting_dpd_pct, key) for key in beyond)
        if share > 0:
            problems.append(must_be(source, f"portfolio.segments[{i}].starting_dpd_pct",
                                    f"0 beyond behaviour.chargeoff_dpd ({behaviour.chargeoff_dpd}) in {list(beyond)}",
                                    share, "Such loans would already be charged off: move that share to earlier "
                                    "buckets or raise chargeoff_dpd."))
    if behaviour.model == "roll_rate":
        problems.extend(_check_roll_rates(behaviour.roll_rate, names, source))
    problems.extend(_check_provisioning(scenario.provisioning, source, scenario.behaviour.chargeoff_dpd))
    problems.extend(_check_actions(scenario, source))
    liability_names = [liability.name for liability in scenario.funding.liabilities]
    duplicates = sorted({n for n in liability_names if liability_names.count(n) > 1})
    if duplicates:
        problems.append(must_be(source, "funding.liabilities[*].name", "unique", duplicates,
                                "Rename the liabilities."))
    for i, liability in enumerate(scenario.funding.liabilities):
        if liability.trigger_pct is not None and liability.type != "abs":
            problems.append(must_be(source, f"funding.liabilities[{i}].trigger_pct", "set only on an 'abs' liability",
                                    liability.trigger_pct, "Remove it or set 'type: abs'."))
    return problems


def _check_actions(scenario, source):
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
    if restructuring is not None and restructuring.plan == "holiday":
        shortest = min(min(seg.term_months) for seg in scenario.portfolio.segments)
        if restructuring.months >= shortest:
            problems.append(must_be(source, "actions.restructuring.months",
                                    f"shorter than the shortest loan term ({shortest} months)", restructuring.months,
                                    "A holiday must leave instalments to pay: shorten it."))
    originations = scenario.actions.originations
    if originations is not None:
        problems.extend(_check_originations(originations, scenario, source))
    if restructuring is not None and restructuring.plan == "rate_cut" and restructuring.rate_cut_pct == 0:
        problems.append(must_be(source, "actions.restructuring.rate_cut_pct", "above 0 for a rate_cut plan", 0,
                                "Set the rate reduction in percent, e.g. 50."))
    return problems


def _check_originations(spec, scenario, source):
    problems = []
    names = scenario.segment_names
    mix = spec.segment_mix_pct or {seg.name: seg.share_pct for seg in scenario.portfolio.segments}
    unknown = [name for name in mix if name not in names]
    if unknown:
        problems.append(must_be(source, "actions.originations.segment_mix_pct", f"keyed by segment names {names}",
                                unknown, "Use the names of portfolio.segments."))
    if abs(sum(mix.values()) - 100.0) > 1e-6 or any(v < 0 for v in mix.values()):
        problems.append(must_be(source, "actions.originations.segment_mix_pct",
                                "non-negative percentages summing to 100", mix, "Adjust the mix."))
    if spec.end_month is not None and spec.end_month < spec.start_month:
        problems.append(must_be(source, "actions.originations.end_month", f">= start_month ({spec.start_month})",
                                spec.end_month, "End the originations after they start."))
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


def _check_provisioning(spec, source, chargeoff_dpd):
    problems = []
    ifrs9 = spec.ifrs9
    if ifrs9.default_after_dpd >= chargeoff_dpd:
        problems.append(must_be(source, "provisioning.ifrs9.default_after_dpd",
                                f"below behaviour.chargeoff_dpd ({chargeoff_dpd})", ifrs9.default_after_dpd,
                                f"A loan defaults before it is charged off: lower it below {chargeoff_dpd} (IFRS 9 "
                                "presumes default at 90 DPD at the latest) or charge off later."))
    if ifrs9.stage3_after_dpd is not None and ifrs9.stage3_after_dpd > ifrs9.default_after_dpd:
        problems.append(must_be(source, "provisioning.ifrs9.stage3_after_dpd",
                                f"at most default_after_dpd ({ifrs9.default_after_dpd})", ifrs9.stage3_after_dpd,
                                "A loan in default is credit-impaired (IFRS 9 Appendix A): drop stage3_after_dpd "
                                "to follow the default definition, or lower it to an earlier NPL trigger."))
    if ifrs9.stage3_dpd <= ifrs9.stage2_after_dpd:
        problems.append(must_be(source, "provisioning.ifrs9.stage3_after_dpd",
                                f"greater than stage2_after_dpd ({ifrs9.stage2_after_dpd})",
                                ifrs9.stage3_dpd, "Stage 3 must start after Stage 2."))
    thresholds = spec.five_category.thresholds()
    if any(b <= a for a, b in zip(thresholds, thresholds[1:])):
        problems.append(must_be(source, "provisioning.five_category", "thresholds in increasing order "
                                "(special_mention < substandard < doubtful < loss)", thresholds,
                                "Order the *_after_dpd values."))
    return problems


def _check_roll_rates(spec, segment_names, source):
    if spec is None:
        return [must_be(source, "behaviour.roll_rate", "a roll_rate block when behaviour.model is 'roll_rate'",
                        None, "Add behaviour.roll_rate.matrices (see scenarios/roll_rate_example.yaml).")]
    problems = []
    for name, rows in spec.matrices.items():
        where = f"behaviour.roll_rate.matrices.{name}"
        if name != "default" and name not in segment_names:
            near = difflib.get_close_matches(name, segment_names + ["default"], n=1)
            hint = f"Did you mean '{near[0]}'?" if near else f"Use one of {segment_names + ['default']}."
            problems.append(must_be(source, where, "named after a segment or 'default'", name, hint))
        if len(rows) != N_LIVE_STATES:
            problems.append(must_be(source, where, f"{N_LIVE_STATES} rows ({', '.join(DPD_STATE_KEYS)})",
                                    len(rows), "Give one row per live state."))
            continue
        for r, row in enumerate(rows):
            if len(row) != len(ROLL_RATE_COLUMNS):
                problems.append(must_be(source, f"{where}[{r}]", f"{len(ROLL_RATE_COLUMNS)} percentages "
                                        f"({', '.join(ROLL_RATE_COLUMNS)})", len(row),
                                        "Give one column per state."))
            elif any(v < 0 for v in row) or abs(sum(row) - 100.0) > 1e-6:
                problems.append(must_be(source, f"{where}[{r}]", "non-negative percentages summing to 100",
                                        row, "Fix the row so it is a probability distribution."))
    missing = [n for n in segment_names if n not in spec.matrices] if "default" not in spec.matrices else []
    if missing:
        problems.append(must_be(source, "behaviour.roll_rate.matrices", "a matrix for every segment or a 'default'",
                                sorted(spec.matrices), f"Add a 'default' matrix or one for {missing}."))
    return problems
