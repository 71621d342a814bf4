"""Wording of reasons and "what would lower the risk" lines, in French and English.

Values are written in French (decimal comma, ``2,3``; a space before ``%``; thousands
separated by a plain space) and English (``2.3``, ``1,234``). Money is rounded to the
euro, ratios become percentages, balances in months of residual rent keep one decimal.
An unknown value, or a flag not holding the value its reason describes, is worded from
the feature's label (``Taux d'effort : donnée absente``). :mod:`risk.explanation` words
a batch column-wise with the same functions: :func:`word_reasons` words each distinct
value once (amounts and shares once per euro or percent, the rounding their words
show), from a table of the model's features worked out once per bundle
(:class:`ReasonTable`), and :func:`counterfactual_lines` each change's condition once
per value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from risk.catalogue import LEVERS, Counterfactual, Feature, get_feature

# fmt: off
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
# fmt: on
_MONEY_UNITS = ("EUR", "EUR/month", "EUR/month per consumption unit")


def format_value(feature: Feature, value: object, language: str) -> str:
    """Write a feature's value in French (``"fr"``) or English (``"en"``), without its unit.

    A categorical value is its display label, a flag gives ``""``, an unknown value
    ``""``; numbers follow the feature's unit (see the module docstring).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if feature.dtype == "categorical":
        labels = {code: (fr, en) for code, fr, en in feature.category_labels}
        fr, en = labels.get(str(value), (str(value), str(value)))
        return fr if language == "fr" else en
    if feature.dtype == "bool":
        return ""
    number = float(value)  # type: ignore[arg-type]
    unit = feature.unit
    if unit in _MONEY_UNITS:
        return _number(math.floor(number + 0.5), 0, language)  # half up, as on a bill
    if unit == "ratio":
        percent = _number(math.floor(number * 100 + 0.5), 0, language)
        return f"{percent} %" if language == "fr" else f"{percent}%"
    if unit == "month number" and 1 <= number <= 12 and number.is_integer():
        return (_MONTHS_FR if language == "fr" else _MONTHS_EN)[int(number) - 1]
    if unit == "months of residual rent":
        return _number(number, 1, language)
    return _number(number, 0 if number.is_integer() else 1, language)


def reason_text(feature: Feature, value: object, language: str) -> str:
    """Word the reason ``feature`` gives for ``value``, in French or English."""
    template = feature.reason_fr if language == "fr" else feature.reason_en
    label = feature.label_fr if language == "fr" else feature.label_en
    sep = " : " if language == "fr" else ": "
    unknown = value is None or (isinstance(value, float) and math.isnan(value))
    if unknown:
        return f"{label}{sep}{'donnée absente' if language == 'fr' else 'not known'}"
    if feature.dtype == "bool":
        if float(value) == (1.0 if feature.reason_when is None else feature.reason_when):  # type: ignore[arg-type]
            return template
        yes = float(value) == 1.0  # type: ignore[arg-type]
        word = ("oui" if yes else "non") if language == "fr" else ("yes" if yes else "no")
        return f"{label}{sep}{word}"
    return template.format(value=format_value(feature, value, language))


def counterfactual_text(
    change: Counterfactual, value: object, before: float, after: float, language: str
) -> str:
    """Write the "what would lower the risk" line of a declared change, re-scored."""
    shown = format_value(get_feature(change.shown), value, language)
    digits = 2
    while digits < 4 and _number(before, digits, "en") == _number(after, digits, "en"):
        digits += 1  # never "from 0.41 to 0.41"
    p0, p1 = _number(before, digits, language), _number(after, digits, language)
    if language == "fr":
        condition = change.condition_fr.format(value=shown)
        return f"{condition}, la probabilité passerait de {p0} à {p1}"
    condition = change.condition_en.format(value=shown)
    return f"{condition}, the probability would fall from {p0} to {p1}"


