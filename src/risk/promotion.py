"""Promotion gates: whether a challenger may replace the champion.

A newly trained model (the challenger) is compared with the model in service (the
champion) on their pooled out-of-time evaluations. Each gate gives a plain-English
verdict; the challenger passes when every gate passes. Passing the gates permits a
promotion, it does not perform one: a person decides (:meth:`risk.registry.Registry.promote`).

The gates, set in the ``promotion:`` section of the training configuration:

- ``capture``: the share of next months' arrears found within the caseworkers'
  capacity (``capture@5%``) may fall by at most ``max_capture_drop``;
- ``brier``: the Brier score may rise by at most ``max_brier_increase``;
- ``ece``: the challenger's own expected calibration error is at most ``max_ece``;
- ``group_recall``: in every monitored group (age band, guarantee...) recall at
  capacity may fall by at most ``max_group_recall_drop``.

Without a champion the comparative gates pass, saying so, and the calibration gate still
applies. Tables that cannot be compared raise :class:`PromotionError` whose ``code`` is
one of the constants below.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from risk.groups import TABLE_COLUMNS as GROUP_TABLE_COLUMNS
from risk.metrics import POOLED, TABLE_COLUMNS, parse_capacity

if TYPE_CHECKING:
    from risk.registry import Registry

#: Columns of the evaluation and group tables, as their builders define them.
EVALUATION_COLUMNS = TABLE_COLUMNS
GROUP_COLUMNS = GROUP_TABLE_COLUMNS

GATE_CAPTURE = "capture"
GATE_BRIER = "brier"
GATE_ECE = "ece"
GATE_GROUP_RECALL = "group_recall"

# Error codes of PromotionError.
MISSING_COLUMN = "promotion_missing_column"
MISSING_METRIC = "promotion_missing_metric"
DUPLICATE_METRIC = "promotion_duplicate_metric"
NOT_A_NUMBER = "promotion_not_a_number"
INCOMPLETE_CHAMPION = "promotion_incomplete_champion"

# Equal up to float noise: 0.612 - 0.602 must count as exactly the 0.010 allowed.
_TOLERANCE = 1e-9


#: Error code: challenger and champion predict different labels or horizons.
LABEL_MISMATCH = "promotion_label_mismatch"


class PromotionError(ValueError):
    """Evaluation tables that cannot be compared.

    Parameters
    ----------
    code
        One of the error constants of this module (``MISSING_METRIC``...).
    message
        What is wrong, for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class PromotionGates(BaseModel):
    """When a challenger may replace the champion (section ``promotion:`` of the config)."""

    # A misspelt key must fail loudly, not fall back silently to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: str = Field(
        default="5%",
        description=(
            "Caseworker capacity whose capture is compared: a share of the eligible "
            "portfolio ('5%') or a number of households ('150'), as in capture@<capacity>."
        ),
    )
    max_capture_drop: float = Field(
        default=0.01,
        ge=0,
        description=(
            "Largest allowed fall (absolute) of the pooled out-of-time capture@capacity "
            "versus the champion."
        ),
    )
    max_brier_increase: float = Field(
        default=0.002,
        ge=0,
        description="Largest allowed rise of the pooled Brier score versus the champion.",
    )
    max_ece: float = Field(
        default=0.01,
        ge=0,
        description="Largest pooled expected calibration error of the challenger itself.",
    )
    max_group_recall_drop: float = Field(
        default=0.05,
        ge=0,
        description=(
            "Largest allowed fall (absolute) of recall at capacity in any monitored group "
            "versus the champion in the same group."
        ),
    )
    min_group_positives: int = Field(
        default=30,
        ge=0,
        description=(
            "Groups with fewer future arrears than this (on either side) are shown but do "
            "not gate: with a handful of cases one household moves recall by several points."
        ),
    )

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity(cls, value: Any) -> str:
        # The evaluation table names capacities by parse_capacity's label ("5.0%" is
        # "5%"): the gate must name the same column.
        return parse_capacity(value).label

    @property
    def capture_metric(self) -> str:
        """The evaluation-table name of the compared capture, e.g. ``capture@5%``."""
        return f"capture@{self.capacity}"


