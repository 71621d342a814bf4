"""The levers a reason points to, and the changes their outcomes bring."""

from __future__ import annotations

from risk.catalogue.schema import Counterfactual, Lever

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
