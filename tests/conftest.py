"""Fixtures shared across test packages."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import mlflow
import pytest

ROOT = Path(__file__).resolve().parents[1]
FAST_MODEL = {"n_estimators": 200, "early_stopping_rounds": 20, "learning_rate": 0.1}


def training_tables():
    """``tests/training/conftest.py`` as a module, for its ``feature_table`` with a planted signal."""
    spec = importlib.util.spec_from_file_location("training_tables", ROOT / "tests" / "training" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def review_registry(tmp_path_factory) -> dict:
    """A tracking store with two trainings of one small table: version 1 champion, version 2 challenger.

    Version 2 is trained without the logins feature, so the two models differ. Built once for the
    review module's tests and for notebook 02, since creating a store and logging runs takes seconds.
    The tracking URI is restored afterwards; tests that read the store set it themselves.
    """
    from training.experiment import TrainingOptions
    from training.pipeline import train
    from training.registry import promote

    folder = tmp_path_factory.mktemp("review-store")
    features = folder / "features.parquet"
    training_tables().feature_table(300, 6).to_parquet(features, index=False)
    store = {"uri": f"sqlite:///{folder}/mlflow.db", "experiment": "review", "model_name": "review-model",
             "features": features}
    artifacts = str(folder / "mlartifacts")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(store["uri"])
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    try:
        store["first"] = train(features, TrainingOptions(cv_folds=0, model_params=FAST_MODEL), experiment="review",
                               model_name="review-model", artifact_location=artifacts)
        promote("review-model")
        weaker = TrainingOptions(cv_folds=0, exclude=("usage__logins__30d",), min_auc=0.0, max_auc_below_baseline=1.0,
                                 model_params=FAST_MODEL)
        store["second"] = train(features, weaker, experiment="review", model_name="review-model",
                                artifact_location=artifacts)
    finally:
        mlflow.set_tracking_uri(previous)
    return store
