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
    position = column_positions(features.columns)
    if getter is not None and position is not None:
        get = position.get
        return [None if (j := get(name)) is None else getter(j) for name in names]
    return [features[name].array if name in features.columns else None for name in names]


#: The last column index read by :func:`column_positions` (its values) and the answer.
_last_positions: tuple[Any, dict[Any, int] | None] = (None, None)


def column_positions(columns: pd.Index) -> dict[Any, int] | None:
    """Return each column name's position, or ``None`` when the names are not unique.

    Frames built by :meth:`risk.features.FeatureRows.to_frame` share their column
    labels, so the answer for the last labels seen is kept (keyed on the labels' array,
    which an index never changes): a one-row request does not read its forty labels
    one by one again. The names are read with ``tolist()``, in one call, rather than by
    iterating the index (element by element for pyarrow-backed strings).
    """
    global _last_positions
    values = columns if isinstance(columns, pd.MultiIndex) else columns.array
    seen, position = _last_positions
    if seen is not values:
        position = None
        if columns.is_unique:
            position = {name: j for j, name in enumerate(columns.tolist())}
        _last_positions = (values, position)
    return position


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
    if isinstance(stored, pd.Categorical) and _catalogue_dtype(stored.dtype, categories):
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


#: Per catalogue category list, the last categorical dtype found to carry exactly it.
_matching_dtypes: dict[tuple[str, ...], pd.CategoricalDtype] = {}


def _catalogue_dtype(dtype: pd.CategoricalDtype, categories: tuple[str, ...]) -> bool:
    # A dtype is immutable: once it matched, the same object matches again (the feature
    # frames of the small engine share one dtype per feature), without reading the
    # categories one by one.
    if _matching_dtypes.get(categories) is dtype:
        return True
    if tuple(dtype.categories.tolist()) != categories:
        return False
    _matching_dtypes[categories] = dtype
    return True


def text_column(features: pd.DataFrame, name: str) -> np.ndarray:
    """Return ``features[name].astype(str).to_numpy()``, read without building a Series.

    A column already of pandas' text dtype (what ``astype(str)`` gives) is converted to
    numpy once, as ``to_numpy()`` would, not element by element.
    """
    (stored,) = column_values(features, (name,))
    if isinstance(stored, pd.api.extensions.ExtensionArray) and stored.dtype == _text_dtype():
        return np.asarray(stored.to_numpy())
    return features[name].astype(str).to_numpy()


@functools.cache
def _text_dtype() -> Any:
    return pd.Series([], dtype=object).astype(str).dtype


@functools.cache
def _inferred_text_dtype() -> Any:
    """Return the dtype the ``DataFrame`` constructor gives a column of Python strings."""
    return pd.DataFrame({"text": np.array(["text"], dtype=object)}).dtypes.iloc[0]


@functools.cache
def _from_blocks() -> Any:
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:  # pandas before 3.0
        return None
    return create_dataframe_from_blocks


#: Column labels of the frames :func:`frame_of` built, by their names.
_labels: dict[tuple[str, ...], pd.Index] = {}


def frame_of(columns: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """Return ``pandas.DataFrame(columns, index=index)``, built from blocks when it can.

    For a frame of a few rows the constructor's work is mostly inferring and grouping
    the columns; here numbers, booleans and dates (1-d numpy arrays) are grouped by
    dtype into 2-d blocks as the constructor groups them, and columns of Python strings
    (numpy text, or objects that are all ``str``) become pandas' inferred text dtype, as
    the constructor infers it. Anything else, an empty frame, or a pandas without
    :func:`pandas.api.internals.create_dataframe_from_blocks`, goes to the constructor.
    The arrays are copied, as the constructor copies them.
    """
    create = _from_blocks()
    n = len(index)
    if create is None or n == 0:
        return pd.DataFrame(columns, index=index)
    groups: dict[np.dtype, list[int]] = {}
    blocks: list[tuple[Any, np.ndarray]] = []
    arrays = list(columns.values())
    for j, values in enumerate(arrays):
        if not isinstance(values, np.ndarray) or values.shape != (n,):
            return pd.DataFrame(columns, index=index)
        kind = values.dtype.kind
        if kind in "fiub" or (kind == "M" and np.datetime_data(values.dtype)[0] in _UNITS):
            groups.setdefault(values.dtype, []).append(j)
        elif kind == "U" or (kind == "O" and pd.api.types.infer_dtype(values) == "string"):
            text = _inferred_text_dtype()
            if not isinstance(text, pd.StringDtype):
                return pd.DataFrame(columns, index=index)
            array = text.construct_array_type()._from_sequence(values, dtype=text)  # type: ignore[attr-defined]
            blocks.append((array, np.array([j], dtype=np.intp)))
        else:
            return pd.DataFrame(columns, index=index)
    for positions in groups.values():
        block = np.stack([arrays[j] for j in positions])  # a copy, (columns, rows)
        blocks.append((block, np.array(positions, dtype=np.intp)))
    names = tuple(columns)
    labels = _labels.get(names)
    if labels is None:
        labels = _labels.setdefault(names, pd.DataFrame(columns=list(names)).columns)
    return create(blocks, index, labels.view())


#: Datetime units pandas keeps as they are.
_UNITS = ("s", "ms", "us", "ns")


def float_column(features: pd.DataFrame, name: str, stored: Any) -> np.ndarray:
    """Return ``features[name].to_numpy(dtype=np.float64, na_value=np.nan)``.

    ``stored`` is the column's stored array (:func:`column_values`); a float64 numpy
    column is returned as it is stored, without a copy: read-only.
    """
    if isinstance(stored, np.ndarray) and stored.dtype == np.float64:
        return stored
    return features[name].to_numpy(dtype=np.float64, na_value=np.nan)


def numpy_column(features: pd.DataFrame, name: str) -> np.ndarray:
    """Return ``features[name].to_numpy()``, without building a Series for a numpy dtype.

    Read-only: it may be the column's own storage.
    """
    (stored,) = column_values(features, (name,))
    if stored is not None and isinstance(stored.dtype, np.dtype):  # numbers, bools, naive dates
        return np.asarray(stored)
    return features[name].to_numpy()