class GateResult(BaseModel):
    """The verdict of one gate (for ``group_recall``, of one group).

    Parameters
    ----------
    name
        ``capture``, ``brier``, ``ece`` or ``group_recall``.
    passed
        Whether the gate holds.
    observed
        The compared quantity: the fall of capture or recall, the rise of the Brier
        score (challenger minus champion), the challenger's ECE; ``None`` when there is
        nothing to compare.
    limit
        The largest allowed value of ``observed``.
    margin
        ``limit - observed``: room left when positive, excess when negative.
    message
        The verdict in plain English.
    group
        ``attribute=group`` for ``group_recall``, ``None`` otherwise.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    passed: bool
    observed: float | None
    limit: float
    margin: float | None
    message: str
    group: str | None = None


class PromotionDecision(BaseModel):
    """Whether the challenger passes every gate, with each gate's verdict."""

    model_config = ConfigDict(frozen=True)

    passed: bool
    results: list[GateResult]

    @property
    def failures(self) -> list[GateResult]:
        """The gates that failed."""
        return [r for r in self.results if not r.passed]

    def render(self) -> list[str]:
        """One line per gate, then the verdict, for the command line and the report."""
        lines = [f"[{'pass' if r.passed else 'FAIL'}] {r.message}" for r in self.results]
        if self.passed:
            lines.append("The challenger passes every promotion gate.")
        else:
            lines.append(f"The challenger fails {len(self.failures)} promotion gate(s).")
        return lines


def check_gates(
    challenger_eval: pd.DataFrame,
    challenger_groups: pd.DataFrame,
    champion_eval: pd.DataFrame | None,
    champion_groups: pd.DataFrame | None,
    gates: PromotionGates | None = None,
    model: str = "lightgbm",
) -> PromotionDecision:
    """Compare a challenger's pooled evaluation with the champion's, gate by gate.

    Parameters
    ----------
    challenger_eval, challenger_groups
        The challenger's evaluation and group tables.
    champion_eval, champion_groups
        The champion's, both ``None`` when there is no champion yet.
    gates
        The limits; the defaults of :class:`PromotionGates` when ``None``.
    model
        Which model's rows to compare in each table.

    Returns
    -------
    PromotionDecision

    Raises
    ------
    PromotionError
        ``MISSING_COLUMN``, ``MISSING_METRIC`` (a pooled metric a gate needs),
        ``DUPLICATE_METRIC``, ``NOT_A_NUMBER`` or ``INCOMPLETE_CHAMPION`` (one champion
        table without the other).
    """
    gates = gates or PromotionGates()
    if (champion_eval is None) != (champion_groups is None):
        raise PromotionError(
            INCOMPLETE_CHAMPION, "give both champion tables (evaluation and groups) or neither"
        )
    _check_columns(challenger_eval, EVALUATION_COLUMNS, "challenger's evaluation")
    _check_columns(challenger_groups, GROUP_COLUMNS, "challenger's group")
    challenger = _Side(challenger_eval, "challenger", model)
    champion = None
    if champion_eval is not None and champion_groups is not None:
        _check_columns(champion_eval, EVALUATION_COLUMNS, "champion's evaluation")
        _check_columns(champion_groups, GROUP_COLUMNS, "champion's group")
        champion = _Side(champion_eval, "champion", model)

    capture = gates.capture_metric
    results = [
        _fall_gate(
            GATE_CAPTURE,
            capture,
            challenger.pooled(capture),
            champion.pooled(capture) if champion else None,
            gates.max_capture_drop,
            digits=3,
        ),
        _rise_gate(challenger, champion, gates.max_brier_increase),
        _ece_gate(challenger.pooled("ece"), gates.max_ece),
    ]
    results += _group_gates(
        _recalls(challenger_groups, model),
        _recalls(champion_groups, model) if champion_groups is not None else None,
        gates.max_group_recall_drop,
        gates.min_group_positives,
    )
    return PromotionDecision(passed=all(r.passed for r in results), results=results)


