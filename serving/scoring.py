"""From an encoded matrix to calibrated probabilities, risk tiers and top drivers, in NumPy.

LightGBM finds each account's leaves (as cheap as a prediction); the raw score and the Saabas
attributions then come from the per-leaf tables of ``serving.trees``, and the model's own
calibrator and tier thresholds finish the job. The API, the snapshot behind
``GET /v1/accounts/{id}/score`` and ``churn score`` all go through ``score_matrix``.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from serving.encoding import FeatureEncoding
from serving.trees import TreeTables, attributions, leaf_rows, margins
from training.model import ChurnModel

# Below this many rows one LightGBM thread answers sooner than two (no hand-off between threads).
_SINGLE_THREAD_ROWS = 256
# From this many rows a batch is split into one part per thread, each scored start to finish on its
# own: LightGBM and SciPy's sparse product release the GIL, so the parts run side by side.
_SPLIT_ROWS = 2048


@dataclass(frozen=True)
class Scores:
    """Scores of a batch, row-aligned with the matrix they came from.

    ``driver_columns`` holds each row's top drivers (feature columns, strongest first), padded
    with -1 where fewer features push the risk up; ``driver_contributions`` their log-odds
    contributions.
    """

    probability: np.ndarray
    tier: np.ndarray
    driver_columns: np.ndarray
    driver_contributions: np.ndarray
    matrix: np.ndarray

    def __len__(self) -> int:
        return len(self.probability)


def score_matrix(model: ChurnModel, tables: TreeTables, matrix: np.ndarray, *, top_drivers: int) -> Scores:
    threads = max(1, model.n_jobs)
    if len(matrix) >= _SPLIT_ROWS and threads > 1:
        parts = np.array_split(matrix, threads)
        with ThreadPoolExecutor(threads) as pool:
            scored = list(pool.map(lambda part: _margins_and_drivers(model, tables, part, top_drivers, threads=1), parts))
        margin, columns, contributions = (np.concatenate(pieces) for pieces in zip(*scored))
    else:
        threads = 1 if len(matrix) < _SINGLE_THREAD_ROWS else threads
        margin, columns, contributions = _margins_and_drivers(model, tables, matrix, top_drivers, threads=threads)
    probability = model.calibrate_margin(margin)
    return Scores(
        probability=probability,
        tier=model.risk_tier(probability),
        driver_columns=columns,
        driver_contributions=contributions,
        matrix=matrix,
    )


def _margins_and_drivers(
    model: ChurnModel, tables: TreeTables, matrix: np.ndarray, top_drivers: int, *, threads: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    leaves = model.booster_.predict(matrix, pred_leaf=True, num_threads=threads)
    rows = leaf_rows(tables, np.atleast_2d(leaves))
    return (margins(tables, rows), *top_positive(attributions(tables, rows), top_drivers))


def select_rows(scores: Scores, rows: list[int] | np.ndarray) -> Scores:
    """The scores of some rows, still row-aligned."""
    return Scores(
        probability=scores.probability[rows],
        tier=scores.tier[rows],
        driver_columns=scores.driver_columns[rows],
        driver_contributions=scores.driver_contributions[rows],
        matrix=scores.matrix[rows],
    )


def top_positive(contributions: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``k`` columns with the largest positive values, largest first; -1 pads the rest."""
    each_row = np.arange(len(contributions))[:, None]
    if 0 < k < contributions.shape[1]:
        candidates = np.argpartition(-contributions, k - 1, axis=1)[:, :k]
        columns = candidates[each_row, np.argsort(-contributions[each_row, candidates], axis=1, kind="stable")]
    else:
        columns = np.argsort(-contributions, axis=1, kind="stable")[:, :k]
    values = contributions[each_row, columns]
    pushing_up = values > 0
    return np.where(pushing_up, columns, -1), np.where(pushing_up, values, 0.0)


def account_results(scores: Scores, encoding: FeatureEncoding, account_ids: list[str]) -> list[dict[str, Any]]:
    """One JSON-ready result per account, in the shape of ``schemas.AccountScore``.

    Driver values are looked up for the whole batch at once; the loop only assembles dicts.
    """
    names = encoding.names
    probability = scores.probability.tolist()
    tier = scores.tier.tolist()
    columns = scores.driver_columns.tolist()
    values = driver_values(scores, encoding)
    contributions = scores.driver_contributions.tolist()
    missing = missing_features(scores.matrix, names)
    return [
        {
            "account_id": account_id,
            "churn_probability": probability[i],
            "risk_tier": tier[i],
            "top_drivers": [
                {"feature": names[j], "value": v, "contribution": c}
                for j, v, c in zip(columns[i], values[i], contributions[i])
                if j >= 0
            ],
            "missing_features": missing[i],
        }
        for i, account_id in enumerate(account_ids)
    ]


def driver_values(scores: Scores, encoding: FeatureEncoding) -> list[list[float | str | None]]:
    """Each driver's value as the client sent it: the number, the category name, or None when unknown."""
    columns = np.maximum(scores.driver_columns, 0)
    raw = scores.matrix[np.arange(len(columns))[:, None], columns]
    values = raw.astype(object)
    values[np.isnan(raw)] = None
    for column, categories in encoding.categories.items():
        here = (columns == column) & ~np.isnan(raw)
        values[here] = np.asarray(categories, dtype=object)[raw[here].astype(np.int64)]
    return values.tolist()


def missing_features(matrix: np.ndarray, names: tuple[str, ...]) -> list[list[str]]:
    """Per row, the features scored as unknown: absent, null, or a category the model never saw."""
    unknown = np.isnan(matrix)
    result: list[list[str]] = [[] for _ in range(len(matrix))]
    for i, j in zip(*np.nonzero(unknown)):
        result[i].append(names[j])
    return result


def tier_counts(scores: Scores) -> dict[str, int]:
    return dict(Counter(scores.tier.tolist()))
