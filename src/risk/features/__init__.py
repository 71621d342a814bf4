"""Point-in-time features of a portfolio, as described by :mod:`risk.catalogue`.

The builder runs in DuckDB. Each family of features has its module (tenancy, income,
benefits, ledger, support); the rules deciding what is known at an as-of date live in
:mod:`risk.features.point_in_time`.
"""

from risk.features.builder import build_features, feature_query
from risk.features.source import PortfolioSource

__all__ = ["PortfolioSource", "build_features", "feature_query"]
