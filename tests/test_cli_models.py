"""The model commands end to end: train, promote, export, score, on a small simulated export.

One registry is trained once per module and read by the tests in order: version 1
(every feature) is trained and promoted, version 2 (two weak features) is trained and
refused. The configuration is small so that the module runs in well under a minute and a
half: three test months, one backtest fold, sixty boosting rounds, twenty bootstrap
replicates and oracle paths.

``promotion.max_ece`` is loosened to 0.10: on 1,500 tenancies and three test months the
pooled ECE of a well-ranked model is around 0.02-0.03, above the production limit of
0.01 (a gate meant for a whole portfolio), and this file tests the commands, not the
calibration.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner, Result

from report_setup import store_in
from risk.bundle import MANIFEST_FILE, MODEL_FILE, REFERENCE_FILE, ModelBundle
from risk.cli import app
from risk.config import load_config
from risk.registry import CHALLENGER, CHAMPION, NO_PREVIOUS, TAG_PREVIOUS_CHAMPION, Registry

# Raised inside MLflow's SQLAlchemy store, not by this package.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

runner = CliRunner()

SCORE_DATE = "2021-05-01"
TRAIN_UNTIL = "2021-03-01"

SMALL_CONFIG: dict[str, Any] = {
    "backtest": {"test_months": 3, "refit_every_months": 3, "validation_months": 2},
    # One thread: on a busy two-core machine two OpenMP threads spin against each other.
    "model": {
        "max_rounds": 60,
        "early_stopping_rounds": 15,
        "min_child_samples": 50,
        "threads": 1,
    },
    "evaluation": {"capacities": ["5%", 20], "bootstrap": 20, "oracle_paths": 20},
    "promotion": {"max_ece": 0.10},
}
WEAK_FEATURES = ["calendar_month", "children"]


def invoke(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def write_config(path: Path, root: Path, **changes: dict[str, Any]) -> Path:
    """The small configuration with its tracking root, and some sections updated."""
    content = json.loads(json.dumps(SMALL_CONFIG))
    content["tracking"] = {"root": str(root)}
    for section, values in changes.items():
        content.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


# --- module fixtures: one export, one registry, trained in order ------------------------


# export_dir (1,500 simulated tenancies over 2019-01..2021-06, with the simulation's
# truth) is the session's, from tests/report_setup.py; it is only read here.


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, empty_mlflow_database: Path) -> Path:
    """This module's own folder and MLflow store: its tests register several versions."""
    return store_in(tmp_path_factory.mktemp("work"), empty_mlflow_database)


@pytest.fixture(scope="module")
def config_file(workdir: Path) -> Path:
    return write_config(workdir / "train.yaml", workdir / "mlruns")


@pytest.fixture(scope="module")
def registry(workdir: Path) -> Registry:
    return Registry(workdir / "mlruns")


@pytest.fixture(scope="module")
def trained(export_dir: Path, config_file: Path) -> Result:
    """``risk train``: version 1, every feature."""
    return invoke("train", export_dir, "--config", config_file)


@pytest.fixture(scope="module")
def promoted(trained: Result, config_file: Path) -> Result:
    """``risk promote`` with no champion yet: version 1 becomes champion."""
    assert trained.exit_code == 0, trained.output
    return invoke("promote", "--config", config_file)


@pytest.fixture(scope="module")
def promoted_again(promoted: Result, config_file: Path) -> Result:
    """``risk promote`` once more while the challenger is already the champion."""
    assert promoted.exit_code == 0, promoted.output
    return invoke("promote", "--config", config_file)


@pytest.fixture(scope="module")
def weak_promotion(
    promoted_again: Result, export_dir: Path, workdir: Path
) -> tuple[Result, Result]:
    """Version 2 on two weak features, then ``risk promote``: (train, promote) results."""
    assert promoted_again.exit_code == 0, promoted_again.output
    weak = write_config(
        workdir / "weak.yaml", workdir / "mlruns", model={"features": WEAK_FEATURES}
    )
    train = invoke("train", export_dir, "--config", weak)
    assert train.exit_code == 0, train.output
    return train, invoke("promote", "--config", weak)


@pytest.fixture(scope="module")
def exported(weak_promotion: tuple[Result, Result], workdir: Path, config_file: Path) -> Path:
    """``risk export`` of the champion (after the refused promotion: still version 1)."""
    out = workdir / "exported"
    result = invoke(
        "export", "--model", "models:/arrears-risk@champion", "--out", out, "--config", config_file
    )
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    assert f"bundle written to {folder}" in " ".join(result.output.split())
    return folder


# --- train and promote ------------------------------------------------------------------