def counterfactual_lines(
    changes: np.ndarray, values: np.ndarray, before: np.ndarray, after: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Write :func:`counterfactual_text` for many rows at once, in French and English.

    Parameters
    ----------
    changes
        Object array of each row's :class:`~risk.catalogue.Counterfactual`.
    values, before, after
        Per row, as :func:`counterfactual_text` takes them.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The French and English lines (object arrays), equal to
        ``counterfactual_text(changes[i], values[i], before[i], after[i], language)``.
    """
    n = len(changes)
    fr, en = np.empty(n, dtype=object), np.empty(n, dtype=object)
    # Each change's condition is worded once per distinct value: a batch has few
    # changes and, for its amounts, far fewer values than rows. The changes are keyed
    # by identity (``changes`` holds them meanwhile): hashing a frozen dataclass hashes
    # every field, on every row.
    conditions: dict[tuple[int, object], tuple[str, str]] = {}
    for i, (change, value, p, q) in enumerate(
        zip(changes.tolist(), values.tolist(), before.tolist(), after.tolist(), strict=True)
    ):
        condition = conditions.get((id(change), value))
        if condition is None:
            shown = get_feature(change.shown)
            condition = (
                change.condition_fr.format(value=format_value(shown, value, "fr")),
                change.condition_en.format(value=format_value(shown, value, "en")),
            )
            conditions[(id(change), value)] = condition
        p0, p1 = _probabilities(p, q)
        # French numbers are the English ones with the separators swapped (_number).
        fr[i] = (
            f"{condition[0]}, la probabilité passerait de "
            f"{p0.replace(',', ' ').replace('.', ',')} à {p1.replace(',', ' ').replace('.', ',')}"
        )
        en[i] = f"{condition[1]}, the probability would fall from {p0} to {p1}"
    return fr, en


def _probabilities(before: float, after: float) -> tuple[str, str]:
    """Write the two probabilities in English, with the digits of :func:`counterfactual_text`."""
    digits = 2
    p0, p1 = _number(before, digits, "en"), _number(after, digits, "en")
    while digits < 4 and p0 == p1:
        digits += 1  # never "from 0.41 to 0.41"
        p0, p1 = _number(before, digits, "en"), _number(after, digits, "en")
    return p0, p1


def _number(number: float, decimals: int, language: str) -> str:
    text = f"{number:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0"
    if language == "fr":
        return text.replace(",", " ").replace(".", ",")
    return text


class ReasonTable:
    """The reason groups and wording data of a model's features, worked out once.

    Parameters
    ----------
    names
        The model's features, in its order.
    """

    def __init__(self, names: list[str]) -> None:
        self.features: list[Feature] = [get_feature(name) for name in names]
        groups = list(dict.fromkeys(feature.reason_group for feature in self.features))
        self.groups = np.asarray(groups, dtype=object)
        self.codes = np.array([g.upper() for g in groups], dtype=object)
        self.members = [
            np.array([j for j, f in enumerate(self.features) if f.reason_group == g])
            for g in groups
        ]
        # A categorical value back from its catalogue code; code -1 (unknown) is None.
        self.categories = [
            np.array([*f.categories, None], dtype=object) if f.dtype == "categorical" else None
            for f in self.features
        ]
        self.levers = [
            (f.lever, *((lever.label_fr, lever.label_en) if lever else (None, None)))
            for f in self.features
            for lever in (LEVERS.get(f.lever) if f.lever else None,)
        ]


def word_reasons(
    info: ReasonTable,
    matrix: np.ndarray,
    chosen: np.ndarray,
    contribution: np.ndarray,
    order: np.ndarray,
    fields: Sequence[str],
) -> dict[str, np.ndarray]:
    """Word each household's chosen reasons, column-wise, each distinct value once.

    Parameters
    ----------
    info
        The model's :class:`ReasonTable`.
    matrix
        The rows' design matrix (values are read back from it).
    chosen
        Array ``(rows, reasons)`` of the wording feature's matrix column, -1 for none.
    contribution
        The reasons' summed contributions, same shape.
    order
        The reason groups' positions, same shape.
    fields
        The fields of a reason (:class:`risk.explanation.Reason`).

    Returns
    -------
    dict of str to numpy.ndarray
        One ``(rows, reasons)`` array per field, None where there is no reason.
    """
    shape = chosen.shape
    out = {field: np.full(shape, None, dtype=object) for field in fields}
    out["contribution"] = np.where(chosen >= 0, contribution, np.nan)
    present = chosen >= 0
    out["code"][present] = info.codes[order][present]
    for j in np.unique(chosen[present]).tolist():
        feature = info.features[j]
        where = chosen == j
        numbers = matrix[np.nonzero(where)[0], j]
        categories = info.categories[j]
        # Words are computed once per distinct value: counts and flags repeat a lot.
        distinct, inverse = np.unique(numbers, return_inverse=True)
        keys: list[Any] = distinct.tolist()
        if categories is None:
            picked: np.ndarray = numbers
            # Amounts and shares seldom repeat to the cent, but their words, rounded to
            # the euro or the percent, do: word one value of each class of equal words.
            rounded = _word_classes(feature, distinct)
            if rounded is not None:
                _, first, classes = np.unique(rounded, return_index=True, return_inverse=True)
                keys = distinct[first].tolist()
                inverse = classes[inverse]
        else:
            codes = np.where(np.isnan(distinct), -1, distinct).astype(np.intp)
            keys = categories[codes].tolist()
            picked = categories[codes][inverse]
        lever, lever_fr, lever_en = info.levers[j]
        out["feature"][where] = feature.name
        out["value"][where] = picked
        out["lever"][where] = lever
        out["lever_fr"][where] = lever_fr
        out["lever_en"][where] = lever_en
        out["actionable"][where] = feature.actionable
        for field, function, language in (
            ("value_fr", format_value, "fr"),
            ("value_en", format_value, "en"),
            ("text_fr", reason_text, "fr"),
            ("text_en", reason_text, "en"),
        ):
            words = np.array([function(feature, key, language) for key in keys], dtype=object)
            out[field][where] = words[inverse]
    return out


def _word_classes(feature: Feature, values: np.ndarray) -> np.ndarray | None:
    """Return what a numeric feature's words depend on, value by value, or None.

    Values with equal results here are worded alike by :func:`format_value` and
    :func:`reason_text`: money is written from ``floor(value + 0.5)`` and a ratio from
    ``floor(value * 100 + 0.5)``, computed here with the same float operations (NaN,
    worded as unknown, stays NaN and forms one class). Other units, flags and
    categories give None: their values are worded one by one.
    """
    if feature.dtype != "numeric":
        return None
    if feature.unit in _MONEY_UNITS:
        return np.floor(values + 0.5)
    if feature.unit == "ratio":
        return np.floor(values * 100 + 0.5)
    return None
