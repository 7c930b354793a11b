"""How good the probabilities are: ranking, calibration and what a retention team gets from the top.

Plain functions of labels and probabilities, so a notebook can call them on any model.
Top-decile figures treat tied scores fairly: rows tied at the cut share the remaining slots
in proportion, so the figures never depend on row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece", "top_decile_lift", "recall_at_top10")
HIGHER_IS_BETTER = {"roc_auc": True, "pr_auc": True, "log_loss": False, "brier": False, "ece": False,
                    "top_decile_lift": True, "recall_at_top10": True}
TENURE_BUCKETS = ((0, 90, "0-90d"), (90, 365, "90-365d"), (365, 730, "1-2y"), (730, np.inf, "2y+"))
EPS = 1e-15


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every validation metric for labels ``y`` (0/1) and churn probabilities ``p``."""
    y = np.asarray(y, dtype=np.int8)
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    two_classes = 0 < y.sum() < len(y)
    return {
        "roc_auc": float(roc_auc_score(y, p)) if two_classes else np.nan,
        "pr_auc": float(average_precision_score(y, p)) if two_classes else np.nan,
        "log_loss": float(log_loss(y, np.clip(p, EPS, 1 - EPS), labels=[0, 1])),
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": top_share_lift(y, p, share=0.1),
        "recall_at_top10": recall_at_top(y, p, share=0.1),
    }


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> float:
    """Mean |predicted - observed| churn rate over ``n_bins`` equal-frequency bins, weighted by size.

    Equal-frequency bins (cut at the deciles of the predicted probability) keep every bin
    populated even though churn probabilities crowd near zero, where equal-width bins would leave
    most empty. Tied probabilities always share a bin, so fewer bins result when many rows tie.
    """
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    gaps = [abs(p[rows].mean() - y[rows].mean()) * len(rows) for rows in quantile_bins(p, n_bins)]
    return float(sum(gaps) / len(y))


def quantile_bins(p: np.ndarray, n_bins: int) -> list[np.ndarray]:
    """Row positions per equal-frequency bin of ``p``, lowest first; empty bins left out."""
    edges = np.quantile(p, np.linspace(0, 1, n_bins + 1)[1:-1])
    bin_of_row = np.searchsorted(edges, p, side="right")
    return [rows for rows in (np.flatnonzero(bin_of_row == b) for b in range(n_bins)) if len(rows)]


def captured_positives(y: np.ndarray, p: np.ndarray, *, share: float) -> float:
    """Expected churners among the ``share`` of rows with the highest scores, ties split evenly."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    slots = share * len(y)
    scores, inverse = np.unique(-p, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(scores)).astype(np.float64)
    positives = np.bincount(inverse, weights=y, minlength=len(scores))
    taken = np.clip(slots - np.concatenate([[0.0], np.cumsum(counts)[:-1]]), 0.0, counts)
    return float((positives * taken / counts).sum())


def recall_at_top(y: np.ndarray, p: np.ndarray, *, share: float = 0.1) -> float:
    """Share of all churners found in the riskiest ``share`` of accounts."""
    total = float(np.sum(y))
    return captured_positives(y, p, share=share) / total if total else np.nan


def top_share_lift(y: np.ndarray, p: np.ndarray, *, share: float = 0.1) -> float:
    """Churn rate in the riskiest ``share`` divided by the overall churn rate."""
    base_rate = float(np.mean(y))
    if not base_rate:
        return np.nan
    return captured_positives(y, p, share=share) / (share * len(y)) / base_rate


def calibration_table(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted and observed churn rate per equal-frequency bin (the reliability curve)."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    bins = quantile_bins(p, n_bins)
    return pd.DataFrame(
        {
            "predicted": [p[rows].mean() for rows in bins],
            "observed": [y[rows].mean() for rows in bins],
            "rows": [len(rows) for rows in bins],
        }
    )


def gains_table(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> pd.DataFrame:
    """Cumulative share of churners captured, and lift, when contacting the top 10%, 20%, ... of accounts."""
    shares = np.arange(1, n_bins + 1) / n_bins
    recall = np.array([recall_at_top(y, p, share=s) for s in shares])
    return pd.DataFrame({"contacted": shares, "captured": recall, "lift": recall / shares})


def single_feature_auc(X: pd.DataFrame, y: np.ndarray, *, bins: int = 20, min_rows: int = 20) -> pd.Series:
    """How well each feature on its own tells churned rows from retained ones, as a ROC AUC from 0.5 up,
    strongest first.

    In churn data a column that alone separates the two almost perfectly has nearly always been
    recorded after the fact (a status, an end date, a cancellation reason), so it is a leak to
    find, not a signal to celebrate. A feature's rows are grouped (text by value; numbers by value
    where one value holds at least a ``bins``-th of the rows, like the zeros of a count, the rest
    into ``bins`` quantile bins; empty as a group of its own) and each group is scored by its
    churn rate, so a feature predicting in either direction, or by being empty, scores high.
    Groups of fewer than ``min_rows`` rows are pooled, so a many-valued text column cannot score
    high by chance.
    """
    y = np.asarray(y, dtype=np.int8)
    scores = {}
    for name in X.columns:
        codes = _value_groups(X[name], bins)
        sizes = np.bincount(codes)
        codes = np.where(sizes[codes] < min_rows, -1, codes) + 1  # 0: the pooled small groups
        scores[str(name)] = _grouped_auc(codes, y)
    return pd.Series(scores, dtype="float64").sort_values(ascending=False)


def _value_groups(column: pd.Series, bins: int) -> np.ndarray:
    """A group number per row: see ``single_feature_auc``."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return pd.factorize(column, use_na_sentinel=False)[0]
    values = pd.Series(column.astype("float64").to_numpy(na_value=np.nan))
    counts = values.value_counts()
    common = values.isin(counts.index[counts >= len(values) / bins])
    rest = values.where(~common)
    if rest.nunique() > bins:  # ranks, so ties share a bin and infinities are ordinary values
        rest = pd.qcut(rest.rank(method="min"), bins, labels=False, duplicates="drop").astype("float64")
    parts = pd.DataFrame({"value": values.where(common), "bin": rest})
    return parts.groupby(["value", "bin"], dropna=False, sort=False).ngroup().to_numpy()


