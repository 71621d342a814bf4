"""The training configuration: one YAML file a data team keeps under version control.

``risk train DATA_DIR --config configs/train.yaml`` reads it; every field has a
default, so an empty file (or none) trains on built-in defaults. The sections follow the
stages: which rows (``data``), how they are split in time (``backtest``), the model
(``model``), how results are judged (``evaluation``), where runs are tracked
(``tracking``) and when a challenger may replace the champion (``promotion``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from risk.labels import DEFAULT_HORIZON_MONTHS, LABELS
from risk.metrics import parse_capacity
from risk.promotion import PromotionGates

#: Error raised when the configuration file cannot be read or does not fit the schema.
BAD_CONFIG = "configuration {path}: {problems}"


class _Section(BaseModel):
    # A misspelt key must fail loudly, not fall back silently to a default.
    model_config = ConfigDict(extra="forbid")


class DataConfig(_Section):
    """Which training rows: one per present tenancy and monthly as-of date."""

    label: str = Field("first_arrears", description="Label by name (see docs/labels.md).")
    horizon_months: int = Field(DEFAULT_HORIZON_MONTHS, ge=1, le=24)
    first_as_of: dt.date | None = Field(
        None, description="First as-of date; default: history_months after the data starts."
    )
    history_months: int = Field(
        6, ge=0, description="Months of ledger history before the first default as-of date."
    )
    train_until: dt.date | None = Field(
        None,
        description=(
            "Knowledge cut-off: only facts posted before it and labels complete by then "
            "are used, for the backtest and the final model; default: the end of the data."
        ),
    )

    @field_validator("label")
    @classmethod
    def _known_label(cls, value: str) -> str:
        if value not in LABELS:
            raise ValueError(f"unknown label {value!r}; known labels: {', '.join(LABELS)}")
        return value


class BacktestConfig(_Section):
    """Rolling-origin, out-of-time evaluation."""

    test_months: int = Field(12, ge=1, description="Number of monthly test as-of dates.")
    refit_every_months: int = Field(
        3, ge=1, description="A model is refitted at the first test month of each block."
    )
    validation_months: int = Field(
        3, ge=1, description="Latest training months held out for early stopping/calibration."
    )


class ModelConfig(_Section):
    """LightGBM and calibration settings."""

    # Small trees: exact SHAP reasons cost leaves x depth^2 per tree, and 7 leaves at a
    # rate of 0.1 explain a household ~10x faster than 31 leaves at 0.05, with the same
    # backtest quality on a 20,000-tenancy simulation (AUC 0.909 vs 0.910, capture@5%
    # 0.436 vs 0.434, Brier 0.0318 both); see docs/training.md.
    learning_rate: float = Field(0.1, gt=0, le=1)
    num_leaves: int = Field(7, ge=2)
    min_child_samples: int = Field(200, ge=1)
    feature_fraction: float = Field(0.8, gt=0, le=1)
    lambda_l2: float = Field(1.0, ge=0)
    max_rounds: int = Field(2000, ge=1)
    early_stopping_rounds: int = Field(100, ge=1)
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    threads: int = Field(2, ge=1, description="Fixed so that a run is byte-reproducible.")
    seed: int = 0
    features: list[str] | None = Field(None, description="A subset of the catalogue; all if empty.")
    bands: dict[str, float] = Field(
        default_factory=lambda: {"high": 0.05, "elevated": 0.15},
        description=(
            "Risk bands as shares of the eligible population on the validation slice, "
            "from the highest band down; the rest is 'low'."
        ),
    )


def _default_capacities() -> list[str | int]:
    return ["2%", "5%", 100]


class EvaluationConfig(_Section):
    """How results are judged."""

    capacities: list[str | int] = Field(
        default_factory=_default_capacities,
        description="Caseworker capacities: shares of the eligible portfolio or households/month.",
    )
    bootstrap: int = Field(200, ge=0, description="Bootstrap replicates for 95% intervals.")
    oracle_paths: int = Field(200, ge=10, description="Simulated data only: oracle paths.")
    seed: int = 0

    @field_validator("capacities")
    @classmethod
    def _capacities(cls, value: list[str | int]) -> list[str | int]:
        for capacity in value:
            parse_capacity(capacity)
        return value


class TrackingConfig(_Section):
    """Where runs and models are recorded."""

    uri: str | None = Field(None, description="MLflow tracking URI; default SQLite under root.")
    root: Path = Field(Path("mlruns"), description="Folder of the default SQLite store.")
    experiment: str = "arrears-risk"
    owner: str = Field("data team", description="Named in the auditors' report.")


class TrainConfig(_Section):
    """The whole training configuration."""

    data: DataConfig = DataConfig()
    backtest: BacktestConfig = BacktestConfig()
    model: ModelConfig = ModelConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    tracking: TrackingConfig = TrackingConfig()
    promotion: PromotionGates = PromotionGates()

    @model_validator(mode="after")
    def _gate_capacity_is_evaluated(self) -> TrainConfig:
        # The gate compares capture at this capacity: training must measure it, or
        # promotion would fail long after training, on a missing metric.
        evaluated = {parse_capacity(c).label for c in self.evaluation.capacities}
        gate = parse_capacity(self.promotion.capacity).label
        if gate not in evaluated:
            raise ValueError(
                f"promotion.capacity {self.promotion.capacity!r} is not among "
                f"evaluation.capacities {sorted(evaluated)}"
            )
        return self


def load_config(path: str | Path | None = None, **overrides: Any) -> TrainConfig:
    """Read a training configuration, apply dotted overrides and check it.

    Parameters
    ----------
    path
        YAML file; built-in defaults when ``None``.
    **overrides
        ``section__field=value`` pairs that win over the file (``data__train_until=...``),
        as the command line's options set them; ``None`` values are ignored.

    Returns
    -------
    TrainConfig

    Raises
    ------
    ValueError
        :data:`BAD_CONFIG`, naming each field in error.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(BAD_CONFIG.format(path=path, problems=error)) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ValueError(BAD_CONFIG.format(path=path, problems="not a mapping"))
        raw = loaded or {}
    for key, value in overrides.items():
        if value is None:
            continue
        section, _, field = key.partition("__")
        raw.setdefault(section, {})[field] = value
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(BAD_CONFIG.format(path=path or "<defaults>", problems=problems)) from None


def config_yaml(config: TrainConfig) -> str:
    """Write the configuration as YAML, as logged with each run."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
