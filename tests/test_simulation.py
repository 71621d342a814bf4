"""The simulator: public API, determinism and the data contract."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk.contract import (
    CREDIT_KINDS,
    MAX_AMOUNT_EUR,
    MAX_BIRTH_YEAR,
    MAX_CHILDREN,
    MIN_BIRTH_YEAR,
    RESIDENCE_TYPES,
    TABLES,
)
from risk.portfolio import empty_table
from risk.simulation import Simulation, SimulationConfig, simulate

START, END = "2019-01", "2024-12"


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(n_tenancies=1500, start=START, end=END, seed=3)


@pytest.fixture(scope="module")
def hlm() -> Simulation:
    return simulate(n_tenancies=800, start=START, end=END, seed=4, profile="hlm")


@pytest.fixture(params=["residences", "hlm"])
def any_sim(request: pytest.FixtureRequest, sim: Simulation, hlm: Simulation) -> Simulation:
    return sim if request.param == "residences" else hlm


def _frames_equal(a: Simulation, b: Simulation) -> bool:
    return all(
        a_frame.equals(getattr(b.portfolio, name)) for name, a_frame in a.portfolio.tables()
    ) and a.truth.equals(b.truth)


# --- API ------------------------------------------------------------------------------


def test_simulate_returns_exactly_the_requested_number_of_tenancies(any_sim: Simulation) -> None:
    assert len(any_sim.portfolio.tenancies) == any_sim.config.n_tenancies


def test_keyword_arguments_override_the_configuration() -> None:
    config = SimulationConfig(n_tenancies=5000, seed=9, profile="hlm")
    small = simulate(config, n_tenancies=150, start="2023-01", end="2023-06", seed=2)
    assert small.config.n_tenancies == 150
    assert small.config.seed == 2
    assert small.config.profile == "hlm"
    assert small.portfolio.ledger["event_date"].min() >= pd.Timestamp("2023-01-01")
    assert small.portfolio.ledger["event_date"].max() <= pd.Timestamp("2023-06-30")


def test_the_configuration_refuses_an_unknown_profile_and_an_inverted_period() -> None:
    with pytest.raises(ValueError, match="profile"):
        SimulationConfig(profile="castle")
    with pytest.raises(ValueError, match="after"):
        SimulationConfig(start="2024-01", end="2023-12")


def test_the_smallest_portfolio_of_100_tenancies_works() -> None:
    tiny = simulate(n_tenancies=100, seed=1)
    assert len(tiny.portfolio.tenancies) == 100
    assert len(tiny.portfolio.ledger) > 0


# --- determinism ----------------------------------------------------------------------


def test_the_same_seed_gives_identical_frames(sim: Simulation) -> None:
    again = simulate(n_tenancies=1500, start=START, end=END, seed=3)
    assert _frames_equal(sim, again)


def test_another_seed_gives_another_portfolio(sim: Simulation) -> None:
    other = simulate(n_tenancies=1500, start=START, end=END, seed=4)
    assert not other.portfolio.ledger.equals(sim.portfolio.ledger)


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    def files(folder: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))
        }

    simulate(n_tenancies=300, seed=5).write(tmp_path / "a")
    simulate(n_tenancies=300, seed=5).write(tmp_path / "b")
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a == b
    assert set(a) == {f"{name}.parquet" for name in TABLES} | {"truth/truth.parquet"}
    manifest = "truth/simulation.json"
    assert (tmp_path / "a" / manifest).read_bytes() == (tmp_path / "b" / manifest).read_bytes()


# --- the data contract ----------------------------------------------------------------


def test_every_table_has_the_contract_columns_and_the_portfolio_dtypes(any_sim: Simulation) -> None:
    for name, frame in any_sim.portfolio.tables():
        expected = empty_table(name)
        assert list(frame.columns) == list(expected.columns), name
        assert frame.dtypes.to_dict() == expected.dtypes.to_dict(), name


def test_codes_are_contract_codes_and_required_values_are_present(any_sim: Simulation) -> None:
    for name, frame in any_sim.portfolio.tables():
        for column in TABLES[name].columns:
            values = frame[column.name]
            if not column.nullable:
                assert values.notna().all(), (name, column.name)
            if column.kind == "code":
                assert set(values.dropna()) <= set(column.codes), (name, column.name)


def test_amounts_are_positive_and_below_the_absurd_bound(any_sim: Simulation) -> None:
    p = any_sim.portfolio
    assert (p.ledger["amount"] > 0).all()
    for frame, column in (
        (p.ledger, "amount"),
        (p.incomes, "monthly_income"),
        (p.apl, "monthly_amount"),
        (p.tenancies, "monthly_rent"),
    ):
        assert (frame[column] >= 0).all() and (frame[column] <= MAX_AMOUNT_EUR).all(), column


def test_birth_years_and_children_are_plausible(any_sim: Simulation) -> None:
    t = any_sim.portfolio.tenancies
    assert t["tenant_birth_year"].between(MIN_BIRTH_YEAR, MAX_BIRTH_YEAR).all()
    assert t["children"].between(0, MAX_CHILDREN).all()
    age_at_entry = t["start_date"].dt.year - t["tenant_birth_year"]
    assert age_at_entry.between(17, 90).all()


def test_dates_are_in_order(any_sim: Simulation) -> None:
    p = any_sim.portfolio
    assert (p.ledger["posted_date"] >= p.ledger["event_date"]).all()
    ended = p.tenancies["end_date"].notna()
    assert (p.tenancies.loc[ended, "end_date"] >= p.tenancies.loc[ended, "start_date"]).all()
    s = p.support
    assert (s["end_date"].isna() | (s["end_date"] >= s["start_date"])).all()
    assert (s["posted_date"] >= s["start_date"]).all()


def test_incomes_and_apl_have_unique_keys(any_sim: Simulation) -> None:
    for name in ("incomes", "apl"):
        frame = getattr(any_sim.portfolio, name)
        assert not frame.duplicated(list(TABLES[name].key)).any(), name
    assert any_sim.portfolio.tenancies["tenancy_id"].is_unique


def test_every_row_belongs_to_a_known_tenancy(any_sim: Simulation) -> None:
    known = set(any_sim.portfolio.tenancies["tenancy_id"])
    for name, frame in any_sim.portfolio.tables():
        assert set(frame["tenancy_id"]) <= known, name


def test_identifiers_follow_the_documented_pattern(sim: Simulation) -> None:
    t = sim.portfolio.tenancies
    assert t["tenancy_id"].str.fullmatch(r"T\d{7}").all()
    assert t["residence_id"].str.fullmatch(r"R\d{4}").all()
    assert t["tenancy_id"].iloc[0] == "T0000001"


def test_ledger_rows_stay_within_the_tenancy_and_the_period(any_sim: Simulation) -> None:
    p = any_sim.portfolio
    rows = p.ledger.merge(p.tenancies[["tenancy_id", "start_date", "end_date"]], on="tenancy_id")
    assert (rows["event_date"] >= rows["start_date"]).all()
    # After the exit only the final settlement, within two months.
    after = rows[rows["end_date"].notna() & (rows["event_date"] > rows["end_date"])]
    assert (after["event_date"] - after["end_date"] <= pd.Timedelta(days=62)).all()
    assert not after["kind"].isin(["rent_charge", "apl_payment"]).any()
    assert (
        p.ledger["event_date"]
        .between(pd.Timestamp(START), pd.Timestamp(END) + pd.offsets.MonthEnd())
        .all()
    )


def test_incomes_apl_and_support_begin_with_the_tenancy(any_sim: Simulation) -> None:
    p = any_sim.portfolio
    starts = p.tenancies.set_index("tenancy_id")["start_date"]
    for frame, column in (
        (p.incomes, "effective_date"),
        (p.apl, "effective_date"),
        (p.support, "start_date"),
    ):
        assert (frame[column] >= starts.reindex(frame["tenancy_id"]).to_numpy()).all(), column


def test_each_present_month_has_one_rent_charge(sim: Simulation) -> None:
    charges = sim.portfolio.ledger.query("kind == 'rent_charge'").groupby("tenancy_id").size()
    months = sim.truth.groupby("tenancy_id").size()
    assert charges.reindex(months.index, fill_value=0).equals(months)


def test_rows_per_tenancy_month_are_about_one_rent_one_payment_and_half_an_apl_credit(
    sim: Simulation,
) -> None:
    per_month = sim.portfolio.ledger["kind"].value_counts() / len(sim.truth)
    assert per_month["rent_charge"] == pytest.approx(1.0, abs=0.01)
    assert 0.8 <= per_month["tenant_payment"] <= 1.0
    assert 0.3 <= per_month["apl_payment"] <= 0.7


def test_payments_carry_a_method_and_other_rows_none(any_sim: Simulation) -> None:
    ledger = any_sim.portfolio.ledger
    payments = ledger["kind"] == "tenant_payment"
    assert ledger.loc[payments, "payment_method"].notna().all()
    assert ledger.loc[~payments, "payment_method"].isna().all()


def test_a_realistic_share_of_rows_is_recorded_late(sim: Simulation) -> None:
    ledger = sim.portfolio.ledger
    payments = ledger[ledger["kind"] == "tenant_payment"]
    delay = (payments["posted_date"] - payments["event_date"]).dt.days
    assert 0.08 <= (delay.between(1, 10)).mean() <= 0.16
    assert 0.01 <= (delay >= 14).mean() <= 0.06
    for name in ("incomes", "apl"):
        frame = getattr(sim.portfolio, name)
        later = frame["posted_date"] > frame["effective_date"]
        assert later.mean() > 0.5, name


def test_every_residence_type_of_the_profile_appears(sim: Simulation, hlm: Simulation) -> None:
    assert set(sim.portfolio.tenancies["residence_type"]) == set(RESIDENCE_TYPES)
    assert set(hlm.portfolio.tenancies["residence_type"]) == {"logement_familial"}


def test_visale_guarantees_go_mostly_to_tenants_under_30(sim: Simulation) -> None:
    t = sim.portfolio.tenancies
    age = t["start_date"].dt.year - t["tenant_birth_year"]
    visale = t["guarantee"] == "visale"
    assert (age[visale] < 30).mean() > 0.8


def test_third_parties_pay_part_of_the_debt_as_other_credits(sim: Simulation) -> None:
    ledger = sim.portfolio.ledger
    assert (ledger["kind"] == "other_credit").sum() > 0
    kinds = set(sim.portfolio.support["kind"])
    assert {"social_support", "payment_plan", "contact_attempt", "contact_made"} <= kinds


# --- truth ----------------------------------------------------------------------------


def test_the_truth_has_one_row_per_tenancy_and_month_present(sim: Simulation) -> None:
    truth = sim.truth
    assert not truth.duplicated(["tenancy_id", "month"]).any()
    assert truth["p_miss"].between(0, 1).all()
    assert set(truth["tenancy_id"]) <= set(sim.portfolio.tenancies["tenancy_id"])
    assert truth["month"].dt.is_month_start.all()


def test_the_truth_balance_is_the_ledger_balance_at_each_month_end(sim: Simulation) -> None:
    ledger = sim.portfolio.ledger
    sign = np.where(ledger["kind"].isin(CREDIT_KINDS), -1.0, 1.0)
    flows = ledger.assign(
        flow=sign * ledger["amount"], month=ledger["event_date"].dt.to_period("M").dt.to_timestamp()
    )
    monthly = flows.groupby(["tenancy_id", "month"])["flow"].sum()
    cumulative = monthly.groupby(level=0).cumsum()
    truth = sim.truth.set_index(["tenancy_id", "month"])["balance"]
    # Months without a ledger row keep the last balance: compare where both exist.
    common = truth.index.intersection(cumulative.index)
    assert len(common) > 0.95 * len(truth)
    assert np.allclose(truth.loc[common], cumulative.loc[common], atol=0.01)


# --- validation -----------------------------------------------------------------------


def test_a_written_simulation_passes_contract_validation(tmp_path: Path) -> None:
    validation = pytest.importorskip("risk.validation")
    for profile in ("residences", "hlm"):
        folder = simulate(n_tenancies=600, seed=8, profile=profile).write(tmp_path / profile)
        report = validation.validate_directory(folder)
        assert report.ok, "\n".join(report.render())


def test_the_truth_stores_identifiers_and_statuses_as_categories(sim: Simulation) -> None:
    truth = sim.truth
    assert isinstance(truth["tenancy_id"].dtype, pd.CategoricalDtype)
    assert isinstance(truth["employment_status"].dtype, pd.CategoricalDtype)
    assert truth["tenancy_id"].cat.codes.dtype.itemsize <= 4
    assert truth["employment_status"].cat.codes.dtype.itemsize == 1
    assert truth["balance"].dtype == np.float64 and truth["p_miss"].dtype == np.float32


def test_write_records_the_whole_configuration_which_reads_back_equal(tmp_path: Path) -> None:
    from dataclasses import replace

    from risk.simulation.persist import read_manifest

    config = SimulationConfig(n_tenancies=200, seed=6, profile="hlm", start="2023-01")
    config = config.with_(payment=replace(config.payment, direct_debit=-1.1))
    simulation = simulate(config)
    out = simulation.write(tmp_path / "export")
    again, manifest = read_manifest(out)
    assert again == config
    assert manifest["rows"]["ledger"] == len(simulation.portfolio.ledger)
    assert simulate(again).portfolio.ledger.equals(simulation.portfolio.ledger)


def test_write_puts_the_truth_in_its_own_folder(tmp_path: Path) -> None:
    simulation = simulate(n_tenancies=200, seed=6)
    out = simulation.write(tmp_path / "export")
    assert (out / "truth" / "truth.parquet").exists()
    assert not re.search(r"truth", " ".join(p.name for p in out.glob("*.parquet")))
    back = pd.read_parquet(out / "truth" / "truth.parquet")
    assert len(back) == len(simulation.truth)
