"""A logistic-regression baseline, trained on the same rows, so every experiment shows what boosting adds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from training.model import is_categorical


def baseline_pipeline(X: pd.DataFrame, *, C: float = 1.0, seed: int = 0) -> Pipeline:
    """Median-impute with missing indicators and scale the numbers, one-hot the text, then logistic regression.

    Unweighted, so its probabilities are calibrated as they come.
    """
    text = [c for c in X.columns if is_categorical(X[c])]
    numeric = [c for c in X.columns if c not in text]
    numbers = make_pipeline(
        FunctionTransformer(_finite, feature_names_out="one-to-one"),
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
    )
    categories = make_pipeline(
        FunctionTransformer(_text, feature_names_out="one-to-one"),
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        OneHotEncoder(handle_unknown="ignore", min_frequency=5),
    )
    columns = ColumnTransformer([("numeric", numbers, numeric), ("text", categories, text)], sparse_threshold=0.0)
    model = LogisticRegression(C=C, max_iter=2000, random_state=seed)
    return Pipeline([("columns", columns), ("model", model)])


def fit_baseline(X: pd.DataFrame, y: np.ndarray, *, seed: int = 0) -> Pipeline:
    return baseline_pipeline(X, seed=seed).fit(X, y)


def _finite(frame: pd.DataFrame) -> np.ndarray:
    values = frame.apply(pd.to_numeric, errors="coerce").astype("float64").to_numpy()
    return np.where(np.isfinite(values), values, np.nan)


def _text(frame: pd.DataFrame) -> np.ndarray:
    return frame.astype("string").astype(object).where(frame.notna(), np.nan).to_numpy()
