"""The design matrix: the one way a feature frame becomes the model's numbers.

Training, batch scoring, the API and the explanations all turn a feature frame into a
float64 matrix through :func:`feature_matrix`, so a model never sees a column in another
order or a category under another code than the one it was trained with. Categorical
features become their catalogue category codes (0, 1, ... in catalogue order, NaN when
unknown) and are declared to LightGBM as categorical by :func:`categorical_indices`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from risk.catalogue import feature_names, get_feature, monotone_constraints

#: Error raised when a feature frame lacks a model feature.
MISSING_FEATURES = "the feature frame lacks model features: {names}"
#: Error raised when a categorical column holds a value outside the catalogue.
UNKNOWN_CATEGORY = "feature {name!r} holds values outside the catalogue's categories: {values}"


def model_features(names: Sequence[str] | None = None) -> list[str]:
    """Return the model's feature names: ``names`` checked against the catalogue, or all.

    Parameters
    ----------
    names
        A subset of catalogue features in the order the model uses; all catalogue
        features in catalogue order when ``None``.

    Returns
    -------
    list of str
    """
    if names is None:
        return feature_names()
    for name in names:
        get_feature(name)  # raises on a name the catalogue does not know
    return list(names)


def categorical_indices(names: Sequence[str]) -> list[int]:
    """Positions of the categorical features among ``names`` (LightGBM's categorical_feature)."""
    return [i for i, name in enumerate(names) if get_feature(name).dtype == "categorical"]


def monotone_vector(names: Sequence[str]) -> list[int]:
    """Return the catalogue's expected directions for ``names`` as monotone constraints."""
    return monotone_constraints(list(names))


def feature_matrix(features: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Turn a feature frame into the model's float64 matrix, columns in ``names`` order.

    Parameters
    ----------
    features
        Frame with at least the columns ``names``, as built by
        :func:`risk.features.build_features`: numeric and bool features as floats,
        categorical ones as ``category`` or as strings of the catalogue's categories.
    names
        Feature order of the model.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(features), len(names))``; categorical values are their catalogue
        codes, missing values NaN.

    Raises
    ------
    ValueError
        :data:`MISSING_FEATURES` or :data:`UNKNOWN_CATEGORY`.
    """
    missing = [name for name in names if name not in features.columns]
    if missing:
        raise ValueError(MISSING_FEATURES.format(names=", ".join(missing)))
    out = np.empty((len(features), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        feature = get_feature(name)
        column = features[name]
        if feature.dtype == "categorical":
            out[:, j] = _category_codes(name, column, feature.categories)
        else:
            out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _category_codes(name: str, column: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    # The codes must be the catalogue's, whatever categories the column happens to carry.
    if isinstance(column.dtype, pd.CategoricalDtype) and tuple(column.cat.categories) == categories:
        codes = column.cat.codes.to_numpy(dtype=np.float64)
        codes[codes < 0] = np.nan
        return codes
    values = column.astype("object")
    lookup = {category: float(code) for code, category in enumerate(categories)}
    known = values.isna() | values.isin(list(categories))
    if not known.all():
        unknown = sorted({str(v) for v in values[~known]})[:5]
        raise ValueError(UNKNOWN_CATEGORY.format(name=name, values=", ".join(unknown)))
    return values.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
