"""The design matrix: the one way a feature frame becomes the model's numbers.

Training, batch scoring, the API and the explanations all turn a feature frame into a
float64 matrix through :func:`feature_matrix`, so a model never sees a column in another
order or a category under another code than the one it was trained with. Categorical
features become their catalogue category codes (0, 1, ... in catalogue order, NaN when
unknown) and are declared to LightGBM as categorical by :func:`categorical_indices`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

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

    The per-feature decisions (kind, catalogue categories) are taken once per feature
    order and cached, and the columns are read as stored, so one row costs a few
    microseconds per feature and a large frame one copy per column.

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
    plan = _plan(tuple(names))
    values = column_values(features, plan.names)
    missing = [name for name, column in zip(plan.names, values, strict=True) if column is None]
    if missing:
        raise ValueError(MISSING_FEATURES.format(names=", ".join(missing)))
    out = np.empty((len(features), len(plan.names)), dtype=np.float64)
    for j, (name, column) in enumerate(zip(plan.names, values, strict=True)):
        categories = plan.categories[j]
        if categories is not None:
            out[:, j] = _category_codes(features, name, column, categories)
        elif isinstance(column, np.ndarray) and column.dtype.kind in "fiub":
            out[:, j] = column
        else:
            out[:, j] = features[name].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def column_values(features: pd.DataFrame, names: Sequence[str]) -> list[Any]:
    """Return the stored values of columns of a frame, ``None`` for an absent column.

    Parameters
    ----------
    features
        Any frame; its column names should be unique.
    names
        The columns wanted.

    Returns
    -------
    list
        Per name, the column's values as pandas stores them (a numpy array or an
        extension array such as a :class:`pandas.Categorical`), without a copy, or
        ``None`` when the frame has no such column. Read-only by convention.

    Notes
    -----
    Selecting a column (``features[name]``) builds a Series, which costs several
    microseconds; on a one-row frame the matrix is mostly that. When pandas offers it,
    the stored array is read directly; otherwise (or for duplicated names) through the
    Series.
    """
    getter = getattr(features, "_get_column_array", None)
    if getter is not None and features.columns.is_unique:
        position = _positions(features.columns)
        out: list[Any] = []
        for name in names:
            j = position.get(name)
            out.append(None if j is None else getter(j))
        return out
    return [features[name].array if name in features.columns else None for name in names]


def _positions(columns: pd.Index) -> dict[Any, int]:
    return {name: j for j, name in enumerate(columns)}


class _Plan:
    """What :func:`feature_matrix` decides once per feature order."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.categories: list[tuple[str, ...] | None] = []
        for name in names:
            feature = get_feature(name)
            self.categories.append(feature.categories if feature.dtype == "categorical" else None)


@functools.lru_cache(maxsize=64)
def _plan(names: tuple[str, ...]) -> _Plan:
    return _Plan(names)


def _category_codes(
    features: pd.DataFrame, name: str, stored: Any, categories: tuple[str, ...]
) -> np.ndarray:
    # The codes must be the catalogue's, whatever categories the column happens to carry.
    if isinstance(stored, pd.Categorical) and tuple(stored.categories) == categories:
        stored_codes: np.ndarray = stored.codes.astype(np.float64)
        stored_codes[stored_codes < 0] = np.nan
        return stored_codes
    column = features[name]
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
