"""Catalogue entries of the ledger, tenure and support families."""

from __future__ import annotations

from risk.catalogue.categories import RESIDENCE_LABELS
from risk.catalogue.levers import (
    _ALL_BY_DIRECT_DEBIT,
    _CLEAR_BALANCE,
    _CONTACT_MADE,
    _PLAN_IN_PLACE,
)
from risk.catalogue.schema import Feature
from risk.contract import RESIDENCE_TYPES

_NO_PAYMENT = "no tenant payment in the last 6 complete months"

#: Features of the ledger, tenure and support families, in the frame's column order.
FEATURES_LEDGER: tuple[Feature, ...] = (
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