def check_registered(
    registry: Registry,
    gates: PromotionGates | None = None,
    model: str = "lightgbm",
) -> PromotionDecision:
    """Check the registry's challenger against its champion (if any).

    Parameters
    ----------
    registry
        Where both versions and their evaluation tables are stored.
    gates, model
        As for :func:`check_gates`.
    """
    from risk.registry import CHALLENGER, CHAMPION, NO_SUCH_ALIAS, TAG_LABEL, RegistryError

    challenger_eval, challenger_groups = registry.evaluation(CHALLENGER)
    try:
        champion_eval, champion_groups = registry.evaluation(CHAMPION)
    except RegistryError as error:
        if error.code != NO_SUCH_ALIAS:
            raise
        return check_gates(challenger_eval, challenger_groups, None, None, gates, model)
    # Capture and Brier depend on what is predicted: models of different labels or
    # horizons cannot be ranked against each other.
    predicts = [registry.describe(a).tags.get(TAG_LABEL) for a in (CHALLENGER, CHAMPION)]
    if None not in predicts and predicts[0] != predicts[1]:
        raise PromotionError(
            LABEL_MISMATCH,
            f"the challenger predicts {predicts[0]} and the champion {predicts[1]}: "
            "their metrics cannot be compared",
        )
    return check_gates(
        challenger_eval, challenger_groups, champion_eval, champion_groups, gates, model
    )


class _Side:
    """The pooled metrics of one model in one evaluation table."""

    def __init__(self, evaluation: pd.DataFrame, who: str, model: str) -> None:
        self.who = who
        self.model = model
        rows = evaluation[(evaluation["model"] == model) & (evaluation["month"] == POOLED)]
        duplicated = rows["metric"][rows["metric"].duplicated()].unique().tolist()
        if duplicated:
            raise PromotionError(
                DUPLICATE_METRIC,
                f"the {who}'s evaluation has several pooled rows for {model} "
                f"{', '.join(map(str, duplicated))}",
            )
        self.values = dict(zip(rows["metric"], rows["value"], strict=True))

    def pooled(self, metric: str) -> float:
        if metric not in self.values:
            raise PromotionError(
                MISSING_METRIC,
                f"the {self.who}'s evaluation has no pooled {metric} for {self.model}",
            )
        value = float(self.values[metric])
        if not math.isfinite(value):
            raise PromotionError(
                NOT_A_NUMBER, f"the {self.who}'s pooled {metric} for {self.model} is {value}"
            )
        return value


