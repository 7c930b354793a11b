"""``churn score``: every row of a feature table scored like the API, streamed in chunks to Parquet.

The output has the API's fields (account_id, churn_probability, risk_tier, top_drivers,
missing_features), the table's as_of when it has one, and the model's name and version. A
driver's ``value`` is text here (a number or a category in one Parquet column). The file appears
only when complete: chunks go to a temporary file that is renamed at the end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.errors import ChurnInputError
from serving.encoding import FeatureEncoding
from serving.loaded_model import LoadedModel, check_columns, load_model
from serving.scoring import Scores
from training.data import check_table_type, parse_times, read_table

DRIVER_TYPE = pa.struct([("feature", pa.string()), ("value", pa.string()), ("contribution", pa.float64())])


@dataclass(frozen=True)
class BatchReport:
    out: Path
    rows: int
    seconds: float
    model_name: str | None
    model_version: str | None

    def describe(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else float("inf")
        return (
            f"Scored {self.rows:,} rows with {self.model_name or 'model'} version {self.model_version or '-'} "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s) -> {self.out}"
        )


def score_file(
    model_uri: str,
    features_path: Path,
    out_path: Path,
    *,
    tracking_uri: str,
    chunk_rows: int = 50_000,
    top_drivers: int = 5,
    on_progress: Callable[[str], None] = lambda message: None,
) -> BatchReport:
    """Score every row of ``features_path`` (Parquet, or CSV or a workbook as ``churn train`` reads them) into
    ``out_path`` (Parquet).

    Rows are found by the columns the model was trained with (``TableKeys``): a flat table keyed by
    ``customerID`` is scored by it, and the id is written as ``account_id``, the API's name for it.
    """
    features_path, out_path = Path(features_path), Path(out_path)
    if out_path.suffix != ".parquet":
        raise ChurnInputError("the output must be a .parquet file", table=str(out_path))
    if not features_path.is_file():
        raise ChurnInputError("no such file", table=str(features_path))
    check_table_type(features_path, table=str(features_path))
    loaded = _load(model_uri, tracking_uri=tracking_uri, top_drivers=top_drivers)

    started = time.perf_counter()
    partial = out_path.with_name(f".{out_path.name}.{os.getpid()}.partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    writer = None
    try:
        for frame, keys in _chunks(features_path, loaded, chunk_rows):
            scores = loaded.score(loaded.model.encode(frame))
            table = scores_table(scores, loaded, keys)
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table)
            rows += len(frame)
            on_progress(f"scored {rows:,} rows")
        if writer is None:
            raise ChurnInputError("the feature table has no rows", table=str(features_path))
        writer.close()
        writer = None
        os.replace(partial, out_path)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    source_ref = loaded.source
    return BatchReport(out_path, rows, time.perf_counter() - started, source_ref.name, source_ref.version)


def _chunks(path: Path, loaded: LoadedModel, chunk_rows: int) -> Iterator[tuple[pd.DataFrame, dict[str, pa.Array]]]:
    """(features, {"account_id": ids, ["as_of": dates]}) per chunk of rows: Parquet read a chunk at a time, CSV or a
    workbook read whole, as training reads it (the model reads a blank cell of a numeric feature as missing)."""
    if path.suffix.lower() not in (".parquet", ".pq"):
        frame = read_table(path, table=str(path))
        keys, columns = _columns(list(frame.columns), loaded, table=str(path))
        features = frame[columns]
        if "as_of" in keys:  # dates, as a Parquet table's scores have them, not text
            time = keys["as_of"]
            features = features.assign(**{time: parse_times(features[time], time, table=str(path))})
        for start in range(0, len(features), chunk_rows):
            chunk = features.iloc[start : start + chunk_rows]
            yield chunk, {key: pa.array(chunk[column], from_pandas=True) for key, column in keys.items()}
        return
    source = pq.ParquetFile(path)
    keys, columns = _columns(source.schema_arrow.names, loaded, table=str(path))
    for batch in source.iter_batches(batch_size=chunk_rows, columns=columns):
        yield batch.to_pandas(), {key: batch.column(column) for key, column in keys.items()}


def _columns(names: list[str], loaded: LoadedModel, *, table: str) -> tuple[dict[str, str], list[str]]:
    """Output key → the table's column ({"account_id": id, "as_of": date when present}), and the columns to read."""
    check_columns(names, loaded.keys, loaded.encoding.names, table=table)
    id_column, time_column = loaded.keys.id_column, loaded.keys.time_column
    keys = {"account_id": id_column} | ({"as_of": time_column} if time_column in names else {})
    return keys, list(dict.fromkeys([*keys.values(), *(name for name in loaded.encoding.names if name in names)]))


def _load(model_uri: str, *, tracking_uri: str, top_drivers: int) -> LoadedModel:
    from mlflow.exceptions import MlflowException

    try:
        return load_model(model_uri, tracking_uri=tracking_uri, top_drivers=top_drivers)
    except MlflowException as exc:
        raise ChurnInputError(f"cannot load the model: {exc.message}", table=model_uri) from None


def scores_table(scores: Scores, loaded: LoadedModel, keys: dict[str, pa.Array]) -> pa.Table:
    """One chunk's scores as an Arrow table, built column-wise (no per-row Python objects)."""
    n = len(scores)
    source = loaded.source
    columns = {
        **keys,
        "churn_probability": pa.array(scores.probability),
        "risk_tier": pa.array(scores.tier.astype(str)),
        "top_drivers": _drivers_column(scores, loaded.encoding),
        "missing_features": _missing_column(scores.matrix, loaded.encoding),
        "model_name": pa.array([source.name] * n, pa.string()),
        "model_version": pa.array([source.version] * n, pa.string()),
    }
    return pa.table(columns)


def _drivers_column(scores: Scores, encoding: FeatureEncoding) -> pa.ListArray:
    present = scores.driver_columns >= 0
    rows, slots = np.nonzero(present)
    features = scores.driver_columns[rows, slots]
    raw = scores.matrix[rows, features]
    text = pc.cast(pa.array(raw, from_pandas=True), pa.string()).to_numpy(zero_copy_only=False).astype(object)
    for column, categories in encoding.categories.items():
        here = (features == column) & ~np.isnan(raw)
        text[here] = np.asarray(categories, dtype=object)[raw[here].astype(np.int64)]
    drivers = pa.StructArray.from_arrays(
        [
            pa.array(np.asarray(encoding.names, dtype=object)[features], pa.string()),
            pa.array(text, pa.string()),
            pa.array(scores.driver_contributions[rows, slots]),
        ],
        fields=list(DRIVER_TYPE),
    )
    return pa.ListArray.from_arrays(_offsets(present), drivers)


def _missing_column(matrix: np.ndarray, encoding: FeatureEncoding) -> pa.ListArray:
    unknown = np.isnan(matrix)
    _, columns = np.nonzero(unknown)
    names = pa.array(np.asarray(encoding.names, dtype=object)[columns], pa.string())
    return pa.ListArray.from_arrays(_offsets(unknown), names)


def _offsets(mask: np.ndarray) -> pa.Array:
    return pa.array(np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int32))
