"""The simulator's dynamics: the mechanisms the documents describe show in the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.simulation import Simulation, SimulationConfig, simulate
from risk.simulation.benefit import apl_amount
from risk.simulation.config import AplParams
from risk.simulation.engine import advance, replay, roll_out, run
from risk.simulation.state import PRESENT, State


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(n_tenancies=8000, seed=21)


def _arrears(truth: pd.DataFrame) -> pd.Series:
    return truth["months_owed"] >= 2.0


def test_the_apl_entitled_share_falls_after_the_2021_reform(sim: Simulation) -> None:
    december = sim.truth[sim.truth["month"].dt.month == 12]
    share = (december["apl_in_force"] > 0).groupby(december["month"].dt.year).mean()
    assert share[2020] - share[2022] > 0.15
    assert share[2019] == pytest.approx(share[2020], abs=0.05)


def test_direct_debit_payers_are_in_arrears_less_often(sim: Simulation) -> None:
    payments = sim.portfolio.ledger.query("kind == 'tenant_payment'")
    usual = payments.groupby("tenancy_id")["payment_method"].agg(lambda s: s.mode().iloc[0])
    truth = sim.truth.assign(method=sim.truth["tenancy_id"].map(usual))
    rate = _arrears(truth).groupby(truth["method"] == "direct_debit").mean()
    assert rate[True] < 0.6 * rate[False]


def test_unemployment_becomes_more_frequent_over_time(sim: Simulation) -> None:
    truth = sim.truth
    unemployed = (truth["employment_status"] == "unemployed").groupby(truth["month"].dt.year).mean()
    assert unemployed[2024] > unemployed[2019] + 0.01


def test_unemployment_and_low_incomes_grow_among_households_in_arrears(sim: Simulation) -> None:
    incomes = sim.portfolio.incomes.sort_values(["tenancy_id", "effective_date"])
    first = incomes.drop_duplicates("tenancy_id").set_index("tenancy_id")
    last = incomes.drop_duplicates("tenancy_id", keep="last").set_index("tenancy_id")
    end = sim.truth[sim.truth["month"] == sim.truth["month"].max()]
    behind = end.loc[_arrears(end), "tenancy_id"]
    assert (last.loc[behind, "employment_status"] == "unemployed").mean() > (
        first.loc[behind, "employment_status"] == "unemployed"
    ).mean()
    assert (last.loc[behind, "monthly_income"] < 636).mean() > (
        first.loc[behind, "monthly_income"] < 636
    ).mean()


def test_the_hidden_propensity_shows_in_the_payment_history(sim: Simulation) -> None:
    truth = sim.truth
    missed_2022 = truth[truth["month"].dt.year == 2022].groupby("tenancy_id")["missed"].any()
    later = truth[truth["month"].dt.year == 2023].groupby("tenancy_id")["missed"].mean()
    both = pd.concat([missed_2022.rename("before"), later.rename("after")], axis=1).dropna()
    rate = both.groupby("before")["after"].mean()
    assert rate[True] > 2 * rate[False]
    z = truth.groupby("tenancy_id")["propensity"].first()
    assert z.reindex(both.index)[both["before"].astype(bool)].mean() > 0.3


def test_no_model_is_perfect_the_true_probability_stays_uncertain(sim: Simulation) -> None:
    p = sim.truth["p_miss"]
    assert 0.02 < p.mean() < 0.2
    assert ((p > 0.1) & (p < 0.9)).mean() > 0.05


def test_support_and_plans_start_more_often_once_arrears_appear(sim: Simulation) -> None:
    truth = sim.truth
    supported = truth.groupby(_arrears(truth))["support"].mean()
    assert supported[True] > 2 * supported[False]
    assert truth.loc[_arrears(truth), "plan"].mean() > truth.loc[~_arrears(truth), "plan"].mean()


def test_the_first_lockdown_raises_missed_payments(sim: Simulation) -> None:
    missed = sim.truth.groupby("month")["missed"].mean()
    assert missed[pd.Timestamp("2020-04-01")] > 1.5 * missed[pd.Timestamp("2020-01-01")]
    assert missed[pd.Timestamp("2020-09-01")] < missed[pd.Timestamp("2020-04-01")]


def test_new_tenants_are_at_higher_risk_in_their_first_months(sim: Simulation) -> None:
    t = sim.portfolio.tenancies.set_index("tenancy_id")
    truth = sim.truth.assign(start=sim.truth["tenancy_id"].map(t["start_date"]))
    tenure = (truth["month"].dt.year - truth["start"].dt.year) * 12 + (
        truth["month"].dt.month - truth["start"].dt.month
    )
    early = truth.loc[tenure.between(1, 5), "p_miss"].mean()
    settled = truth.loc[tenure.between(24, 60), "p_miss"].mean()
    assert early > 1.3 * settled


def test_the_apl_formula_falls_with_income_and_pays_nothing_under_ten_euros() -> None:
    p = AplParams()
    income = np.array([0.0, 600.0, 900.0, 1200.0, 3000.0])
    amounts = apl_amount(income, 500.0, 1, 0, True, 1.0, p)
    assert (np.diff(amounts) <= 0).all()
    assert amounts[0] > 300 and amounts[-1] == 0
    assert ((amounts == 0) | (amounts >= p.min_paid)).all()
    family = apl_amount(900.0, 650.0, 2, 2, False, 1.0, p)
    single = apl_amount(900.0, 650.0, 1, 0, False, 1.0, p)
    assert family > single


def test_a_month_replayed_from_a_snapshot_of_the_state_is_identical() -> None:
    snapshots: dict[int, State] = {}

    def keep(m: int, state: State, _: object) -> None:
        if m in (40, 41):
            snapshots[m] = state.subset(np.arange(len(state)))

    output = run(SimulationConfig(n_tenancies=1000, seed=13), on_month=keep)
    replay = snapshots[40]
    advance(replay, output.context, 41)
    for name in ("balance", "emp", "income", "apl", "phase", "support", "plan", "p_miss"):
        assert np.array_equal(getattr(replay, name), getattr(snapshots[41], name)), name


def test_roll_outs_from_a_state_draw_many_paths_without_touching_it() -> None:
    snapshot: dict[int, State] = {}

    def keep(m: int, state: State, _: object) -> None:
        if m == 30:
            snapshot[m] = state.subset(np.arange(len(state)))

    output = run(SimulationConfig(n_tenancies=800, seed=14), on_month=keep)
    state = snapshot[30]
    present = np.flatnonzero(state.phase == PRESENT)[:50]
    before = state.balance.copy()
    paths = state.subset(np.repeat(present, 20))
    result = roll_out(paths, output.context, 31, 3, np.random.default_rng(0))
    assert np.array_equal(state.balance, before)
    assert result.months_owed.shape == (len(present) * 20, 3)
    assert result.present[:, 0].all()
    again = roll_out(paths, output.context, 31, 3, np.random.default_rng(0))
    assert np.array_equal(result.balance, again.balance)
    # Paths of the same tenancy differ: the future is uncertain.
    spread = result.balance[:, -1].reshape(len(present), 20).std(axis=1)
    assert (spread > 0).mean() > 0.2


def test_a_silent_replay_passes_through_the_states_of_the_recorded_run() -> None:
    config = SimulationConfig(n_tenancies=900, seed=15, profile="hlm")
    recorded: dict[int, State] = {}
    replayed: dict[int, State] = {}

    def keep(into: dict[int, State]):
        def hook(m: int, state: State, _: object) -> None:
            if m in (0, 37, 71):
                into[m] = state.subset(np.arange(len(state)))

        return hook

    run(config, on_month=keep(recorded))
    replay(config, 71, keep(replayed))
    assert set(replayed) == {0, 37, 71}
    for m, state in recorded.items():
        for name in ("balance", "emp", "apl", "apl_m", "phase", "end_day", "support", "plan"):
            assert np.array_equal(getattr(replayed[m], name), getattr(state, name)), (m, name)
