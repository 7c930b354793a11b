"""Writing the tables: streamed row groups into a staging folder that only replaces the output when complete."""

from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from features.synthetic.tables import SCHEMAS, TABLE_NAMES


class TableWriters:
    """One Parquet writer per contract table; each chunk becomes a row group, so memory stays bounded."""

    def __init__(self, folder: Path):
        self._writers = {name: _writer(folder / f"{name}.parquet", SCHEMAS[name]) for name in TABLE_NAMES}

    def write(self, name: str, table: pa.Table) -> None:
        self._writers[name].write_table(table)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    """Delta-encoded timestamps (rows are sorted by account and time) take a third less space than plain ones.

    The Arrow schema is not stored, so readers see plain strings rather than the categories used for writing.
    """
    timestamps = [field.name for field in schema if pa.types.is_timestamp(field.type)]
    return pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        use_dictionary=[field.name for field in schema if field.name not in timestamps],
        column_encoding=dict.fromkeys(timestamps, "DELTA_BINARY_PACKED"),
        store_schema=False,
    )


@contextmanager
def staged_output(out_dir: Path) -> Iterator[Path]:
    """Yield an empty folder next to ``out_dir``; publish it on success, delete it on any failure."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    staging.mkdir()
    try:
        yield staging
        _publish(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out_dir: Path) -> None:
    """A fresh folder is renamed into place; an existing one gets its tables replaced file by file."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    for name in TABLE_NAMES:
        (out_dir / f"{name}.csv").unlink(missing_ok=True)
        os.replace(staging / f"{name}.parquet", out_dir / f"{name}.parquet")
