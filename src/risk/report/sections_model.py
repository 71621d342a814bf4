"""Sections 1 to 5: what the model is, what it is for, its legal frame, data and method.

Every value comes from the registered version (description and tags), its bundle's
manifest, its run's configuration and evaluation table, or the library's own single
sources of truth (the catalogue, the labels, the data contract, the sensitive-data
rules); the fixed prose comes from the language's wording file.
"""

from __future__ import annotations

from typing import Any

from risk.baselines import NEW_ENTRANT_MONTHS
from risk.catalogue import FEATURES, LEVERS, get_feature
from risk.contract import TABLES
from risk.labels import LABELS
from risk.metrics import POOLED
from risk.registry import (
    NO_PREVIOUS,
    TAG_CODE_VERSION,
    TAG_DATA_FINGERPRINT,
    TAG_PREVIOUS_CHAMPION,
    TAG_PROMOTED_AT,
)
from risk.report.blocks import Section, bullets, heading, note, pairs, para, table
from risk.report.context import ReportContext
from risk.report.explanations import feature_label
from risk.sensitive import SENSITIVE_STEMS, SENSITIVE_WORDS


def test_months(ctx: ReportContext) -> list[str]:
    """The out-of-time test months of the run, in order."""
    months = ctx.run.evaluation["month"].unique()
    return sorted(str(m) for m in months if m != POOLED)


def window_text(ctx: ReportContext) -> str:
    """Describe the training window: rebuilt from the data when given, else its last date."""
    t = ctx.text
    manifest = ctx.run.manifest
    window = ctx.populations.window if ctx.populations else None
    if window is not None:
        return t(
            "identity.window_value",
            first=t.date(window.dates[0]),
            last=t.date(window.dates[-1]),
            count=len(window.dates),
        )
    return t("identity.window_unknown", last=t.date(manifest["train_until"]))


def _previous(ctx: ReportContext) -> str:
    previous = ctx.run.description.tags.get(TAG_PREVIOUS_CHAMPION, NO_PREVIOUS)
    return ctx.text("meta.none") if previous == NO_PREVIOUS else str(previous)


def identity(ctx: ReportContext) -> Section:
    """Section 1: name, version, alias, run, code version, data fingerprint, dates, owner."""
    t, run = ctx.text, ctx.run
    d, manifest = run.description, run.manifest
    described = run.bundle.describe()
    months = test_months(ctx)
    match = "catalogue_match" if described["catalogue_fingerprint_matches"] else "catalogue_differs"
    items: list[tuple[str, Any]] = [
        (t("identity.name"), d.name),
        (t("identity.version"), d.version),
        (t("identity.alias"), d.alias or t("meta.none")),
        (t("identity.aliases"), ", ".join(d.aliases) or t("meta.none")),
        (t("identity.run_id"), d.run_id),
        (t("identity.registered"), d.created.strftime("%Y-%m-%d %H:%M")),
        (t("identity.bundle_created"), t.date(manifest.get("created_at"))),
        (
            t("identity.promoted"),
            t.date(d.tags.get(TAG_PROMOTED_AT)) if TAG_PROMOTED_AT in d.tags else t("meta.none"),
        ),
        (t("identity.previous"), _previous(ctx)),
        (t("identity.code_version"), d.tags.get(TAG_CODE_VERSION, manifest.get("code_version"))),
        (
            t("identity.data_fingerprint"),
            d.tags.get(TAG_DATA_FINGERPRINT, manifest.get("data_fingerprint")),
        ),
        (
            t("identity.catalogue"),
            t(
                "identity.catalogue_value",
                version=manifest["catalogue_version"],
                match=t(f"identity.{match}"),
            ),
        ),
        (
            t("identity.label"),
            t("identity.label_value", label=manifest["label"], horizon=manifest["horizon_months"]),
        ),
        (t("identity.train_until"), t.date(manifest["train_until"])),
        (t("identity.window"), window_text(ctx)),
        (
            t("identity.test_months"),
            t("identity.test_value", first=months[0], last=months[-1], count=len(months))
            if months
            else t("meta.none"),
        ),
        (t("identity.trees"), manifest.get("best_iteration")),
        (t("identity.owner"), ctx.setting("tracking", "owner", t("meta.unknown"))),
        (t("identity.model_sha"), described["model_sha256"]),
    ]
    return Section("identity", 1, t("sections.identity")).add(pairs(items, t("identity.caption")))


def intended_use(ctx: ReportContext) -> Section:
    """Section 2: preventive contact only; what is excluded; foreseeable misuse."""
    t = ctx.text
    manifest = ctx.run.manifest
    names = t("explanations.bands")
    bands = "; ".join(
        f"{names.get(name, name)} ≥ {t.percent(value)}"
        for name, value in ctx.run.bundle.bands.items()
    )
    return Section("use", 2, t("sections.use")).add(
        para(t("use.purpose", horizon=manifest["horizon_months"], label=manifest["label"])),
        para(t("use.capacity", capacity=ctx.capacity_text(), bands=bands)),
        heading(t("use.allowed_title")),
        bullets(t("use.allowed")),
        heading(t("use.excluded_title")),
        bullets(t("use.excluded")),
        heading(t("use.misuse_title")),
        bullets(t("use.misuse")),
    )


def _sensitive_categories(ctx: ReportContext) -> list[str]:
    """List the special categories the validation refuses, in the report's language."""
    names = ctx.text("legal.categories")
    found = set(SENSITIVE_STEMS.values()) | set(SENSITIVE_WORDS.values())
    return sorted(str(names.get(c, c)) for c in found)


