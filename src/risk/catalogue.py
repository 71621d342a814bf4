"""The feature catalogue: what the model may use, and how to speak about it.

This is the single declarative description of every model feature. The feature
builder (:mod:`risk.features`) produces exactly these columns in this order; training
reads the expected directions as LightGBM monotone constraints; the explanations stage
fills the caseworker-facing reasons (French first) and points to a lever; the auditor
report and the API's model description print the same entries. Nothing else in the
library keeps a list of feature names.

Sensitive data (GDPR art. 9: nationality, health, ethnic origin...) is never a feature.
Age enters only as "aged 30 or over" (the usual limit of the VISALE guarantee) and as a
coarse age band. The precise definitions live in ``docs/features.md``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from risk.contract import EMPLOYMENT_STATUSES, GUARANTEES, HOUSEHOLD_TYPES, RESIDENCE_TYPES

#: Bump when a feature is added, removed or redefined; the fingerprint catches the rest.
CATALOGUE_VERSION = "1.0.0"

Family = Literal[
    "guarantee", "household", "income", "affordability", "apl", "ledger", "tenure", "support"
]
FeatureDtype = Literal["numeric", "bool", "categorical"]
Direction = Literal[-1, 0, 1]

#: Families in the order their features appear.
FAMILIES: tuple[Family, ...] = (
    "guarantee",
    "household",
    "income",
    "affordability",
    "apl",
    "ledger",
    "tenure",
    "support",
)

#: Age bands (years reached in the as-of year). Coarse on purpose: age is not a lever.
AGE_BANDS = ("under_25", "25_to_29", "30_to_44", "45_to_59", "60_and_over")
#: Monthly income bands, EUR: [0, 636), [636, 1000), [1000, 1500), [1500, inf). 636 EUR
#: and 1,000-1,500 EUR are the thresholds of the ALFI study (DOMAIN.md).
INCOME_BANDS = ("below_636", "636_to_1000", "1000_to_1500", "1500_and_above")
INCOME_BAND_EDGES = (636.0, 1000.0, 1500.0)


@dataclass(frozen=True)
class Lever:
    """Something a caseworker can do, which a reason points to.

    Parameters
    ----------
    key
        Stable identifier used in the catalogue and the API.
    label_fr, label_en
        Short label shown to caseworkers (French first).
    """

    key: str
    label_fr: str
    label_en: str


_LEVER_LIST = (
    Lever(
        key="check_benefit_rights",
        label_fr="Vérifier et rouvrir les droits (recalcul de l'APL, déclaration CAF)",
        label_en="Check and reopen benefit rights (APL recalculation, CAF declaration)",
    ),
    Lever(
        key="solidarity_fund",
        label_fr="Demander une aide du Fonds de solidarité pour le logement (FSL)",
        label_en="Apply for solidarity fund (FSL) aid",
    ),
    Lever(
        key="payment_plan",
        label_fr="Proposer un plan d'apurement",
        label_en="Offer a payment plan",
    ),
    Lever(
        key="temporary_rent_reduction",
        label_fr="Réduire temporairement le loyer",
        label_en="Reduce the rent temporarily",
    ),
    Lever(
        key="activate_guarantee",
        label_fr="Activer la garantie",
        label_en="Activate the guarantee",
    ),
    Lever(
        key="budget_workshop",
        label_fr="Proposer un atelier de gestion budgétaire",
        label_en="Offer a budget-management workshop",
    ),
    Lever(
        key="social_watch",
        label_fr="Présenter la situation en veille sociale",
        label_en="Refer to the monthly social watch",
    ),
    Lever(
        key="neutral_third_party",
        label_fr="Faire intervenir un tiers neutre",
        label_en="Involve a neutral third party",
    ),
    Lever(
        key="transfer_cheaper_home",
        label_fr="Proposer une mutation vers un logement moins cher",
        label_en="Offer a transfer to a cheaper home",
    ),
)
#: Every lever a reason may point to, by key.
LEVERS: dict[str, Lever] = {lever.key: lever for lever in _LEVER_LIST}


@dataclass(frozen=True)
class Counterfactual:
    """The change a lever would bring to an actionable feature ("what would lower the risk").

    Declared here, never written by hand per household: :mod:`risk.counterfactual`
    applies the change to a household's features, keeping the features it implies
    consistent, and re-scores it.

    Parameters
    ----------
    change
        Rule that applies the change (see :data:`COUNTERFACTUAL_CHANGES`): ``set`` (the
        feature takes ``value``), ``clear_balance``, ``restore_apl`` or
        ``apl_to_landlord``.
    condition_fr, condition_en
        The change in words, opening the sentence; ``{value}`` (when present) is filled
        with the value of ``shown`` after the change.
    shown
        Feature whose value after the change fills ``{value}``.
    value
        Target value of a ``set`` change; None for the other rules.
    """

    change: str
    condition_fr: str
    condition_en: str
    shown: str
    value: float | None = None


#: The rules a :class:`Counterfactual` may name.
COUNTERFACTUAL_CHANGES = ("set", "clear_balance", "restore_apl", "apl_to_landlord")

# One object per lever outcome: features sharing it give one re-scoring, not several.
_RESTORE_APL = Counterfactual(
    change="restore_apl", shown="apl_amount",
    condition_fr="Si l'APL revenait à {value} € par mois",
    condition_en="If the APL were back at {value} EUR a month",
)
_APL_TO_LANDLORD = Counterfactual(
    change="apl_to_landlord", shown="apl_paid_to_landlord",
    condition_fr="Si l'APL était versée directement au bailleur (tiers payant)",
    condition_en="If the APL were paid directly to the landlord",
)
_CLEAR_BALANCE = Counterfactual(
    change="clear_balance", shown="balance_eur",
    condition_fr="Si le solde impayé était ramené à {value} € (plan d'apurement, FSL)",
    condition_en="If the unpaid balance were brought down to {value} EUR (payment plan, FSL)",
)
_ALL_BY_DIRECT_DEBIT = Counterfactual(
    change="set", shown="direct_debit_share_6m", value=1.0,
    condition_fr="Si tous les paiements passaient par prélèvement automatique",
    condition_en="If every payment were made by direct debit",
)
_PLAN_IN_PLACE = Counterfactual(
    change="set", shown="payment_plan_active", value=1.0,
    condition_fr="Si un plan d'apurement était en place",
    condition_en="If a payment plan were in place",
)
_CONTACT_MADE = Counterfactual(
    change="set", shown="failed_contacts_6m", value=0.0,
    condition_fr="Si le contact était établi (aucune tentative sans réponse)",
    condition_en="If contact were made (no unanswered attempt)",
)

# Display labels of the contract codes, (code, French, English), in the contract's order.
GUARANTEE_LABELS = (
    ("visale", "VISALE", "VISALE"),
    ("action_logement", "Action Logement (Loca-Pass)", "Action Logement (Loca-Pass)"),
    ("fsl", "garantie du FSL", "FSL guarantee"),
    ("none", "aucune", "none"),
    ("other", "autre", "other"),
)
AGE_BAND_LABELS = (
    ("under_25", "moins de 25 ans", "under 25"),
    ("25_to_29", "25 à 29 ans", "25 to 29"),
    ("30_to_44", "30 à 44 ans", "30 to 44"),
    ("45_to_59", "45 à 59 ans", "45 to 59"),
    ("60_and_over", "60 ans et plus", "60 and over"),
)
HOUSEHOLD_LABELS = (
    ("single", "personne seule", "single person"),
    ("couple", "couple sans enfant", "couple without children"),
    ("single_parent", "famille monoparentale", "single parent"),
    ("couple_with_children", "couple avec enfant(s)", "couple with children"),
    ("other", "autre", "other"),
)
INCOME_BAND_LABELS = (
    ("below_636", "moins de 636 €", "below 636 EUR"),
    ("636_to_1000", "636 à 1 000 €", "636 to 1,000 EUR"),
    ("1000_to_1500", "1 000 à 1 500 €", "1,000 to 1,500 EUR"),
    ("1500_and_above", "1 500 € et plus", "1,500 EUR and above"),
)
EMPLOYMENT_LABELS = (
    ("permanent", "CDI", "permanent contract"),
    ("fixed_term", "CDD", "fixed-term contract"),
    ("temporary_agency", "intérim", "agency work"),
    ("unemployed", "sans emploi", "unemployed"),
    ("retired", "retraité(e)", "retired"),
    ("student", "étudiant(e) ou apprenti(e)", "student or apprentice"),
    ("inactive", "inactif(ve)", "inactive"),
)
RESIDENCE_LABELS = (
    ("residence_sociale", "résidence sociale", "social residence"),
    ("fjt", "foyer de jeunes travailleurs (FJT)", "young workers' hostel (FJT)"),
    ("pension_de_famille", "pension de famille", "pension de famille"),
    ("residence_accueil", "résidence accueil", "résidence accueil"),
    ("logement_familial", "logement familial", "family home"),
)


@dataclass(frozen=True)
class Feature:
    """One model feature.

    Parameters
    ----------
    name
        Column name in the feature frame.
    family
        Feature family (see :data:`FAMILIES`).
    description
        Precise definition in English, with its point-in-time rule where it matters.
    unit
        Unit of the value (``EUR``, ``months``, ``ratio``, ``days``, ``count``, ``flag``...).
    dtype
        ``numeric``, ``bool`` (held as float 1.0/0.0, NaN when unknown) or ``categorical``.
    direction
        Expected effect on risk when the value grows: +1 raises it, -1 lowers it, 0 none
        or unknown. Read as a LightGBM monotone constraint; always 0 for categoricals.
    reason_fr, reason_en
        Caseworker-facing reason, phrased for the value that raises the risk; ``{value}``
        (when present) is filled by the explanations stage.
    lever
        Key into :data:`LEVERS`, or None when no lever applies.
    actionable
        Whether a caseworker can change the value (used for "what would lower the risk").
    reason_group
        Correlated features sharing a group give a single reason.
    missing
        When the value is NaN.
    categories
        Allowed values of a categorical feature, in display order.
    label_fr, label_en
        Short name of the feature, for a reason whose value is unknown or a flag that does
        not hold the value its reason describes, and for the auditors' report.
    reason_when
        For a ``bool`` feature, the value (1.0 or 0.0) that ``reason_fr``/``reason_en``
        describe; any other value is worded from the label ("... : oui"/"... : non").
    category_labels
        For a categorical feature, ``(code, French, English)`` display labels, one per
        category, in the order of ``categories``.
    counterfactual
        For an actionable feature, the change its lever would bring, re-scored by
        :mod:`risk.counterfactual`; None when no change can be stated from the data.
    """

    name: str
    family: Family
    description: str
    unit: str
    dtype: FeatureDtype
    direction: Direction
    reason_fr: str
    reason_en: str
    lever: str | None
    actionable: bool
    reason_group: str
    missing: str = "never"
    categories: tuple[str, ...] = ()
    label_fr: str = ""
    label_en: str = ""
    reason_when: float | None = None
    category_labels: tuple[tuple[str, str, str], ...] = ()
    counterfactual: Counterfactual | None = None


_NO_INCOME = "no income row is in force at as-of"
_NO_PAYMENT = "no tenant payment in the last 6 complete months"

#: Every model feature, in the order of the feature frame's columns.
FEATURES: tuple[Feature, ...] = (
    # --- guarantee -----------------------------------------------------------------------
    Feature(
        name="guarantee_type", family="guarantee",
        label_fr="Garantie à l'entrée", label_en="Guarantee at entry",
        category_labels=GUARANTEE_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Guarantee given at entry (contract code).",
        reason_fr="Garantie à l'entrée : {value}", reason_en="Guarantee at entry: {value}",
        lever="activate_guarantee", actionable=False, reason_group="guarantee",
        categories=GUARANTEES,
    ),
    Feature(
        name="has_guarantee", family="guarantee",
        label_fr="Garantie de loyer à l'entrée", label_en="Rent guarantee at entry",
        reason_when=0.0,
        dtype="bool", unit="flag", direction=-1,
        description="1 when any guarantee was given at entry (guarantee is not 'none').",
        reason_fr="Entré(e) sans garantie de loyer", reason_en="Entered without a rent guarantee",
        lever="solidarity_fund", actionable=False, reason_group="guarantee",
    ),
    Feature(
        name="aged_30_or_over", family="guarantee",
        label_fr="Locataire de 30 ans ou plus", label_en="Tenant aged 30 or over",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=0,
        description=(
            "1 when the main tenant reaches 30 or more in the as-of year (as-of year minus birth "
            "year): outside VISALE's usual scope."
        ),
        reason_fr="Locataire de 30 ans ou plus, hors champ habituel de VISALE",
        reason_en="Tenant aged 30 or over, outside VISALE's usual scope",
        lever=None, actionable=False, reason_group="guarantee",
    ),
    # --- household -----------------------------------------------------------------------
    Feature(
        name="age_band", family="household",
        label_fr="Tranche d'âge", label_en="Age band",
        category_labels=AGE_BAND_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Age band of the main tenant (as-of year minus birth year).",
        reason_fr="Tranche d'âge : {value}", reason_en="Age band: {value}",
        lever=None, actionable=False, reason_group="age",
        categories=AGE_BANDS,
    ),
    Feature(
        name="household_type", family="household",
        label_fr="Composition du ménage", label_en="Household composition",
        category_labels=HOUSEHOLD_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Household composition (contract code).",
        reason_fr="Composition du ménage : {value}", reason_en="Household: {value}",
        lever=None, actionable=False, reason_group="household",
        categories=HOUSEHOLD_TYPES,
    ),
    Feature(
        name="children", family="household",
        label_fr="Enfants à charge", label_en="Dependent children",
        dtype="numeric", unit="count", direction=0,
        description="Number of dependent children.",
        reason_fr="{value} enfant(s) à charge", reason_en="{value} dependent child(ren)",
        lever=None, actionable=False, reason_group="household",
    ),
    # --- income --------------------------------------------------------------------------
    Feature(
        name="income_monthly", family="income",
        label_fr="Revenus mensuels", label_en="Monthly income",
        dtype="numeric", unit="EUR/month", direction=-1,
        description=(
            "Monthly household income in force at as-of: the income row with the latest effective "
            "date among rows posted and effective before as-of."
        ),
        reason_fr="Revenus mensuels de {value} €", reason_en="Monthly income of {value} EUR",
        lever="check_benefit_rights", actionable=False, reason_group="income_level",
        missing=_NO_INCOME,
    ),
    Feature(
        name="income_band", family="income",
        label_fr="Tranche de revenus", label_en="Income band",
        category_labels=INCOME_BAND_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Band of income_monthly: below 636, 636-1000, 1000-1500, 1500 EUR and above.",
        reason_fr="Revenus dans la tranche {value}", reason_en="Income band {value}",
        lever="check_benefit_rights", actionable=False, reason_group="income_level",
        missing=_NO_INCOME,
        categories=INCOME_BANDS,
    ),
    Feature(
        name="income_change_since_entry", family="income",
        label_fr="Évolution des revenus depuis l'entrée", label_en="Income change since entry",
        dtype="numeric", unit="ratio", direction=-1,
        description=(
            "Relative change of income_monthly since entry (current / entry - 1). The entry income "
            "is the earliest known income row (by effective date)."
        ),
        reason_fr="Évolution des revenus depuis l'entrée : {value}",
        reason_en="Income change since entry: {value}",
        lever="check_benefit_rights", actionable=False, reason_group="income_change",
        missing=_NO_INCOME + ", or the entry income is 0",
    ),
    Feature(
        name="employment_status", family="income",
        label_fr="Situation d'emploi", label_en="Employment",
        category_labels=EMPLOYMENT_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Employment of the main tenant in force at as-of (contract code).",
        reason_fr="Situation d'emploi : {value}", reason_en="Employment: {value}",
        lever=None, actionable=False, reason_group="employment",
        missing=_NO_INCOME,
        categories=EMPLOYMENT_STATUSES,
    ),
    Feature(
        name="job_lost_since_entry", family="income",
        label_fr="Perte d'emploi depuis l'entrée", label_en="Job lost since entry",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=1,
        description=(
            "1 when the main tenant was in work at entry (permanent, fixed-term or agency) and is "
            "now unemployed or inactive."
        ),
        reason_fr="Perte d'emploi depuis l'entrée", reason_en="Job lost since entry",
        lever="check_benefit_rights", actionable=False, reason_group="employment",
        missing=_NO_INCOME,
    ),
    # --- affordability -------------------------------------------------------------------
    Feature(
        name="monthly_rent", family="affordability",
        label_fr="Loyer et charges", label_en="Rent and charges",
        dtype="numeric", unit="EUR/month", direction=0,
        description=(
            "Monthly rent plus charges in force at as-of: the latest rent charge of the ledger "
            "known and dated before as-of, else the tenancy's rent (quittance)."
        ),
        reason_fr="Loyer et charges de {value} € par mois",
        reason_en="Rent and charges of {value} EUR a month",
        lever="transfer_cheaper_home", actionable=True, reason_group="rent_level",
    ),
    Feature(
        name="residual_rent", family="affordability",
        label_fr="Loyer résiduel", label_en="Residual rent",
        dtype="numeric", unit="EUR/month", direction=0,
        description=(
            "What the tenant owes the landlord each month: rent and charges minus the APL in "
            "force when paid to the landlord, floored at 10% of the rent (risk.arrears)."
        ),
        reason_fr="Loyer résiduel de {value} € par mois",
        reason_en="Residual rent of {value} EUR a month",
        lever="temporary_rent_reduction", actionable=True, reason_group="rent_level",
    ),
    Feature(
        name="effort_rate", family="affordability",
        label_fr="Taux d'effort", label_en="Housing cost ratio",
        dtype="numeric", unit="ratio", direction=1,
        description=(
            "Effort rate max(rent - APL, 0) / income, capped at 2.0; a zero income with rent left "
            "to pay gives the cap."
        ),
        reason_fr="Taux d'effort de {value}", reason_en="Housing cost ratio of {value}",
        lever="transfer_cheaper_home", actionable=True, reason_group="affordability",
        missing=_NO_INCOME,
    ),
    Feature(
        name="remaining_income_per_cu", family="affordability",
        label_fr="Reste à vivre par unité de consommation",
        label_en="Income left per consumption unit",
        dtype="numeric", unit="EUR/month per consumption unit", direction=-1,
        description=(
            "Income left after rent net of APL, per OECD consumption unit (1 for the first adult, "
            "0.5 for another adult in couples and 'other' households, 0.3 per child)."
        ),
        reason_fr="Reste à vivre de {value} € par mois et par unité de consommation",
        reason_en="{value} EUR a month left per consumption unit after rent",
        lever="check_benefit_rights", actionable=True, reason_group="affordability",
        missing=_NO_INCOME,
    ),
    # --- apl -----------------------------------------------------------------------------
    Feature(
        name="apl_entitled", family="apl",
        label_fr="Droit à l'APL en cours", label_en="APL entitlement in force",
        reason_when=0.0,
        counterfactual=_RESTORE_APL,
        dtype="bool", unit="flag", direction=0,
        description="1 when the APL amount in force at as-of is above 0.",
        reason_fr="Aucun droit à l'APL en cours", reason_en="No APL entitlement in force",
        lever="check_benefit_rights", actionable=True, reason_group="apl_level",
    ),
    Feature(
        name="apl_amount", family="apl",
        label_fr="Montant de l'APL", label_en="APL amount",
        counterfactual=_RESTORE_APL,
        dtype="numeric", unit="EUR/month", direction=-1,
        description=(
            "Monthly APL in force at as-of: latest effective row among rows posted and effective "
            "before as-of; 0 when none."
        ),
        reason_fr="APL de {value} € par mois", reason_en="APL of {value} EUR a month",
        lever="check_benefit_rights", actionable=True, reason_group="apl_level",
    ),
    Feature(
        name="apl_rent_share", family="apl",
        label_fr="Part du loyer couverte par l'APL",
        label_en="Share of the rent covered by the APL",
        counterfactual=_RESTORE_APL,
        dtype="numeric", unit="ratio", direction=-1,
        description="apl_amount / monthly_rent.",
        reason_fr="L'APL couvre {value} du loyer", reason_en="APL covers {value} of the rent",
        lever="check_benefit_rights", actionable=True, reason_group="apl_level",
        missing="the monthly rent is 0",
    ),
    Feature(
        name="apl_change_3m", family="apl",
        label_fr="Variation de l'APL sur 3 mois", label_en="APL change over 3 months",
        counterfactual=_RESTORE_APL,
        dtype="numeric", unit="EUR/month", direction=-1,
        description="apl_amount minus the APL in force 3 months before as-of (as known at as-of).",
        reason_fr="Variation de l'APL sur le dernier trimestre : {value} €",
        reason_en="APL change over the last quarter: {value} EUR",
        lever="check_benefit_rights", actionable=True, reason_group="apl_change",
        missing="the tenancy started less than 3 months before as-of",
    ),
    Feature(
        name="apl_months_since_lost", family="apl",
        label_fr="Mois depuis la perte de l'APL", label_en="Months since the APL was lost",
        counterfactual=_RESTORE_APL,
        dtype="numeric", unit="months", direction=-1,
        description=(
            "Complete months since the APL fell to 0 (effective date of the first zero row after "
            "the last positive one)."
        ),
        reason_fr="APL perdue depuis {value} mois", reason_en="APL lost {value} months ago",
        lever="check_benefit_rights", actionable=True, reason_group="apl_change",
        missing="APL is in force, or was never known above 0",
    ),
    Feature(
        name="apl_paid_to_landlord", family="apl",
        label_fr="APL versée au bailleur (tiers payant)", label_en="APL paid to the landlord",
        reason_when=0.0,
        counterfactual=_APL_TO_LANDLORD,
        dtype="bool", unit="flag", direction=-1,
        description="1 when the APL in force is paid to the landlord (tiers payant).",
        reason_fr="APL versée au locataire et non au bailleur",
        reason_en="APL paid to the tenant, not the landlord",
        lever="check_benefit_rights", actionable=True, reason_group="apl_payment",
        missing="no APL is in force",
    ),
    # --- ledger --------------------------------------------------------------------------
    Feature(
        name="balance_eur", family="ledger",
        label_fr="Solde impayé", label_en="Unpaid balance",
        counterfactual=_CLEAR_BALANCE,
        dtype="numeric", unit="EUR", direction=1,
        description=(
            "Debits minus credits of every ledger row posted before as-of (positive: the tenant "
            "owes)."
        ),
        reason_fr="Solde impayé de {value} €", reason_en="Unpaid balance of {value} EUR",
        lever="payment_plan", actionable=True, reason_group="balance",
    ),
    Feature(
        name="balance_months", family="ledger",
        label_fr="Solde impayé en mois de loyer résiduel",
        label_en="Unpaid balance in months of residual rent",
        counterfactual=_CLEAR_BALANCE,
        dtype="numeric", unit="months of residual rent", direction=1,
        description="balance_eur / residual_rent.",
        reason_fr="Solde impayé de {value} mois de loyer résiduel",
        reason_en="Unpaid balance of {value} months of residual rent",
        lever="payment_plan", actionable=True, reason_group="balance",
        missing="the monthly rent is 0 (no residual rent to count in)",
    ),
    Feature(
        name="balance_change_3m", family="ledger",
        label_fr="Évolution de la dette sur 3 mois", label_en="Debt change over 3 months",
        dtype="numeric", unit="months of residual rent", direction=1,
        description=(
            "Net debits of the last 3 complete calendar months / residual_rent: growth of the debt."
        ),
        reason_fr="Dette en hausse de {value} mois de loyer résiduel en 3 mois",
        reason_en="Debt up by {value} months of residual rent in 3 months",
        lever="payment_plan", actionable=True, reason_group="balance_trend",
        missing="the monthly rent is 0 (no residual rent to count in)",
    ),
    Feature(
        name="shortfall_months_3m", family="ledger",
        label_fr="Mois incomplets sur 3 mois", label_en="Short months out of 3",
        dtype="numeric", unit="months", direction=1,
        description="Shortfall months among the last 3 complete calendar months.",
        reason_fr="{value} mois incomplets sur les 3 derniers mois",
        reason_en="{value} short months out of the last 3",
        lever="payment_plan", actionable=True, reason_group="shortfall",
    ),
    Feature(
        name="shortfall_months_6m", family="ledger",
        label_fr="Mois incomplets sur 6 mois", label_en="Short months out of 6",
        dtype="numeric", unit="months", direction=1,
        description="Shortfall months among the last 6 complete calendar months.",
        reason_fr="{value} mois incomplets sur les 6 derniers mois",
        reason_en="{value} short months out of the last 6",
        lever="payment_plan", actionable=True, reason_group="shortfall",
    ),
    Feature(
        name="shortfall_months_12m", family="ledger",
        label_fr="Mois incomplets sur 12 mois", label_en="Short months out of 12",
        dtype="numeric", unit="months", direction=1,
        description="Shortfall months among the last 12 complete calendar months.",
        reason_fr="{value} mois incomplets sur les 12 derniers mois",
        reason_en="{value} short months out of the last 12",
        lever="payment_plan", actionable=True, reason_group="shortfall",
    ),
    Feature(
        name="longest_shortfall_run_12m", family="ledger",
        label_fr="Plus longue suite de mois impayés sur un an",
        label_en="Longest run of unpaid months within a year",
        dtype="numeric", unit="months", direction=1,
        description=(
            "Longest run of consecutive shortfall months within the last 12 complete calendar "
            "months."
        ),
        reason_fr="Jusqu'à {value} mois impayés d'affilée sur un an",
        reason_en="Up to {value} unpaid months in a row within a year",
        lever="payment_plan", actionable=True, reason_group="shortfall",
    ),
    Feature(
        name="months_since_full_payment", family="ledger",
        label_fr="Mois depuis le dernier mois entièrement réglé",
        label_en="Months since the last fully paid month",
        dtype="numeric", unit="months", direction=1,
        description=(
            "Complete calendar months since the last month without a shortfall (0: last month was "
            "covered; 12 means 12 or more)."
        ),
        reason_fr="Dernier mois entièrement réglé il y a {value} mois",
        reason_en="Last fully paid month {value} months ago",
        lever="payment_plan", actionable=True, reason_group="shortfall",
    ),
    Feature(
        name="partial_payment_share_6m", family="ledger",
        label_fr="Part des paiements partiels sur 6 mois",
        label_en="Share of partial payments over 6 months",
        dtype="numeric", unit="ratio", direction=1,
        description=(
            "Among the last 6 complete months with a tenant payment, the share that were still "
            "shortfall months (partial payments)."
        ),
        reason_fr=(
            "{value} des mois avec un paiement sur les 6 derniers mois n'ont pas été "
            "entièrement payés"
        ),
        reason_en="{value} of the months with a payment in the last 6 months were short",
        lever="payment_plan", actionable=True, reason_group="payment_behaviour",
        missing=_NO_PAYMENT,
    ),
    Feature(
        name="mean_payment_delay_6m", family="ledger",
        label_fr="Délai moyen de paiement", label_en="Mean payment delay",
        dtype="numeric", unit="days", direction=1,
        description=(
            "Mean, over the tenant payments of the last 6 complete months, of the days from the "
            "first of the month to the payment (0 for a payment on the 1st; a payment in the "
            "last 5 days of a month counts as 0, paid early for the next month)."
        ),
        reason_fr="Paiement en moyenne {value} jours après le 1er du mois",
        reason_en="Pays on average {value} days after the 1st of the month",
        lever="budget_workshop", actionable=True, reason_group="payment_behaviour",
        missing=_NO_PAYMENT,
    ),
    Feature(
        name="direct_debit_share_6m", family="ledger",
        label_fr="Part des paiements par prélèvement", label_en="Share of payments by direct debit",
        counterfactual=_ALL_BY_DIRECT_DEBIT,
        dtype="numeric", unit="ratio", direction=-1,
        description=(
            "Share of the tenant payments of the last 6 complete months made by direct debit, "
            "among those with a known payment method."
        ),
        reason_fr="Peu de paiements par prélèvement automatique ({value})",
        reason_en="Few payments by direct debit ({value})",
        lever="budget_workshop", actionable=True, reason_group="payment_method",
        missing=_NO_PAYMENT + " with a known method",
    ),
    # --- tenure --------------------------------------------------------------------------
    Feature(
        name="months_since_entry", family="tenure",
        label_fr="Ancienneté dans le logement", label_en="Time in the home",
        dtype="numeric", unit="months", direction=-1,
        description="Complete months from the entry date to as-of.",
        reason_fr="Entré(e) depuis {value} mois", reason_en="Tenant for {value} months",
        lever=None, actionable=False, reason_group="tenure",
    ),
    Feature(
        name="new_entrant", family="tenure",
        label_fr="Nouvel entrant (moins de 6 mois)", label_en="New tenant (under 6 months)",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=1,
        description="1 when months_since_entry is below 6.",
        reason_fr="Nouvel entrant (moins de 6 mois)", reason_en="New tenant (under 6 months)",
        lever=None, actionable=False, reason_group="tenure",
    ),
    Feature(
        name="residence_type", family="tenure",
        label_fr="Type de résidence", label_en="Residence type",
        category_labels=RESIDENCE_LABELS,
        dtype="categorical", unit="code", direction=0,
        description="Type of residence (contract code).",
        reason_fr="Type de résidence : {value}", reason_en="Residence type: {value}",
        lever=None, actionable=False, reason_group="residence",
        categories=RESIDENCE_TYPES,
    ),
    Feature(
        name="calendar_month", family="tenure",
        label_fr="Mois de l'année", label_en="Month of the year",
        dtype="numeric", unit="month number", direction=0,
        description="Calendar month of as-of (1-12): seasonality of charges and benefits.",
        reason_fr="Mois de l'année : {value}", reason_en="Month of the year: {value}",
        lever=None, actionable=False, reason_group="calendar",
    ),
    # --- support -------------------------------------------------------------------------
    Feature(
        name="social_support_active", family="support",
        label_fr="Accompagnement social en cours", label_en="Social support under way",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=0,
        description=(
            "1 when a social-support row posted and started before as-of has not ended before "
            "as-of."
        ),
        reason_fr="Accompagnement social en cours", reason_en="Social support under way",
        lever=None, actionable=False, reason_group="support",
    ),
    Feature(
        name="payment_plan_active", family="support",
        label_fr="Plan d'apurement en cours", label_en="Payment plan under way",
        reason_when=1.0,
        counterfactual=_PLAN_IN_PLACE,
        dtype="bool", unit="flag", direction=0,
        description=(
            "1 when a payment-plan row posted and started before as-of has not ended before as-of."
        ),
        reason_fr="Plan d'apurement en cours", reason_en="Payment plan under way",
        lever="payment_plan", actionable=True, reason_group="payment_plan",
    ),
    Feature(
        name="solidarity_aid_12m", family="support",
        label_fr="Aide du FSL sur 12 mois", label_en="Solidarity-fund aid within 12 months",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=0,
        description=(
            "1 when solidarity-fund aid started in the 12 months before as-of (posted before "
            "as-of)."
        ),
        reason_fr="Aide du FSL au cours des 12 derniers mois",
        reason_en="Solidarity-fund aid in the last 12 months",
        lever="solidarity_fund", actionable=False, reason_group="support",
    ),
    Feature(
        name="social_watch_referral_12m", family="support",
        label_fr="Veille sociale sur 12 mois", label_en="Social watch within 12 months",
        reason_when=1.0,
        dtype="bool", unit="flag", direction=0,
        description=(
            "1 when the household was referred to the social watch in the 12 months before as-of."
        ),
        reason_fr="Présenté(e) en veille sociale au cours des 12 derniers mois",
        reason_en="Referred to the social watch in the last 12 months",
        lever="social_watch", actionable=False, reason_group="support",
    ),
    Feature(
        name="failed_contacts_6m", family="support",
        label_fr="Tentatives de contact sans réponse sur 6 mois",
        label_en="Unanswered contact attempts within 6 months",
        counterfactual=_CONTACT_MADE,
        dtype="numeric", unit="count", direction=1,
        description=(
            "Contact attempts in the 6 months before as-of dated after the last contact made (all "
            "posted before as-of)."
        ),
        reason_fr="{value} tentative(s) de contact sans réponse en 6 mois",
        reason_en="{value} unanswered contact attempt(s) in 6 months",
        lever="neutral_third_party", actionable=True, reason_group="contact",
    ),
)

_BY_NAME = {f.name: f for f in FEATURES}


def feature_names() -> list[str]:
    """Return the feature names in catalogue order (the feature frame's column order)."""
    return [f.name for f in FEATURES]


def get_feature(name: str) -> Feature:
    """Return the catalogue entry called ``name``.

    Raises
    ------
    KeyError
        If no feature has that name.
    """
    return _BY_NAME[name]


def monotone_constraints(names: list[str] | None = None) -> list[int]:
    """Return LightGBM monotone constraints (the expected directions).

    Parameters
    ----------
    names
        Feature names in the order of the training matrix; catalogue order by default.
    """
    return [int(_BY_NAME[n].direction) for n in (names or feature_names())]


def catalogue_frame() -> pd.DataFrame:
    """Return the catalogue as a DataFrame, one row per feature, with lever labels."""
    rows = []
    for f in FEATURES:
        row = asdict(f)
        row["categories"] = list(f.categories)
        lever = LEVERS.get(f.lever) if f.lever else None
        row["lever_fr"] = lever.label_fr if lever else None
        row["lever_en"] = lever.label_en if lever else None
        rows.append(row)
    return pd.DataFrame(rows)


def catalogue_fingerprint() -> str:
    """Return a SHA-256 of the catalogue's content (features, levers, version).

    Any change to a name, definition, direction, reason or lever changes it, so a model
    can record the catalogue it was trained with and refuse to run with another.
    """
    payload = {
        "version": CATALOGUE_VERSION,
        "features": [asdict(f) for f in FEATURES],
        "levers": [asdict(lever) for lever in _LEVER_LIST],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
