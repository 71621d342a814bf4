"""The service's settings, read from the environment (prefix ``RISK_API_``) or a ``.env`` file.

Every value has a default that works on one machine: a SQLite database under ``var/``
for the key store, the audit log and the recorded outcomes, and the champion of the
registry under ``mlruns/``. A deployment changes them through the environment, e.g.
``RISK_API_DATABASE_URL=postgresql+psycopg://risk@db/risk``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Largest number of tenancies in one scoring or work-list call.
MAX_TENANCIES = 5_000


class Settings(BaseSettings):
    """Configuration of the scoring service.

    Attributes
    ----------
    model
        Registry URI (``models:/arrears-risk@champion``) or a bundle folder.
    tracking_root
        Folder of the MLflow registry (its ``mlflow.db``) when ``model`` is a URI.
    tracking_uri
        MLflow tracking URI; ``sqlite:///<tracking_root>/mlflow.db`` when unset.
    database_url
        SQLAlchemy URL of the key store, audit log and outcomes.
    pseudonym_key_file
        File holding the secret key of the tenancy pseudonyms in the audit log; created
        (mode 0600) on first start when missing.
    max_body_bytes
        Larger request bodies are refused with 413 before they are read. 5,000 tenancies
        with 24 months of ledger take about 47 MB of JSON.
    holdout_share
        Share of the eligible high-risk households of a work list drawn at random and
        marked "not contacted this cycle", so that the effect of contact can be measured
        later. 0 (the default) turns the hold-out off.
    key_cache_seconds
        How long an authenticated key is trusted without reading the key store again; a
        revoked key stops working within this delay.
    threads
        LightGBM threads of a small request (1: it runs on the event loop's core).
    batch_threads
        DuckDB and LightGBM threads of a large request (every core when unset).
    """

    model_config = SettingsConfigDict(env_prefix="RISK_API_", env_file=".env", extra="ignore")

    model: str = "models:/arrears-risk@champion"
    tracking_root: Path = Path("mlruns")
    tracking_uri: str | None = None
    database_url: str = "sqlite:///var/risk-api.db"
    pseudonym_key_file: Path = Path("var/pseudonym.key")
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    holdout_share: float = Field(default=0.0, ge=0.0, lt=1.0)
    key_cache_seconds: float = Field(default=5.0, ge=0.0)
    threads: int = Field(default=1, gt=0)
    batch_threads: int | None = Field(default=None, gt=0)