def test_train_registers_version_1_as_challenger_and_prints_the_metrics_with_the_oracle(
    trained: Result, registry: Registry
) -> None:
    assert trained.exit_code == 0, trained.output
    output = " ".join(trained.output.split())
    assert "registered arrears-risk version 1 as challenger" in output
    assert "Out-of-time, pooled over the test months" in output
    # The table rows: the model, the oracle (the export holds the simulation's truth)...
    assert "lightgbm" in output
    assert "oracle" in output
    assert "(model AUC − 0.5) / (oracle AUC − 0.5)" in output
    described = registry.describe(CHALLENGER)
    assert described.version == 1
    assert CHAMPION not in described.aliases  # training never moves the champion


def test_promote_makes_the_first_challenger_champion_on_the_calibration_gate_alone(
    promoted: Result, registry: Registry
) -> None:
    assert promoted.exit_code == 0, promoted.output
    output = promoted.output
    assert "no champion to compare with" in output  # comparative gates pass
    assert "[pass] calibration error (ECE)" in output  # the ECE gate still applies
    assert "version 1 is now champion" in output
    assert registry.describe(CHAMPION).version == 1


def test_promoting_the_champion_again_changes_nothing(
    promoted_again: Result, registry: Registry
) -> None:
    assert promoted_again.exit_code == 0, promoted_again.output
    assert "version 1 is already champion; nothing to do" in promoted_again.output
    # The rollback pointer still says there was no champion before version 1.
    assert registry.describe(CHAMPION).tags[TAG_PREVIOUS_CHAMPION] == NO_PREVIOUS


def test_a_clearly_worse_challenger_is_refused_by_the_capture_gate(
    weak_promotion: tuple[Result, Result], registry: Registry
) -> None:
    train, promote = weak_promotion
    assert "registered arrears-risk version 2 as challenger" in " ".join(train.output.split())
    assert promote.exit_code == 1
    output = " ".join(promote.output.split())
    assert "[FAIL] capture@5% fell by" in output
    assert "fails, over the limit by" in output
    assert "version 2 stays challenger" in output
    # The amount named is the pooled capture@5% fall minus the 0.01 allowed.
    champion_eval, _ = registry.evaluation(CHAMPION)
    challenger_eval, _ = registry.evaluation(CHALLENGER)

    def capture(table: pd.DataFrame) -> float:
        row = table[
            (table["model"] == "lightgbm")
            & (table["month"] == "pooled")
            & (table["metric"] == "capture@5%")
        ]
        return float(row["value"].iloc[0])

    fall = capture(champion_eval) - capture(challenger_eval)
    assert fall > 0.01
    assert f"fell by {fall:.3f}" in output
    assert f"over the limit by {fall - 0.01:.3f}" in output
    assert registry.describe(CHAMPION).version == 1
    assert registry.describe(CHALLENGER).version == 2


# --- export and score -------------------------------------------------------------------


def test_export_writes_a_bundle_folder_that_loads(exported: Path, registry: Registry) -> None:
    bundle = ModelBundle.load(exported)
    assert sorted(p.name for p in exported.iterdir()) == [MANIFEST_FILE, MODEL_FILE, REFERENCE_FILE]
    assert exported.name == f"arrears-risk-champion-{bundle.manifest['train_until']}"
    # It is version 1 (every feature), not the refused version 2.
    assert len(bundle.feature_names) > len(WEAK_FEATURES)
    champion = ModelBundle.load(registry.resolve("models:/arrears-risk@champion"))
    assert (exported / MODEL_FILE).read_bytes() == champion.booster.model_to_string().encode()


def score(export_dir: Path, out: Path, model: str | Path, config: Path) -> Result:
    return invoke(
        "score", export_dir, "--as-of", SCORE_DATE, "--capacity", "10", "--out", out,
        "--model", model, "--config", config,
    )  # fmt: skip


def test_score_with_a_bundle_folder_writes_every_present_tenancy_and_the_worklist(
    exported: Path, export_dir: Path, config_file: Path, tmp_path: Path
) -> None:
    import risk

    out = tmp_path / "scores.csv"
    result = score(export_dir, out, exported, config_file)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    present = risk.build_features(risk.read_portfolio(export_dir), SCORE_DATE)
    assert sorted(scores["tenancy_id"]) == sorted(present["tenancy_id"].astype(str))
    assert not scores["tenancy_id"].duplicated().any()
    assert {"probability", "band", "rank"} <= set(scores.columns)
    assert scores["probability"].between(0, 1).all()
    assert sorted(scores["rank"]) == list(range(1, len(scores) + 1))
    assert set(scores["band"]) <= {"high", "elevated", "low"}
    assert (scores["as_of"] == SCORE_DATE).all()
    output = " ".join(result.output.split())
    assert f"Worklist as of {SCORE_DATE}" in output
    assert f"{len(scores):,} tenancies scored" in output
    first = scores.sort_values("rank").head(10)
    for tenancy in first["tenancy_id"]:
        assert tenancy in output
    assert first["eligible"].all()


