"""The input data contract: tables, columns, types, units and codes.

This module is the single description of what a landlord's export must look like
once mapped (see ``docs/data-contract.md``). Reading (:mod:`risk.ingestion`),
validation (:mod:`risk.validation`), the feature builder and the simulator all
read these specifications; none of them repeats a column name list of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["id", "date", "money", "count", "year", "code", "bool"]

RESIDENCE_TYPES = (
    "residence_sociale",
    "fjt",
    "pension_de_famille",
    "residence_accueil",
    "logement_familial",
)
GUARANTEES = ("visale", "action_logement", "fsl", "none", "other")
HOUSEHOLD_TYPES = ("single", "couple", "single_parent", "couple_with_children", "other")
EMPLOYMENT_STATUSES = (
    "permanent",
    "fixed_term",
    "temporary_agency",
    "unemployed",
    "retired",
    "student",
    "inactive",
)
#: Statuses that count as "in work" (USH: one tenant in arrears out of two is an employee).
EMPLOYED_STATUSES = ("permanent", "fixed_term", "temporary_agency")
INCOME_SOURCES = (
    "salary",
    "unemployment_benefit",
    "minimum_income",
    "disability_benefit",
    "pension",
    "other",
)
LEDGER_KINDS = (
    "rent_charge",
    "tenant_payment",
    "apl_payment",
    "charge_adjustment",
    "other_credit",
    "other_debit",
)
#: Ledger kinds that increase what the tenant owes. ``charge_adjustment`` is the yearly
#: regularisation of charges billed to the tenant; a refund is an ``other_credit``.
DEBIT_KINDS = ("rent_charge", "charge_adjustment", "other_debit")
#: Ledger kinds that decrease what the tenant owes.
CREDIT_KINDS = ("tenant_payment", "apl_payment", "other_credit")
PAYMENT_METHODS = ("direct_debit", "transfer", "cheque", "cash", "card")
SUPPORT_KINDS = (
    "social_support",
    "payment_plan",
    "solidarity_fund_aid",
    "social_watch_referral",
    "contact_attempt",
    "contact_made",
)

# Plausibility caps (EUR, one row). A value above its column's cap is refused as
# absurd: it is almost always a unit or typing error (cents written as euros, an annual
# figure in a monthly column, a thousands separator read as a decimal one). One cap for
# everything would let a 40,000 EUR "monthly rent" through; each money column has its own.
#: Ledger ``amount``: one transaction. A yearly charge regularisation or a catch-up
#: payment of several years of arrears can be large, so the cap is loose.
MAX_AMOUNT_EUR = 100_000.0
#: ``tenancies.monthly_rent``: rent plus charges of a social dwelling, even a large
#: family home in Paris, stays well below 2,000 EUR; 5,000 leaves room without
#: admitting an annual rent (12 x a few hundred) typed in the monthly column.
MAX_MONTHLY_RENT_EUR = 5_000.0
#: ``incomes.monthly_income``: households of social housing are under income ceilings
#: (PLS ceiling for a large household in Ile-de-France ~ 10,000 EUR a month); 30,000
#: catches an annual income typed as monthly.
MAX_MONTHLY_INCOME_EUR = 30_000.0
#: ``apl.monthly_amount``: APL is capped by a rent ceiling (loyer plafond) and rarely
#: exceeds 600 EUR; 2,000 catches an annual or cumulated amount.
MAX_MONTHLY_APL_EUR = 2_000.0
#: Birth years outside this range are refused as absurd.
MIN_BIRTH_YEAR = 1900
MAX_BIRTH_YEAR = 2015
MAX_CHILDREN = 20


@dataclass(frozen=True)
class Column:
    """One column of a contract table.

    Parameters
    ----------
    name
        Contract name of the column.
    kind
        Logical type: ``id`` (text key), ``date``, ``money`` (EUR, non-negative float),
        ``count`` (non-negative integer), ``year``, ``code`` (one of ``codes``) or ``bool``.
    description
        What the column holds, with its unit.
    required
        Whether the column must be present in the export.
    nullable
        Whether an empty value is allowed.
    codes
        Allowed values for ``code`` columns.
    max_value
        Plausibility cap of a ``money`` column, EUR (see ``MAX_*_EUR``).
    positive
        Whether a ``money`` value must be above zero (zero is refused, not only
        negative values).
    """

    name: str
    kind: ColumnKind
    description: str
    required: bool = True
    nullable: bool = False
    codes: tuple[str, ...] = ()
    max_value: float | None = None
    positive: bool = False


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, key and whether it may be absent."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: bool = False
    extra_columns_allowed: bool = True
    #: Pairs (earlier, later) of date columns: a row whose later date precedes the earlier
    #: one is refused. Income and APL rows may be posted before they take effect (a change
    #: notified in advance), so only the ledger and the start/end pairs are ordered.
    date_order: tuple[tuple[str, str], ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of every contract column, in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


TENANCIES = Table(
    name="tenancies",
    description="One row per tenancy (bail or contrat d'occupation).",
    key=("tenancy_id",),
    date_order=(("start_date", "end_date"),),
    columns=(
        Column(
            "tenancy_id",
            "id",
            "Tenancy identifier in the landlord's system (pseudonymised in every report).",
        ),
        Column("residence_id", "id", "Residence or building identifier."),
        Column("residence_type", "code", "Type of residence.", codes=RESIDENCE_TYPES),
        Column("start_date", "date", "Entry date (date d'entrée)."),
        Column("end_date", "date", "Exit date; empty while the tenant is present.", nullable=True),
        Column(
            "monthly_rent",
            "money",
            "Current monthly rent plus charges billed (quittance), EUR; above zero.",
            max_value=MAX_MONTHLY_RENT_EUR,
            positive=True,
        ),
        Column("guarantee", "code", "Guarantee given at entry.", codes=GUARANTEES),
        Column("tenant_birth_year", "year", "Birth year of the main tenant."),
        Column("household_type", "code", "Current household composition.", codes=HOUSEHOLD_TYPES),
        Column("children", "count", "Current number of dependent children."),
    ),
)

INCOMES = Table(
    name="incomes",
    description="One row per change of household income or employment, or correction.",
    # posted_date is in the key: a back-dated recalculation for the same effective date,
    # posted later, is a correction, not a duplicate (the feature builder uses the latest
    # posting known at the as-of date).
    key=("tenancy_id", "effective_date", "posted_date"),
    columns=(
        Column("tenancy_id", "id", "Tenancy the household belongs to."),
        Column("effective_date", "date", "Date from which the income applies."),
        Column("posted_date", "date", "Date the landlord learned of it (recorded in its system)."),
        Column(
            "monthly_income",
            "money",
            "Monthly household income (ressources), EUR.",
            max_value=MAX_MONTHLY_INCOME_EUR,
        ),
        Column(
            "employment_status", "code", "Employment of the main tenant.", codes=EMPLOYMENT_STATUSES
        ),
        Column("income_source", "code", "Main source of the income.", codes=INCOME_SOURCES),
    ),
)

APL = Table(
    name="apl",
    description="One row per change of housing-benefit (APL) entitlement, or correction.",
    key=("tenancy_id", "effective_date", "posted_date"),
    columns=(
        Column("tenancy_id", "id", "Tenancy the benefit is for."),
        Column("effective_date", "date", "Date from which the amount applies."),
        Column("posted_date", "date", "Date the landlord recorded the change."),
        Column(
            "monthly_amount",
            "money",
            "Monthly APL amount, EUR; 0 when not entitled.",
            max_value=MAX_MONTHLY_APL_EUR,
        ),
        Column("paid_to_landlord", "bool", "Whether APL is paid to the landlord (tiers payant)."),
    ),
)

LEDGER = Table(
    name="ledger",
    description="Rent-ledger transactions: charges, payments, benefit credits.",
    key=(),
    date_order=(("event_date", "posted_date"),),
    columns=(
        Column("tenancy_id", "id", "Tenancy the transaction belongs to."),
        Column("event_date", "date", "Date the transaction happened (value date)."),
        Column(
            "posted_date",
            "date",
            "Date the landlord's system recorded it; empty means event_date.",
            nullable=True,
        ),
        Column("kind", "code", "Kind of transaction.", codes=LEDGER_KINDS),
        Column(
            "amount",
            "money",
            "Amount, EUR, always above zero; the kind gives the direction.",
            max_value=MAX_AMOUNT_EUR,
            positive=True,
        ),
        Column(
            "payment_method",
            "code",
            "How a payment was made; empty for non-payments.",
            required=False,
            nullable=True,
            codes=PAYMENT_METHODS,
        ),
    ),
)

SUPPORT = Table(
    name="support",
    description="Follow-up events: social support, payment plans, aid, contacts.",
    key=(),
    optional=True,
    date_order=(("start_date", "end_date"),),
    columns=(
        Column("tenancy_id", "id", "Tenancy followed."),
        Column("kind", "code", "Kind of follow-up.", codes=SUPPORT_KINDS),
        Column("start_date", "date", "Date it started (or happened, for one-off events)."),
        Column(
            "end_date",
            "date",
            "Date it ended; empty while running or for one-off events.",
            nullable=True,
        ),
        Column("posted_date", "date", "Date the landlord recorded it."),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (TENANCIES, INCOMES, APL, LEDGER, SUPPORT)}