def _grouped_auc(codes: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of scoring each row by its group's positive rate, from per-group counts (rows of equal rate tie)."""
    positives = np.bincount(codes, weights=y).astype("float64")
    negatives = np.bincount(codes, weights=1 - y).astype("float64")
    total_pos, total_neg = positives.sum(), negatives.sum()
    if not total_pos or not total_neg:
        return np.nan
    rate = positives / np.maximum(positives + negatives, 1)
    levels, level = np.unique(rate, return_inverse=True)
    positives, negatives = np.bincount(level, weights=positives), np.bincount(level, weights=negatives)
    negatives_below = np.cumsum(negatives) - negatives
    return float(np.sum(positives * (negatives_below + 0.5 * negatives)) / (total_pos * total_neg))


def find_segment_columns(columns: list[str]) -> dict[str, str]:
    """Plan and tenure columns, found by name: ``...plan`` and ``...tenure...``."""
    found = {}
    plan = [c for c in columns if c.lower().endswith("plan")]
    tenure = [c for c in columns if "tenure" in c.lower()]
    if plan:
        found["plan"] = plan[0]
    if tenure:
        found["tenure"] = tenure[0]
    return found


def tenure_bucket(values: pd.Series, column: str) -> pd.Series:
    """0-90d, 90-365d, 1-2y, 2y+; values are days unless the name says months or years."""
    days = pd.to_numeric(values, errors="coerce").astype("float64")
    name = column.lower()
    if "month" in name:
        days = days * 30.4375
    elif "year" in name:
        days = days * 365.25
    edges = [low for low, _, _ in TENURE_BUCKETS] + [np.inf]
    labels = [label for _, _, label in TENURE_BUCKETS]
    return pd.cut(days, bins=edges, labels=labels, right=False).astype("string").fillna("unknown")


def segment_metrics(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Metrics per plan and per tenure bucket, for whichever of those columns the table has."""
    columns = find_segment_columns([str(c) for c in frame.columns])
    parts = []
    for segment, column in columns.items():
        if segment == "tenure":
            values = tenure_bucket(frame[column], column)
        else:
            values = frame[column].astype("string").fillna("unknown")
        values = values.to_numpy()
        for value in sorted(pd.unique(values)):
            rows = values == value
            parts.append(
                {"segment": segment, "column": column, "value": str(value), "rows": int(rows.sum()),
                 "churned": int(np.sum(y[rows])), "observed_rate": float(np.mean(y[rows])),
                 "mean_predicted": float(np.mean(p[rows]))}
                | classification_metrics(y[rows], p[rows])
            )
    return pd.DataFrame(parts)


def oracle_comparison(
    ids: pd.Series, times: pd.Series, y: np.ndarray, p: np.ndarray, truth: pd.DataFrame
) -> dict[str, float]:
    """ROC AUC of the true churn probabilities on the validation rows, beside the model's on the same rows.

    Rows are matched to the truth on (account, month of the observation date); the ratio
    model / oracle says how much of the learnable signal the model found.
    """
    keys = pd.DataFrame(
        {"account_id": pd.Series(ids).astype("string").to_numpy(),
         "month": pd.to_datetime(pd.Series(times)).dt.to_period("M").to_numpy()}
    )
    truth = truth.drop_duplicates(["account_id", "month"])
    matched = keys.merge(truth, on=["account_id", "month"], how="left", validate="many_to_one")
    found = matched["churn_probability"].notna().to_numpy()
    result = {"match_rate": float(found.mean()) if len(found) else 0.0, "matched_rows": int(found.sum())}
    y_found = np.asarray(y)[found]
    if found.sum() == 0 or y_found.min() == y_found.max():
        return result | {"oracle_auc": np.nan, "model_auc_matched": np.nan, "auc_ratio": np.nan}
    oracle = float(roc_auc_score(y_found, matched["churn_probability"].to_numpy()[found]))
    model = float(roc_auc_score(y_found, np.asarray(p)[found]))
    return result | {"oracle_auc": oracle, "model_auc_matched": model, "auc_ratio": model / oracle}


def summarise_folds(fold_metrics: list[dict[str, float]]) -> dict[str, float]:
    """Mean and standard deviation of each metric over cross-validation folds."""
    table = pd.DataFrame(fold_metrics)
    summary = {}
    for name in table.columns:
        summary[f"cv_{name}_mean"] = float(table[name].mean())
        summary[f"cv_{name}_std"] = float(table[name].std(ddof=1)) if len(table) > 1 else 0.0
    return summary