def test_score_through_the_registry_alias_gives_the_same_scores(
    exported: Path, export_dir: Path, config_file: Path, tmp_path: Path
) -> None:
    by_folder, by_alias = tmp_path / "folder.csv", tmp_path / "alias.csv"
    assert score(export_dir, by_folder, exported, config_file).exit_code == 0
    result = score(export_dir, by_alias, "models:/arrears-risk@champion", config_file)
    assert result.exit_code == 0, result.output
    assert by_alias.read_bytes() == by_folder.read_bytes()


def test_train_until_limits_the_window(
    weak_promotion: tuple[Result, Result],
    export_dir: Path,
    workdir: Path,
    registry: Registry,
    tmp_path: Path,
) -> None:
    # The weak configuration trains fastest; the cut-off is what is checked here.
    weak = workdir / "weak.yaml"
    result = invoke("train", export_dir, "--config", weak, "--train-until", TRAIN_UNTIL)
    assert result.exit_code == 0, result.output
    assert f"knowledge cut-off {TRAIN_UNTIL}" in " ".join(result.output.split())
    assert registry.describe(CHALLENGER).version == 3
    out = tmp_path / "out"
    exported = invoke("export", "--model", "models:/arrears-risk/3", "--out", out, "--config", weak)
    assert exported.exit_code == 0, exported.output
    (folder,) = out.iterdir()
    manifest = ModelBundle.load(folder).manifest
    assert manifest["train_until"] == TRAIN_UNTIL
    assert manifest["config"]["data"]["train_until"] == TRAIN_UNTIL
    assert folder.name == f"arrears-risk-v3-{TRAIN_UNTIL}"


# --- bad inputs ---------------------------------------------------------------------------


def test_an_unknown_config_key_is_refused_by_name(
    export_dir: Path, workdir: Path, tmp_path: Path
) -> None:
    bad = write_config(tmp_path / "bad.yaml", workdir / "mlruns", model={"max_round": 5})
    result = invoke("train", export_dir, "--config", bad)
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "model.max_round" in output
    assert "Extra inputs are not permitted" in output


@pytest.mark.parametrize(
    ("command", "date"),
    [("score", "2021-13-01"), ("train", "2021-02-30")],
)
def test_a_bad_date_is_refused_by_name(
    command: str, date: str, export_dir: Path, config_file: Path, tmp_path: Path
) -> None:
    args: list[str | Path]
    if command == "score":
        args = ["--as-of", date, "--capacity", "10", "--out", tmp_path / "s.csv"]
    else:
        args = ["--train-until", date]
    result = invoke(command, export_dir, *args, "--config", config_file)
    assert result.exit_code == 2
    assert date in result.output
    assert not (tmp_path / "s.csv").exists()


def test_an_unknown_alias_is_refused_with_the_registry_error(
    trained: Result, export_dir: Path, config_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s.csv"
    result = score(export_dir, out, "models:/arrears-risk@nope", config_file)
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "registry_no_such_alias" in output
    assert "'nope'" in output
    assert not out.exists()
    exported = invoke(
        "export", "--model", "models:/arrears-risk@nope", "--out", tmp_path, "--config",
        config_file,
    )  # fmt: skip
    assert exported.exit_code == 1
    assert "registry_no_such_alias" in exported.output


def test_a_missing_bundle_folder_is_refused(
    export_dir: Path, config_file: Path, tmp_path: Path
) -> None:
    result = score(export_dir, tmp_path / "s.csv", tmp_path / "nowhere", config_file)
    assert result.exit_code == 1
    assert "no bundle folder" in " ".join(result.output.split())


# --- reproducibility ----------------------------------------------------------------------


def test_training_again_gives_a_byte_identical_bundle_and_identical_scores(
    trained: Result, export_dir: Path, config_file: Path, registry: Registry, tmp_path: Path
) -> None:
    """The library's train() on the same data, configuration and seed as ``risk train``."""
    import risk
    from risk.scoring import score_portfolio
    from risk.training import train

    assert trained.exit_code == 0, trained.output
    registered = registry.resolve("models:/arrears-risk/1")
    code_version = ModelBundle.load(registered).manifest["code_version"]
    portfolio = risk.read_portfolio(export_dir)
    result = train(portfolio, load_config(config_file), code_version=code_version)
    again = result.bundle.write(tmp_path / "again")
    for name in (MODEL_FILE, MANIFEST_FILE):
        assert (again / name).read_bytes() == (registered / name).read_bytes(), name
    scores = [
        score_portfolio(portfolio, SCORE_DATE, ModelBundle.load(f)) for f in (registered, again)
    ]
    pd.testing.assert_frame_equal(scores[0], scores[1])
