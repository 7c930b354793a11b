"""An experiment's runs side by side, champion against challenger, and what drives the champion's scores.

What ``02_experiment_review.ipynb`` shows. A few readers pull runs, models and validation rows from
the tracking store (the caller sets the tracking URI); the rest are pure functions of frames and
arrays. Metrics come from ``training.evaluate`` and SHAP values from the model itself, so the
notebook's numbers are those ``churn train`` and ``churn promote`` log and decide on.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import ChurnInputError
from training.evaluate import METRICS, classification_metrics, captured_positives
from training.model import ChurnModel
from training.pyfunc import load_churn_model
from training import registry
from training.registry import CHALLENGER, CHAMPION, validation_rows, version_by_alias

MODEL_ROLE = "model"


@dataclass(frozen=True)
class Comparison:
    """Several models' churn probabilities for the same labelled rows, so their figures are comparable."""

    rows: pd.DataFrame
    y: np.ndarray
    scores: dict[str, np.ndarray]

    def metrics(self) -> pd.DataFrame:
        """Every validation metric of every model, one line per model."""
        table = pd.DataFrame({name: classification_metrics(self.y, p) for name, p in self.scores.items()}).T
        return table.rename_axis("model")[list(METRICS)]


# ----------------------------------------------------------------- reading the tracking store
def experiment_runs(experiment: str, *, max_runs: int = 50) -> pd.DataFrame:
    """Finished runs of ``experiment``, newest first, as ``mlflow.search_runs`` returns them."""
    found = mlflow.get_experiment_by_name(experiment)
    if found is None:
        raise ChurnInputError(f"no experiment named {experiment!r} in {mlflow.get_tracking_uri()}", table="tracking")
    return mlflow.search_runs(
        [found.experiment_id], filter_string="attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"], max_results=max_runs,
    )


def registered_versions(model_name: str) -> pd.DataFrame:
    """Every version of ``model_name`` with the run that produced it and its aliases (version, run_id, aliases)."""
    client = MlflowClient()
    try:
        aliases = client.get_registered_model(model_name).aliases
    except MlflowException:
        raise ChurnInputError("no such registered model; run `churn train` first", table="registry", column=model_name) from None
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    rows = [
        {"version": str(v.version), "run_id": v.run_id, "aliases": ", ".join(sorted(by_version.get(str(v.version), [])))}
        for v in client.search_model_versions(f"name='{model_name}'")
    ]
    return pd.DataFrame(rows, columns=["version", "run_id", "aliases"]).sort_values(
        "version", key=lambda v: v.astype(int), ignore_index=True
    )


def run_models(runs: pd.DataFrame, versions: pd.DataFrame | None = None, *, max_models: int = 5) -> dict[str, ChurnModel]:
    """The models logged by the newest ``max_models`` model runs, keyed by ``run_label``.

    Baseline runs log metrics and figures but no model, so they appear only in ``metrics_table``.
    """
    table = metrics_table(runs, versions)
    models = {}
    for _, run in table[table["role"] == MODEL_ROLE].head(max_models).iterrows():
        outputs = mlflow.get_run(run["run_id"]).outputs
        logged = outputs.model_outputs if outputs else []
        if logged:
            models[run_label(run)] = load_churn_model(f"models:/{logged[0].model_id}")
    return models


def compare(models: dict[str, ChurnModel], rows: pd.DataFrame, y: np.ndarray) -> Comparison:
    """Every model scored on the same rows; a column a model needs but the rows lack is scored as missing."""
    return Comparison(rows=rows, y=np.asarray(y), scores={name: model.predict_proba(rows)[:, 1] for name, model in models.items()})


def champion_vs_challenger(model_name: str) -> Comparison:
    """Champion and challenger scored on the challenger run's validation rows, as ``churn promote`` compares them.

    When both aliases point at one version, or there is no champion yet, that one model alone.
    """
    client = MlflowClient()
    challenger, champion = registry.contenders(client, model_name)
    rows, y = validation_rows(client, challenger)
    if champion is None:
        contenders = {f"{CHALLENGER} v{challenger.version}": challenger.version}
    elif champion.version == challenger.version:
        contenders = {f"{CHAMPION} v{champion.version}": champion.version}
    else:
        contenders = {f"{CHAMPION} v{champion.version}": champion.version,
                      f"{CHALLENGER} v{challenger.version}": challenger.version}
    models = {name: load_churn_model(f"models:/{model_name}/{version}") for name, version in contenders.items()}
    return compare(models, rows, y)


def training_features_path(model_name: str, alias: str = CHAMPION) -> str:
    """The feature table the run behind ``@alias`` was trained on (its ``features_path`` parameter)."""
    version = version_by_alias(MlflowClient(), model_name, alias)
    if version is None:
        raise ChurnInputError(f"no version has alias @{alias}", table="registry", column=model_name)
    path = mlflow.get_run(version.run_id).data.params.get("features_path")
    if not path:
        raise ChurnInputError(f"the run of version {version.version} logged no features_path", table="registry")
    return path


