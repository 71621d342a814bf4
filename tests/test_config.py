from pathlib import Path

import pytest

from risk.config import TrainConfig, config_yaml, load_config

REPO = Path(__file__).resolve().parents[1]


def test_no_file_gives_the_built_in_defaults() -> None:
    config = load_config(None)
    assert config == TrainConfig()
    assert config.data.label == "first_arrears"
    assert config.evaluation.capacities == ["2%", "5%", 100]


def test_the_shipped_configuration_writes_down_every_default() -> None:
    assert load_config(REPO / "configs" / "train.yaml") == TrainConfig()


def test_command_line_overrides_win_over_the_file_and_none_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("data:\n  train_until: 2023-01-01\nmodel:\n  seed: 4\n")
    config = load_config(path, data__train_until="2024-03-01", model__seed=None)
    assert str(config.data.train_until) == "2024-03-01"
    assert config.model.seed == 4


def test_a_misspelt_key_is_refused_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model:\n  max_round: 10\n")
    with pytest.raises(ValueError, match=r"model\.max_round"):
        load_config(path)


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("data:\n  label: arrears_soon\n", "data.label"),
        ("evaluation:\n  capacities: ['5 percent']\n", "evaluation.capacities"),
        ("backtest:\n  test_months: 0\n", "backtest.test_months"),
        ("model:\n  calibration: beta\n", "model.calibration"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field(
    tmp_path: Path, yaml_text: str, field: str
) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        load_config(path)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="not a mapping"):
        load_config(path)


def test_the_logged_yaml_reads_back_as_the_same_configuration(tmp_path: Path) -> None:
    config = load_config(None, model__seed=9, data__train_until="2024-01-01")
    path = tmp_path / "logged.yaml"
    path.write_text(config_yaml(config))
    assert load_config(path) == config


def test_a_gate_capacity_that_training_does_not_measure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("evaluation:\n  capacities: [150]\npromotion:\n  capacity: '5%'\n")
    with pytest.raises(ValueError, match=r"promotion\.capacity .5%. is not among"):
        load_config(path)
