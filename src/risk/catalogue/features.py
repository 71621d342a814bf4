"""The ordered list of every model feature, assembled from the family modules."""

from __future__ import annotations

from risk.catalogue.features_household import FEATURES_HOUSEHOLD
from risk.catalogue.features_ledger import FEATURES_LEDGER
from risk.catalogue.schema import Feature

#: Every model feature, in the order of the feature frame's columns.
FEATURES: tuple[Feature, ...] = FEATURES_HOUSEHOLD + FEATURES_LEDGER
