"""``risk report``: the auditors' report of a registered model, in French and English.

One registry is trained once for the session (``tests/report_setup.py``), on the small
configuration of ``tests/test_cli_models.py`` (1,500 simulated tenancies, three test
months, one fold, sixty rounds, twenty bootstrap replicates, one thread), then reported
on with the data: French with its PDF, English without. The PDF needs headless Chromium:
the test installs the Debian package when it is missing and skips, saying why, only when
that fails.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import Result

from report_setup import OWNER, chromium_or_skip, invoke
from risk.bundle import ModelBundle
from risk.registry import Registry
from risk.report import SECTIONS, build_report
from risk.report.monitoring import own_stability, psi_of, status
from risk.report.text import Text, wording

# Raised inside MLflow's SQLAlchemy store, not by this package.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

SECTION_KEYS = (
    "identity", "use", "legal", "data", "method", "performance",
    "groups", "explanations", "oversight", "monitoring", "limits",
)  # fmt: skip
TENANCY_ID = re.compile(r"T\d{7}")


@pytest.fixture(scope="module")
def french(
    registry: Registry, export_dir: Path, config_file: Path, workdir: Path
) -> tuple[Result, Path]:
    """``risk report`` in French (the default), with its PDF."""
    chromium_or_skip()
    out = workdir / "reports" / "champion.html"
    result = invoke("report", "--data", export_dir, "--config", config_file, "--out", out)
    return result, out


@pytest.fixture(scope="module")
def english(
    registry: Registry, export_dir: Path, config_file: Path, workdir: Path
) -> tuple[Result, Path]:
    out = workdir / "reports" / "champion-en.html"
    result = invoke(
        "report", "--model", "models:/arrears-risk/1", "--data", export_dir, "--lang", "en",
        "--config", config_file, "--out", out, "--no-pdf",
    )  # fmt: skip
    return result, out


@pytest.fixture(scope="module")
def html_fr(french: tuple[Result, Path]) -> str:
    result, out = french
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def html_en(english: tuple[Result, Path]) -> str:
    result, out = english
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def pooled(registry: Registry, metric: str, model: str = "lightgbm") -> float:
    evaluation, _ = registry.evaluation("champion")
    row = evaluation[
        (evaluation["model"] == model)
        & (evaluation["month"] == "pooled")
        & (evaluation["metric"] == metric)
    ]
    return float(row["value"].iloc[0])


# --- content ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_eleven_sections_are_there_in_order_with_their_headings(
    lang: str, html_fr: str, html_en: str
) -> None:
    html = html_fr if lang == "fr" else html_en
    titles = wording(lang)["sections"]
    assert len(SECTIONS) == len(SECTION_KEYS) == 11
    positions = []
    for number, key in enumerate(SECTION_KEYS, start=1):
        heading = f"<h2>{number}. {Text(lang)(f'sections.{key}')}</h2>".replace("'", "&#39;")
        assert heading in html, heading
        assert f'<section id="{key}">' in html
        positions.append(html.index(heading))
    assert positions == sorted(positions)
    assert set(titles) == set(SECTION_KEYS)
    assert f'<html lang="{lang}">' in html


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_numbers_come_from_the_run(
    lang: str, html_fr: str, html_en: str, registry: Registry
) -> None:
    html = html_fr if lang == "fr" else html_en
    text = Text(lang)
    described = registry.describe("champion")
    # Section 1: identity of the run and of the data.
    assert described.run_id in html
    assert described.tags["risk.data_fingerprint"] in html
    assert described.tags["risk.code_version"] in html
    assert OWNER in html
    # Section 6: the pooled AUC and capture of the evaluation table, formatted.
    assert text.number(pooled(registry, "roc_auc")) in html
    assert text.percent(pooled(registry, "capture@5%")) in html
    assert text.number(pooled(registry, "roc_auc", "todays_practice")) in html
    assert text.number(pooled(registry, "roc_auc", "oracle")) in html  # simulated: the oracle
    # Section 4: the label's own definition.
    from risk.labels import LABELS

    definition = LABELS["first_arrears"]
    wanted = definition.description_fr if lang == "fr" else definition.description_en
    assert wanted.replace("'", "&#39;") in html


def test_section_7_gives_every_attribute_and_flags_the_largest_gaps_in_words(html_fr: str) -> None:
    from risk.groups import GROUP_ATTRIBUTES

    groups = html_fr[
        html_fr.index('<section id="groups">') : html_fr.index('<section id="explanations">')
    ]
    for attribute in GROUP_ATTRIBUTES.values():
        assert f"<h3>{attribute.label['fr']}</h3>".replace("'", "&#39;") in groups
    assert "Écarts les plus importants" in groups
    assert "Rappel : le groupe « " in groups or "Aucun groupe d" in groups


def test_sections_8_and_10_are_computed_on_the_data(html_fr: str, html_en: str) -> None:
    explanations = html_fr[
        html_fr.index('<section id="explanations">') : html_fr.index('<section id="oversight">')
    ]
    assert "mean |SHAP|" in explanations
    assert "corrélation de rang" in explanations  # dependence checked against its direction
    assert explanations.count("data:image/png;base64,") >= 3
    monitoring = html_en[
        html_en.index('<section id="monitoring">') : html_en.index('<section id="limits">')
    ]
    assert "score (probability)" in monitoring
    assert re.search(r"<td class=\"num\">\d\.\d{3}</td>", monitoring)  # a PSI value
    # Training stored its population's profile in the bundle: the report compares with it.
    assert "reference profile stored with the model" in monitoring


def test_without_data_sections_8_and_10_say_how_to_get_them(registry: Registry) -> None:
    report = build_report(registry, "models:/arrears-risk@champion", lang="fr")
    by_key = {s.key: s for s in report.sections}
    assert "risk report --data" in by_key["explanations"].blocks[0]["text"]
    assert "risk report --data" in by_key["monitoring"].blocks[0]["text"]
    assert [s.number for s in report.sections] == list(range(1, 12))


def test_without_risk_explanation_and_risk_monitoring_the_report_computes_its_own(
    registry: Registry, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry in sys.modules makes the import fail, as before those modules existed.
    monkeypatch.setitem(sys.modules, "risk.explanation", None)
    monkeypatch.setitem(sys.modules, "risk.monitoring", None)
    report = build_report(registry, data_dir=export_dir, lang="en")
    assert any("risk.explanation not importable" in line for line in report.notes)
    assert any("risk.monitoring not importable" in line for line in report.notes)
    by_key = {s.key: s for s in report.sections}
    texts = [b.get("text", "") for b in by_key["explanations"].blocks + by_key["monitoring"].blocks]
    assert sum("integration point" in text for text in texts) == 3  # importance, reasons, PSI
    examples = [b for b in by_key["explanations"].blocks if b["kind"] == "table"][-1]
    assert len(examples["rows"]) == 5
    assert all(row[0].startswith("M-") and row[4] for row in examples["rows"])
    psi = next(b for b in by_key["monitoring"].blocks if b["kind"] == "table")
    bundle = ModelBundle.load(registry.resolve("models:/arrears-risk@champion"))
    assert "score (probability)" in [row[0] for row in psi["rows"]]
    assert len(psi["rows"]) == len(bundle.feature_names) + 1  # every feature and the score


def test_months_after_the_cut_off_with_complete_labels_are_measured(
    registry: Registry, export_dir: Path
) -> None:
    from risk.report.context import ReportContext
    from risk.report.monitoring import monitoring
    from risk.report.population import load_populations
    from risk.report.run import load_run

    run = load_run(registry, "models:/arrears-risk@champion")
    # As if the model had been trained with --train-until 2021-01-01: the data then hold
    # four later months whose three-month horizon is over.
    run.bundle._manifest["train_until"] = "2021-01-01"
    populations = load_populations(export_dir, run.bundle)
    assert populations.new_labels["as_of"].nunique() == 4
    section = monitoring(ReportContext(run, Text("en"), populations))
    last = [b["text"] for b in section.blocks if b["kind"] == "para"][-1]
    assert last.startswith("Over 4 months after the cut-off") and "AUC 0." in last


# --- self-contained, pseudonymised, printable -----------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_html_is_self_contained(lang: str, html_fr: str, html_en: str) -> None:
    html = html_fr if lang == "fr" else html_en
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "<link" not in html and "<script" not in html
    assert "@import" not in html and "url(" not in html
    images = re.findall(r"<img [^>]*src=\"([^\"]+)\"", html)
    assert len(images) >= 6
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_no_tenancy_id_appears_and_the_examples_are_pseudonymised(
    html_fr: str, html_en: str, export_dir: Path
) -> None:
    tenancies = set(pd.read_parquet(export_dir / "tenancies.parquet")["tenancy_id"].astype(str))
    assert all(TENANCY_ID.fullmatch(t) for t in tenancies)  # so the pattern covers them all
    for html in (html_fr, html_en):
        # Base64 images may hold any 8 characters by chance: read the text only.
        text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
        assert TENANCY_ID.search(text) is None
        assert not any(t in text for t in tenancies)
        pseudonyms = re.findall(r"<td>(M-[0-9A-F]{8})</td>", html)
        assert len(pseudonyms) == 5 and len(set(pseudonyms)) == 5
    # Pseudonyms are drawn for each report: the two reports cannot be linked together.
    assert not set(re.findall(r"M-[0-9A-F]{8}", html_fr)) & set(
        re.findall(r"M-[0-9A-F]{8}", html_en)
    )


def test_the_pdf_is_printed_beside_the_html(french: tuple[Result, Path]) -> None:
    result, out = french
    assert result.exit_code == 0, result.output
    pdf = out.with_suffix(".pdf")
    assert pdf.is_file()
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert pdf.stat().st_size > 50_000  # the figures are in it


def test_a_language_other_than_fr_or_en_is_refused(tmp_path: Path) -> None:
    result = invoke("report", "--lang", "de", "--out", tmp_path / "r.html")
    assert result.exit_code == 2
    assert "--lang must be one of fr, en" in result.output


# --- the report's own PSI (until risk.monitoring is used) ----------------------------------


def test_psi_is_zero_for_the_same_population_and_large_for_a_shifted_one() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=5000)
    assert psi_of(reference, reference, categorical=False) == pytest.approx(0.0, abs=1e-12)
    assert psi_of(reference, rng.normal(size=5000), categorical=False) < 0.1
    assert psi_of(reference, rng.normal(loc=1.0, size=5000), categorical=False) > 0.25
    codes = pd.Series(["a"] * 90 + ["b"] * 10)
    assert psi_of(codes, pd.Series(["a"] * 50 + ["b"] * 50), categorical=True) > 0.25
    assert [status(v) for v in (0.05, 0.1, 0.2, 0.25, float("nan"))] == [
        "stable", "watch", "watch", "act", "stable"
    ]  # fmt: skip


def test_own_stability_has_a_row_per_feature_and_the_score() -> None:
    frame = pd.DataFrame({"balance_eur": [0.0, 10.0, np.nan, 300.0], "residence_type": ["fjt"] * 4})
    table = own_stability(
        ["balance_eur", "residence_type"], frame, np.full(4, 0.1), frame, np.full(4, 0.1)
    )
    assert list(table["feature"]) == ["balance_eur", "residence_type", "score"]
    assert (table["status"] == "stable").all()
