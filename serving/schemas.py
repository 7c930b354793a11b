"""Requests and responses of the scoring API, named by role, each carrying its OpenAPI example."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

_FEATURES_EXAMPLE = {
    "usage__logins__30d": 12,
    "usage__active_users__30d": 3,
    "support__tickets__90d": 4,
    "account__plan": "team",
    "engagement__nps_last__90d": None,
}
_MODEL_REF_EXAMPLE = {"name": "churn-model", "version": "3", "alias": "champion", "run_id": "8d1f0c3b9e2a4c61a0f5b7e2d4c9a813"}
_DRIVER_EXAMPLE = {"feature": "support__tickets__90d", "value": 4.0, "contribution": 0.41}
_SCORE_EXAMPLE = {
    "account_id": "acc-00042",
    "churn_probability": 0.37,
    "risk_tier": "high",
    "top_drivers": [
        _DRIVER_EXAMPLE,
        {"feature": "usage__logins__30d", "value": 12.0, "contribution": 0.22},
        {"feature": "account__plan", "value": "team", "contribution": 0.05},
    ],
    "missing_features": ["engagement__nps_last__90d"],
}


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class AccountFeatures(BaseModel):
    """One account to score: its id and its feature values by name."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"account_id": "acc-00042", "features": _FEATURES_EXAMPLE}]})

    account_id: str = Field(min_length=1, max_length=256, description="Your id for the account; echoed back.")
    # Values are checked against the model's own feature list (serving.encoding), which names
    # unknown features and wrong types far better than a generic union error would.
    features: dict[str, SkipValidation[float | str | None]] = Field(
        description=(
            "Feature values by name (GET /v1/model lists them): numbers for numeric features, text for "
            "categorical ones, null or absent when unknown. NaN and infinity are refused."
        )
    )


class ScoreRequest(BaseModel):
    """A batch of accounts. Duplicate account ids are allowed; each entry is scored on its own, in order."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"accounts": [{"account_id": "acc-00042", "features": _FEATURES_EXAMPLE}]}]})

    accounts: list[AccountFeatures] = Field(min_length=1, description="At least one account; at most the server's max_batch (413 above).")


class Driver(BaseModel):
    """A feature pushing this account's churn risk up."""

    model_config = _example(_DRIVER_EXAMPLE)

    feature: str
    value: float | str | None = Field(description="The account's value (null when unknown).")
    contribution: float = Field(description="Its push on the log-odds of churn (path-based attribution); positive.")


class AccountScore(BaseModel):
    model_config = _example(_SCORE_EXAMPLE)

    account_id: str
    churn_probability: float = Field(description="Calibrated probability of churning within the training horizon.")
    risk_tier: Literal["low", "medium", "high"] = Field(description="By thresholds fixed at training time.")
    top_drivers: list[Driver] = Field(description="The features pushing the risk up most, strongest first; fewer when fewer push up.")
    missing_features: list[str] = Field(description="Features scored as unknown: absent, null, or a category the model never saw.")


class ModelRef(BaseModel):
    """The model version that answered."""

    model_config = _example(_MODEL_REF_EXAMPLE)

    name: str | None
    version: str | None
    alias: str | None
    run_id: str | None


class ScoreResponse(BaseModel):
    model_config = _example({"model": _MODEL_REF_EXAMPLE, "scores": [_SCORE_EXAMPLE]})

    model: ModelRef
    scores: list[AccountScore]


class SnapshotScoreResponse(BaseModel):
    """One account's score from the feature snapshot loaded at start-up."""

    model_config = _example({"model": _MODEL_REF_EXAMPLE, "as_of": "2024-06-01", "score": _SCORE_EXAMPLE})

    model: ModelRef
    as_of: str | None = Field(description="Observation date of the snapshot.")
    score: AccountScore


class FeatureInfo(BaseModel):
    name: str
    kind: Literal["numeric", "categorical"]
    categories: list[str] | None = Field(None, description="Known categories of a categorical feature.")
    reference: dict[str, Any] = Field(description="Statistics of the training data: missing rate, mean, quantiles or top shares.")


class TableKeysInfo(BaseModel):
    id_column: str = Field(description="The training table's id column: what a snapshot and `churn score` read ids from.")
    time_column: str | None = Field(description="Its date column, when the table had a history; the snapshot is its latest date.")


class SnapshotInfo(BaseModel):
    source: str
    as_of: str | None
    accounts: int


class ModelInfoPublic(BaseModel):
    model_config = _example(
        {
            **_MODEL_REF_EXAMPLE,
            "uri": "models:/churn-model@champion",
            "loaded_at": "2024-06-02T08:00:00Z",
            "metrics": {"roc_auc": 0.83, "brier": 0.071},
            "tier_thresholds": {"medium": 0.12, "high": 0.3},
            "keys": {"id_column": "account_id", "time_column": "as_of"},
            "features": [
                {
                    "name": "usage__logins__30d",
                    "kind": "numeric",
                    "categories": None,
                    "reference": {"kind": "numeric", "missing_rate": 0.0, "mean": 21.4, "std": 9.8, "min": 0.0, "max": 310.0},
                },
                {"name": "account__plan", "kind": "categorical", "categories": ["business", "starter", "team"], "reference": {"kind": "categorical", "missing_rate": 0.0, "top_shares": {"team": 0.5}}},
            ],
            "snapshot": {"source": "demo/features.parquet", "as_of": "2024-06-01", "accounts": 1840},
        }
    )

    name: str | None
    version: str | None
    alias: str | None
    run_id: str | None
    uri: str
    loaded_at: datetime
    metrics: dict[str, float] = Field(description="Metrics the training run logged.")
    tier_thresholds: dict[str, float] = Field(description="Probability at which each tier starts.")
    keys: TableKeysInfo
    features: list[FeatureInfo] = Field(description="In the model's order.")
    snapshot: SnapshotInfo | None


class Health(BaseModel):
    model_config = _example({"status": "ok"})

    status: Literal["ok"]


class Readiness(BaseModel):
    model_config = _example({"ready": True, "model_version": "3", "last_reload_error": None})

    ready: bool
    model_version: str | None
    last_reload_error: str | None = Field(description="Why the latest load or reload failed, if it did.")


class ReloadResult(BaseModel):
    model_config = _example({"reloaded": True, "previous": {**_MODEL_REF_EXAMPLE, "version": "2"}, "current": _MODEL_REF_EXAMPLE})

    reloaded: bool = Field(description="True when a freshly loaded version now serves.")
    previous: ModelRef | None
    current: ModelRef


class FieldError(BaseModel):
    field: str = Field(description="Where in the request, e.g. accounts[3].features.usage__logins__30d.")
    message: str


class ErrorResponse(BaseModel):
    """Every 4xx (and 503) answer: one readable line, and the fields at fault."""

    model_config = _example(
        {
            "detail": "accounts[0].features.usage__logins_30d: unknown feature; did you mean 'usage__logins__30d'?",
            "errors": [{"field": "accounts[0].features.usage__logins_30d", "message": "unknown feature; did you mean 'usage__logins__30d'?"}],
        }
    )

    detail: str
    errors: list[FieldError] = Field(default_factory=list)