def legal_basis(ctx: ReportContext) -> Section:
    """Section 3: GDPR art. 22 and 9, DPIA pointer, AI Act notes, tenants' information."""
    t = ctx.text
    return Section("legal", 3, t("sections.legal")).add(
        heading(t("legal.art22_title")),
        para(t("legal.art22")),
        heading(t("legal.art9_title")),
        para(t("legal.art9", categories=", ".join(_sensitive_categories(ctx)))),
        heading(t("legal.dpia_title")),
        para(t("legal.dpia")),
        note(t("legal.dpia_todo"), "todo"),
        heading(t("legal.ai_act_title")),
        bullets(t("legal.ai_act")),
        heading(t("legal.tenants_title")),
        bullets(t("legal.tenants")),
    )


def data(ctx: ReportContext) -> Section:
    """Section 4: sources, period, cohort, label, exclusions, missing values, refusals."""
    t, manifest = ctx.text, ctx.run.manifest
    yes, no = t("meta.word_yes"), t("meta.word_no")
    sources = table(
        [t("data.table"), t("data.required"), t("data.content")],
        [
            (name, no if tab.optional else yes, t("data.tables").get(name, tab.description))
            for name, tab in TABLES.items()
        ],
        t("data.sources_caption"),
        numeric_from=99,
    )
    evaluation = ctx.run.evaluation
    first_model = evaluation[evaluation["model"] == ctx.models()[0]]
    monthly = first_model[first_model["month"] != POOLED].drop_duplicates("month")
    rows, positives = int(monthly["rows"].sum()), int(monthly["positives"].sum())
    section = Section("data", 4, t("sections.data")).add(
        heading(t("data.sources_title")),
        sources,
        heading(t("data.period_title")),
        para(
            t(
                "data.period",
                window=window_text(ctx),
                cutoff=t.date(manifest["train_until"]),
                history=ctx.setting("data", "history_months", "?"),
            )
        ),
        para(
            t(
                "data.cohort",
                months=len(monthly),
                rows=t.integer(rows),
                positives=t.integer(positives),
                rate=t.percent(positives / rows if rows else float("nan")),
            )
        ),
    )
    definition = LABELS.get(manifest["label"])
    if definition is not None:
        description = definition.description_fr if t.lang == "fr" else definition.description_en
        section.add(
            heading(t("data.label_title")),
            para(
                t(
                    "data.label",
                    name=definition.name,
                    horizon=manifest["horizon_months"],
                    description=description,
                )
            ),
        )
    missing = [
        (f.name, f.missing)
        for f in map(get_feature, ctx.run.bundle.feature_names)
        if f.missing != "never"
    ]
    return section.add(
        heading(t("data.exclusions_title")),
        bullets(t("data.exclusions")),
        heading(t("data.missing_title")),
        para(t("data.missing_intro")),
        table([t("data.missing_feature"), t("data.missing_when")], missing, numeric_from=99),
        heading(t("data.sensitive_title")),
        para(
            t(
                "data.sensitive",
                categories=", ".join(_sensitive_categories(ctx)),
                stems=", ".join(sorted(SENSITIVE_STEMS)[:12] + sorted(SENSITIVE_WORDS)),
            )
        ),
    )


def method(ctx: ReportContext) -> Section:
    """Section 5: model, calibration, every feature with its catalogue text, baselines."""
    t, manifest = ctx.text, ctx.run.manifest
    constraints = dict(zip(manifest["features"], manifest["monotone_constraints"], strict=True))
    directions = t("method.directions")
    rows = []
    for feature in FEATURES:
        if feature.name not in constraints:
            continue
        lever = LEVERS.get(feature.lever) if feature.lever else None
        lever_text = (lever.label_fr if t.lang == "fr" else lever.label_en) if lever else "—"
        constraint = constraints[feature.name]
        rows.append(
            (
                feature.name,
                feature_label(feature.name, t.lang),
                feature.description,
                feature.unit,
                directions[str(feature.direction)],
                f"{constraint:+d}" if constraint else "0",
                lever_text,
            )
        )
    calibration = manifest["calibration"]["method"]
    return Section("method", 5, t("sections.method")).add(
        heading(t("method.model_title")),
        para(
            t(
                "method.model",
                trees=manifest.get("best_iteration"),
                learning_rate=t.number(ctx.setting("model", "learning_rate", float("nan")), 3),
                leaves=ctx.setting("model", "num_leaves", "?"),
                min_child=ctx.setting("model", "min_child_samples", "?"),
            )
        ),
        para(
            t(
                "method.calibration",
                method=calibration,
                configured=ctx.setting("model", "calibration", calibration),
            )
        ),
        para(
            t(
                "method.split",
                refit=ctx.setting("backtest", "refit_every_months", "?"),
                test=len(test_months(ctx)),
            )
        ),
        heading(t("method.features_title", count=len(rows))),
        table(
            [
                t("method.feature"),
                t("method.reason"),
                t("method.definition"),
                t("method.unit"),
                t("method.direction"),
                t("method.constraint"),
                t("method.lever"),
            ],
            rows,
            t("method.features_caption"),
            numeric_from=99,
        ),
        heading(t("method.baselines_title")),
        bullets(
            [t("method.practice", months=f"{NEW_ENTRANT_MONTHS:g}"), t("method.scorecard")]
            + ([t("method.oracle")] if ctx.has_model("oracle") else [])
        ),
    )
