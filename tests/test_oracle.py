"""The oracle: true probabilities of the label from the simulator's hidden state.

One residences run of 4,000 tenancies labelled every three months (as many months as
the horizon, so that the outcomes of one tenancy at successive dates do not overlap
and their errors add up like independent draws) gives about 20,000 labelled rows and
a thousand positives: enough to check calibration within sampling error and ranking.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from typer.testing import CliRunner

from risk.arrears import residual_rent
from risk.cli import app
from risk.labels import STATUS_IN_ARREARS, build_labels
from risk.simulation import Simulation, simulate
from risk.simulation.engine import advance, replay
from risk.simulation.rollout import LabelRule, oracle, positive_paths
from risk.simulation.state import PRESENT, Context, State

DATES = list(pd.date_range("2020-04-01", "2024-10-01", freq="3MS"))
PATHS = 100
#: Standard errors allowed: 3 for one comparison, 3.5 for each of ten deciles (the
#: chance that one of ten falls outside by chance alone is below 0.5%).
Z_ONE, Z_DECILE = 3.0, 3.5


def auc(score: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """ROC AUC by ranks (Mann-Whitney), ties counted half."""
    y = np.asarray(y, dtype=bool)
    ranks = pd.Series(np.asarray(score, dtype=np.float64)).rank().to_numpy()
    n1, n0 = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def sampling_error(p: np.ndarray, n_paths: int) -> float:
    """Standard error of a realised rate around the mean of oracle probabilities ``p``.

    Binomial variance of the outcomes given their probabilities, plus the Monte Carlo
    variance of each estimated probability (``p(1-p)/n_paths``).
    """
    return float(np.sqrt((p * (1 - p)).sum() * (1 + 1 / n_paths)) / len(p))


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(n_tenancies=4000, seed=12, profile="residences")


@pytest.fixture(scope="module")
def labels(sim: Simulation) -> pd.DataFrame:
    return build_labels(sim.portfolio, DATES)


@pytest.fixture(scope="module")
def probs(sim: Simulation) -> pd.DataFrame:
    return oracle(sim, DATES, n_paths=PATHS)


@pytest.fixture(scope="module")
def labelled(labels: pd.DataFrame, probs: pd.DataFrame) -> pd.DataFrame:
    frame = labels.assign(p=probs["oracle_probability"].to_numpy())
    return frame[frame["label"].notna()].assign(y=lambda f: f["label"].astype(int))


def test_the_oracle_returns_exactly_the_rows_of_the_labels(
    labels: pd.DataFrame, probs: pd.DataFrame
) -> None:
    assert list(probs.columns) == ["tenancy_id", "as_of", "oracle_probability", "eligible"]
    assert probs["tenancy_id"].dtype == labels["tenancy_id"].dtype
    assert probs["as_of"].dtype == "datetime64[ns]"
    pd.testing.assert_frame_equal(
        probs[["tenancy_id", "as_of"]], labels[["tenancy_id", "as_of"]], check_dtype=True
    )


def test_households_already_in_arrears_are_not_eligible_and_get_no_probability(
    labels: pd.DataFrame, probs: pd.DataFrame
) -> None:
    in_arrears = (labels["status"] == STATUS_IN_ARREARS).to_numpy()
    assert in_arrears.any()
    assert np.array_equal(~probs["eligible"].to_numpy(), in_arrears)
    p = probs["oracle_probability"]
    assert p.isna().to_numpy().tolist() == in_arrears.tolist()
    assert p.dropna().between(0, 1).all()


def test_the_mean_oracle_probability_is_the_realised_rate_within_sampling_error(
    labelled: pd.DataFrame,
) -> None:
    p, y = labelled["p"].to_numpy(), labelled["y"].to_numpy()
    assert y.sum() > 500
    assert abs(y.mean() - p.mean()) <= Z_ONE * sampling_error(p, PATHS)


def test_the_oracle_is_calibrated_in_every_decile(sim: Simulation, labelled: pd.DataFrame) -> None:
    # Deciles are drawn on an independent estimate (other paths): sorting rows by the
    # estimate under test would put its Monte Carlo noise into the bins (the lowest
    # decile would hold the rows whose paths happened to stay clear).
    other = oracle(sim, DATES, n_paths=PATHS, seed=99)
    rank_by = other["oracle_probability"].to_numpy()[labelled.index.to_numpy()]
    order = np.argsort(rank_by, kind="stable")
    p, y = labelled["p"].to_numpy(), labelled["y"].to_numpy()
    for decile, rows in enumerate(np.array_split(order, 10)):
        gap = abs(y[rows].mean() - p[rows].mean())
        assert gap <= Z_DECILE * sampling_error(p[rows], PATHS) + 1e-3, (decile, gap)
    # The deciles spread: the oracle separates households.
    top = order[-len(order) // 10 :]
    assert y[top].mean() > 5 * y.mean()


def test_the_oracle_ranks_better_than_any_single_feature(
    sim: Simulation, labelled: pd.DataFrame
) -> None:
    from risk.features import build_features

    features = build_features(sim.portfolio, DATES).loc[labelled.index]
    pd.testing.assert_frame_equal(
        features[["tenancy_id", "as_of"]], labelled[["tenancy_id", "as_of"]], check_dtype=False
    )
    y = labelled["y"].to_numpy()
    best_name, best = "", 0.5
    for name in features.columns[2:]:
        if features[name].dtype.kind != "f":
            continue
        x = features[name].to_numpy()
        for fill in (-np.inf, np.inf):  # unknown values at either end, both directions
            a = auc(np.where(np.isnan(x), fill, x), y)
            if max(a, 1 - a) > best:
                best_name, best = name, max(a, 1 - a)
    oracle_auc = auc(labelled["p"], y)
    assert oracle_auc > best + 0.03, (oracle_auc, best_name, best)


def test_the_oracle_does_not_know_the_realised_future(labelled: pd.DataFrame) -> None:
    # Were the roll-outs to replay the run's own draws, positives would get 1 and
    # negatives 0.
    positives = labelled.loc[labelled["y"] == 1, "p"]
    negatives = labelled.loc[labelled["y"] == 0, "p"]
    assert positives.mean() < 0.8
    assert (positives < 0.5).mean() > 0.2
    assert (negatives > 0).mean() > 0.2


@pytest.mark.parametrize("which", ["sim", "small"])
def test_the_label_rule_on_the_realised_path_gives_exactly_the_labels(
    which: str, request: pytest.FixtureRequest
) -> None:
    # Rolled with the run's own streams (the whole state, entries included), the
    # oracle's rule must find every label of build_labels: eligibility, month-ends
    # while present, debts at the exit date; in residences and in HLM homes (where
    # some APL goes to the tenant).
    sim: Simulation = request.getfixturevalue(which)
    months = {m - 1: m for m in range(13, 71, 4)}
    snapshots: dict[int, State] = {}

    def keep(m: int, state: State, _: Context) -> None:
        if m in months:
            snapshots[months[m]] = state.subset(np.arange(len(state)))

    ctx = replay(sim.config, max(months), keep)
    rule = LabelRule.of("first_arrears")
    dates = [pd.Timestamp("2019-01-01") + pd.DateOffset(months=m) for m in months.values()]
    labels = build_labels(sim.portfolio, dates)
    found = []
    for m, state in snapshots.items():
        present = np.flatnonzero(state.phase == PRESENT)
        residual = residual_rent(
            state.rent[present],
            np.where(state.apl_m[present] <= m - 1, state.apl[present], 0.0),
            state.tiers[present],
        )
        eligible = ~rule.reached(state.balance[present], residual, rule.months)
        positive = positive_paths(
            state, m, 3, lambda w, k: advance(w, ctx, k), rule, stop_when_positive=False
        )
        found.append(np.where(eligible, positive[present].astype(float), np.nan))
    expected = labels["label"].astype("float64").to_numpy()
    complete = labels["status"].ne("incomplete").to_numpy()
    assert complete.sum() > 5000
    assert (expected[complete] == 1).sum() > 100
    assert (labels["status"] == "departed_with_debt").sum() > 5
    got = np.concatenate(found)
    assert np.array_equal(got[complete], expected[complete], equal_nan=True)


@pytest.fixture(scope="module")
def small() -> Simulation:
    return simulate(n_tenancies=600, seed=5, profile="hlm")


def test_the_same_seed_gives_the_same_probabilities_and_another_seed_others(
    small: Simulation,
) -> None:
    dates = ["2022-03-01", "2023-06-01"]
    a = oracle(small, dates, n_paths=40)
    b = oracle(small, dates, n_paths=40)
    pd.testing.assert_frame_equal(a, b)
    c = oracle(small, dates, n_paths=40, seed=1)
    assert not a["oracle_probability"].equals(c["oracle_probability"])
    assert np.array_equal(a["eligible"], c["eligible"])


@pytest.mark.parametrize("label", ["first_arrears", "decree_2027"])
def test_eligibility_follows_the_labels_in_hlm_homes_where_some_apl_goes_to_the_tenant(
    small: Simulation, label: str
) -> None:
    # In HLM homes 10% of APL recipients receive it themselves: their residual rent is
    # the whole rent, and the oracle must count it as the labels do.
    assert (~small.portfolio.apl["paid_to_landlord"]).any()
    dates = [f"{y}-{m:02d}-01" for y in (2020, 2022, 2024) for m in (2, 7, 11)]
    probs = oracle(small, dates, n_paths=5, label=label)
    labels = build_labels(small.portfolio, dates, label=label)
    pd.testing.assert_frame_equal(probs[["tenancy_id", "as_of"]], labels[["tenancy_id", "as_of"]])
    assert np.array_equal(~probs["eligible"], labels["status"] == STATUS_IN_ARREARS)


def test_a_written_simulation_is_replayed_from_its_folder(
    small: Simulation, tmp_path: Path
) -> None:
    folder = small.write(tmp_path / "export")
    dates = ["2023-01-01"]
    pd.testing.assert_frame_equal(
        oracle(folder, dates, n_paths=20), oracle(small, dates, n_paths=20)
    )


def test_a_folder_whose_population_no_longer_replays_is_refused(
    small: Simulation, tmp_path: Path
) -> None:
    folder = small.write(tmp_path / "export")
    path = folder / "truth" / "simulation.json"
    content = json.loads(path.read_text())
    content["population_digest"] = "0" * 32
    path.write_text(json.dumps(content))
    with pytest.raises(ValueError, match="simulator changed"):
        oracle(folder, "2023-01-01", n_paths=5)


@pytest.mark.parametrize(
    ("date", "message"),
    [("2023-01-15", "first days"), ("2019-01-01", "outside"), ("2025-02-01", "outside")],
)
def test_dates_the_oracle_cannot_serve_are_refused(
    small: Simulation, date: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        oracle(small, date, n_paths=5)


def test_the_outcomes_label_has_no_oracle(small: Simulation) -> None:
    with pytest.raises(ValueError, match="label must be one of"):
        oracle(small, "2023-01-01", label="outcomes")


def test_risk_oracle_writes_the_probabilities_of_a_simulated_folder(
    small: Simulation, tmp_path: Path
) -> None:
    folder = small.write(tmp_path / "export")
    out = tmp_path / "oracle.parquet"
    result = CliRunner().invoke(
        app,
        ["oracle", str(folder), "--as-of", "2023-01-01", "--as-of", "2023-04-01",
         "--paths", "20", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    expected = oracle(small, ["2023-01-01", "2023-04-01"], n_paths=20)
    pd.testing.assert_frame_equal(frame, expected)


def test_risk_oracle_exits_1_on_a_folder_without_a_manifest(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["oracle", str(tmp_path), "--as-of", "2023-01-01", "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 1
    assert "simulation.json" in result.output
