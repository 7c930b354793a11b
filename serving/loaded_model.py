"""Everything a serving process needs from one model version, loaded once and never changed.

A reload builds a new ``LoadedModel`` beside the old one and the app swaps its reference in one
assignment; a request keeps the object it started with, so a reload never disturbs it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import ChurnInputError
from serving.encoding import FeatureEncoding
from serving.scoring import Scores, score_matrix
from serving.trees import TreeTables, compile_trees
from training.data import parse_times, read_table
from training.model import ChurnModel
from training.pyfunc import TableKeys

_ALIAS_URI = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)/?$")
_VERSION_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")
_RUN_URI = re.compile(r"^runs:/(?P<run_id>[^/]+)/")


@dataclass(frozen=True)
class ModelSource:
    """Which registered version (when known) a model URI resolves to right now."""

    uri: str
    name: str | None = None
    alias: str | None = None
    version: str | None = None
    run_id: str | None = None

    def reference(self) -> dict[str, str | None]:
        """Name, version, alias and run id, as every response reports them (``schemas.ModelRef``)."""
        return {"name": self.name, "version": self.version, "alias": self.alias, "run_id": self.run_id}

    @property
    def pinned_uri(self) -> str:
        """The URI of exactly this version, so an alias moving mid-load cannot mix two versions."""
        return f"models:/{self.name}/{self.version}" if self.name and self.version else self.uri


@dataclass(frozen=True)
class Snapshot:
    """The latest rows of a feature table, scored once when the model is loaded."""

    source: str
    as_of: str | None
    account_ids: list[str]
    row_of: Mapping[str, int]
    scores: Scores


@dataclass(frozen=True)
class LoadedModel:
    source: ModelSource
    metrics: Mapping[str, float]
    loaded_at: datetime
    model: ChurnModel
    keys: TableKeys
    tables: TreeTables
    encoding: FeatureEncoding
    top_drivers: int
    snapshot: Snapshot | None

    def score(self, matrix: np.ndarray) -> Scores:
        return score_matrix(self.model, self.tables, matrix, top_drivers=self.top_drivers)


def resolve_source(model_uri: str, *, tracking_uri: str) -> ModelSource:
    """The registered name, version and run behind ``model_uri``; an alias is looked up now."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    if match := _ALIAS_URI.match(model_uri):
        try:
            version = client.get_model_version_by_alias(match["name"], match["alias"])
        except MlflowException as exc:
            raise MlflowException(f"{exc.message} ({_aliases_held(client, match['name'])})") from None
        return ModelSource(model_uri, match["name"], match["alias"], str(version.version), version.run_id)
    if match := _VERSION_URI.match(model_uri):
        version = client.get_model_version(match["name"], match["version"])
        return ModelSource(model_uri, match["name"], None, str(version.version), version.run_id)
    if match := _RUN_URI.match(model_uri):
        return ModelSource(model_uri, run_id=match["run_id"])
    return ModelSource(model_uri)


def _aliases_held(client, name: str) -> str:
    """Which versions of ``name`` hold an alias, for an error naming one none holds: a model trained but not yet
    promoted is the usual cause."""
    from mlflow.exceptions import MlflowException

    try:
        aliases = client.get_registered_model(name).aliases  # alias → version
    except MlflowException:
        return f"no model {name!r} is registered: `churn train` registers one"
    held = [f"version {version} is @{alias}" for alias, version in sorted(aliases.items(), key=lambda item: item[::-1])]
    return f"{'; '.join(held) or f'no version of {name!r} has an alias'}; `churn promote` makes the challenger champion"


def artifact_location(source: ModelSource, *, tracking_uri: str) -> str:
    """Where a registered version's files are stored, looked up in *this* store.

    MLflow resolves a ``models:/`` URI through the process-wide registry URI whatever store is
    passed to it, so a registered version is turned into its storage location here instead.
    """
    from mlflow import MlflowClient

    if not (source.name and source.version):
        return source.uri
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    return client.get_model_version_download_uri(source.name, source.version)


def load_model(
    model_uri: str,
    *,
    tracking_uri: str,
    features_path: Path | None = None,
    top_drivers: int = 5,
) -> LoadedModel:
    """Load the version ``model_uri`` points to, compile its trees and score the snapshot, if any."""
    import mlflow

    from training.pyfunc import load_churn_model, load_table_keys

    source = resolve_source(model_uri, tracking_uri=tracking_uri)
    with tempfile.TemporaryDirectory(prefix="churn-model-") as folder:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=artifact_location(source, tracking_uri=tracking_uri), dst_path=folder, tracking_uri=tracking_uri
        )
        model, keys = load_churn_model(local), load_table_keys(local)
    metrics: Mapping[str, float] = {}
    if source.run_id:
        metrics = dict(mlflow.MlflowClient(tracking_uri=tracking_uri).get_run(source.run_id).data.metrics)
    tables = compile_trees(model.booster_)
    encoding = FeatureEncoding.of(model)
    snapshot = None
    if features_path is not None:
        snapshot = score_snapshot(model, keys, tables, features_path, top_drivers=top_drivers)
    return LoadedModel(
        source=source,
        metrics=metrics,
        loaded_at=datetime.now(timezone.utc),
        model=model,
        keys=keys,
        tables=tables,
        encoding=encoding,
        top_drivers=top_drivers,
        snapshot=snapshot,
    )


def score_snapshot(
    model: ChurnModel, keys: TableKeys, tables: TreeTables, features_path: Path, *, top_drivers: int
) -> Snapshot:
    frame, as_of = read_latest_snapshot(features_path, model.feature_names_, keys)
    account_ids = frame[keys.id_column].astype("string").tolist()
    duplicated = pd.Index(account_ids).duplicated()
    if duplicated.any():
        raise ChurnInputError(
            f"{int(duplicated.sum())} account ids appear more than once in the latest snapshot, e.g. "
            f"{account_ids[int(np.argmax(duplicated))]!r}",
            table=str(features_path),
            column=keys.id_column,
        )
    scores = score_matrix(model, tables, model.encode(frame), top_drivers=top_drivers)
    return Snapshot(
        source=str(features_path),
        as_of=as_of,
        account_ids=account_ids,
        row_of={account_id: i for i, account_id in enumerate(account_ids)},
        scores=scores,
    )


def read_latest_snapshot(
    path: Path, feature_names: list[str], keys: TableKeys = TableKeys()
) -> tuple[pd.DataFrame, str | None]:
    """The rows of a feature table (Parquet, CSV or a workbook) with its latest date (``keys.time_column``); all
    rows when the model was trained without a time column, or the table has none."""
    frame = read_table(path, table=str(path))
    check_columns(frame.columns, keys, feature_names, table=str(path))
    time = keys.time_column
    if time is None or time not in frame.columns:
        return frame, None
    dates = parse_times(frame[time], time, table=str(path))
    latest = dates.max()
    return frame[dates == latest].reset_index(drop=True), latest.date().isoformat()


def check_columns(columns, keys: TableKeys, feature_names: list[str], *, table: str) -> None:
    """A table to score holds the id column the model was trained with (or it cannot say whose each score is),
    and some of the model's features."""
    if keys.id_column not in columns:
        trained = "" if keys.id_column == "account_id" else " (the model was trained on a table keyed by it)"
        raise ChurnInputError(f"the feature table has no {keys.id_column} column{trained}", table=table, column=keys.id_column)
    if not any(name in columns for name in feature_names):
        raise ChurnInputError("none of the model's features are in this table", table=table)
