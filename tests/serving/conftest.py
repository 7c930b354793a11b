"""A small model registered in a throw-away MLflow store, shared by the serving tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from churn.settings import Settings
from serving.app import create_app
from serving.synthetic import RegisteredModel, feature_columns, fit_synthetic_model, register_synthetic_model, synthetic_features

METRICS = {"roc_auc": 0.81, "brier": 0.12}


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    features_path: Path
    frame: pd.DataFrame
    registered: RegisteredModel

    def settings(self, **overrides) -> Settings:
        values = {
            "MLFLOW_TRACKING_URI": self.tracking_uri,  # Settings reads tracking_uri by its alias only
            "model_uri": "models:/churn-model@champion",
            "features": self.features_path,
            "api_keys": [],
            "admin_key": None,
            "max_batch": 50,
            **overrides,
        }
        return Settings(**values)


@pytest.fixture(scope="session")
def store(tmp_path_factory) -> Store:
    root = tmp_path_factory.mktemp("mlflow")
    tracking_uri = f"sqlite:///{root}/mlflow.db"
    frame = synthetic_features(3000, 8, seed=3, n_accounts=1000)
    model = fit_synthetic_model(frame, n_trees=60, num_leaves=15)
    registered = register_synthetic_model(model, frame, tracking_uri=tracking_uri, metrics=METRICS)
    features_path = root / "features.parquet"
    frame.to_parquet(features_path, index=False)
    return Store(tracking_uri, features_path, frame, registered)


@pytest.fixture(scope="session")
def client(store: Store):
    with TestClient(create_app(store.settings())) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def latest(store: Store) -> pd.DataFrame:
    """The snapshot the app loads: rows with the latest as_of."""
    frame = store.frame
    return frame[frame["as_of"] == frame["as_of"].max()].reset_index(drop=True)


def payload(rows: pd.DataFrame) -> dict:
    """A POST /v1/scores body for these feature rows, nulls for missing values."""
    features = rows[feature_columns(rows)].astype(object)
    records = features.where(features.notna(), None).to_dict("records")
    return {"accounts": [{"account_id": str(a), "features": f} for a, f in zip(rows["account_id"], records)]}
