"""A churn model on generated data, registered like the training pipeline does, for tests and benchmarks.

Serving only needs *a* registered ``ChurnModel``; this builds one in seconds without the feature
pipeline, with numeric features, one text feature (``account__plan``) and missing values, so every
branch of encoding and tree traversal is exercised.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from training.model import ChurnModel

PLANS = ("starter", "team", "business", "enterprise")


def synthetic_features(n_rows: int, n_numeric: int, *, seed: int = 0, n_accounts: int | None = None) -> pd.DataFrame:
    """A feature table like ``churn features`` writes: account_id, as_of, features and a ``churned`` label.

    With ``n_accounts`` smaller than ``n_rows`` the rows spread over several as_of dates, so the
    table has a history and a latest snapshot.
    """
    rng = np.random.default_rng(seed)
    n_accounts = n_accounts or n_rows
    numeric = rng.gamma(2.0, 10.0, size=(n_rows, n_numeric))
    numeric[rng.random((n_rows, n_numeric)) < 0.05] = np.nan
    frame = pd.DataFrame(numeric, columns=[f"usage__signal_{i:02d}__30d" for i in range(n_numeric)])
    frame["account__plan"] = pd.Series(rng.choice(PLANS, size=n_rows), dtype="object")
    frame.loc[rng.random(n_rows) < 0.03, "account__plan"] = None

    weights = rng.normal(0.0, 1.0, size=n_numeric) / np.sqrt(n_numeric)
    standardised = (np.nan_to_num(numeric, nan=20.0) - 20.0) / 14.0
    plan_effect = frame["account__plan"].map({"starter": 0.8, "team": 0.2, "business": -0.3, "enterprise": -0.9})
    logit = -1.5 + 2.0 * standardised @ weights + plan_effect.fillna(0.0).to_numpy() + np.sin(standardised[:, 0] * 2)
    churned = rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))

    ids = np.array([f"acc-{i:05d}" for i in range(n_accounts)])
    snapshot = np.arange(n_rows) // n_accounts
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(snapshot * 30, unit="D")
    frame.insert(0, "as_of", dates.date)
    frame.insert(0, "account_id", ids[np.arange(n_rows) % n_accounts])
    frame["churned"] = churned.astype(np.int8)
    return frame


def feature_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("account_id", "as_of", "churned")]


def fit_synthetic_model(frame: pd.DataFrame, *, n_trees: int, num_leaves: int = 31, seed: int = 0) -> ChurnModel:
    """A calibrated model with (close to) ``n_trees`` trees: early stopping is set to never trigger."""
    model = ChurnModel(
        n_estimators=n_trees,
        early_stopping_rounds=n_trees + 1,
        learning_rate=0.03,
        num_leaves=num_leaves,
        min_child_samples=20,
        random_state=seed,
    )
    return model.fit(frame[feature_columns(frame)], frame["churned"])


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    run_id: str
    model: ChurnModel


def register_synthetic_model(
    model: ChurnModel,
    frame: pd.DataFrame,
    *,
    tracking_uri: str,
    artifact_location: str | None = None,
    name: str = "churn-model",
    alias: str | None = "champion",
    metrics: dict[str, float] | None = None,
) -> RegisteredModel:
    """Log, register and (optionally) alias ``model`` the way the training pipeline does.

    Artifacts go to ``artifact_location``, by default beside a SQLite store's database file (never
    the working directory), and the process's MLflow tracking URI is left as it was.
    """
    import mlflow
    from mlflow import MlflowClient

    from training.pyfunc import log_churn_model

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.get_experiment_by_name(_EXPERIMENT)
    if experiment is None:
        location = artifact_location or _beside_database(tracking_uri)
        experiment_id = client.create_experiment(_EXPERIMENT, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    with _tracking_uri(tracking_uri), mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_metrics(metrics or {"roc_auc": 0.8, "brier": 0.1})
        info = log_churn_model(model, input_example=frame[feature_columns(frame)].head(3))
        version = mlflow.register_model(info.model_uri, name)
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
    return RegisteredModel(name=name, version=str(version.version), run_id=run.info.run_id, model=model)


_EXPERIMENT = "churn-serving-synthetic"


def _beside_database(tracking_uri: str) -> str:
    if not tracking_uri.startswith("sqlite:///"):
        raise ValueError(f"give an artifact_location for the store {tracking_uri}")
    return str(Path(tracking_uri.removeprefix("sqlite:///")).parent / "mlartifacts")


@contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri`` for a block; MLflow also writes it to the environment, so restore both."""
    import mlflow

    previous, environment = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if environment is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = environment