def _check_columns(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PromotionError(MISSING_COLUMN, f"the {what} table lacks {', '.join(missing)}")


def _result(
    name: str, observed: float | None, limit: float, message: str, group: str | None = None
) -> GateResult:
    if observed is None:
        return GateResult(
            name=name,
            passed=True,
            observed=None,
            limit=limit,
            margin=None,
            message=message,
            group=group,
        )
    margin = limit - observed
    return GateResult(
        name=name,
        passed=margin >= -_TOLERANCE,
        observed=observed,
        limit=limit,
        margin=margin,
        message=message,
        group=group,
    )


def _fall_gate(
    name: str,
    label: str,
    challenger: float,
    champion: float | None,
    limit: float,
    digits: int,
    group: str | None = None,
) -> GateResult:
    """Judge how far a higher-is-better figure fell from the champion's."""
    if champion is None:
        return _result(
            name,
            None,
            limit,
            f"{label}: no champion to compare with (challenger {challenger:.{digits}f}); passes",
            group,
        )
    fall = champion - challenger
    moved = f"fell by {fall:.{digits}f}" if fall > 0 else f"rose by {-fall:.{digits}f}"
    head = f"{label} {moved} versus the champion ({champion:.{digits}f} -> {challenger:.{digits}f})"
    result = _result(name, fall, limit, "", group)
    return result.model_copy(
        update={"message": _verdict(head, result, f"a fall of at most {limit:.{digits}f}", digits)}
    )


def _rise_gate(challenger: _Side, champion: _Side | None, limit: float) -> GateResult:
    """Judge how far the (lower-is-better) Brier score rose: the Brier gate."""
    new = challenger.pooled("brier")
    if champion is None:
        return _result(
            GATE_BRIER,
            None,
            limit,
            f"Brier score: no champion to compare with (challenger {new:.4f}); passes",
        )
    old = champion.pooled("brier")
    rise = new - old
    moved = f"rose by {rise:.4f}" if rise > 0 else f"fell by {-rise:.4f}"
    head = f"Brier score {moved} versus the champion ({old:.4f} -> {new:.4f})"
    result = _result(GATE_BRIER, rise, limit, "")
    return result.model_copy(
        update={"message": _verdict(head, result, f"a rise of at most {limit:.4f}", 4)}
    )


def _ece_gate(ece: float, limit: float) -> GateResult:
    head = f"calibration error (ECE) of the challenger is {ece:.4f}"
    result = _result(GATE_ECE, ece, limit, "")
    return result.model_copy(update={"message": _verdict(head, result, f"at most {limit:.4f}", 4)})


def _verdict(head: str, result: GateResult, allowed: str, digits: int) -> str:
    margin = result.margin or 0.0
    if result.passed:
        return f"{head}; {allowed} allowed: passes with {max(margin, 0.0):.{digits}f} to spare"
    return f"{head}; {allowed} allowed: fails, over the limit by {-margin:.{digits}f}"


def _recalls(groups: pd.DataFrame, model: str) -> dict[tuple[str, str], tuple[float, float]]:
    rows = groups[(groups["model"] == model) & (groups["metric"] == "recall")]
    keys = list(zip(rows["attribute"].astype(str), rows["group"].astype(str), strict=True))
    seen: set[tuple[str, str]] = set()
    for key in keys:
        if key in seen:
            raise PromotionError(
                DUPLICATE_METRIC, f"several recall rows for {model} in {key[0]}={key[1]}"
            )
        seen.add(key)
    pairs = zip(rows["value"].astype(float), rows["positives"].astype(float), strict=True)
    return dict(zip(keys, pairs, strict=True))


def _group_gates(
    challenger: dict[tuple[str, str], tuple[float, float]],
    champion: dict[tuple[str, str], tuple[float, float]] | None,
    limit: float,
    min_positives: int,
) -> list[GateResult]:
    if champion is None:
        return [
            _result(
                GATE_GROUP_RECALL,
                None,
                limit,
                "recall by group: no champion to compare with; passes",
            )
        ]
    results = []
    for attribute, group in sorted(set(challenger) | set(champion)):
        where = f"{attribute}={group}"
        label = f"recall in {where}"
        new_pair = challenger.get((attribute, group))
        old_pair = champion.get((attribute, group))
        new = None if new_pair is None else new_pair[0]
        old = None if old_pair is None else old_pair[0]
        cases = min(pair[1] for pair in (new_pair, old_pair) if pair is not None)
        if new is not None and old is not None and cases < min_positives:
            results.append(
                _result(
                    GATE_GROUP_RECALL,
                    None,
                    limit,
                    f"{label}: {cases:.0f} future arrears, fewer than the "
                    f"{min_positives} needed to judge; shown, not gating",
                    where,
                )
            )
        elif new is None and old_pair is not None and old_pair[1] < min_positives:
            results.append(
                _result(
                    GATE_GROUP_RECALL,
                    None,
                    limit,
                    f"{label}: gone from the challenger's table, and the champion had "
                    f"{old_pair[1]:.0f} future arrears there, fewer than the {min_positives} "
                    "needed to judge; not gating",
                    where,
                )
            )
        elif new is None:
            # A group the champion was watched on must stay watched.
            results.append(
                GateResult(
                    name=GATE_GROUP_RECALL,
                    passed=False,
                    observed=None,
                    limit=limit,
                    margin=None,
                    message=f"{label}: the challenger's group table lacks this group; fails",
                    group=where,
                )
            )
        elif old is None or math.isnan(old) or math.isnan(new):
            # A group new to the table, or without positives on one side: recall is undefined.
            why = (
                "the champion has no figure"
                if old is None
                else "recall is undefined (no positives)"
            )
            results.append(
                _result(GATE_GROUP_RECALL, None, limit, f"{label}: {why}; passes", where)
            )
        else:
            results.append(_fall_gate(GATE_GROUP_RECALL, label, new, old, limit, 3, where))
    return results
