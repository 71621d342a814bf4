"""The registry against a real MLflow SQLite store in a temporary folder.

Creating MLflow's database schema takes seconds, so it is created once per session and
each test starts from a copy of that empty database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from report_setup import store_in
from risk import registry as rg
from risk.promotion import PromotionGates, check_registered
from risk.registry import CHALLENGER, CHAMPION, MODEL_NAME, Registry, RegistryError

# Raised inside MLflow's SQLAlchemy store, not by this package.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


def new_registry(folder: Path, database: Path) -> Registry:
    return Registry(store_in(folder, database) / "mlruns")


@pytest.fixture
def registry(tmp_path: Path, empty_mlflow_database: Path) -> Registry:
    """An empty registry."""
    return new_registry(tmp_path, empty_mlflow_database)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, empty_mlflow_database: Path) -> Registry:
    """A registry with versions 1 ("a") and 2 ("b", the challenger), no champion; read only."""
    folder = tmp_path_factory.mktemp("trained")
    registry = new_registry(folder, empty_mlflow_database)
    train(registry, folder, "a")
    train(registry, folder, "b")
    return registry


def make_bundle(folder: Path, name: str = "lgbm-2024-06", label: str = "first_arrears") -> Path:
    folder.mkdir(parents=True)
    manifest = {
        "model_name": name,
        "feature_names": ["rent_to_income", "months_since_entry"],
        "metrics": {"roc_auc": 0.8},
        "train_until": "2024-06-01",
        "label": label,
        "horizon_months": 3,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "model.txt").write_text("tree\nversion=v4\n", encoding="utf-8")
    return folder


def evaluation_table(capture: float = 0.6, ece: float = 0.005) -> pd.DataFrame:
    metrics = {"capture@5%": capture, "brier": 0.08, "ece": ece, "roc_auc": 0.8}
    rows = [("lightgbm", "pooled", m, v) for m, v in metrics.items()]
    rows.append(("lightgbm", "2024-01-01", "capture@5%", capture))
    frame = pd.DataFrame(rows, columns=["model", "month", "metric", "value"])
    return frame.assign(
        low=frame["value"] - 0.01, high=frame["value"] + 0.01, rows=900, positives=45
    )


def group_table(recall: float = 0.7) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "model": "lightgbm",
            "attribute": ["age_band", "guarantee_type"],
            "group": ["18-29", "none"],
            "metric": "recall",
            "value": recall,
        }
    )
    return frame.assign(low=recall - 0.1, high=recall + 0.1, rows=100, positives=10)


def train(
    registry: Registry, tmp_path: Path, tag: str = "a", label: str = "first_arrears", **kwargs
) -> rg.LoggedTraining:
    arguments = {
        "evaluation": evaluation_table(),
        "groups": group_table(),
        "data_fingerprint": f"sha256:{tag}",
        "params": {"learning_rate": 0.05, "features": ["a", "b"]},
        "code_version": "abc123",
        **kwargs,
    }
    bundle = make_bundle(tmp_path / f"bundle-{tag}", label=label)
    return registry.log_training(bundle, **arguments)


# --- recording a training run -------------------------------------------------------------


def test_a_training_run_registers_a_new_challenger_without_touching_the_champion(
    registry, tmp_path
):
    logged = train(registry, tmp_path)
    assert (logged.version, logged.model_uri) == (1, f"models:/{MODEL_NAME}/1")
    assert registry.describe(CHALLENGER).version == 1
    with pytest.raises(RegistryError) as caught:
        registry.describe(CHAMPION)
    assert caught.value.code == rg.NO_SUCH_ALIAS


def test_the_run_holds_params_spelled_out_metrics_tags_and_artifacts(registry, tmp_path):
    figure = tmp_path / "capture.png"
    figure.write_bytes(b"\x89PNG")
    config = tmp_path / "train.yaml"
    config.write_text("model:\n  seed: 0\n", encoding="utf-8")
    logged = train(registry, tmp_path, figures=[figure], config=config, tags={"owner": "team"})
    run = registry.client.get_run(logged.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"learning_rate": "0.05", "features": "['a', 'b']"}
    assert run.data.metrics["capture_at_5pct"] == 0.6
    assert set(run.data.metrics) == {"capture_at_5pct", "brier", "ece", "roc_auc"}
    assert run.data.tags[rg.TAG_DATA_FINGERPRINT] == "sha256:a"
    assert run.data.tags[rg.TAG_CODE_VERSION] == "abc123"
    assert run.data.tags[rg.TAG_CATALOGUE_VERSION]
    assert run.data.tags["owner"] == "team"
    stored = {a.path for a in registry.client.list_artifacts(logged.run_id)}
    assert stored == {"bundle", "config", "evaluation", "figures"}
    tables = {
        Path(a.path).name for a in registry.client.list_artifacts(logged.run_id, "evaluation")
    }
    assert tables == {"evaluation.parquet", "evaluation.csv", "groups.parquet", "groups.csv"}


def test_given_metrics_replace_the_pooled_ones(registry, tmp_path):
    logged = train(registry, tmp_path, metrics={"lift@5%": 4.2, "capture@150": 0.3})
    metrics = registry.client.get_run(logged.run_id).data.metrics
    assert metrics == {"lift_at_5pct": 4.2, "capture_at_150": 0.3}


def test_the_next_training_run_moves_the_challenger(trained):
    assert trained.describe(CHALLENGER).version == 2
    assert trained.describe(1).aliases == ()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"figures": ["missing.png"]}, rg.MISSING_FILE),
        ({"params": {"model": {"seed": 0}}}, rg.PARAMS_NOT_FLAT),
        ({"metrics": {"capture@5%": 0.1, "capture_at_5pct": 0.2}}, rg.BAD_METRIC),
        ({"metrics": {"brier": "low"}}, rg.BAD_METRIC),
        ({"groups": pd.DataFrame({"model": ["lightgbm"]})}, rg.BAD_TABLE),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_recorded(registry, tmp_path, change, code):
    with pytest.raises(RegistryError) as caught:
        train(registry, tmp_path, **change)
    assert caught.value.code == code
    assert registry.client.search_runs(registry.client.search_experiments()[0].experiment_id) == []


def test_a_bundle_without_a_manifest_is_refused(registry, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(RegistryError) as caught:
        registry.log_training(
            folder, evaluation=evaluation_table(), groups=group_table(), data_fingerprint="x"
        )
    assert caught.value.code == rg.NO_MANIFEST


# --- finding a model ----------------------------------------------------------------------


def test_resolve_downloads_a_version_by_alias_or_number(trained):
    by_alias = trained.resolve(f"models:/{MODEL_NAME}@{CHALLENGER}")
    by_number = trained.resolve(f"models:/{MODEL_NAME}/2")
    assert by_alias == by_number == trained.root / "bundles" / MODEL_NAME / "2"
    assert sorted(p.name for p in by_alias.iterdir()) == ["manifest.json", "model.txt"]
    manifest = json.loads((by_alias / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model_name"] == "lgbm-2024-06"


def test_resolve_reuses_a_downloaded_version(trained):
    folder = trained.resolve(f"models:/{MODEL_NAME}/1")
    (folder / "marker").touch()
    assert (trained.resolve(f"models:/{MODEL_NAME}/1") / "marker").exists()


def test_a_cached_bundle_that_differs_from_the_registered_manifest_is_fetched_again(
    registry, tmp_path
):
    train(registry, tmp_path, "a")
    folder = registry.resolve(f"models:/{MODEL_NAME}/1")
    registered = (folder / "manifest.json").read_bytes()
    (folder / "manifest.json").write_text('{"model_name": "someone else"}', encoding="utf-8")
    again = registry.resolve(f"models:/{MODEL_NAME}/1")
    assert (again / "manifest.json").read_bytes() == registered


def test_a_version_whose_stored_manifest_was_altered_is_refused(registry, tmp_path):
    logged = train(registry, tmp_path, "a")
    store = Path(registry.artifact_location.removeprefix("file://"))
    stored = next(store.rglob(f"{logged.run_id}/artifacts/bundle/manifest.json"))
    stored.write_text('{"model_name": "tampered"}', encoding="utf-8")
    with pytest.raises(rg.RegistryError) as error:
        registry.resolve(f"models:/{MODEL_NAME}/1")
    assert error.value.code == rg.MANIFEST_MISMATCH


def test_resolve_returns_a_bundle_folder_as_is(registry, tmp_path):
    folder = make_bundle(tmp_path / "local")
    assert registry.resolve(folder) == folder
    assert registry.resolve(str(folder)) == folder


@pytest.mark.parametrize(
    ("uri", "code"),
    [
        (f"models:/{MODEL_NAME}@{CHAMPION}", rg.NO_SUCH_ALIAS),
        (f"models:/{MODEL_NAME}@nightly", rg.NO_SUCH_ALIAS),
        (f"models:/{MODEL_NAME}/7", rg.NO_SUCH_VERSION),
        ("models:/other-model@champion", rg.NO_SUCH_MODEL),
        (f"models:/{MODEL_NAME}", rg.BAD_MODEL_URI),
        ("no/such/folder", rg.NOT_A_FOLDER),
    ],
)
def test_resolve_names_what_is_missing(trained, uri, code):
    with pytest.raises(RegistryError) as caught:
        trained.resolve(uri)
    assert caught.value.code == code


def test_an_empty_registry_has_no_such_model(registry):
    with pytest.raises(RegistryError) as caught:
        registry.resolve(f"models:/{MODEL_NAME}@{CHAMPION}")
    assert caught.value.code == rg.NO_SUCH_MODEL


def test_the_evaluation_tables_come_back_as_they_were_logged(trained):
    evaluation, groups = trained.evaluation(CHALLENGER)
    pd.testing.assert_frame_equal(evaluation, evaluation_table())
    pd.testing.assert_frame_equal(groups, group_table())
    assert trained.evaluation("1")[0].equals(evaluation)


def test_describe_gives_name_version_aliases_run_time_and_tags(trained):
    described = trained.describe(CHALLENGER)
    assert (described.name, described.version, described.alias) == (MODEL_NAME, 2, CHALLENGER)
    assert described.aliases == (CHALLENGER,)
    assert trained.client.get_run(described.run_id).data.tags[rg.TAG_DATA_FINGERPRINT] == "sha256:b"
    assert described.created.tzinfo is not None
    assert described.tags[rg.TAG_DATA_FINGERPRINT] == "sha256:b"
    assert described.tags[rg.TAG_TRAIN_UNTIL] == "2024-06-01"
    assert json.dumps(described.to_dict())
    assert trained.describe(1).alias is None


# --- moving aliases -----------------------------------------------------------------------


def test_promote_moves_the_champion_and_remembers_the_previous_one(registry, tmp_path):
    train(registry, tmp_path, "a")
    train(registry, tmp_path, "b")
    assert registry.promote(1) is None
    assert registry.promote(2) == 1
    champion = registry.describe(CHAMPION)
    assert champion.version == 2
    assert champion.aliases == (CHALLENGER, CHAMPION) or champion.aliases == (CHAMPION, CHALLENGER)
    assert champion.tags[rg.TAG_PREVIOUS_CHAMPION] == "1"
    assert rg.TAG_PROMOTED_AT in champion.tags
    assert registry.resolve(f"models:/{MODEL_NAME}@{CHAMPION}").name == "2"


def test_promoting_the_recorded_previous_champion_rolls_back(registry, tmp_path):
    train(registry, tmp_path, "a")
    train(registry, tmp_path, "b")
    registry.promote(1)
    registry.promote(2)
    previous = int(registry.describe(CHAMPION).tags[rg.TAG_PREVIOUS_CHAMPION])
    assert registry.promote(previous) == 2
    assert registry.describe(CHAMPION).version == 1


def test_set_alias_refuses_unknown_versions_and_reserved_names(registry, tmp_path):
    train(registry, tmp_path)
    registry.set_alias("shadow", 1)
    assert registry.describe("shadow").version == 1
    with pytest.raises(RegistryError) as caught:
        registry.set_alias("shadow", 5)
    assert caught.value.code == rg.NO_SUCH_VERSION
    with pytest.raises(RegistryError) as caught:
        registry.set_alias("latest", 1)
    assert caught.value.code == rg.BAD_ALIAS


# --- gates on registered versions -----------------------------------------------------------


def test_the_registered_challenger_is_gated_against_the_champion(registry, tmp_path):
    train(registry, tmp_path, "a")
    assert check_registered(registry).passed  # no champion yet
    registry.promote(1)
    train(registry, tmp_path, "b", evaluation=evaluation_table(capture=0.5))
    decision = check_registered(registry, PromotionGates())
    assert [r.name for r in decision.failures] == ["capture"]


def test_a_challenger_predicting_another_label_cannot_be_gated_against_the_champion(
    registry, tmp_path
):
    from risk.promotion import LABEL_MISMATCH, PromotionError

    train(registry, tmp_path, "a")
    registry.promote(1)
    train(registry, tmp_path, "b", label="decree_2027")
    with pytest.raises(PromotionError) as error:
        check_registered(registry, PromotionGates())
    assert error.value.code == LABEL_MISMATCH


# --- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("capture@5%", "capture_at_5pct"),
        ("precision@2.5%", "precision_at_2.5pct"),
        ("capture@150", "capture_at_150"),
        ("roc_auc", "roc_auc"),
        ("recall[age<30]", "recall_age_30_"),
    ],
)
def test_metric_names_are_spelled_out_for_mlflow(name, key):
    assert rg.metric_key(name) == key


def test_the_code_version_is_a_commit_or_the_package_version():
    assert rg.current_code_version()


def test_importing_the_package_does_not_import_mlflow():
    code = "import sys, risk, risk.registry, risk.promotion; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
