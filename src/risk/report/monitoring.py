"""Section 10: stability of each feature and of the score, and performance once labelled.

The population stability index (PSI) compares the training population with the latest
month. The reference is, by preference, the profile the model bundle stores (fitted on the
final model's training rows when it was trained), compared with the latest month's
eligible households, since the training rows are households not yet in arrears. An older
bundle has none: the training population is then rebuilt from the data (a sample of the
training window's dates) and :mod:`risk.monitoring` profiles it (``ReferenceProfile.fit``
then ``stability``); without that module this one computes the PSI itself, with the usual
recipe, at the place marked ``INTEGRATION POINT``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from risk.catalogue import get_feature
from risk.metrics import at_k, roc_auc
from risk.report import plots
from risk.report.blocks import Section, figure, heading, note, para, table
from risk.report.context import ReportContext

#: PSI from which a feature is watched, and from which the team acts.
PSI_WATCH = 0.1
PSI_ACT = 0.25
#: Quantile bins of a numeric feature in the reference.
PSI_BINS = 10
#: Floor of a bin's share: an empty bin would make the PSI infinite.
PSI_FLOOR = 1e-4
#: Name of the score's row in the stability table.
SCORE = "score"


def status(psi: float) -> str:
    """``stable``, ``watch`` or ``act`` for a PSI value."""
    if not np.isfinite(psi) or psi < PSI_WATCH:
        return "stable"
    return "watch" if psi < PSI_ACT else "act"


def psi_of(
    reference: pd.Series | np.ndarray, current: pd.Series | np.ndarray, categorical: bool
) -> float:
    """PSI between two samples: deciles of the reference (or categories), missing apart."""
    ref = pd.Series(reference).astype(object if categorical else np.float64)
    cur = pd.Series(current).astype(object if categorical else np.float64)
    ref_codes: Any
    cur_codes: Any
    if categorical:
        ref_codes = ref.where(ref.notna(), "<missing>").astype(str)
        cur_codes = cur.where(cur.notna(), "<missing>").astype(str)
    else:
        known = ref.dropna().to_numpy()
        edges = (
            np.unique(np.quantile(known, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
            if known.size
            else np.array([])
        )
        ref_codes = _bins(ref.to_numpy(), edges)
        cur_codes = _bins(cur.to_numpy(), edges)
    categories = sorted(set(ref_codes) | set(cur_codes), key=str)
    expected = pd.Series(ref_codes).value_counts(normalize=True).reindex(categories, fill_value=0.0)
    actual = pd.Series(cur_codes).value_counts(normalize=True).reindex(categories, fill_value=0.0)
    e = np.clip(expected.to_numpy(dtype=np.float64), PSI_FLOOR, None)
    a = np.clip(actual.to_numpy(dtype=np.float64), PSI_FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    codes = np.searchsorted(edges, values, side="right").astype(object)
    codes[np.isnan(values)] = "<missing>"
    return codes


def own_stability(
    names: list[str],
    reference: pd.DataFrame,
    ref_scores: np.ndarray,
    latest: pd.DataFrame,
    scores: np.ndarray,
) -> pd.DataFrame:
    """PSI and status of every feature and of the score (``feature``, ``psi``, ``status``)."""
    rows = [
        (name, psi_of(reference[name], latest[name], get_feature(name).dtype == "categorical"))
        for name in names
    ]
    rows.append((SCORE, psi_of(ref_scores, scores, False)))
    frame = pd.DataFrame(rows, columns=["feature", "psi"])
    frame["status"] = frame["psi"].map(status)
    return frame


def _stability(ctx: ReportContext) -> tuple[pd.DataFrame, str]:
    populations = ctx.populations
    assert populations is not None
    names = ctx.run.bundle.feature_names
    scores = populations.latest_scores["probability"].to_numpy(dtype=np.float64)
    language = f"status_{ctx.text.lang}"
    if populations.profile is not None:
        from risk.monitoring import stability

        # The stored profile holds the training rows, which leave out households already
        # in arrears: compare like with like, or the balance features drift by design.
        eligible = populations.latest_scores["eligible"].to_numpy(dtype=bool)
        frame = stability(
            populations.profile, populations.latest[eligible], scores[eligible], names=names
        )
        return frame.assign(shown=frame[language]), "monitoring.source_profile"
    # INTEGRATION POINT (risk.monitoring): its profile and stability replace ours.
    try:
        from risk.monitoring import ReferenceProfile, stability
    except ImportError:
        ctx.notes.append("section 10: risk.monitoring not importable; PSI computed by the report")
    else:
        profile = ReferenceProfile.fit(populations.reference, populations.reference_scores, names)
        frame = stability(profile, populations.latest, scores, names=names)
        if language in frame.columns:
            frame = frame.assign(shown=frame[language])
        return frame, "monitoring.source_module"
    frame = own_stability(
        names, populations.reference, populations.reference_scores, populations.latest, scores
    )
    return frame, "monitoring.source_own"


def _shifts(ctx: ReportContext, frame: pd.DataFrame) -> list[str]:
    """Describe the bin that moved most, per row, when risk.monitoring gave it; else nothing."""
    t = ctx.text
    column = f"shift_bin_{t.lang}"
    if column not in frame.columns:
        return []
    return [
        f"{label}: {t.percent(ref)} → {t.percent(cur)}"
        for label, ref, cur in zip(
            frame[column], frame["reference_share"], frame["current_share"], strict=True
        )
    ]


def _populations_text(ctx: ReportContext) -> str:
    """Say which populations the PSI compares: the stored profile's, or the rebuilt sample."""
    t = ctx.text
    populations = ctx.populations
    assert populations is not None
    if populations.profile is not None:
        eligible = populations.latest_scores["eligible"].to_numpy(dtype=bool)
        return str(
            t(
                "monitoring.populations_profile",
                ref_rows=t.integer(populations.profile.rows),
                rows=t.integer(int(eligible.sum())),
                as_of=t.date(populations.as_of),
            )
        )
    return str(
        t(
            "monitoring.populations",
            ref_rows=t.integer(len(populations.reference)),
            ref_dates=", ".join(t.date(d) for d in populations.reference_dates),
            rows=t.integer(len(populations.latest)),
            as_of=t.date(populations.as_of),
        )
    )


