"""Values of the categorical features: the derived bands and every code's display labels."""

from __future__ import annotations

#: Age bands (years reached in the as-of year). Coarse on purpose: age is not a lever.
AGE_BANDS = ("under_25", "25_to_29", "30_to_44", "45_to_59", "60_and_over")
#: Monthly income bands, EUR: [0, 636), [636, 1000), [1000, 1500), [1500, inf). 636 EUR
#: and 1,000-1,500 EUR are the thresholds of the ALFI study (DOMAIN.md).
INCOME_BANDS = ("below_636", "636_to_1000", "1000_to_1500", "1500_and_above")
INCOME_BAND_EDGES = (636.0, 1000.0, 1500.0)

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
