"""Sections 6 and 7: out-of-time performance and performance by group of households.

Both read only the run's evaluation and group tables (and its figures), so the numbers
an auditor reads are the ones the promotion gates judged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from risk.groups import (
    ALL,
    ALL_LABEL,
    GROUP_ATTRIBUTES,
    GROUP_METRICS,
    UNKNOWN_LABEL,
    largest_gaps,
)
from risk.metrics import POOLED
from risk.report import plots
from risk.report.blocks import Section, bullets, figure, heading, note, para, table
from risk.report.context import ReportContext
from risk.report.run import RUN_FIGURES
from risk.training import MODEL, ORACLE, PRACTICE, SCORECARD

#: Metrics of the pooled table, before the capacity metrics.
HEADLINE_METRICS = ("roc_auc", "pr_auc", "brier", "ece")
#: Group metrics shown, in order; shares are shown as percentages.
GROUP_COLUMNS = GROUP_METRICS
#: Metrics whose largest gaps are put in words.
GAP_METRICS = ("recall", "false_positive_rate", "calibration_gap")
#: Gaps put in words per metric.
GAPS_PER_METRIC = 2


def _capacities(ctx: ReportContext) -> list[str]:
    metrics = ctx.run.evaluation["metric"].unique()
    return [m.split("@", 1)[1] for m in metrics if str(m).startswith("capture@")]


def _metric_label(ctx: ReportContext, metric: str) -> str:
    names = ctx.text("metrics")
    if "@" in metric:
        kind, capacity = metric.split("@", 1)
        return str(names.get(kind, kind)).format(k=ctx.capacity_text(capacity))
    return str(names.get(metric, metric))


def performance(ctx: ReportContext) -> Section:
    """Section 6: pooled metrics with intervals against the baselines, per month, figures."""
    t = ctx.text
    section = Section("performance", 6, t("sections.performance"))
    section.add(para(t("performance.intro", bootstrap=ctx.setting("evaluation", "bootstrap", "?"))))
    metrics = list(HEADLINE_METRICS)
    for capacity in _capacities(ctx):
        metrics += [f"capture@{capacity}", f"precision@{capacity}"]
    rows = []
    for model in ctx.models():
        pooled = ctx.pooled(model)
        cells = [ctx.model_name(model)]
        for metric in metrics:
            value, low, high = pooled.get(metric, (np.nan, np.nan, np.nan))
            cells.append(t.interval(value, low, high, percent="@" in metric))
        rows.append(cells)
    section.add(
        table(
            [t("performance.model")] + [_metric_label(ctx, m) for m in metrics],
            rows,
            t("performance.pooled_caption"),
        )
    )
    capture = f"capture@{ctx.capacity}"

    def captured(model: str) -> str:
        value = ctx.pooled(model).get(capture)
        return t.interval(*value, percent=True) if value else "—"

    section.add(
        para(
            t(
                "performance.summary",
                capacity=ctx.capacity_text(),
                model_capture=captured(MODEL),
                practice_capture=captured(PRACTICE),
                scorecard_capture=captured(SCORECARD),
            )
        )
    )
    ratios = oracle_ratios(ctx)
    if ratios is not None:
        section.add(
            para(
                t(
                    "performance.summary_oracle",
                    oracle_capture=captured(ORACLE),
                    ratio_capture=t.percent(ratios[0]),
                    ratio_auc=t.percent(ratios[1]),
                )
            )
        )
    section.add(*_monthly(ctx, capture))
    section.add(*_figures(ctx))
    return section


def oracle_ratios(ctx: ReportContext) -> tuple[float, float] | None:
    """Model over oracle capture at capacity, and (AUC - 0.5) ratio; None without oracle."""
    if not ctx.has_model(ORACLE):
        return None
    model, oracle = ctx.pooled(MODEL), ctx.pooled(ORACLE)
    capture = f"capture@{ctx.capacity}"
    try:
        return (
            model[capture][0] / oracle[capture][0],
            (model["roc_auc"][0] - 0.5) / (oracle["roc_auc"][0] - 0.5),
        )
    except (KeyError, ZeroDivisionError):
        return None


def _monthly(ctx: ReportContext, capture: str) -> list[dict]:
    t = ctx.text
    evaluation = ctx.run.evaluation
    monthly = evaluation[evaluation["month"] != POOLED]
    months = sorted(monthly["month"].unique())
    models = ctx.models()
    rows = []
    for month in months:
        this = monthly[monthly["month"] == month]
        first = this[this["model"] == MODEL] if (this["model"] == MODEL).any() else this
        cells = [month, t.integer(first["rows"].iloc[0]), t.integer(first["positives"].iloc[0])]
        for model in models:
            found = this[(this["model"] == model) & (this["metric"] == capture)]
            cells.append(
                t.interval(*found[["value", "low", "high"]].iloc[0], percent=True)
                if len(found)
                else "—"
            )
        auc = this[(this["model"] == MODEL) & (this["metric"] == "roc_auc")]
        cells.append(t.interval(*auc[["value", "low", "high"]].iloc[0]) if len(auc) else "—")
        rows.append(cells)
    headers = [t("performance.month"), t("performance.rows"), t("performance.positives")]
    headers += [f"{_metric_label(ctx, capture)} — {ctx.model_name(m)}" for m in models]
    headers += [f"{_metric_label(ctx, 'roc_auc')} — {ctx.model_name(MODEL)}"]
    series: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for model in models:
        rows_of = monthly[(monthly["model"] == model) & (monthly["metric"] == capture)].set_index(
            "month"
        )
        rows_of = rows_of.reindex(months)
        value, low, high = (rows_of[c].to_numpy(dtype=np.float64) for c in ("value", "low", "high"))
        series[ctx.model_name(model)] = (value, low, high)
    png = plots.monthly_capture(months, series, _metric_label(ctx, capture))
    return [
        heading(t("performance.monthly_title")),
        table(headers, rows, t("performance.monthly_caption", capacity=ctx.capacity_text())),
        figure(png, t("performance.monthly_figure", capacity=ctx.capacity_text())),
    ]


def _figures(ctx: ReportContext) -> list[dict]:
    t = ctx.text
    captions = [
        t("performance.figure_roc"),
        t("performance.figure_reliability"),
        t("performance.figure_capture"),
    ]
    blocks: list[dict] = [heading(t("performance.run_figures"))]
    predictions = ctx.run.predictions
    if predictions is not None:
        # Redrawn in the report's language from the run's own predictions.
        from risk.figures import capture_figure, reliability_figure, roc_figure

        with tempfile.TemporaryDirectory(prefix="risk-report-fig-") as tmp:
            folder = Path(tmp)
            roc_figure(predictions, folder / "roc.png", lang=t.lang)
            reliability_figure(predictions, folder / "reliability.png", lang=t.lang)
            capture_figure(predictions, folder / "capture.png", _capacities(ctx), lang=t.lang)
            images = [(folder / name).read_bytes() for name in RUN_FIGURES]
        blocks.append(note(t("performance.redrawn")))
    else:
        images = [ctx.run.figures[name] for name in RUN_FIGURES if name in ctx.run.figures]
        captions = [
            c for c, name in zip(captions, RUN_FIGURES, strict=True) if name in ctx.run.figures
        ]
        blocks.append(note(t("performance.english_figures")))
    blocks += [figure(png, caption) for png, caption in zip(images, captions, strict=True)]
    return blocks


def group_label(ctx: ReportContext, attribute: str, group: str) -> tuple[str, str]:
    """Display labels of an attribute and one of its groups."""
    lang = ctx.text.lang
    if attribute == ALL:
        return ALL_LABEL[lang], ALL_LABEL[lang]
    spec = GROUP_ATTRIBUTES.get(attribute)
    if spec is None:
        return attribute, group
    labels = spec.groups.get(group, UNKNOWN_LABEL if group == "unknown" else {lang: group})
    return spec.label[lang], labels[lang]


def groups(ctx: ReportContext) -> Section:
    """Section 7: per-group selection, recall, precision, FPR and calibration, gaps in words."""
    t = ctx.text
    table_ = ctx.run.groups
    table_ = table_[table_["model"] == MODEL]
    minimum = int(ctx.setting("promotion", "min_group_positives", 30))
    section = Section("groups", 7, t("sections.groups"))
    section.add(para(t("groups.intro", capacity=ctx.capacity_text())))
    overall = table_[table_["attribute"] == ALL].set_index("metric")
    if len(overall):
        section.add(
            para(
                t(
                    "groups.population",
                    recall=t.interval(
                        *overall.loc["recall", ["value", "low", "high"]], percent=True
                    ),
                    precision=t.interval(
                        *overall.loc["precision", ["value", "low", "high"]], percent=True
                    ),
                    selection=t.percent(overall.loc["selection_rate", "value"]),
                )
            )
        )
    small: list[str] = []
    headers = [t("groups.group"), t("performance.rows"), t("performance.positives")]
    headers += [t(f"groups.{m}") for m in GROUP_COLUMNS]
    for attribute in GROUP_ATTRIBUTES:
        rows_of = table_[table_["attribute"] == attribute]
        if rows_of.empty:
            continue
        rows: list[list[str]] = []
        flagged: list[int] = []
        for group in rows_of["group"].unique():
            cells = rows_of[rows_of["group"] == group].set_index("metric")
            label = group_label(ctx, attribute, group)
            first = cells.iloc[0]
            row = [label[1], t.integer(first["rows"]), t.integer(first["positives"])]
            for metric in GROUP_COLUMNS:
                value = (
                    cells.loc[metric, ["value", "low", "high"]]
                    if metric in cells.index
                    else [np.nan] * 3
                )
                row.append(t.interval(*value, percent=metric != "calibration_gap"))
            if int(first["positives"]) < minimum:
                flagged.append(len(rows))
                small.append(f"{label[1]} ({label[0]})")
            rows.append(row)
        section.add(
            heading(GROUP_ATTRIBUTES[attribute].label[t.lang]),
            table(headers, rows, flagged=flagged),
        )
    if small:
        section.add(note(t("groups.small", min=minimum, groups="; ".join(small)), "warn"))
    section.add(heading(t("groups.gaps_title")), bullets(gap_sentences(ctx, table_, minimum)))
    return section


def gap_sentences(ctx: ReportContext, table_, minimum: int) -> list[str]:
    """Put the largest gaps of :func:`risk.groups.largest_gaps`, one sentence each."""
    t = ctx.text
    out = []
    for metric in GAP_METRICS:
        gaps = largest_gaps(table_, metric, GAPS_PER_METRIC, min_positives=minimum)
        if gaps.empty:
            out.append(t("groups.no_gap", min=minimum, metric=t(f"groups.{metric}")))
            continue
        percent = metric != "calibration_gap"
        for gap in gaps.to_dict("records"):
            attribute, group = group_label(ctx, str(gap["attribute"]), str(gap["group"]))
            show = t.percent if percent else t.number
            out.append(
                t(
                    f"groups.gap_{metric}",
                    group=group,
                    attribute=attribute,
                    value=t.interval(gap["value"], gap["low"], gap["high"], percent=percent),
                    population=show(gap["population"]),
                    shortfall=t.number(100 * float(gap["shortfall"]), 1),
                    clear=t("groups.clear") if gap["clear"] else t("groups.unclear"),
                )
            )
    return out
