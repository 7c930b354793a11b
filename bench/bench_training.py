"""Training time of the churn model on 1,000,000 rows x 100 features (target: 60 s on 2 cores).

A synthetic numeric frame with a planted signal (about 3% churners): ten informative
features, a few with non-linear effects, and ninety of noise. The timed part is exactly what
``churn train`` runs for the model: ``ChurnModel.fit`` with a holdout for early stopping and
calibration, using the default parameters. With ``--compare-all-rows`` the same fit is repeated
without the row budget (``max_train_rows``), so the time and accuracy the sampling trades are
measured side by side in one run.

    .venv/bin/python bench/bench_training.py [--rows 1000000] [--features 100] [--threads 2] [--compare-all-rows]

The figures are printed and written to bench/out/training.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from training.model import ChurnModel


def synthetic_frame(n_rows: int, n_features: int, *, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, 0/1 labels and the true churn probabilities they were drawn from."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    logit = -5.0 + values[:, :10] @ np.linspace(0.8, 0.1, 10) + 0.6 * (values[:, 10] ** 2 - 1) + 0.5 * (values[:, 11] > 1)
    probability = 1 / (1 + np.exp(-logit))
    y = (rng.random(n_rows) < probability).astype(np.int8)
    values[rng.random((n_rows, n_features)) < 0.02] = np.nan
    return pd.DataFrame(values, columns=[f"bench__f{j:03d}__30d" for j in range(n_features)]), y, probability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-bin", type=int, default=ChurnModel().max_bin)
    parser.add_argument("--learning-rate", type=float, default=ChurnModel().learning_rate)
    parser.add_argument("--max-train-rows", type=int, default=ChurnModel().max_train_rows, help="0: every row.")
    parser.add_argument("--compare-all-rows", action="store_true", help="Also fit on every row, in the same run.")
    parser.add_argument("--out", type=Path, default=Path("bench/out/training.json"))
    args = parser.parse_args()

    load_at_start = os.getloadavg()
    X, y, _ = synthetic_frame(args.rows, args.features)
    n_holdout = args.rows // 10
    train_X, train_y = X.iloc[:-n_holdout], y[:-n_holdout]
    holdout = (X.iloc[-n_holdout:], y[-n_holdout:])
    test_X, test_y, test_truth = synthetic_frame(200_000, args.features, seed=1)

    oracle_auc = roc_auc_score(test_y, test_truth)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {args.threads} threads")
    print(f"data: {args.rows:,} rows x {args.features} features, {y.mean():.1%} churned; "
          f"test: 200,000 fresh rows, ROC AUC of the true probabilities {oracle_auc:.4f}")

    def fit(max_train_rows: int | None) -> dict:
        model = ChurnModel(n_jobs=args.threads, max_bin=args.max_bin, learning_rate=args.learning_rate, max_train_rows=max_train_rows)
        started = time.perf_counter()
        model.fit(train_X, train_y, holdout=holdout)
        seconds = time.perf_counter() - started
        auc = float(roc_auc_score(test_y, model.predict_proba(test_X)[:, 1]))
        print(f"fit with max_train_rows={max_train_rows}: {seconds:.1f} s (target <= 60 s); trees learnt from "
              f"{model.n_tree_rows_:,} of {model.n_train_rows_:,} rows; {model.best_iteration_} trees kept "
              f"(learning rate {model.learning_rate}, {model.max_bin} bins, early stopping after "
              f"{model.early_stopping_rounds} rounds); test ROC AUC {auc:.4f}", flush=True)
        return {"max_train_rows": max_train_rows, "tree_rows": model.n_tree_rows_, "trees": model.best_iteration_,
                "learning_rate": model.learning_rate, "max_bin": model.max_bin, "fit_seconds": seconds, "test_roc_auc": auc}

    fits = [fit(args.max_train_rows or None)]
    if args.compare_all_rows:
        fits.append(fit(None))
        print(f"row budget vs every row: {fits[0]['fit_seconds'] / fits[1]['fit_seconds']:.2f}x the time, "
              f"test ROC AUC {fits[0]['test_roc_auc'] - fits[1]['test_roc_auc']:+.4f}")

    report = {
        "machine": {"cpus": os.cpu_count(), "threads": args.threads, "python": platform.python_version(),
                    "load_average_at_start": list(load_at_start)},
        "data": {"rows": args.rows, "features": args.features, "churn_rate": float(y.mean())},
        "fits": fits,
        "fit_seconds": fits[0]["fit_seconds"],
        "target_seconds": 60,
        "test_roc_auc": fits[0]["test_roc_auc"],
        "oracle_roc_auc": float(oracle_auc),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
