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

The package is split by concept: :mod:`~risk.catalogue.schema` (the types),
:mod:`~risk.catalogue.levers` (the levers and the changes they bring),
:mod:`~risk.catalogue.categories` (bands and display labels of categorical codes),
:mod:`~risk.catalogue.features` (the ordered features, declared per family group in
``features_household`` and ``features_ledger``) and :mod:`~risk.catalogue.lookup`
(reading the catalogue). Import public names from :mod:`risk.catalogue` itself.
"""

from risk.catalogue.categories import (
    AGE_BAND_LABELS,
    AGE_BANDS,
    EMPLOYMENT_LABELS,
    GUARANTEE_LABELS,
    HOUSEHOLD_LABELS,
    INCOME_BAND_EDGES,
    INCOME_BAND_LABELS,
    INCOME_BANDS,
    RESIDENCE_LABELS,
)
from risk.catalogue.features import FEATURES
from risk.catalogue.levers import LEVERS
from risk.catalogue.lookup import (
    catalogue_fingerprint,
    catalogue_frame,
    feature_names,
    get_feature,
    monotone_constraints,
)
from risk.catalogue.schema import (
    CATALOGUE_VERSION,
    COUNTERFACTUAL_CHANGES,
    FAMILIES,
    Counterfactual,
    Direction,
    Family,
    Feature,
    FeatureDtype,
    Lever,
)

__all__ = [
    "AGE_BANDS",
    "AGE_BAND_LABELS",
    "CATALOGUE_VERSION",
    "COUNTERFACTUAL_CHANGES",
    "EMPLOYMENT_LABELS",
    "FAMILIES",
    "FEATURES",
    "GUARANTEE_LABELS",
    "HOUSEHOLD_LABELS",
    "INCOME_BANDS",
    "INCOME_BAND_EDGES",
    "INCOME_BAND_LABELS",
    "LEVERS",
    "RESIDENCE_LABELS",
    "Counterfactual",
    "Direction",
    "Family",
    "Feature",
    "FeatureDtype",
    "Lever",
    "catalogue_fingerprint",
    "catalogue_frame",
    "feature_names",
    "get_feature",
    "monotone_constraints",
]
