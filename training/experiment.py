"""One training experiment without any tracking: check the table, split, fit, evaluate.

``prepare`` does every check that can fail on the input, so the tracking entry point can run it
before it opens a run; ``run_experiment`` fits the model and the baseline and measures both.
A notebook can call both and get the same numbers as ``churn train``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from features.errors import ChurnInputError
from training.baseline import fit_baseline
from training.data import TrainingTable, load_training_table, read_table, read_truth
from training.evaluate import classification_metrics, oracle_comparison, segment_metrics, single_feature_auc, summarise_folds
from training.fit import cross_validate, fit_churn_model
from training.model import ChurnModel
from training.split import Split, check_positives, cv_folds, split_rows

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainingOptions:
    """Everything that decides what is trained and whether it may be registered."""

    label: str = "churned"
    id_column: str = "account_id"
    time_column: str | None = None
    exclude: tuple[str, ...] = ()
    seed: int = 0
    tune_trials: int = 0
    cv_folds: int = 5
    validation_fraction: float = 0.2
    holdout_fraction: float = 0.2
    min_train_positives: int = 20
    min_validation_positives: int = 5
    # The quality bar a model must pass to be registered as challenger.
    min_auc: float = 0.6
    max_auc_below_baseline: float = 0.02
    max_single_feature_auc: float = 0.97  # above it a feature alone is suspected of leaking the label
    model_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedData:
    """A checked table, its split and folds, and the truth table when one was given."""

    path: Path
    table: TrainingTable
    split: Split
    folds: list[tuple[np.ndarray, np.ndarray]]
    truth: pd.DataFrame | None

    @property
    def groups(self) -> pd.Series | None:
        return self.table.rows[self.table.id_column] if self.table.time_column else None


@dataclass
class ExperimentResult:
    """The fitted models and every figure measured on them."""

    model: ChurnModel
    baseline: Pipeline
    params: dict[str, Any]
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    cv: dict[str, float]
    baseline_cv: dict[str, float]
    segments: pd.DataFrame
    validation_probability: np.ndarray
    baseline_probability: np.ndarray
    oracle: dict[str, float] | None
    fit_seconds: float
    tuning_trials: pd.DataFrame | None = None
    baseline_oracle: dict[str, float] | None = None
    single_feature_auc: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))

    def quality_failures(self, options: TrainingOptions) -> list[str]:
        """Why this model may not become challenger; empty when it passes the bar."""
        auc, baseline_auc = self.metrics["roc_auc"], self.baseline_metrics["roc_auc"]
        failures = []
        if not auc >= options.min_auc:
            failures.append(f"validation ROC AUC {auc:.3f} is below the minimum {options.min_auc:.3f}")
        if not auc >= baseline_auc - options.max_auc_below_baseline:
            failures.append(
                f"validation ROC AUC {auc:.3f} trails the logistic-regression baseline's {baseline_auc:.3f} "
                f"by more than {options.max_auc_below_baseline:.3f}"
            )
        suspects = self.single_feature_auc[self.single_feature_auc > options.max_single_feature_auc]
        if len(suspects):
            named = ", ".join(f"{name} (AUC {auc:.3f})" for name, auc in suspects.head(5).items())
            failures.append(
                f"{named} alone separate{'s' if len(suspects) == 1 else ''} churned from retained rows almost perfectly "
                f"(above {options.max_single_feature_auc:.2f}): recorded after the churn, like a status or an end date? "
                "Exclude it (--exclude), or raise --max-single-feature-auc if it is known before as_of"
            )
        return failures


def prepare(path: Path, options: TrainingOptions, *, truth_path: Path | None = None) -> PreparedData:
    """Read and check everything; raises ChurnInputError before anything is trained or logged."""
    path = Path(path)
    table = load_training_table(
        read_table(path),
        label=options.label,
        id_column=options.id_column,
        time_column=options.time_column,
        exclude=tuple(options.exclude),
    )
    y = table.y
    needed = options.min_train_positives + options.min_validation_positives
    if table.n_positives < needed:
        raise ChurnInputError(
            f"too few churned rows to learn from: {table.n_positives} of {len(y)} labelled rows, at least {needed} needed",
            table="features",
            column=table.label_column,
        )
    times = table.rows[table.time_column] if table.time_column else None
    groups = table.rows[table.id_column] if table.time_column else None
    split = split_rows(
        y,
        times=times,
        groups=groups,
        validation_fraction=options.validation_fraction,
        holdout_fraction=options.holdout_fraction,
        seed=options.seed,
    )
    check_positives(y, split, min_train=options.min_train_positives, min_validation=options.min_validation_positives)
    folds = cv_folds(y, groups=groups, n_folds=options.cv_folds, seed=options.seed) if options.cv_folds >= 2 else []
    truth = None
    if truth_path is not None:
        if table.time_column is None:
            raise ChurnInputError("matching to the truth needs a time column", table="truth")
        truth = read_truth(truth_path)
    return PreparedData(path=path, table=table, split=split, folds=folds, truth=truth)


def run_experiment(data: PreparedData, options: TrainingOptions, *, on_progress: Progress = lambda m: None) -> ExperimentResult:
    """Tune (optionally), fit the model and the baseline on the split, and evaluate both."""
    table, split, X, y = data.table, data.split, data.table.X, data.table.y
    params = {"random_state": options.seed} | options.model_params
    trials = None
    if options.tune_trials > 0:
        from training.tune import tune_params

        on_progress(f"tuning: {options.tune_trials} trials")
        params, trials = tune_params(
            X, y, split.train, split.holdout, n_trials=options.tune_trials, base_params=params, seed=options.seed, on_progress=on_progress
        )

    strength = single_feature_auc(X.iloc[split.fit_rows], y[split.fit_rows])
    on_progress(f"fitting the model on {len(split.train)} rows, {len(table.feature_columns)} features")
    started = time.perf_counter()
    model = fit_churn_model(X, y, split.train, split.holdout, params)
    fit_seconds = time.perf_counter() - started
    on_progress(f"  {model.best_iteration_} trees in {fit_seconds:.1f}s, {model.calibration} calibration")

    on_progress("fitting the logistic-regression baseline")
    baseline = fit_baseline(X.iloc[split.fit_rows], y[split.fit_rows], seed=options.seed)

    validation_X, validation_y = X.iloc[split.validation], y[split.validation]
    probability = model.predict_proba(validation_X)[:, 1]
    baseline_probability = baseline.predict_proba(validation_X)[:, 1]
    metrics = classification_metrics(validation_y, probability)
    baseline_metrics = classification_metrics(validation_y, baseline_probability)

    cv, baseline_cv = {}, {}
    if data.folds:
        on_progress(f"cross-validating: {len(data.folds)} folds")
        fold_params = params | {"calibration": model.calibration}
        cv = summarise_folds(cross_validate(X, y, data.folds, fold_params, groups=data.groups,
                                            holdout_fraction=options.holdout_fraction, seed=options.seed, on_progress=on_progress))
        baseline_cv = summarise_folds([
            classification_metrics(y[test], fit_baseline(X.iloc[train], y[train], seed=options.seed).predict_proba(X.iloc[test])[:, 1])
            for train, test in data.folds
        ])

    oracle = baseline_oracle = None
    if data.truth is not None:
        validation_rows = table.rows.iloc[split.validation]
        ids, times = validation_rows[table.id_column], validation_rows[table.time_column]
        oracle = oracle_comparison(ids, times, validation_y, probability, data.truth)
        baseline_oracle = oracle_comparison(ids, times, validation_y, baseline_probability, data.truth)
    return ExperimentResult(
        model=model,
        baseline=baseline,
        params=model.get_params(),
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        cv=cv,
        baseline_cv=baseline_cv,
        segments=segment_metrics(table.rows.iloc[split.validation], validation_y, probability),
        validation_probability=probability,
        baseline_probability=baseline_probability,
        oracle=oracle,
        fit_seconds=fit_seconds,
        tuning_trials=trials,
        baseline_oracle=baseline_oracle,
        single_feature_auc=strength,
    )
