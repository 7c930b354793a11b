"""The churn model: LightGBM ranks accounts, a calibrator fitted on held-out rows makes 0.30 mean 30%.

One object holds everything scoring needs (booster, calibrator, feature order, category codes,
reference statistics, risk-tier thresholds), so training, batch scoring and the API all score
with the same code. It follows scikit-learn: parameters in ``__init__``, checks in ``fit``,
fitted state ending in ``_``, ``predict_proba`` returning probabilities.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from features.errors import ChurnInputError

TIERS = np.array(["low", "medium", "high"])


def is_categorical(series: pd.Series) -> bool:
    """Text and categorical columns become LightGBM categoricals; numbers and booleans stay numeric."""
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def blanks_as_missing(series: pd.Series) -> pd.Series:
    """A text column with its blank cells (empty, or spaces only) missing; any other column as it is.

    A CSV export may write an empty number as a space, which its reader keeps as text.
    """
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return series
    text = series.astype("string").str.strip()
    return text.mask(text == "")


class ChurnModel:
    """Calibrated gradient-boosted churn classifier.

    Parameters
    ----------
    learning_rate, num_leaves, min_child_samples, feature_fraction, bagging_fraction, lambda_l2:
        LightGBM parameters.
    max_bin:
        Histogram bins per feature. 63 trains about twice as fast as LightGBM's 255 and loses
        nothing measurable on churn features (counts, rates, trends).
    n_estimators:
        Upper bound on boosting rounds; early stopping on held-out rows picks the number used.
    early_stopping_rounds:
        Rounds without improvement in held-out log loss before boosting stops.
    class_weight:
        ``"balanced"`` up-weights churners so the trees attend to the rare class; the
        calibrator then maps scores back to true probabilities. ``None`` trains unweighted.
    calibration:
        ``"isotonic"`` (monotone, flexible; wants a few hundred held-out positives) or
        ``"sigmoid"`` (Platt scaling; two parameters, stable on small data).
    tier_quantiles:
        Shares of the held-out population below the medium and high risk tiers: (0.7, 0.9)
        puts the riskiest 10% in "high" and the next 20% in "medium".
    holdout_fraction:
        Share of the training rows kept out for early stopping and calibration when ``fit``
        is not given a holdout of its own.
    max_train_rows:
        Row budget for the trees. A larger table keeps every row of the rarer class (up to
        half the budget) and a random sample of the other, weighted up by the inverse of its
        sampling rate so the trees still see the true balance. Retained customers far
        outnumber churners and carry little information each, so time stops growing with
        the table while accuracy does not suffer; the calibrator still sees held-out rows
        unsampled. ``None`` trains on every row.
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int = 50,
        feature_fraction: float = 0.7,
        bagging_fraction: float = 0.8,
        lambda_l2: float = 10.0,
        max_bin: int = 63,
        n_estimators: int = 3000,
        early_stopping_rounds: int = 100,
        class_weight: str | None = None,
        calibration: str = "isotonic",
        tier_quantiles: tuple[float, float] = (0.7, 0.9),
        holdout_fraction: float = 0.2,
        max_train_rows: int | None = 300_000,
        random_state: int = 0,
        n_jobs: int = 2,
    ):
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.lambda_l2 = lambda_l2
        self.max_bin = max_bin
        self.n_estimators = n_estimators
        self.early_stopping_rounds = early_stopping_rounds
        self.class_weight = class_weight
        self.calibration = calibration
        self.tier_quantiles = tier_quantiles
        self.holdout_fraction = holdout_fraction
        self.max_train_rows = max_train_rows
        self.random_state = random_state
        self.n_jobs = n_jobs

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__init__.__kwdefaults__}

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        X: pd.DataFrame,
        y: np.ndarray | pd.Series,
        *,
        holdout: tuple[pd.DataFrame, np.ndarray | pd.Series] | None = None,
    ) -> ChurnModel:
        """Fit on ``X, y``; early-stop and calibrate on ``holdout`` (half each), or on a split of ``X``.

        A time-aware caller passes the latest training dates as the holdout, so that neither
        early stopping nor calibration sees the rows they will be judged on.
        """
        if self.calibration not in ("isotonic", "sigmoid"):
            raise ChurnInputError(f"unknown calibration {self.calibration!r}; use 'isotonic' or 'sigmoid'", table="model")
        if self.class_weight not in (None, "balanced"):
            raise ChurnInputError(f"unknown class_weight {self.class_weight!r}; use 'balanced' or none", table="model")
        y = _binary_labels(y, "y")
        if holdout is None:
            X, X_hold, y, y_hold = train_test_split(
                X, y, test_size=self.holdout_fraction, stratify=y, random_state=self.random_state
            )
        else:
            X_hold, y_hold = holdout[0], _binary_labels(holdout[1], "holdout labels")
        if self.max_train_rows is not None and self.max_train_rows < 2:
            raise ChurnInputError(f"must be at least 2, got {self.max_train_rows}", table="max_train_rows")
        self._learn_encoding(X)
        stop_idx, calib_idx = _halves(y_hold, self.random_state)
        rows, weights = class_sample(y, self.max_train_rows, self.random_state)

        train_matrix, hold_matrix = self.encode(X if rows is None else X.iloc[rows]), self.encode(X_hold)
        dataset = lgb.Dataset(
            train_matrix,
            label=y if rows is None else y[rows],
            weight=weights,
            feature_name=self.feature_names_,
            categorical_feature=self._categorical_indices() or "auto",
            free_raw_data=True,
        )
        stop_set = dataset.create_valid(hold_matrix[stop_idx], label=y_hold[stop_idx])
        booster = lgb.train(
            self._lgb_params(),
            dataset,
            num_boost_round=self.n_estimators,
            valid_sets=[stop_set],
            # The callback's own first_metric_only: without it, a stall in any metric stops boosting.
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        # Keep only the trees early stopping chose, so every consumer scores the same model.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=self.best_iteration_))

        calib_margin = self.predict_margin(hold_matrix[calib_idx])
        self._fit_calibrator(calib_margin, y_hold[calib_idx])
        calibrated = self.calibrate_margin(calib_margin)
        self.tier_thresholds_ = tuple(float(np.quantile(calibrated, q)) for q in self.tier_quantiles)
        self.reference_stats_ = reference_statistics(X, random_state=self.random_state)
        self.n_train_rows_ = int(len(X))
        self.n_tree_rows_ = int(len(train_matrix))
        return self

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            # Held-out log loss picks the number of trees. ROC AUC, over the few churners of a small company's
            # holdout, moves in steps of noise: it stopped a 600-account model at its first tree.
            "metric": ["binary_logloss", "auc"],
            "first_metric_only": True,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": self.lambda_l2,
            "max_bin": self.max_bin,
            "is_unbalance": self.class_weight == "balanced",
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs,
            "verbosity": -1,
        }

    def _learn_encoding(self, X: pd.DataFrame) -> None:
        if not isinstance(X, pd.DataFrame) or X.shape[1] == 0:
            raise ChurnInputError("no feature columns to learn from", table="features")
        if len(X) == 0:
            raise ChurnInputError("no rows to learn from", table="features")
        self.feature_names_ = [str(c) for c in X.columns]
        self.categories_ = {
            str(col): sorted(map(str, X[col].dropna().unique())) for col in X.columns if is_categorical(X[col])
        }

    def _categorical_indices(self) -> list[int]:
        return [i for i, name in enumerate(self.feature_names_) if name in self.categories_]

    def _fit_calibrator(self, margin: np.ndarray, y: np.ndarray) -> None:
        if self.calibration == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margin, y)
            self.calibrator_ = {"kind": "isotonic", "x": iso.X_thresholds_, "y": iso.y_thresholds_}
        else:
            platt = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)
            self.calibrator_ = {"kind": "sigmoid", "a": float(platt.coef_[0, 0]), "b": float(platt.intercept_[0])}

    # ----------------------------------------------------------------- scoring
    def encode(self, X: pd.DataFrame) -> np.ndarray:
        """The feature matrix in training order: categories as their codes, unknown values and absent columns as NaN."""
        matrix = np.full((len(X), len(self.feature_names_)), np.nan, dtype=np.float64)
        for j, name in enumerate(self.feature_names_):
            if name not in X.columns:
                continue
            column = X[name]
            if name in self.categories_:
                codes = pd.Index(self.categories_[name]).get_indexer(column.astype("string"))  # -1: unseen or empty
                matrix[:, j] = np.where(codes >= 0, codes, np.nan)
            else:
                try:  # a blank cell of a CSV is an empty number, as in training
                    numbers = pd.to_numeric(blanks_as_missing(column), errors="raise")
                    matrix[:, j] = numbers.astype("float64").to_numpy(na_value=np.nan)
                except (TypeError, ValueError):
                    raise ChurnInputError("expected numbers", table="features", column=name) from None
        return matrix

    def predict_margin(self, matrix: np.ndarray) -> np.ndarray:
        """Raw LightGBM scores (log-odds before calibration)."""
        return self.booster_.predict(matrix, raw_score=True, num_threads=self.n_jobs)

    def calibrate_margin(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated churn probabilities from raw scores; plain NumPy, cheap enough for every request."""
        calibrator = self.calibrator_
        if calibrator["kind"] == "isotonic":
            return np.interp(margin, calibrator["x"], calibrator["y"])
        return 1.0 / (1.0 + np.exp(-(calibrator["a"] * margin + calibrator["b"])))

    def predict_proba(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Probabilities of staying and of churning, shape (n, 2), as scikit-learn classifiers return."""
        matrix = X if isinstance(X, np.ndarray) else self.encode(X)
        churn = self.calibrate_margin(self.predict_margin(matrix))
        return np.column_stack([1.0 - churn, churn])

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Exact TreeSHAP contributions to the raw score, shape (n, features + 1); the last column is the bias."""
        return self.booster_.predict(matrix, pred_contrib=True, num_threads=self.n_jobs)

    def risk_tier(self, probability: np.ndarray) -> np.ndarray:
        """low / medium / high by the thresholds fixed at training time."""
        return TIERS[np.searchsorted(np.asarray(self.tier_thresholds_), probability, side="right")]

    def feature_importance(self) -> pd.Series:
        """Total gain per feature, largest first."""
        gain = self.booster_.feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.feature_names_).sort_values(ascending=False)


def class_sample(y: np.ndarray, max_rows: int | None, seed: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Rows to train the trees on within ``max_rows``, and their weights; ``(None, None)`` when all fit.

    The rarer class is kept whole up to half the budget, the other fills the rest; each kept
    row weighs (rows of its class) / (kept rows of its class), so class totals are unchanged.
    """
    if max_rows is None or len(y) <= max_rows:
        return None, None
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(y == label) for label in (0, 1)]
    rare, common = sorted((0, 1), key=lambda label: len(by_class[label]))
    keep = {rare: min(len(by_class[rare]), max_rows // 2)}
    keep[common] = max_rows - keep[rare]
    rows, weights = [], np.ones(len(y))
    for label, index in enumerate(by_class):
        rows.append(rng.choice(index, size=keep[label], replace=False) if keep[label] < len(index) else index)
        weights[index] = len(index) / keep[label]
    chosen = np.sort(np.concatenate(rows))
    return chosen, weights[chosen]


def reference_statistics(X: pd.DataFrame, *, max_rows: int = 100_000, random_state: int = 0) -> dict[str, dict[str, Any]]:
    """Per-feature summary of the training data, kept with the model for drift checks when serving.

    Past ``max_rows`` a random sample stands for the table: its quantiles are within a fraction
    of a percentile of the full ones, at a small part of the cost.
    """
    if len(X) > max_rows:
        X = X.sample(n=max_rows, random_state=random_state)
    stats: dict[str, dict[str, Any]] = {}
    for col in X.columns:
        series = X[col]
        entry: dict[str, Any] = {"missing_rate": float(series.isna().mean())}
        if is_categorical(series):
            shares = series.astype("string").value_counts(normalize=True).head(20)
            entry.update(kind="categorical", top_shares={str(k): float(v) for k, v in shares.items()})
        else:
            values = pd.to_numeric(series, errors="coerce").astype("float64").dropna()
            quantiles = values.quantile([0.01, 0.25, 0.5, 0.75, 0.99]) if len(values) else pd.Series(dtype=float)
            entry.update(
                kind="numeric",
                mean=float(values.mean()) if len(values) else None,
                std=float(values.std()) if len(values) > 1 else None,
                min=float(values.min()) if len(values) else None,
                max=float(values.max()) if len(values) else None,
                quantiles={f"p{int(q * 100):02d}": float(v) for q, v in quantiles.items()},
            )
        stats[str(col)] = entry
    return stats


def _binary_labels(y: np.ndarray | pd.Series, what: str) -> np.ndarray:
    labels = np.asarray(y, dtype=np.float64)
    if labels.ndim != 1 or np.isnan(labels).any() or not np.isin(labels, (0.0, 1.0)).all():
        raise ChurnInputError("labels must be 0 or 1 with no missing values", table=what)
    if len(np.unique(labels)) < 2:
        raise ChurnInputError("labels hold a single class; need both churned and retained rows", table=what)
    return labels.astype(np.int8)


def _halves(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified halves of the holdout: one for early stopping, one for calibration."""
    index = np.arange(len(y))
    if min(np.bincount(y, minlength=2)) < 2:
        raise ChurnInputError("the holdout needs at least two rows of each class", table="holdout")
    first, second = train_test_split(index, test_size=0.5, stratify=y, random_state=seed)
    return np.sort(first), np.sort(second)
