"""Point-in-time features of a portfolio, as described by :mod:`risk.catalogue`.

The builder runs in DuckDB; :mod:`risk.features.small` runs the same query in SQLite
for request-sized inputs (the scoring API). Each family of features has its module (tenancy, income,
benefits, ledger, support); the rules deciding what is known at an as-of date live in
:mod:`risk.features.point_in_time`.
"""

from risk.features.builder import build_features, feature_query
from risk.features.small import FeatureRows, build_features_small, feature_rows
from risk.features.source import PortfolioSource

__all__ = [
    "FeatureRows",
    "PortfolioSource",
    "build_features",
    "build_features_small",
    "feature_query",
    "feature_rows",
]
