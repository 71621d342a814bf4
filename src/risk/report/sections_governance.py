"""Sections 9 and 11: human oversight, known limits, redress and sign-off."""

from __future__ import annotations

from risk.groups import ALL
from risk.metrics import POOLED
from risk.report.blocks import Section, bullets, heading, para, signatures
from risk.report.context import ReportContext
from risk.report.sections_results import group_label, oracle_ratios
from risk.training import MODEL


def oversight(ctx: ReportContext) -> Section:
    """Section 9: how the worklist is used; how overrides and contact outcomes are recorded."""
    t = ctx.text
    gates = ctx.config.get("promotion") or {}
    return Section("oversight", 9, t("sections.oversight")).add(
        heading(t("oversight.worklist_title")),
        bullets(str(item).format(capacity=ctx.capacity_text()) for item in t("oversight.worklist")),
        heading(t("oversight.overrides_title")),
        bullets(t("oversight.overrides")),
        para(
            t(
                "oversight.gates",
                capacity=ctx.capacity_text(),
                capture=t.number(gates.get("max_capture_drop", float("nan")), 3),
                brier=t.number(gates.get("max_brier_increase", float("nan")), 4),
                ece=t.number(gates.get("max_ece", float("nan")), 3),
                recall=t.number(gates.get("max_group_recall_drop", float("nan")), 3),
                min=gates.get("min_group_positives", "?"),
            )
        ),
    )


def limits(ctx: ReportContext) -> Section:
    """Section 11: known failure modes, how a tenant contests, sign-off fields."""
    t = ctx.text
    known: list[str] = []
    ratios = oracle_ratios(ctx)
    if ratios is not None:
        known.append(
            t(
                "limits.oracle_gap",
                ratio_capture=t.percent(ratios[0]),
                ratio_auc=t.percent(ratios[1]),
                capacity=ctx.capacity_text(),
            )
        )
    else:
        known.append(t("limits.no_oracle"))
    known += [t("limits.rent"), t("limits.composition"), t("limits.in_arrears")]
    populations = ctx.populations
    if populations is not None:
        eligible = populations.latest_scores["eligible"].to_numpy(dtype=bool)
        count = int((~eligible).sum())
        known.append(
            t(
                "limits.in_arrears_share",
                as_of=t.date(populations.as_of),
                count=t.integer(count),
                rows=t.integer(len(eligible)),
                share=t.percent(count / max(len(eligible), 1)),
            )
        )
    minimum = int(ctx.setting("promotion", "min_group_positives", 30))
    groups = ctx.run.groups
    small = groups[
        (groups["model"] == MODEL)
        & (groups["attribute"] != ALL)
        & (groups["metric"] == "recall")
        & (groups["positives"] < minimum)
    ]
    if len(small):
        names = [
            " / ".join(reversed(group_label(ctx, a, g)))
            for a, g in zip(small["attribute"], small["group"], strict=True)
        ]
        known.append(t("limits.small_groups", groups="; ".join(names), min=minimum))
    evaluation = ctx.run.evaluation
    pooled = evaluation[(evaluation["model"] == MODEL) & (evaluation["month"] == POOLED)]
    months = evaluation.loc[evaluation["month"] != POOLED, "month"].nunique()
    if len(pooled):
        known.append(
            t("limits.test_size", months=months, positives=t.integer(pooled["positives"].iloc[0]))
        )
    return Section("limits", 11, t("sections.limits")).add(
        heading(t("limits.known_title")),
        bullets(known),
        heading(t("limits.contest_title")),
        bullets(t("limits.contest")),
        heading(t("limits.signoff_title")),
        para(t("limits.signoff_intro", version=ctx.run.description.version)),
        signatures(t("limits.signoff_headers"), t("limits.roles")),
    )
