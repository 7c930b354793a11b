"""A company's files, found and opened as tables on either engine: Parquet, CSV or JSON, one file or a folder of parts.

Opening checks only what a file must be to be read at all (CSV lines that parse, JSON that is JSON, a file that is
not empty); the contract (``features.contract``) types the columns and names what else is wrong.
"""

from __future__ import annotations

import contextlib
import gzip
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from features.errors import ChurnInputError

# JSON files a table may be, one object per line or an array of objects.
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
# A date format no value matches: DuckDB then reads no JSON text as a date or time of its own accord.
NO_DATE_FORMAT = "not a date"


@dataclass(frozen=True)
class TableFiles:
    """Where one table lives: Parquet or JSON (one file, or the part files of a folder), or CSV (one file, maybe
    gzipped)."""

    format: str
    source: Path  # the file, or the folder of parts
    paths: list[Path]


def find_table(folder: Path, name: str) -> TableFiles | None:
    """``<name>.parquet``, a folder ``<name>.parquet/`` or ``<name>/`` of Parquet parts (as Spark and many
    exporters write) or of JSON parts, ``<name>.csv`` or ``<name>.csv.gz``, or JSON (``JSON_SUFFIXES``), in that
    order; None when there is none of them."""
    for candidate in (folder / f"{name}.parquet", folder / name):
        if candidate.is_file() and candidate.suffix == ".parquet":
            return TableFiles("parquet", candidate, [candidate])
        if candidate.is_dir():
            hidden = (".", "_")  # Spark's _SUCCESS, editors' and file systems' own files
            files = sorted(path for path in candidate.rglob("*") if path.is_file() and not path.name.startswith(hidden))
            if parts := [path for path in files if path.suffix == ".parquet"]:
                return TableFiles("parquet", candidate, parts)
            if parts := [path for path in files if path.name.endswith(JSON_SUFFIXES)]:
                return TableFiles("json", candidate, parts)  # an analytics export's hourly or daily files
            raise ChurnInputError(f"folder {candidate} holds no .parquet or JSON files", table=name)
    for csv in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
        if csv.is_file():
            return TableFiles("csv", csv, [csv])
    for suffix in JSON_SUFFIXES:
        if (path := folder / f"{name}{suffix}").is_file():
            return TableFiles("json", path, [path])
    return None


def open_table(con, name: str, files: TableFiles) -> ir.Table:
    """One table on either engine, CSV columns all as text so the contract's own parsing types them and reports
    what fails. Spark reads a folder of parts itself; DuckDB is handed the part files. Parts may differ in their
    columns (an export that gained one later): a column a part lacks is empty in its rows. JSON is read by
    ``json_table``."""
    if files.format == "json":
        return json_table(con, name, files.paths)
    if con.name == "pyspark":
        if files.format == "csv":
            return con.read_csv(files.source, inferSchema=False)
        return con.read_parquet(str(files.source), mergeSchema=True)
    with reading(name):
        if files.format == "csv":
            return _csv_table(con, name, files.source)
        return con.read_parquet([str(path) for path in files.paths], union_by_name=len(files.paths) > 1)


def json_table(con, name: str, paths: list[Path]) -> ir.Table:
    """A JSON file, one object per line (as analytics trackers export events) or an array of objects, on either
    engine, every value as text: the contract's own parsing types it and reports what fails, and the table is
    parsed once and kept, as a CSV's is (DuckDB would read text that looks like a time as one itself; Spark does
    not). ``paths`` are one file or the parts of a folder, which may differ in their keys: a key a part lacks is
    empty in its rows. An object's nested object (Mixpanel's ``properties``) gives its fields as columns of their
    own, each one no column already has the name of."""
    first = paths[0]
    opener = gzip.open if first.suffix == ".gz" else open
    try:
        with opener(first, "rt", encoding="utf-8", errors="replace") as file:
            start = file.read(1024).lstrip()[:1]
    except OSError as exc:  # a .gz that is not gzip
        raise ChurnInputError(f"{first.name} cannot be read: {exc}", table=name) from None
    if not start:
        raise ChurnInputError(f"{first.name} is empty", table=name)
    array = start == "["
    locations = [str(path) for path in paths]
    with reading(name):
        if con.name == "pyspark":
            table = con.read_json(locations, multiLine=array)
        else:
            options = {"format": "array" if array else "newline_delimited", "dateformat": NO_DATE_FORMAT,
                       "timestampformat": NO_DATE_FORMAT}
            table = con.read_json(locations, columns=_json_columns(con, locations, options), **options)
    nested = [column for column in table.columns if table[column].type().is_struct()]
    values = {column: table[column] for column in table.columns if column not in nested}
    for column in nested:
        for field_name in table[column].type().names:
            values.setdefault(field_name, table[column][field_name])
    return table.select(**{  # lists and deeper objects are no contract value; every other value as text
        column: value if value.type().is_string() else value.cast("string")
        for column, value in values.items() if not value.type().is_nested()
    })


def _json_columns(con, locations: list[str], options: dict[str, str]) -> dict[str, str]:
    """Column → DuckDB type of JSON files, every object of every file looked at (a key a sample missed would fail
    a later read).

    Found once, and handed to each read, since DuckDB would otherwise look at every object again each time the
    table is read: 13 s for each read of the bench's 1 GB of events, against 0.8 s for the read itself.
    """
    given = ", ".join(f"{key} = '{value}'" for key, value in options.items())
    files = ", ".join("'" + location.replace("'", "''") + "'" for location in locations)
    query = f"DESCRIBE SELECT * FROM read_json([{files}], sample_size = -1, union_by_name = true, {given})"
    return {row[0]: row[1] for row in con.raw_sql(query).fetchall()}


def _csv_table(con, name: str, path: Path) -> ir.Table:
    """A CSV file, every column as text, once checked whole: a line that does not parse (a field too many or too
    few, an unclosed quote, bytes that are not UTF-8) is refused, naming the line. DuckDB records such lines in
    the rejects table rather than stopping at the first. UTF-16 is read when the file starts with its byte-order
    mark."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            start = file.read(2)
    except OSError as exc:  # a .gz that is not gzip
        raise ChurnInputError(f"{path.name} cannot be read: {exc}", table=name) from None
    if not start:
        raise ChurnInputError(f"{path.name} is empty", table=name)
    encoding = "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf-8"  # a byte-order mark: Excel's "Unicode text"
    rejects, scans = ibis.util.gen_name("churn_rejects"), ibis.util.gen_name("churn_reject_scans")
    table = con.read_csv(
        path, all_varchar=True, encoding=encoding, store_rejects=True, rejects_table=rejects, rejects_scan=scans
    )
    table.count().execute()
    bad = con.table(rejects)
    summary = bad.aggregate(lines=bad.line.nunique(), first=bad.line.min()).to_pyarrow().to_pylist()[0]
    if summary["lines"]:
        example = bad.filter(bad.line == summary["first"]).limit(1).to_pyarrow().to_pylist()[0]
        raise ChurnInputError(
            f"{summary['lines']} line(s) of {path.name} cannot be read as CSV, e.g. line {example['line']} "
            f"({example['error_message']}): {_shortened(example['csv_line'])!r}",
            table=name,
        )
    return table


@contextlib.contextmanager
def reading(name: str):
    """Errors DuckDB raises while reading a table's files (not Parquet, a schema it cannot reconcile, a damaged
    file) become input errors naming the table."""
    try:
        yield
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise ChurnInputError(f"cannot be read: {str(exc).splitlines()[0]}", table=name) from None


def _shortened(text: str | None, limit: int = 120) -> str:
    text = text or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"
