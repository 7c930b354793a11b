"""The one settings object of a process, read from the environment (prefix CHURN_).

Built only at entry points (a CLI command, an MLproject step, ``create_app``) and
passed down as plain arguments; library code never reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHURN_", extra="ignore")

    # Features
    windows: tuple[int, ...] = Field((7, 30, 90), description="Look-back windows in days.")
    horizon_days: int = Field(30, description="A row is labelled churned if the account churns within this many days.")
    grace_days: int = Field(14, description="A new subscription starting within this many days of the last one ending is a renewal, not churn.")
    freq: str = Field("monthly", description="Frequency of generated observation dates.")
    mapping: Path | None = Field(None, description="Mapping file (TOML or YAML): event-type meanings, account attributes, column names, date order, decimal mark, CSAT texts; the built-in defaults when unset.")
    max_event_types: int = Field(50, description="Event types beyond the most frequent N get no generic features of their own.")

    # Tracking and registry
    tracking_uri: str = Field(
        "sqlite:///mlflow.db",
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "CHURN_TRACKING_URI"),
        description="MLflow tracking store; a local SQLite file by default, no server needed.",
    )
    artifact_location: str = Field("mlartifacts", description="Artifact folder for experiments this service creates.")
    experiment: str = Field("churn", description="MLflow experiment name.")
    model_name: str = Field("churn-model", description="Registered model name.")

    # Serving
    host: str = "127.0.0.1"
    port: int = 8000
    model_uri: str = "models:/churn-model@champion"
    features: Path | None = Field(None, description="Feature table whose latest snapshot backs GET /v1/accounts/{id}/score.")
    api_keys: list[str] = Field(default_factory=list, description="Keys accepted for scoring; open when empty.")
    admin_key: str | None = Field(None, description="Key for /v1/admin endpoints; admin is closed when unset and api_keys are set.")
    max_batch: int = Field(10_000, description="Largest batch POST /v1/scores accepts (413 above).")
    max_body_mb: float = Field(
        100.0, gt=0,
        description="Largest request body in MB (413 above), refused as it arrives rather than after it is read; "
        "a 10,000-account batch of 150 features is about 35 MB.",
    )
    poll_seconds: float = Field(0.0, description="Poll the model alias this often and reload on change; 0 turns polling off.")
    top_drivers: int = Field(5, ge=1, le=20, description="Drivers per score: the features pushing that account's risk up most.")
