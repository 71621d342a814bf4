"""The feature catalogue is complete, consistent and speaks to caseworkers."""

from __future__ import annotations

import dataclasses
import re
import string
from pathlib import Path

import pytest

from feature_timelines import portfolio, tenancy
from risk import catalogue as cat
from risk.catalogue import FAMILIES, FEATURES, LEVERS, feature_names
from risk.catalogue import lookup as cat_lookup
from risk.features import build_features


def test_every_built_column_is_in_the_catalogue_and_every_feature_is_built():
    built = build_features(portfolio([tenancy("T")]), "2024-04-01")
    assert list(built.columns[2:]) == feature_names()


def test_feature_names_are_unique_snake_case():
    names = feature_names()
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names)


def test_features_are_grouped_by_family_in_family_order():
    families = [f.family for f in FEATURES]
    assert set(families) == set(FAMILIES)
    assert families == sorted(families, key=FAMILIES.index)


def test_every_reason_has_french_and_english_text_with_at_most_a_value_placeholder():
    for f in FEATURES:
        for text in (f.reason_fr, f.reason_en):
            assert text.strip(), f.name
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
            assert fields <= {"value"}, f.name
            assert text.format(value="12")  # the explanations stage can fill it


def test_every_lever_key_exists_and_levers_have_french_and_english_labels():
    assert set(LEVERS) == {
        "check_benefit_rights", "solidarity_fund", "payment_plan", "temporary_rent_reduction",
        "activate_guarantee", "budget_workshop", "social_watch", "neutral_third_party",
        "transfer_cheaper_home",
    }
    for lever in LEVERS.values():
        assert lever.label_fr and lever.label_en
    for f in FEATURES:
        assert f.lever is None or f.lever in LEVERS, f.name


def test_directions_are_monotone_constraints_and_categoricals_have_none():
    for f in FEATURES:
        assert f.direction in (-1, 0, 1), f.name
        if f.dtype == "categorical":
            assert f.direction == 0, f.name
            assert f.categories, f.name
        else:
            assert not f.categories, f.name
    assert cat.monotone_constraints() == [f.direction for f in FEATURES]
    assert cat.monotone_constraints(["balance_eur", "apl_amount"]) == [1, -1]


def test_a_reason_group_stays_within_one_family():
    family_of: dict[str, str] = {}
    for f in FEATURES:
        assert family_of.setdefault(f.reason_group, f.family) == f.family, f.reason_group


def test_shortfall_counts_share_one_reason_group():
    groups = {cat.get_feature(f"shortfall_months_{n}m").reason_group for n in (3, 6, 12)}
    assert groups == {"shortfall"}


def test_sensitive_data_is_never_a_feature_and_age_only_coarsely():
    forbidden = ("nationality", "health", "ethnic", "religion", "disability", "birth", "origin")
    for f in FEATURES:
        assert not any(word in f.name for word in forbidden), f.name
    assert {f.name for f in FEATURES if "age" in f.name} == {"age_band", "aged_30_or_over"}
    assert cat.get_feature("aged_30_or_over").dtype == "bool"
    assert cat.get_feature("age_band").dtype == "categorical"


def test_missing_values_are_documented_for_features_that_can_be_nan():
    can_be_nan = {
        "income_monthly", "income_band", "income_change_since_entry", "employment_status",
        "job_lost_since_entry", "effort_rate", "remaining_income_per_cu", "apl_rent_share",
        "apl_change_3m", "apl_months_since_lost", "apl_paid_to_landlord", "balance_months",
        "balance_change_3m",
        "partial_payment_share_6m", "mean_payment_delay_6m", "direct_debit_share_6m",
    }
    documented = {f.name for f in FEATURES if f.missing != "never"}
    assert documented == can_be_nan


def test_catalogue_frame_has_one_row_per_feature_with_lever_labels():
    frame = cat.catalogue_frame()
    assert list(frame["name"]) == feature_names()
    row = frame.set_index("name").loc["balance_months"]
    assert row["lever_fr"] == LEVERS["payment_plan"].label_fr
    assert row["direction"] == 1


def test_the_fingerprint_is_stable_and_follows_any_change(monkeypatch: pytest.MonkeyPatch):
    first = cat.catalogue_fingerprint()
    assert first == cat.catalogue_fingerprint()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    changed = (dataclasses.replace(FEATURES[0], direction=1), *FEATURES[1:])
    monkeypatch.setattr(cat_lookup, "FEATURES", changed)  # where the fingerprint reads it
    assert cat.catalogue_fingerprint() != first


def test_catalogue_entries_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        FEATURES[0].direction = 1  # type: ignore[misc]
    assert isinstance(cat.CATALOGUE_VERSION, str) and cat.CATALOGUE_VERSION


DOC = (Path(__file__).parents[1] / "docs" / "features.md").read_text(encoding="utf-8")
ARROWS = {1: "+1", -1: "−1", 0: "0"}


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_docs_define_every_feature_in_its_family_with_unit_and_direction(feature):
    section = DOC.split(f"### Family `{feature.family}`", 1)[1].split("\n### ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith(f"| `{feature.name}` |"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[1] == feature.unit
    assert cells[2] == ARROWS[feature.direction]


@pytest.mark.parametrize("lever", list(LEVERS))
def test_docs_list_every_lever(lever):
    assert f"| `{lever}` | {LEVERS[lever].label_fr} |" in DOC
