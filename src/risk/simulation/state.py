"""The simulator's state: one array per attribute, one element per tenancy.

Keeping the whole state as flat arrays is what makes the simulator fast (every monthly
rule is a vectorised operation over the tenancies present) and what lets the step be
replayed from any state: :meth:`State.subset` copies the rows of some tenancies, and
:func:`risk.simulation.engine.step` can roll them forward with a fresh generator
(Monte Carlo roll-outs of the oracle).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from risk.contract import EMPLOYMENT_STATUSES, GUARANTEES, PAYMENT_METHODS
from risk.simulation.config import SimulationConfig, year_value
from risk.simulation.months import MonthGrid, month_number
from risk.simulation.profiles import ResidenceTypeParams

#: Tenancy lifecycle codes of :attr:`State.phase`.
WAITING, PRESENT, SETTLING, CLOSED = 0, 1, 2, 3
#: Width of the income ring buffer: 12 months of reference lagged by 2 months.
HISTORY = 14
#: Month index meaning "never" in month-valued attributes.
NEVER = -(10**6)

EMP = {code: i for i, code in enumerate(EMPLOYMENT_STATUSES)}
GUAR = {code: i for i, code in enumerate(GUARANTEES)}
METHOD = {code: i for i, code in enumerate(PAYMENT_METHODS)}


@dataclass
class State:
    """Attributes of every tenancy, static (drawn at creation) and dynamic.

    Money is EUR (``float64`` for the balance, ``float32`` elsewhere), days are day
    numbers since 1970-01-01, months are indices of the :class:`MonthGrid`.
    """

    # --- static: who the household is, where it lives, its hidden traits
    rtype: npt.NDArray[np.int8]  # index into Context.type_names
    residence: npt.NDArray[np.int32]
    start_m: npt.NDArray[np.int32]
    start_day: npt.NDArray[np.int64]
    birth_year: npt.NDArray[np.int16]
    household: npt.NDArray[np.int8]
    children: npt.NDArray[np.int8]
    adults: npt.NDArray[np.int8]
    guarantee: npt.NDArray[np.int8]
    propensity: npt.NDArray[np.float32]  # hidden: persistent tendency to miss payments
    reachability: npt.NDArray[np.float32]  # hidden: answers the landlord or not
    tiers: npt.NDArray[np.bool_]
    eligible: npt.NDArray[np.bool_]  # can receive APL at all
    disabled: npt.NDArray[np.bool_]
    wage_factor: npt.NDArray[np.float32]  # wage in SMIC units when in work
    partner_wage: npt.NDArray[np.float32]  # partner's wage in SMIC units (0: none)
    youth_income: npt.NDArray[np.float32]
    debit_day: npt.NDArray[np.int8]
    regularisation_month: npt.NDArray[np.int8]  # month of year; 0 = never
    # --- dynamic
    phase: npt.NDArray[np.int8]
    active_m: npt.NDArray[np.int32]  # month the tenancy entered the simulation
    end_day: npt.NDArray[np.int64]
    settle_day: npt.NDArray[np.int64]
    settle_m: npt.NDArray[np.int32]
    rent: npt.NDArray[np.float64]
    emp: npt.NDArray[np.int8]
    benefit_left: npt.NDArray[np.int16]
    last_wage: npt.NDArray[np.float32]
    income_factor: npt.NDArray[np.float32]
    income_base: npt.NDArray[np.float32]
    income: npt.NDArray[np.float32]
    taxable: npt.NDArray[np.float32]  # the part of the income the APL counts
    reported_income: npt.NDArray[np.float32]
    reported_emp: npt.NDArray[np.int8]
    drift_m: npt.NDArray[np.int32]  # month a not yet reported income change began
    history: npt.NDArray[np.float32]  # (n, HISTORY) ring of monthly taxable incomes
    year_sum: npt.NDArray[np.float32]
    past1: npt.NDArray[np.float32]  # mean monthly taxable income of last calendar year
    past2: npt.NDArray[np.float32]  # ... of the year before (the N-2 base)
    apl: npt.NDArray[np.float32]  # entitlement (in force from month apl_m)
    apl_m: npt.NDArray[np.int32]  # month of effect of the last APL row
    apl_cut_m: npt.NDArray[np.int32]  # month of the last cut of the entitlement
    apl_delay: npt.NDArray[np.int8]
    apl_backpay: npt.NDArray[np.float32]
    apl_suspended: npt.NDArray[np.bool_]
    method: npt.NDArray[np.int8]
    balance: npt.NDArray[np.float64]  # what the tenant owes (negative: in credit)
    arrears_m: npt.NDArray[np.int16]  # consecutive month-ends in arrears
    shock: npt.NDArray[np.float32]  # cost of a running expense shock (0: none)
    support: npt.NDArray[np.bool_]
    support_start: npt.NDArray[np.int64]
    watched: npt.NDArray[np.bool_]
    plan: npt.NDArray[np.bool_]
    plan_start: npt.NDArray[np.int64]
    plan_instalment: npt.NDArray[np.float32]
    contact_m: npt.NDArray[np.int32]
    contacted: npt.NDArray[np.bool_]
    fsl_m: npt.NDArray[np.int32]
    guarantee_left: npt.NDArray[np.float32]
    p_miss: npt.NDArray[np.float32]
    missed: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.phase)

    def subset(self, idx: npt.NDArray[np.integer]) -> State:
        """Return a copy holding the rows ``idx`` only (for roll-outs)."""
        return State(**{f.name: getattr(self, f.name)[idx].copy() for f in fields(self)})


@dataclass(frozen=True)
class Context:
    """Everything the step reads besides the state: configuration and calendar arrays.

    Parameters
    ----------
    config
        The run's configuration.
    grid
        The month grid.
    """

    config: SimulationConfig
    grid: MonthGrid

    @property
    def type_names(self) -> tuple[str, ...]:
        """Residence types in the order of :attr:`State.rtype` (all contract types)."""
        return tuple(self.config.residence_types)

    @property
    def type_params(self) -> tuple[ResidenceTypeParams, ...]:
        """Parameters of each residence type, in :attr:`type_names` order."""
        return tuple(self.config.residence_types.values())

    def per_type(self, name: str) -> npt.NDArray[np.float64]:
        """Array of one residence-type parameter, indexable by :attr:`State.rtype`."""
        return np.array([getattr(p, name) for p in self.type_params], dtype=np.float64)

    def by_year(self, table: tuple[tuple[int, float], ...], m: int) -> float:
        """Value of a by-year table for month ``m``."""
        return year_value(table, self.grid.year(m))

    def is_lockdown(self, m: int) -> bool:
        """Whether month ``m`` is a lockdown month."""
        absolute = self.grid.absolute(m)
        return any(month_number(t) == absolute for t in self.config.economy.lockdown_months)

    @property
    def reform_m(self) -> int:
        """Index of the first month of the APL contemporaneity reform."""
        return self.grid.index_of(self.config.apl.reform_month)
