"""`churn train` and `churn promote`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from churn.cli._common import clean_errors, progress
from churn.settings import Settings


def train(
    features: Annotated[Path, typer.Option(
        help="Feature table, Parquet, CSV or a workbook: `churn features` output or your own customer table."
    )],
    label: Annotated[str, typer.Option(help="Label column: boolean, 0/1 or two-valued text (yes/no, churned/active, ...).")] = "churned",
    id: Annotated[str, typer.Option("--id", help="Account id column; never a feature.")] = "account_id",
    time: Annotated[
        Optional[str], typer.Option(help="Observation-date column for a backtest split. Default: as_of when present, else a random split.")
    ] = None,
    experiment: Annotated[Optional[str], typer.Option(help="MLflow experiment name (default from settings).")] = None,
    register: Annotated[Optional[str], typer.Option("--register", help="Registered model name (default from settings).")] = None,
    tune: Annotated[int, typer.Option(min=0, help="Optuna trials before the final fit; 0 skips tuning.")] = 0,
    truth: Annotated[Optional[Path], typer.Option(help="The generator's truth.parquet, for the oracle AUC.")] = None,
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help="Column never to use as a feature; repeatable.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; the same data and seed give the same metrics.")] = 0,
    cv_folds: Annotated[int, typer.Option(min=0, help="Cross-validation folds for the spread of each metric; 0 or 1 skips.")] = 5,
    min_auc: Annotated[float, typer.Option(help="Validation ROC AUC a model needs to be registered as challenger.")] = 0.6,
    max_single_feature_auc: Annotated[
        float,
        typer.Option(help="ROC AUC above which one feature alone is taken for a leak of the label, and the model is not registered."),
    ] = 0.97,
    class_weight: Annotated[
        Optional[str], typer.Option(help="'balanced' up-weights churners while boosting; the calibrator maps scores back.")
    ] = None,
    max_train_rows: Annotated[
        Optional[int],
        typer.Option(
            min=0,
            help="Row budget for the trees (default 300,000): above it every churner is kept and retained rows "
            "are sampled, weighted back to their share. 0 trains on every row.",
        ),
    ] = None,
) -> None:
    """Train a calibrated churn model and a baseline, log both to MLflow, and register a passing model as challenger."""
    from training.experiment import TrainingOptions
    from training.pipeline import train as train_model

    settings = Settings()
    mlflow = _tracking(settings)
    model_params = {}  # only what was asked for; the model's defaults stand for the rest
    if class_weight:
        model_params["class_weight"] = class_weight
    if max_train_rows is not None:
        model_params["max_train_rows"] = max_train_rows or None
    options = TrainingOptions(
        label=label, id_column=id, time_column=time, exclude=tuple(exclude or ()), seed=seed,
        tune_trials=tune, cv_folds=cv_folds, min_auc=min_auc, max_single_feature_auc=max_single_feature_auc,
        model_params=model_params,
    )
    with clean_errors():
        result = train_model(
            features,
            options,
            experiment=experiment or settings.experiment,
            artifact_location=_artifact_location(settings.artifact_location),
            model_name=register or settings.model_name,
            truth_path=truth,
            on_progress=progress,
        )
    typer.echo(result.describe())
    typer.echo(f"\nopen the run: mlflow ui --backend-store-uri {mlflow.get_tracking_uri()}")
    typer.echo(f"  then http://127.0.0.1:5000/#/experiments/{result.experiment_id}/runs/{result.run_id}")


def promote(
    model: Annotated[Optional[str], typer.Option(help="Registered model name (default from settings).")] = None,
    force: Annotated[bool, typer.Option(help="Promote the challenger even if it scores worse than the champion.")] = False,
) -> None:
    """Move alias `champion` to the challenger if it scores at least as well on the challenger's validation rows."""
    from training.registry import promote as promote_model

    settings = Settings()
    _tracking(settings)
    with clean_errors():
        outcome = promote_model(model or settings.model_name, force=force)
    typer.echo(outcome.describe())


def _tracking(settings: Settings):
    """Point MLflow at the configured store and keep its console output to warnings."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    mlflow.set_tracking_uri(settings.tracking_uri)
    return mlflow


def _artifact_location(location: str) -> str:
    """A relative folder is taken from the working directory, so the experiment records where it is."""
    return location if "://" in location else Path(location).resolve().as_uri()


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(promote)
