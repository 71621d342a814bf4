"""What every section builder reads: the run, the wording, and the data when given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from risk.metrics import POOLED
from risk.report.population import Populations
from risk.report.run import RunRecord
from risk.report.text import Text
from risk.training import MODEL, ORACLE, PRACTICE, SCORECARD

#: Models in the order the report shows them.
MODEL_ORDER = (MODEL, PRACTICE, SCORECARD, ORACLE)


@dataclass
class ReportContext:
    """Inputs of the section builders.

    Attributes
    ----------
    run
        The registered version and its training run.
    text
        Wording and number formats of the report's language.
    populations
        Households built from ``--data``, or None.
    generated
        When the report was made (UTC).
    notes
        Integration notes collected while building, for the command's output.
    """

    run: RunRecord
    text: Text
    populations: Populations | None = None
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    notes: list[str] = field(default_factory=list)

    @property
    def config(self) -> dict[str, Any]:
        """The run's training configuration."""
        return self.run.config

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """One configuration value, ``default`` when the run did not record it."""
        return (self.config.get(section) or {}).get(key, default)

    @property
    def capacity(self) -> str:
        """The promotion capacity, as written in metric names (``5%``, ``150``)."""
        return str(self.setting("promotion", "capacity", "5%"))

    def capacity_text(self, capacity: str | None = None) -> str:
        """Write a capacity for reading: ``5 %`` of the households, or ``150`` a month."""
        value = capacity or self.capacity
        if value.endswith("%"):
            return self.text.percent(
                float(value[:-1]) / 100, digits=0 if float(value[:-1]).is_integer() else 1
            )
        per_month = " ménages par mois" if self.text.lang == "fr" else " households a month"
        return self.text.integer(float(value)) + per_month

    def models(self) -> list[str]:
        """Models of the evaluation table, in display order."""
        present = list(pd.unique(self.run.evaluation["model"]))
        return [m for m in MODEL_ORDER if m in present] + [
            m for m in present if m not in MODEL_ORDER
        ]

    def model_name(self, model: str) -> str:
        """Display name of a model of the evaluation table."""
        names = self.text("models")
        return str(names.get(model, model))

    def pooled(self, model: str = MODEL) -> dict[str, tuple[float, float, float]]:
        """Pooled metrics of one model: name to ``(value, low, high)``."""
        table = self.run.evaluation
        rows = table[(table["model"] == model) & (table["month"] == POOLED)]
        values = rows[["value", "low", "high"]].to_numpy(dtype=np.float64)
        return {
            str(metric): (float(v[0]), float(v[1]), float(v[2]))
            for metric, v in zip(rows["metric"], values, strict=True)
        }

    def has_model(self, model: str) -> bool:
        """Whether the evaluation table holds ``model``."""
        return bool((self.run.evaluation["model"] == model).any())
