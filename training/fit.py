"""Fit the churn model on a split, and cross-validate it for the spread of each metric."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from training.evaluate import classification_metrics
from training.model import ChurnModel
from training.split import stratified_part


def choose_calibration(y_holdout: np.ndarray, *, min_positives_for_isotonic: int = 400) -> str:
    """Isotonic needs a few hundred churners in the calibration half; Platt scaling is safer below that."""
    return "isotonic" if int(np.sum(y_holdout)) // 2 >= min_positives_for_isotonic else "sigmoid"


def threads_for(n_rows: int, *, most: int = 2, rows_per_extra_thread: int = 50_000) -> int:
    """One thread for small tables: LightGBM's threads mostly wait on each other there, and on a
    busy machine they slow each other down; more threads only pay off on tens of thousands of rows."""
    return max(1, min(most, 1 + n_rows // rows_per_extra_thread))


def fit_churn_model(
    X: pd.DataFrame,
    y: np.ndarray,
    train: np.ndarray,
    holdout: np.ndarray,
    params: dict[str, Any],
) -> ChurnModel:
    """A ChurnModel learned on ``train`` rows, early-stopped and calibrated on ``holdout`` rows."""
    settings = {"calibration": choose_calibration(y[holdout]), "n_jobs": threads_for(len(train))} | params
    model = ChurnModel(**settings)
    return model.fit(X.iloc[train], y[train], holdout=(X.iloc[holdout], y[holdout]))


def cross_validate(
    X: pd.DataFrame,
    y: np.ndarray,
    folds: list[tuple[np.ndarray, np.ndarray]],
    params: dict[str, Any],
    *,
    groups: pd.Series | None = None,
    holdout_fraction: float = 0.2,
    seed: int = 0,
    on_progress: Callable[[str], None] = lambda message: None,
) -> list[dict[str, float]]:
    """Validation metrics of each fold; each fold keeps its own (grouped) holdout out of training."""
    results = []
    for number, (fit_rows, test_rows) in enumerate(folds, start=1):
        fold_groups = None if groups is None else groups.iloc[fit_rows]
        train, holdout = stratified_part(fit_rows, y[fit_rows], fold_groups, holdout_fraction, seed)
        model = fit_churn_model(X, y, train, holdout, params)
        probability = model.predict_proba(X.iloc[test_rows])[:, 1]
        results.append(classification_metrics(y[test_rows], probability))
        on_progress(f"  fold {number}/{len(folds)}: ROC AUC {results[-1]['roc_auc']:.3f}")
    return results
