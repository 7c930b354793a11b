"""Small feature tables with a planted signal, and an MLflow store per test in tmp_path."""

from __future__ import annotations

import logging

import mlflow
import numpy as np
import pandas as pd
import pytest

from training.experiment import TrainingOptions


def feature_table(n_accounts: int = 300, n_dates: int = 6, *, seed: int = 0, unlabelled_last: bool = True) -> pd.DataFrame:
    """Monthly rows per account in the shape of ``churn features`` output.

    Churn rises as logins fall (monotone), at both ends of ``usage__sessions_trend`` (a U shape
    that a linear model cannot see) and on the basic plan; ``noise__value`` carries nothing.
    The last date has no labels yet when ``unlabelled_last``.
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"acc-{i:04d}" for i in range(n_accounts)])
    plans = rng.choice(["basic", "pro", "enterprise"], size=n_accounts, p=[0.4, 0.4, 0.2])
    industries = rng.choice(["retail", "saas", "finance", "health"], size=n_accounts)
    created = rng.integers(0, 1200, size=n_accounts)
    health = rng.normal(size=n_accounts)
    dates = pd.date_range("2024-01-01", periods=n_dates, freq="MS")
    frames = []
    for step, as_of in enumerate(dates):
        logins = rng.poisson(np.exp(2.0 + 0.6 * health + rng.normal(0, 0.3, n_accounts)))
        trend = rng.normal(0, 1, n_accounts)
        logit = -3.2 - 0.9 * (health + rng.normal(0, 0.3, n_accounts)) + 1.3 * (trend**2 - 1) + 0.7 * (plans == "basic")
        churned = (rng.random(n_accounts) < 1 / (1 + np.exp(-logit))).astype(float)
        if unlabelled_last and step == n_dates - 1:
            churned[:] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "account_id": ids,
                    "as_of": as_of,
                    "churned": pd.array(churned, dtype="Int8"),
                    "usage__logins__30d": logins,
                    "usage__sessions_trend__30d": trend,
                    "noise__value__30d": rng.normal(size=n_accounts),
                    "account__tenure_days": created + 30 * step,
                    "account__plan": plans,
                    "account__attr_industry": industries,
                    "account__constant": 1.0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def make_table():
    return feature_table


@pytest.fixture
def table_file(tmp_path):
    """Write a frame as Parquet (or CSV) in tmp_path and return its path."""

    def write(frame: pd.DataFrame, name: str = "features.parquet"):
        path = tmp_path / name
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path, index=False)
        return path

    return write


@pytest.fixture
def fast_options():
    """Options that keep a test fit to a second or two."""
    return TrainingOptions(cv_folds=2, model_params={"n_estimators": 200, "early_stopping_rounds": 20, "learning_rate": 0.1})


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A fresh SQLite tracking store and artifact folder under tmp_path, for code and CLI alike."""
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    artifacts = str(tmp_path / "mlartifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("CHURN_ARTIFACT_LOCATION", artifacts)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    yield {"uri": uri, "artifacts": artifacts}
    mlflow.set_tracking_uri(previous)
