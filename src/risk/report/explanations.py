"""Section 8: global importance, dependence checked against expected directions, examples.

Computed on the eligible households of the data's latest month (``--data``). The
contributions are LightGBM's own SHAP values (``pred_contrib``), in log-odds, which the
dependence plots need in any case. :mod:`risk.explanation` is used when it is installed:
``global_importance`` for the importance table and ``explain`` for the example
households' reasons. Until then this module computes both itself; the two places are
marked ``INTEGRATION POINT``.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import numpy as np
import pandas as pd

from risk.catalogue import LEVERS, get_feature
from risk.matrix import feature_matrix
from risk.report import plots
from risk.report.blocks import Section, figure, heading, note, para, table
from risk.report.context import ReportContext

#: Features in the importance table and bar chart.
TOP_IMPORTANCE = 15
#: Dependence plots drawn (top numeric features by importance).
TOP_DEPENDENCE = 4
#: Example households shown.
N_EXAMPLES = 5
#: Reasons shown per example household.
REASONS_PER_HOUSEHOLD = 3
#: A contribution (log-odds) below this does not count as a reason.
MIN_REASON_CONTRIBUTION = 0.01
#: Rank correlation beyond which a dependence has a direction.
DIRECTION_RHO = 0.1


def contributions(ctx: ReportContext, rows: pd.DataFrame) -> np.ndarray:
    """SHAP contributions of each feature (log-odds), shape ``(n, p)``, bias dropped."""
    bundle = ctx.run.bundle
    matrix = feature_matrix(rows, bundle.feature_names)
    out = bundle.booster.predict(matrix, pred_contrib=True, num_threads=1)
    return np.asarray(out, dtype=np.float64)[:, :-1]


def _importance(
    ctx: ReportContext, rows: pd.DataFrame, contrib: np.ndarray
) -> tuple[pd.DataFrame, str]:
    # INTEGRATION POINT (risk.explanation): its global_importance replaces ours when present.
    try:
        from risk.explanation import global_importance
    except ImportError:
        pass
    else:
        frame = global_importance(ctx.run.bundle, rows, threads=1)
        frame = frame.rename(columns={"mean_abs_contribution": "mean_abs_shap"})
        frame = frame[["feature", "mean_abs_shap"]].sort_values(
            "mean_abs_shap", ascending=False, kind="stable"
        )
        return frame.reset_index(drop=True), "explanations.importance_source_module"
    frame = pd.DataFrame(
        {"feature": ctx.run.bundle.feature_names, "mean_abs_shap": np.abs(contrib).mean(axis=0)}
    )
    frame = frame.sort_values("mean_abs_shap", ascending=False, kind="stable")
    return frame.reset_index(drop=True), "explanations.importance_source_own"


def feature_label(name: str, lang: str) -> str:
    """Short label of a feature in the report's language (its reason when it has none)."""
    feature = get_feature(name)
    label = getattr(feature, f"label_{lang}", "")
    if label:
        return str(label)
    return (feature.reason_fr if lang == "fr" else feature.reason_en).replace("{value}", "…")


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    known = ~(np.isnan(x) | np.isnan(y))
    if known.sum() < 3:
        return float("nan")
    rx = pd.Series(x[known]).rank().to_numpy()
    ry = pd.Series(y[known]).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def format_value(ctx: ReportContext, name: str, value: Any) -> str:
    """Write a feature value in a reason: euros, shares as percentages, counts."""
    t = ctx.text
    feature = get_feature(name)
    if feature.dtype == "categorical":
        return str(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if feature.unit.startswith("EUR"):
        return t.integer(value)
    if feature.unit == "ratio":
        return t.percent(value, digits=0)
    return t.integer(value) if float(value).is_integer() else t.number(value, 1)


def _own_reasons(ctx: ReportContext, row: pd.Series, contrib: np.ndarray) -> list[str]:
    t = ctx.text
    names = ctx.run.bundle.feature_names
    reasons: list[str] = []
    groups: set[str] = set()
    for j in np.argsort(-contrib, kind="stable"):
        if contrib[j] < MIN_REASON_CONTRIBUTION or len(reasons) == REASONS_PER_HOUSEHOLD:
            break
        feature = get_feature(names[j])
        if feature.reason_group in groups:
            continue  # correlated features of one group give one reason
        groups.add(feature.reason_group)
        template = feature.reason_fr if t.lang == "fr" else feature.reason_en
        text = template.replace("{value}", format_value(ctx, feature.name, row[feature.name]))
        lever = LEVERS.get(feature.lever) if feature.lever else None
        if lever is not None:
            text += f" ({lever.label_fr if t.lang == 'fr' else lever.label_en})"
        reasons.append(text)
    return reasons or [t("explanations.no_reason")]


def _module_reasons(explanation: Any, lang: str) -> list[str]:
    """Reasons of one :class:`risk.explanation.Explanation`, in the report's language.

    Each reason with its lever, then the "what would lower the risk" line when there is one.
    """
    out = []
    for reason in explanation.reasons[:REASONS_PER_HOUSEHOLD]:
        text = str(getattr(reason, f"text_{lang}"))
        lever = getattr(reason, f"lever_{lang}", None)
        out.append(f"{text} ({lever})" if lever else text)
    if explanation.counterfactual is not None:
        out.append("→ " + str(getattr(explanation.counterfactual, f"text_{lang}")))
    return out


def _examples(
    ctx: ReportContext, rows: pd.DataFrame, scores: pd.DataFrame, contrib: np.ndarray
) -> list[dict]:
    t = ctx.text
    order = np.argsort(scores["rank"].to_numpy(), kind="stable")
    high = int((scores["band"] == "high").sum())
    picks = [0, 1, 2, high, len(order) // 2]
    picks = list(dict.fromkeys(p for p in picks if p < len(order)))[:N_EXAMPLES]
    chosen = order[picks]
    reasons: list[list[str]] | None = None
    source = "explanations.reasons_own"
    # INTEGRATION POINT (risk.explanation): its explain() gives the caseworkers' reasons.
    try:
        from risk.explanation import explain
    except ImportError:
        pass
    else:
        try:
            explained = explain(ctx.run.bundle, rows.iloc[chosen], threads=1)
            reasons = [_module_reasons(e, t.lang) for e in explained]
            source = "explanations.reasons_module"
        except Exception as error:
            ctx.notes.append(f"risk.explanation.explain failed ({error}); report reasons used")
            reasons = None
    if reasons is None:
        reasons = [_own_reasons(ctx, rows.iloc[i], contrib[i]) for i in chosen]
    # Pseudonyms from a key drawn for this report and thrown away: nobody, not even the
    # author, can link them back to a tenancy from the report alone.
    key = secrets.token_bytes(32)
    bands = t("explanations.bands")
    table_rows = []
    for i, why in zip(chosen, reasons, strict=True):
        tenancy = str(scores["tenancy_id"].iloc[i]).encode("utf-8")
        pseudonym = "M-" + hmac.new(key, tenancy, "sha256").hexdigest()[:8].upper()
        band = str(scores["band"].iloc[i])
        table_rows.append(
            (
                pseudonym,
                t.percent(scores["probability"].iloc[i]),
                bands.get(band, band),
                t.integer(scores["rank"].iloc[i]),
                " · ".join(why),
            )
        )
    return [
        heading(t("explanations.examples_title")),
        para(t("explanations.examples_intro")),
        table(
            [
                t("explanations.household"),
                t("explanations.probability"),
                t("explanations.band"),
                t("explanations.contact_rank"),
                t("explanations.reasons"),
            ],
            table_rows,
            numeric_to=4,
        ),
        note(t(source), "todo" if source.endswith("own") else "info"),
    ]


def explanations(ctx: ReportContext) -> Section:
    """Section 8: importance, dependence checks and five pseudonymised example households."""
    t = ctx.text
    section = Section("explanations", 8, t("sections.explanations"))
    bundle = ctx.run.bundle
    populations = ctx.populations
    if populations is None:
        constraints = bundle.manifest["monotone_constraints"]
        return section.add(
            note(
                t(
                    "explanations.needs_data",
                    constrained=sum(1 for c in constraints if c),
                    total=len(constraints),
                ),
                "warn",
            )
        )
    scores = populations.latest_scores
    eligible = scores["eligible"].to_numpy(dtype=bool)
    rows = populations.latest.loc[eligible].reset_index(drop=True)
    scores = scores.loc[eligible].reset_index(drop=True)
    section.add(
        para(
            t(
                "explanations.population",
                rows=t.integer(len(eligible)),
                as_of=t.date(populations.as_of),
                eligible=t.integer(eligible.sum()),
            )
        )
    )
    contrib = contributions(ctx, rows)
    importance, source = _importance(ctx, rows, contrib)
    if source.endswith("own"):
        ctx.notes.append(
            "section 8: risk.explanation not importable; importance and reasons computed "
            "by the report"
        )
    total = float(importance["mean_abs_shap"].sum()) or 1.0
    top = importance.head(TOP_IMPORTANCE)
    reason_of = {n: feature_label(n, t.lang) for n in top["feature"]}
    section.add(
        heading(t("explanations.importance_title")),
        table(
            [
                t("explanations.rank"),
                t("method.feature"),
                t("method.reason"),
                "mean |SHAP|",
                t("explanations.share"),
            ],
            [
                (
                    i + 1,
                    r["feature"],
                    reason_of[r["feature"]],
                    t.number(r["mean_abs_shap"], 4),
                    t.percent(float(r["mean_abs_shap"]) / total),
                )
                for i, r in enumerate(top.to_dict("records"))
            ],
            t("explanations.importance_caption"),
            numeric_from=3,
        ),
        figure(
            plots.importance_bars(list(top["feature"]), list(top["mean_abs_shap"]), "mean |SHAP|"),
            t("explanations.importance_caption"),
        ),
        note(t(source), "todo" if source.endswith("own") else "info"),
        heading(t("explanations.dependence_title")),
    )
    names = bundle.feature_names
    directions = t("method.directions")
    numeric = [n for n in importance["feature"] if get_feature(n).dtype != "categorical"][
        :TOP_DEPENDENCE
    ]
    checks = []
    for name in numeric:
        j = names.index(name)
        values = rows[name].to_numpy(dtype=np.float64, na_value=np.nan)
        rho = _spearman(values, contrib[:, j])
        observed = "flat" if not abs(rho) >= DIRECTION_RHO else ("up" if rho > 0 else "down")
        expected = get_feature(name).direction
        direction = directions[str(expected)]
        key = (
            "check_free"
            if expected == 0
            else (
                "check_bad"
                if observed != "flat" and (1 if observed == "up" else -1) != expected
                else "check_ok"
            )
        )
        checks.append(
            t(
                f"explanations.{key}",
                feature=name,
                direction=direction,
                observed=t(f"explanations.observed_{observed}"),
                rho=t.number(rho, 2),
            )
        )
        section.add(
            figure(
                plots.dependence(values, contrib[:, j], name, "SHAP"),
                t("explanations.dependence_caption", feature=name, direction=direction),
            ),
            note(checks[-1], "warn" if key == "check_bad" else "info"),
        )
    section.add(*_examples(ctx, rows, scores, contrib))
    return section