def monitoring(ctx: ReportContext) -> Section:
    """Section 10: PSI table and figure, thresholds, performance on new labels."""
    t = ctx.text
    manifest = ctx.run.manifest
    section = Section("monitoring", 10, t("sections.monitoring"))
    populations = ctx.populations
    if populations is None:
        return section.add(
            note(t("monitoring.needs_data"), "warn"),
            heading(t("monitoring.labels_title")),
            para(
                t(
                    "monitoring.labels_needs_data",
                    cutoff=t.date(manifest["train_until"]),
                    horizon=manifest["horizon_months"],
                )
            ),
        )
    section.add(para(t("monitoring.intro")))
    if populations.profile is not None or len(populations.reference):
        frame, source = _stability(ctx)
        frame = frame.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
        shown = (
            frame["shown"]
            if "shown" in frame.columns
            else frame["status"].map(lambda s: t(f"monitoring.status_{s}"))
        )
        labels = [t("monitoring.score") if f == SCORE else f for f in frame["feature"]]
        counts = frame["status"].value_counts()
        shifts = _shifts(ctx, frame)
        section.add(
            para(_populations_text(ctx)),
            para(
                t(
                    "monitoring.summary",
                    act=int(counts.get("act", 0)),
                    watch=int(counts.get("watch", 0)),
                    stable=int(counts.get("stable", 0)),
                )
            ),
            table(
                [t("monitoring.feature"), t("monitoring.psi"), t("monitoring.status")]
                + ([t("monitoring.shift")] if shifts else []),
                [
                    (label, t.number(psi, 3), s, *([shifts[i]] if shifts else []))
                    for i, (label, psi, s) in enumerate(
                        zip(labels, frame["psi"], shown, strict=True)
                    )
                ],
                t("monitoring.caption"),
                flagged=[i for i, s in enumerate(frame["status"]) if s != "stable"],
                numeric_to=2,
            ),
            figure(plots.psi_bars(labels, list(frame["psi"]), "PSI"), t("monitoring.figure")),
            note(t(source), "todo" if source.endswith("own") else "info"),
        )
        if "calendar_month" in set(frame["feature"]):
            section.add(note(t("monitoring.calendar")))
    section.add(heading(t("monitoring.labels_title")))
    new = populations.new_labels
    if len(new) and new["label"].nunique() == 2:
        capture = at_k(new["label"], new["probability"], ctx.capacity, month=new["as_of"])[
            "capture"
        ]
        section.add(
            para(
                t(
                    "monitoring.labels_some",
                    months=new["as_of"].nunique(),
                    rows=t.integer(len(new)),
                    positives=t.integer(new["label"].sum()),
                    auc=t.number(roc_auc(new["label"], new["probability"])),
                    capacity=ctx.capacity_text(),
                    capture=t.percent(capture),
                )
            )
        )
    else:
        first, complete = populations.next_label
        section.add(
            para(
                t(
                    "monitoring.labels_none",
                    cutoff=t.date(manifest["train_until"]),
                    observed=t.date(populations.observed),
                    first=t.date(first),
                    complete=t.date(complete),
                )
            )
        )
    return section
