"""Optuna search over the model's parameters, judged on the holdout so validation stays untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna
import pandas as pd
from sklearn.metrics import roc_auc_score

from training.fit import fit_churn_model


def suggest_params(trial: optuna.Trial) -> dict[str, Any]:
    """The search space: tree size, learning rate, regularisation, sampling and class weighting."""
    return {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 7, 127, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 300, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": trial.suggest_float("bagging_fraction", 0.5, 1.0),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        "class_weight": trial.suggest_categorical("class_weight", [None, "balanced"]),
    }


def tune_params(
    X: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray,
    *,
    n_trials: int,
    base_params: dict[str, Any],
    seed: int = 0,
    on_progress: Callable[[str], None] = lambda message: None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Best parameters by holdout ROC AUC of the raw scores, and every trial's parameters and score.

    The holdout also drives early stopping, so its score is a little optimistic; it only ranks
    the trials, and the chosen model is still judged on the untouched validation rows.
    A seeded TPE sampler and trials run one at a time make the search repeatable.
    """
    holdout_X, holdout_y = X.iloc[holdout], y[holdout]

    def objective(trial: optuna.Trial) -> float:
        params = base_params | suggest_params(trial)
        model = fit_churn_model(X, y, train, holdout, params)
        score = float(roc_auc_score(holdout_y, model.predict_margin(model.encode(holdout_X))))
        trial.set_user_attr("trees", model.best_iteration_)
        on_progress(f"  trial {trial.number + 1}/{n_trials}: holdout ROC AUC {score:.4f}")
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, n_jobs=1)
    trials = study.trials_dataframe(attrs=("number", "value", "params", "user_attrs"))
    return base_params | study.best_params, trials
