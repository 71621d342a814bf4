"""Types of the feature catalogue: features, levers and counterfactual changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Bump when a feature is added, removed or redefined; the fingerprint catches the rest.
CATALOGUE_VERSION = "1.0.0"

Family = Literal[
    "guarantee", "household", "income", "affordability", "apl", "ledger", "tenure", "support"
]
FeatureDtype = Literal["numeric", "bool", "categorical"]
Direction = Literal[-1, 0, 1]

#: Families in the order their features appear.
FAMILIES: tuple[Family, ...] = (
    "guarantee",
    "household",
    "income",
    "affordability",
    "apl",
    "ledger",
    "tenure",
    "support",
)


@dataclass(frozen=True)
class Lever:
    """Something a caseworker can do, which a reason points to.

    Parameters
    ----------
    key
        Stable identifier used in the catalogue and the API.
    label_fr, label_en
        Short label shown to caseworkers (French first).
    """

    key: str
    label_fr: str
    label_en: str


@dataclass(frozen=True)
class Counterfactual:
    """The change a lever would bring to an actionable feature ("what would lower the risk").

    Declared here, never written by hand per household: :mod:`risk.counterfactual`
    applies the change to a household's features, keeping the features it implies
    consistent, and re-scores it.

    Parameters
    ----------
    change
        Rule that applies the change (see :data:`COUNTERFACTUAL_CHANGES`): ``set`` (the
        feature takes ``value``), ``clear_balance``, ``restore_apl`` or
        ``apl_to_landlord``.
    condition_fr, condition_en
        The change in words, opening the sentence; ``{value}`` (when present) is filled
        with the value of ``shown`` after the change.
    shown
        Feature whose value after the change fills ``{value}``.
    value
        Target value of a ``set`` change; None for the other rules.
    """

    change: str
    condition_fr: str
    condition_en: str
    shown: str
    value: float | None = None


#: The rules a :class:`Counterfactual` may name.
COUNTERFACTUAL_CHANGES = ("set", "clear_balance", "restore_apl", "apl_to_landlord")


@dataclass(frozen=True)
class Feature:
    """One model feature.

    Parameters
    ----------
    name
        Column name in the feature frame.
    family
        Feature family (see :data:`FAMILIES`).
    description
        Precise definition in English, with its point-in-time rule where it matters.
    unit
        Unit of the value (``EUR``, ``months``, ``ratio``, ``days``, ``count``, ``flag``...).
    dtype
        ``numeric``, ``bool`` (held as float 1.0/0.0, NaN when unknown) or ``categorical``.
    direction
        Expected effect on risk when the value grows: +1 raises it, -1 lowers it, 0 none
        or unknown. Read as a LightGBM monotone constraint; always 0 for categoricals.
    reason_fr, reason_en
        Caseworker-facing reason, phrased for the value that raises the risk; ``{value}``
        (when present) is filled by the explanations stage.
    lever
        Key into :data:`LEVERS`, or None when no lever applies.
    actionable
        Whether a caseworker can change the value (used for "what would lower the risk").
    reason_group
        Correlated features sharing a group give a single reason.
    missing
        When the value is NaN.
    categories
        Allowed values of a categorical feature, in display order.
    label_fr, label_en
        Short name of the feature, for a reason whose value is unknown or a flag that does
        not hold the value its reason describes, and for the auditors' report.
    reason_when
        For a ``bool`` feature, the value (1.0 or 0.0) that ``reason_fr``/``reason_en``
        describe; any other value is worded from the label ("... : oui"/"... : non").
    category_labels
        For a categorical feature, ``(code, French, English)`` display labels, one per
        category, in the order of ``categories``.
    counterfactual
        For an actionable feature, the change its lever would bring, re-scored by
        :mod:`risk.counterfactual`; None when no change can be stated from the data.
    """

    name: str
    family: Family
    description: str
    unit: str
    dtype: FeatureDtype
    direction: Direction
    reason_fr: str
    reason_en: str
    lever: str | None
    actionable: bool
    reason_group: str
    missing: str = "never"
    categories: tuple[str, ...] = ()
    label_fr: str = ""
    label_en: str = ""
    reason_when: float | None = None
    category_labels: tuple[tuple[str, str, str], ...] = ()
    counterfactual: Counterfactual | None = None
