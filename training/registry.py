"""The model registry: register a challenger, and promote it to champion only when it is as good.

Promotion scores challenger and champion on the same rows (the challenger run's validation
rows), so the comparison is fair even when the champion was trained on older data.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.errors import ChurnInputError
from training.evaluate import classification_metrics
from training.pyfunc import load_churn_model

CHALLENGER = "challenger"
CHAMPION = "champion"
PRIMARY_METRIC = "roc_auc"
SHOWN_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier", "ece")
VALIDATION_ARTIFACT = "validation/validation.parquet"


@dataclass(frozen=True)
class Promotion:
    """The outcome of ``churn promote``: both models' figures on the same rows and what changed."""

    model_name: str
    challenger_version: str
    champion_version: str | None
    challenger_metrics: dict[str, float]
    champion_metrics: dict[str, float] | None
    promoted: bool
    reason: str
    rows: int

    def describe(self) -> str:
        lines = [f"{self.model_name}: challenger v{self.challenger_version}"
                 + (f", champion v{self.champion_version}" if self.champion_version else ", no champion yet")]
        if self.challenger_metrics:
            lines.append(f"scored on the challenger's {self.rows} validation rows")
            header = f"{'':<10}{'challenger':>12}" + (f"{'champion':>12}" if self.champion_metrics else "")
            lines.append(header)
            for name in SHOWN_METRICS:
                row = f"{name:<10}{self.challenger_metrics[name]:>12.4f}"
                if self.champion_metrics:
                    row += f"{self.champion_metrics[name]:>12.4f}"
                lines.append(row)
        lines.append(("promoted: " if self.promoted else "kept the champion: ") + self.reason)
        return "\n".join(lines)


def register_challenger(
    model_uri: str, model_name: str, *, run_id: str, metrics: dict[str, float], baseline_metrics: dict[str, float]
) -> str:
    """Register a new version of ``model_name`` from ``model_uri`` and point ``@challenger`` at it."""
    tags = {f"val_{k}": f"{v:.6f}" for k, v in metrics.items() if np.isfinite(v)}
    tags |= {f"baseline_val_{k}": f"{v:.6f}" for k, v in baseline_metrics.items() if np.isfinite(v)}
    tags["run_id"] = run_id
    version = mlflow.register_model(model_uri, model_name, tags=tags)
    MlflowClient().set_registered_model_alias(model_name, CHALLENGER, version.version)
    return str(version.version)


def promote(model_name: str, *, force: bool = False) -> Promotion:
    """Move ``@champion`` to ``@challenger`` if the challenger scores at least as well on its validation rows.

    The first challenger becomes champion; ``force`` promotes regardless of the comparison.
    The tracking URI must already be set by the caller.
    """
    client = MlflowClient()
    challenger, champion = contenders(client, model_name)
    if champion is not None and champion.version == challenger.version:
        return Promotion(model_name, challenger.version, champion.version, {}, None, False,
                         f"v{challenger.version} is already the champion", 0)

    rows, y = validation_rows(client, challenger)
    challenger_metrics = _score(f"models:/{model_name}/{challenger.version}", rows, y)
    champion_metrics = None
    if champion is not None:
        champion_metrics = _score(f"models:/{model_name}/{champion.version}", rows, y)

    promoted, reason = _decide(challenger_metrics, champion_metrics, force=force)
    if promoted:
        client.set_registered_model_alias(model_name, CHAMPION, challenger.version)
        for name, value in challenger_metrics.items():
            if np.isfinite(value):
                client.set_model_version_tag(model_name, challenger.version, f"promotion_{name}", f"{value:.6f}")
        if champion is not None:
            client.set_model_version_tag(model_name, challenger.version, "replaced_champion", champion.version)
    return Promotion(model_name, challenger.version, champion.version if champion else None,
                     challenger_metrics, champion_metrics, promoted, reason, len(y))


def _decide(challenger: dict[str, float], champion: dict[str, float] | None, *, force: bool) -> tuple[bool, str]:
    if champion is None:
        return True, "the first model becomes champion"
    new, old = challenger[PRIMARY_METRIC], champion[PRIMARY_METRIC]
    comparison = f"challenger ROC AUC {new:.4f} vs champion {old:.4f}"
    if new >= old:
        return True, comparison
    if force:
        return True, comparison + " (forced)"
    return False, comparison + "; the challenger is worse (use --force to promote anyway)"


def contenders(client: MlflowClient, model_name: str):
    """The ``@challenger`` version (which must exist) and the ``@champion`` version (None before the first promotion)."""
    challenger = version_by_alias(client, model_name, CHALLENGER)
    if challenger is None:
        raise ChurnInputError(f"no version has alias @{CHALLENGER}; train a model that passes the quality bar first",
                              table="registry", column=model_name)
    return challenger, version_by_alias(client, model_name, CHAMPION)


def version_by_alias(client: MlflowClient, model_name: str, alias: str):
    try:
        return client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None


def validation_rows(client: MlflowClient, version) -> tuple[pd.DataFrame, np.ndarray]:
    """The validation rows logged by the run that produced ``version``, and their 0/1 labels."""
    run_id = version.run_id or (version.tags or {}).get("run_id")
    if not run_id:
        raise ChurnInputError(f"version {version.version} has no training run to take validation rows from", table="registry")
    label = client.get_run(run_id).data.params.get("label_column", "churned")
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=VALIDATION_ARTIFACT, dst_path=folder)
        except (MlflowException, OSError):
            raise ChurnInputError(f"run {run_id} has no {VALIDATION_ARTIFACT}", table="registry") from None
        rows = pd.read_parquet(Path(path))
    return rows, rows[label].to_numpy(dtype=np.int8)


def _score(model_uri: str, rows: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    model = load_churn_model(model_uri)
    return classification_metrics(y, model.predict_proba(rows)[:, 1])