# ----------------------------------------------------------------- pure views
def metrics_table(runs: pd.DataFrame, versions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One line per run: name, role, start, split, validation metrics, and the registered version if any."""
    def column(name: str) -> pd.Series:
        return runs[name] if name in runs.columns else pd.Series(np.nan, index=runs.index, dtype=object)

    table = pd.DataFrame({
        "run_id": runs["run_id"],
        "run": column("tags.mlflow.runName"),
        "role": column("tags.role"),
        "started": column("start_time"),
        "split": column("params.split_kind"),
        "validation_rows": pd.to_numeric(column("params.rows_validation"), errors="coerce"),
    })
    for name in METRICS:
        table[name] = pd.to_numeric(column(f"metrics.val_{name}"), errors="coerce")
    table["cv_roc_auc_mean"] = pd.to_numeric(column("metrics.cv_roc_auc_mean"), errors="coerce")
    table["cv_roc_auc_std"] = pd.to_numeric(column("metrics.cv_roc_auc_std"), errors="coerce")
    if versions is not None:
        table = table.merge(versions, on="run_id", how="left")
    else:
        table = table.assign(version=np.nan, aliases=np.nan)
    return table.reset_index(drop=True)


def run_label(run: pd.Series) -> str:
    """A short name for a run in legends: run name, id prefix, and version and aliases when registered."""
    label = f"{run['run']} {str(run['run_id'])[:7]}"
    if isinstance(run.get("version"), str):
        label += f" v{run['version']}"
    if isinstance(run.get("aliases"), str) and run["aliases"]:
        label += " @" + run["aliases"].replace(", ", " @")
    return label


def top_share_overlap(p: np.ndarray, q: np.ndarray, *, share: float = 0.1) -> float:
    """Share of the riskiest ``share`` of rows by ``p`` that are also among the riskiest by ``q``.

    Tells a retention team how much its call list would change if the model changed; ties split
    evenly, as in ``training.evaluate``.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    slots = share * len(p)
    if not slots:
        return np.nan
    return captured_positives(_top_membership(q, share), p, share=share) / slots


def driver_strength(contributions: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Mean |SHAP value| and mean SHAP value per feature, strongest first (log-odds of churn)."""
    values = np.asarray(contributions)[:, : len(names)]
    table = pd.DataFrame({
        "feature": names,
        "mean_abs_shap": np.abs(values).mean(axis=0),
        "mean_shap": values.mean(axis=0),
    })
    return table.sort_values("mean_abs_shap", ascending=False, kind="stable", ignore_index=True)


def top_drivers(contributions: np.ndarray, names: list[str], *, k: int = 3) -> list[list[tuple[str, float]]]:
    """Per row, up to ``k`` features pushing the score up most, as (feature, SHAP value), largest first.

    Only positive contributions count: a driver is a reason the account is at risk. The bias
    column LightGBM appends is ignored.
    """
    values = np.asarray(contributions)[:, : len(names)]
    order = np.argsort(-values, axis=1, kind="stable")[:, :k]
    return [
        [(names[j], float(values[i, j])) for j in order[i] if values[i, j] > 0]
        for i in range(len(values))
    ]


def latest_snapshot(features: pd.DataFrame, *, time_column: str | None = "as_of") -> pd.DataFrame:
    """The rows of the most recent observation date: the accounts as they stand now; every row of a table without
    dates (a flat customer table)."""
    if time_column is None or time_column not in features.columns:
        return features.reset_index(drop=True)
    times = pd.to_datetime(features[time_column])
    return features[times == times.max()].reset_index(drop=True)


def riskiest_accounts(
    model: ChurnModel,
    rows: pd.DataFrame,
    *,
    top: int = 20,
    drivers: int = 3,
    id_column: str = "account_id",
    time_column: str | None = "as_of",
) -> pd.DataFrame:
    """The ``top`` rows by churn probability, each with its tier and its strongest drivers as ``feature = value (+shap)``.

    Ties are broken by id, so the list does not depend on the row order of the table.
    """
    if id_column not in rows.columns:
        raise ChurnInputError("id column not found", table="features", column=id_column)
    matrix = model.encode(rows)
    probability = model.predict_proba(matrix)[:, 1]
    # Ties (calibration maps many scores to one probability) go by id, so row order never matters.
    order = np.lexsort((rows[id_column].astype(str).to_numpy(), -probability))[:top]
    found = top_drivers(model.contributions(matrix[order]), model.feature_names_, k=drivers)
    keep = [id_column] + ([time_column] if time_column in rows.columns else [])
    table = rows.iloc[order][keep].reset_index(drop=True)
    table["churn_probability"] = probability[order]
    table["risk_tier"] = model.risk_tier(probability[order])
    for rank in range(drivers):
        table[f"driver_{rank + 1}"] = [
            _describe_driver(rows.iloc[position], *row_drivers[rank]) if rank < len(row_drivers) else ""
            for position, row_drivers in zip(order, found)
        ]
    return table


def _top_membership(scores: np.ndarray, share: float) -> np.ndarray:
    """Each row's expected place in the top ``share`` by ``scores``: 1 above the cut, a fraction when tied at it."""
    distinct, inverse = np.unique(-scores, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(distinct)).astype(np.float64)
    before = np.concatenate([[0.0], np.cumsum(counts)[:-1]])
    taken = np.clip(share * len(scores) - before, 0.0, counts)
    return (taken / counts)[inverse]


def _describe_driver(row: pd.Series, feature: str, contribution: float) -> str:
    value = row.get(feature)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        shown = "missing"
    elif isinstance(value, (int, float, np.number)):
        shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    else:
        shown = str(value)
    return f"{feature} = {shown} ({contribution:+.2f})"
