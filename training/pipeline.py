"""`churn train`: check the table, fit and evaluate, then log two runs and register a challenger.

The order is the point: every input check runs before the first MLflow call, and the model is
registered (and given alias ``challenger``) only after both runs are logged and only if it
passes the quality bar, so a failure at any step leaves the registry as it was.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.environment_variables import MLFLOW_RUN_ID

from training import plots
from training.data import LABEL, content_fingerprint, file_sha256
from training.evaluate import METRICS
from training.experiment import ExperimentResult, PreparedData, Progress, TrainingOptions, prepare, run_experiment
from training.pyfunc import TableKeys, log_churn_model
from training.registry import CHALLENGER, VALIDATION_ARTIFACT, register_challenger


@dataclass
class TrainingResult:
    """What ``churn train`` reports: the runs, the fitted models with their figures, and the registration."""

    experiment_id: str
    run_id: str
    baseline_run_id: str
    split: str
    evaluation: ExperimentResult
    model_name: str
    registered_version: str | None
    quality_failures: list[str] = field(default_factory=list)

    def describe(self) -> str:
        figures = self.evaluation
        lines = [self.split, "", f"{'validation':<18}{'model':>9}{'baseline':>10}{'cv model (mean ± std)':>25}"]
        for name in METRICS:
            cv = (f"{figures.cv[f'cv_{name}_mean']:.3f} ± {figures.cv[f'cv_{name}_std']:.3f}" if figures.cv else "")
            lines.append(f"{name:<18}{figures.metrics[name]:>9.3f}{figures.baseline_metrics[name]:>10.3f}{cv:>25}")
        if oracle := figures.oracle:
            lines.append(
                f"\noracle ROC AUC {oracle['oracle_auc']:.3f} on {oracle['match_rate']:.1%} of the validation rows; "
                f"model {oracle['model_auc_matched']:.3f}, model / oracle {oracle['auc_ratio']:.3f}"
            )
            if baseline_oracle := figures.baseline_oracle:
                lines[-1] += (f"; baseline {baseline_oracle['model_auc_matched']:.3f}, "
                              f"baseline / oracle {baseline_oracle['auc_ratio']:.3f}")
        lines.append(f"\n{figures.model.best_iteration_} trees fitted in {figures.fit_seconds:.1f}s")
        lines.append(f"model run {self.run_id}, baseline run {self.baseline_run_id} (experiment {self.experiment_id})")
        if self.registered_version:
            lines.append(f"registered {self.model_name} version {self.registered_version} as @{CHALLENGER}")
        else:
            lines.append("not registered: " + "; ".join(self.quality_failures or ["registration turned off"]))
        return "\n".join(lines)


def train(
    features_path: Path,
    options: TrainingOptions,
    *,
    experiment: str = "churn",
    artifact_location: str | None = None,
    model_name: str = "churn-model",
    register: bool = True,
    truth_path: Path | None = None,
    on_progress: Progress = lambda message: None,
) -> TrainingResult:
    """Train on a feature table, log a model run and a baseline run, and register a passing model.

    The tracking URI must already be set by the caller (the entry point).
    """
    on_progress(f"reading {features_path}")
    data = prepare(features_path, options, truth_path=truth_path)
    table = data.table
    on_progress(
        f"{len(table.rows)} labelled rows ({table.n_positives} churned), {table.n_unlabelled} unlabelled left out; "
        f"{len(table.feature_columns)} features; {data.split.describe()}"
    )
    for column, why in table.dropped_columns.items():
        on_progress(f"  not a feature: {column} ({why})")
    result = run_experiment(data, options, on_progress=on_progress)
    failures = result.quality_failures(options)

    on_progress("logging to MLflow")
    experiment_id = _experiment_id(experiment, artifact_location)
    tags = _shared_tags(data, options)
    with mlflow.start_run(experiment_id=experiment_id, run_name="lightgbm") as run:
        mlflow.set_tags(tags | {"role": "model", "quality_bar": "; ".join(failures) or "passed"})
        model_info = _log_model_run(data, result, options)
    with mlflow.start_run(experiment_id=experiment_id, run_name="logistic-regression-baseline") as baseline_run:
        mlflow.set_tags(tags | {"role": "baseline", "model_run_id": run.info.run_id})
        _log_baseline_run(data, result)

    version = None
    if register and not failures:
        version = register_challenger(
            model_info.model_uri, model_name, run_id=run.info.run_id, metrics=result.metrics, baseline_metrics=result.baseline_metrics
        )
        on_progress(f"registered {model_name} version {version} as @{CHALLENGER}")
    return TrainingResult(
        experiment_id=experiment_id,
        run_id=run.info.run_id,
        baseline_run_id=baseline_run.info.run_id,
        split=data.split.describe(),
        evaluation=result,
        model_name=model_name,
        registered_version=version,
        quality_failures=failures,
    )


def _log_model_run(data: PreparedData, result: ExperimentResult, options: TrainingOptions):
    table, split, model = data.table, data.split, result.model
    mlflow.log_params(_run_params(data, options) | {f"model_{k}": v for k, v in result.params.items()}
                      | {"best_iteration": model.best_iteration_})
    strongest = result.single_feature_auc.max() if len(result.single_feature_auc) else np.nan
    mlflow.log_metrics(_prefixed("val_", result.metrics) | result.cv | {"fit_seconds": result.fit_seconds}
                       | ({"max_single_feature_auc": float(strongest)} if np.isfinite(strongest) else {}))
    if result.oracle:
        mlflow.log_metrics({k: v for k, v in result.oracle.items() if np.isfinite(v)})
    _log_inputs(data)

    validation_X, validation_y = table.X.iloc[split.validation], table.y[split.validation]
    scores = {"lightgbm": result.validation_probability, "logistic regression": result.baseline_probability}
    matrix = model.encode(validation_X)
    figures = {
        "roc.png": plots.roc_figure(validation_y, scores),
        "pr.png": plots.pr_figure(validation_y, scores),
        "calibration.png": plots.calibration_figure(validation_y, scores),
        "lift.png": plots.lift_figure(validation_y, scores),
        "feature_importance.png": plots.importance_figure(model.feature_importance()),
        "shap_summary.png": plots.shap_summary_figure(model.contributions(matrix), matrix, model.feature_names_, seed=options.seed),
    }
    for name, figure in figures.items():
        mlflow.log_figure(figure, f"plots/{name}")
    if len(result.segments):
        mlflow.log_table(result.segments, "evaluation/segments.json")
    if result.tuning_trials is not None:
        mlflow.log_table(_json_safe(result.tuning_trials), "tuning/trials.json")
    mlflow.log_dict(_feature_report(data, model) | {"single_feature_auc": result.single_feature_auc.round(4).dropna().to_dict()},
                    "features/feature_list.json")

    validation_rows = table.rows.iloc[split.validation].drop(columns=[table.label_column]).rename(columns={LABEL: table.label_column})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(VALIDATION_ARTIFACT).name
        validation_rows.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=str(Path(VALIDATION_ARTIFACT).parent))

    example = table.X.iloc[split.validation[:5]]
    return log_churn_model(model, input_example=example, keys=TableKeys(table.id_column, table.time_column))


def _log_baseline_run(data: PreparedData, result: ExperimentResult) -> None:
    split, y = data.split, data.table.y
    mlflow.log_params(_run_params(data, None) | {"model": "logistic-regression", "model_C": 1.0})
    mlflow.log_metrics(_prefixed("val_", result.baseline_metrics) | result.baseline_cv)
    if result.baseline_oracle:
        mlflow.log_metrics({k: v for k, v in result.baseline_oracle.items() if np.isfinite(v)})
    scores = {"logistic regression": result.baseline_probability}
    validation_y = y[split.validation]
    mlflow.log_figure(plots.roc_figure(validation_y, scores), "plots/roc.png")
    mlflow.log_figure(plots.calibration_figure(validation_y, scores), "plots/calibration.png")
    mlflow.log_figure(plots.lift_figure(validation_y, scores), "plots/lift.png")


def _run_params(data: PreparedData, options: TrainingOptions | None) -> dict:
    table, split = data.table, data.split
    params = {
        "features_path": str(data.path.resolve()),  # absolute: the notebooks and reviewers read it from anywhere
        "label_column": table.label_column,
        "id_column": table.id_column,
        "time_column": table.time_column or "",
        "split_kind": split.kind,
        "n_features": len(table.feature_columns),
        "rows_train": len(split.train),
        "rows_holdout": len(split.holdout),
        "rows_validation": len(split.validation),
        "positives_validation": int(table.y[split.validation].sum()),
        "cv_folds": len(data.folds),
    }
    if split.validation_dates:
        params["validation_dates"] = ",".join(f"{d:%Y-%m-%d}" for d in split.validation_dates)
    if options is not None:
        params |= {"seed": options.seed, "tune_trials": options.tune_trials, "min_auc": options.min_auc,
                   "max_auc_below_baseline": options.max_auc_below_baseline,
                   "max_single_feature_auc": options.max_single_feature_auc}
    return params


def _log_inputs(data: PreparedData) -> None:
    table, split = data.table, data.split
    columns = [table.id_column] + ([table.time_column] if table.time_column else []) + table.feature_columns
    for context, rows in (("training", split.fit_rows), ("validation", split.validation)):
        frame = table.rows.iloc[rows][columns].assign(**{table.label_column: table.y[rows]})
        with warnings.catch_warnings():
            # MLflow registers two equivalent sources for local paths and warns that it picked one,
            # and hints about integer columns, which matter for a model signature, not a dataset record.
            warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            dataset = mlflow.data.from_pandas(frame, source=str(data.path.resolve()), targets=table.label_column,
                                              name=f"{data.path.stem}-{context}")
            mlflow.log_input(dataset, context=context)


def _feature_report(data: PreparedData, model) -> dict:
    """Feature list with per-feature reference statistics, the baseline for drift checks when serving."""
    return {
        "features": [
            {"name": name, "kind": "categorical" if name in model.categories_ else "numeric",
             "categories": model.categories_.get(name), "reference": model.reference_stats_[name]}
            for name in model.feature_names_
        ],
        "dropped": data.table.dropped_columns,
        "id_column": data.table.id_column,
        "time_column": data.table.time_column,
        "label_column": data.table.label_column,
        "tier_thresholds": list(model.tier_thresholds_),
    }


def _shared_tags(data: PreparedData, options: TrainingOptions) -> dict[str, str]:
    commit, dirty = _git_state()
    return {
        "training_group": uuid.uuid4().hex,
        "git_commit": commit,
        "git_dirty": dirty,
        "data_fingerprint": content_fingerprint(data.table.rows),
        "data_file_sha256": file_sha256(data.path),
        "split_kind": data.split.kind,
        "seed": str(options.seed),
    }


def _experiment_id(name: str, artifact_location: str | None) -> str:
    """The experiment of an enclosing ``mlflow run`` if there is one, else ``name`` (created when new)."""
    project_run = MLFLOW_RUN_ID.get()
    if project_run:
        return mlflow.get_run(project_run).info.experiment_id
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    return mlflow.create_experiment(name, artifact_location=artifact_location)


def _git_state() -> tuple[str, str]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown", "unknown"
    return commit, str(bool(status.strip())).lower()


def _prefixed(prefix: str, metrics: dict[str, float]) -> dict[str, float]:
    return {prefix + k: v for k, v in metrics.items() if v is not None and np.isfinite(v)}


def _json_safe(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(json.loads(frame.to_json(orient="records", date_format="iso")))
