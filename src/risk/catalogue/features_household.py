"""Catalogue entries of the guarantee, household, income, affordability and APL families."""

from __future__ import annotations

from risk.catalogue.categories import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    EMPLOYMENT_LABELS,
    GUARANTEE_LABELS,
    HOUSEHOLD_LABELS,
    INCOME_BAND_LABELS,
    INCOME_BANDS,
)
from risk.catalogue.levers import _APL_TO_LANDLORD, _RESTORE_APL
from risk.catalogue.schema import Feature
from risk.contract import EMPLOYMENT_STATUSES, GUARANTEES, HOUSEHOLD_TYPES

_NO_INCOME = "no income row is in force at as-of"

#: Features of the guarantee ... apl families, in the order of the feature frame's columns.
FEATURES_HOUSEHOLD: tuple[Feature, ...] = (
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
)
