"""A company's files, found and opened as tables on either engine: Parquet, CSV, JSON or a workbook, one file or a
folder of parts.

Opening checks only what a file must be to be read at all (CSV lines that parse, JSON that is JSON, a file that is
not empty); the contract (``features.contract``) types the columns and names what else is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
from python_calamine import CalamineError

from features.errors import ChurnInputError
from features.windows import plain

# JSON files a table may be, one object per line or an array of objects.
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")
# A date format no value matches: DuckDB then reads no JSON text as a date or time of its own accord.
NO_DATE_FORMAT = "not a date"
# Spreadsheet workbooks a table may be (one sheet of it), as a CRM's or a billing tool's export is saved.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TABLE_SUFFIXES = (".parquet", ".csv", ".csv.gz", *JSON_SUFFIXES, *WORKBOOK_SUFFIXES)
HIDDEN = (".", "_")  # how the names of files that are no tables start: Spark's _SUCCESS, editors' and file systems' own
# Names other tools and warehouses give a table's file, read as the contract's when a data folder holds no file of
# the contract's name and one of these: a CRM's customers or companies, a tracker's tracks, a helpdesk's cases or
# conversations, a CRM's contacts for the users.
TABLE_NAMES = {
    "accounts": ("customers", "companies", "organizations", "organisations", "orgs", "workspaces", "tenants",
                 "clients", "account", "customer", "company"),
    "subscriptions": ("subscription", "billing", "contracts", "stripe_subscriptions"),
    "events": ("event", "tracks", "product_events", "usage", "usage_events", "product_usage", "activity",
               "activities", "analytics_events", "user_events"),
    "tickets": ("ticket", "support_tickets", "cases", "conversations", "support_cases"),
    "emails": ("email", "email_events", "email_activity", "email_sends", "marketing_emails"),
    "surveys": ("survey", "nps", "nps_responses", "survey_responses", "responses"),
    "users": ("user", "contacts", "people", "persons", "members"),
}
TITLE_ROWS = 20  # a report's title, filters and date above its table fit in these
# How CSV text is decoded: UTF-8, and any bytes that are not UTF-8 as Windows-1252, the code page Excel saves "CSV" in on
# a Western Windows (``Soci\xe9t\xe9`` is ``Société``); bytes Windows-1252 leaves undefined become U+FFFD.
WINDOWS_1252 = "windows-1252"
UTF8_ELSE_WINDOWS_1252 = "churn-utf8-else-windows-1252"
codecs.register_error(
    UTF8_ELSE_WINDOWS_1252, lambda error: (error.object[error.start:error.end].decode("cp1252", "replace"), error.end)
)
CHUNK = 1 << 24

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableFiles:
    """Where one table lives: Parquet or JSON (one file, or the part files of a folder), CSV (one file, maybe
    gzipped), or a workbook (one file)."""

    format: str
    source: Path  # the file, or the folder of parts
    paths: list[Path]


def find_table(folder: Path, name: str, named: str | None = None) -> TableFiles | None:
    """The files of table ``name`` in ``folder``: those ``named`` (the mapping's ``[tables]``: a file or folder in
    it), else those of the table's own name, else of the one other name of ``TABLE_NAMES`` the folder holds (case,
    spaces and punctuation set aside: ``Customers.csv``); None when there is none of them. A folder holding files of
    two such names is refused, as which is meant would be a guess.

    A name's files are ``<name>.parquet``, a folder ``<name>.parquet/`` or ``<name>/`` of Parquet parts (as Spark
    and many exporters write) or of JSON parts, ``<name>.csv`` or ``<name>.csv.gz``, JSON (``JSON_SUFFIXES``), or a
    workbook (``WORKBOOK_SUFFIXES``), in that order."""
    if named is not None:
        found = _files_at(folder / named, name)
        if found is None:
            raise ChurnInputError(
                f"the mapping reads {named!r} as {name}, but {folder} has no such table file (Parquet, CSV, JSON or a "
                f"workbook) or folder of parts; it holds {_listed(folder)}",
                table=name,
            )
        return found
    entries = _table_entries(folder)
    stems = sorted({stem for stem, _ in entries if plain(stem) == plain(name)})  # Events.csv too
    if not stems:
        others = set(map(plain, TABLE_NAMES.get(name, ())))
        stems = sorted({stem for stem, _ in entries if plain(stem) in others})
        if len(stems) > 1:
            raise ChurnInputError(
                f"{' and '.join(map(repr, stems))} could each be the {name} table, and which is meant would be a guess; "
                f"name it in a mapping file: [tables] {name} = {_file_of(stems[0], entries)!r}",
                table=name,
            )
    if not stems:
        return None
    return min((_files_at(path, name) for stem, path in entries if stem in stems), key=_rank)


def table_missing(folder: Path, name: str) -> ChurnInputError:
    """The error for a required table the folder holds under no name the build knows, with what it does hold."""
    others = ", ".join(TABLE_NAMES.get(name, ())[:4])
    return ChurnInputError(
        f"no {name}.parquet, {name}.csv, JSON or workbook in {folder}, nor one of another tool's name ({others}, …); "
        f"it holds {_listed(folder)}: if one of them is the {name} table, name it in a mapping file: "
        f"[tables] {name} = \"your file\"",
        table=name,
    )


def table_stem(path: Path) -> str | None:
    """A table file's or folder's name without its suffix (``Customers.csv.gz`` is ``Customers``); None for a file
    that is no table."""
    if path.is_dir():
        return path.name.removesuffix(".parquet")
    suffix = _table_suffix(path.name)
    return path.name[: -len(suffix)] if suffix else None


def _table_entries(folder: Path) -> list[tuple[str, Path]]:
    """(stem, path) of each table file or folder of parts in ``folder``."""
    paths = [path for path in (folder.iterdir() if folder.is_dir() else ()) if not path.name.startswith(HIDDEN)]
    return [(stem, path) for path in paths if (stem := table_stem(path)) is not None]


def _table_suffix(file_name: str) -> str | None:
    lower = file_name.lower()
    return next((suffix for suffix in sorted(TABLE_SUFFIXES, key=len, reverse=True) if lower.endswith(suffix)), None)


def _files_at(path: Path, name: str) -> TableFiles | None:
    """Table ``name`` at ``path``: one file, by its suffix, or a folder of Parquet or JSON parts; None when there is
    none."""
    if path.is_dir():
        files = sorted(part for part in path.rglob("*") if part.is_file() and not part.name.startswith(HIDDEN))
        if parts := [part for part in files if part.suffix.lower() == ".parquet"]:
            return TableFiles("parquet", path, parts)
        if parts := [part for part in files if part.name.lower().endswith(JSON_SUFFIXES)]:
            return TableFiles("json", path, parts)  # an analytics export's hourly or daily files
        raise ChurnInputError(f"folder {path} holds no .parquet or JSON files", table=name)
    suffix = _table_suffix(path.name) if path.is_file() else None
    if suffix is None:
        return None
    kind = ("parquet" if suffix == ".parquet" else "csv" if suffix in (".csv", ".csv.gz")
            else "json" if suffix in JSON_SUFFIXES else "workbook")
    return TableFiles(kind, path, [path])


def _rank(files: TableFiles) -> int:
    """Which of one name's files is read: Parquet, a folder of parts, CSV, JSON, a workbook."""
    if files.source.is_dir():
        return 1
    return {"parquet": 0, "csv": 2, "json": 3, "workbook": 4}[files.format]


def _file_of(stem: str, entries: list[tuple[str, Path]]) -> str:
    return next(path.name for each, path in entries if each == stem)


def _listed(folder: Path, most: int = 8) -> str:
    names = sorted(path.name + ("/" if path.is_dir() else "") for _, path in _table_entries(folder))
    if not names:
        return "no table files"
    return ", ".join(names[:most]) + (f", … ({len(names)} in all)" if len(names) > most else "")


def open_table(con, name: str, files: TableFiles) -> ir.Table:
    """One table on either engine, CSV columns all as text so the contract's own parsing types them and reports
    what fails. Spark reads a folder of parts itself; DuckDB is handed the part files. Parts may differ in their
    columns (an export that gained one later): a column a part lacks is empty in its rows. JSON is read by
    ``json_table``, a workbook by ``workbook_frame``."""
    if files.format == "json":
        return json_table(con, name, files.paths)
    if files.format == "workbook":
        sheet = ibis.memtable(workbook_frame(name, files.source))
        return con.create_view(ibis.util.gen_name(f"churn_{name}_workbook"), sheet)  # a temporary view on Spark
    if con.name == "pyspark":
        if files.format == "csv":
            found = csv_reading(name, files.source)
            # A file not all UTF-8 is read wholly as ISO-8859-1, the one of its kind Spark 4 reads: Windows-1252 but
            # for the few marks it adds (the euro sign, typographic quotes and dashes), which come out as control codes.
            # UTF-16 Spark reads only as one whole text, not split into lines first.
            encoding = (
                {"encoding": "iso-8859-1"} if "encoding_errors" in found
                else {"encoding": "UTF-16", "multiLine": True} if found["encoding"] == "utf-16" else {}
            )
            return con.read_csv(files.source, inferSchema=False, sep=found["sep"], **encoding)
        return con.read_parquet(str(files.source), mergeSchema=True)
    with reading(name):
        if files.format == "csv":
            return _csv_table(con, name, files.source)
        return con.read_parquet([str(path) for path in files.paths], union_by_name=len(files.paths) > 1)


def workbook_frame(name: str, path: Path) -> pd.DataFrame:
    """A workbook's sheet named after the table in any style (``Accounts``), else its first, on any engine (as a
    pandas frame it hands over): numbers, dates and times as the cells hold them, a column mixing numbers and text
    as text, a report's title rows above the header skipped (``_header_row``), and the columns without a header
    that hold nothing (the formatted cells beside the data) left out. Read by calamine, which reads a sheet of
    20,000 rows in 0.1 s."""
    try:
        with pd.ExcelFile(path, engine="calamine") as workbook:
            named = [sheet for sheet in workbook.sheet_names if plain(sheet) == plain(name)]
            sheet = named[0] if named else 0
            top = pd.read_excel(workbook, sheet_name=sheet, header=None, nrows=TITLE_ROWS)
            frame = pd.read_excel(workbook, sheet_name=sheet, header=_header_row(top))
    except (CalamineError, ValueError, OSError) as exc:  # not a workbook, encrypted, damaged, or with no sheet
        raise ChurnInputError(f"{path.name} cannot be read as a workbook: {exc}", table=name) from None
    headless = [c for c in frame.columns if str(c).startswith("Unnamed: ") and frame[c].isna().all()]
    frame = frame.drop(columns=headless)
    for column in frame.columns:
        if frame[column].dtype == object:  # numbers and text in one column, or text: all as text
            frame[column] = frame[column].map(lambda value: None if pd.isna(value) else str(value)).astype("str")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _header_row(top: pd.DataFrame) -> int:
    """Which of a sheet's first rows is its header: the first, unless it fills at most half as many cells as the
    fullest of them, as a report's title above its table does; then the first row as full as the fullest."""
    filled = top.notna().sum(axis=1)
    if filled.empty or filled.iloc[0] * 2 > filled.max():
        return 0
    return int((filled == filled.max()).to_numpy().argmax())


def json_table(con, name: str, paths: list[Path]) -> ir.Table:
    """A JSON file, one object per line (as analytics trackers export events) or an array of objects, on either
    engine, every value as text: the contract's own parsing types it and reports what fails, and the table is
    parsed once and kept, as a CSV's is (DuckDB would read text that looks like a time as one itself; Spark does
    not). ``paths`` are one file or the parts of a folder, which may differ in their keys: a key a part lacks is
    empty in its rows. An object's nested object (Mixpanel's ``properties``) gives its fields as columns of their
    own, each one no column already has the name of."""
    first = paths[0]
    opener = gzip.open if _gzipped(first) else open
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
                       "timestampformat": NO_DATE_FORMAT, **_compression(paths)}
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


def csv_encoding(name: str, path: Path) -> str:
    """How a CSV file's text is encoded: ``utf-16`` when it starts with that byte-order mark (Excel's "Unicode text"),
    ``utf-8`` when every byte reads so, else ``WINDOWS_1252``: UTF-8 with the bytes that are not read as Windows-1252.

    The whole file is looked at, as an export may hold its first accented name a million lines in; a stretch of plain
    ASCII is skipped at memory speed (0.4 s for the bench's 1.7 GB log).
    """
    with _opened(name, path) as file:
        if file.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            return "utf-16"
        file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := file.read(CHUNK):
                if not (chunk.isascii() and not decoder.getstate()[0]):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return WINDOWS_1252
    return "utf-8"


def csv_reading(name: str, path: Path) -> dict:
    """``pandas.read_csv`` options reading a CSV file as DuckDB does: its encoding (``csv_encoding``) and the
    delimiter DuckDB's sniffer finds (a semicolon, as Excel writes where a comma is the decimal mark, or a tab).
    The notebooks read CSV by them, and Spark, which finds no delimiter itself, by the delimiter."""
    encoding = csv_encoding(name, path)
    if encoding == WINDOWS_1252:
        options = {"encoding": "utf-8", "encoding_errors": UTF8_ELSE_WINDOWS_1252}
    else:
        options = {"encoding": encoding}
    quoted = str(path).replace("'", "''")
    sniffed = f"SELECT Delimiter FROM sniff_csv('{quoted}', encoding = '{options['encoding']}', ignore_errors = true)"
    with reading(name):
        [(options["sep"],)] = duckdb.connect().sql(sniffed).fetchall()
    return options


def _compression(paths: list[Path]) -> dict[str, str]:
    """DuckDB's reading option for gzipped files named in capitals (``EXPORT.CSV.GZ``): it tells them by a lower-case
    ``.gz`` alone."""
    return {"compression": "gzip"} if any(map(_gzipped, paths)) else {}


def _gzipped(path: Path) -> bool:
    """Whether a file is gzipped, by its name: ``.gz`` in any case (``EXPORT.CSV.GZ``)."""
    return path.suffix.lower() == ".gz"


def _csv_table(con, name: str, path: Path) -> ir.Table:
    """A CSV file, every column as text, once checked whole: a line that does not parse (a field too many or too
    few, an unclosed quote) is refused, naming the line. DuckDB records such lines in the rejects table rather than
    stopping at the first. UTF-16 is read when the file starts with its byte-order mark; a file with bytes that are
    not UTF-8 is read as ``csv_encoding`` says, from a UTF-8 copy held in the database (DuckDB itself would leave
    such lines out)."""
    encoding = csv_encoding(name, path)
    if encoding != WINDOWS_1252:
        return _checked_csv(con, name, path, path.name, encoding)
    log.warning("%s: %s is not all UTF-8; the bytes that are not are read as Windows-1252 (Excel's \"CSV\" on "
                "Windows). Save it as \"CSV UTF-8\" if its text reads wrong", name, path.name)
    copy = _utf8_copy(name, path)
    try:
        table = _checked_csv(con, name, copy, path.name, "utf-8")
        return con.create_table(ibis.util.gen_name(f"churn_{name}_utf8"), table, temp=True)
    finally:
        copy.unlink()


def _checked_csv(con, name: str, path: Path, shown: str, encoding: str) -> ir.Table:
    rejects, scans = ibis.util.gen_name("churn_rejects"), ibis.util.gen_name("churn_reject_scans")
    table = con.read_csv(
        path, all_varchar=True, encoding=encoding, store_rejects=True, rejects_table=rejects, rejects_scan=scans,
        **_compression([path]),
    )
    table.count().execute()
    bad = con.table(rejects)
    summary = bad.aggregate(lines=bad.line.nunique(), first=bad.line.min()).to_pyarrow().to_pylist()[0]
    if summary["lines"]:
        example = bad.filter(bad.line == summary["first"]).limit(1).to_pyarrow().to_pylist()[0]
        raise ChurnInputError(
            f"{summary['lines']} line(s) of {shown} cannot be read as CSV, e.g. line {example['line']} "
            f"({example['error_message']}): {_shortened(example['csv_line'])!r}",
            table=name,
        )
    return table


def _utf8_copy(name: str, path: Path) -> Path:
    """A temporary UTF-8 copy of a CSV file decoded as ``csv_encoding`` reads it; the caller removes it."""
    decoder = codecs.getincrementaldecoder("utf-8")(UTF8_ELSE_WINDOWS_1252)
    handle, copy = tempfile.mkstemp(prefix=f"churn-{name}-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as target, _opened(name, path) as source:
            while chunk := source.read(CHUNK):
                target.write(decoder.decode(chunk))
            target.write(decoder.decode(b"", final=True))
    except BaseException:
        Path(copy).unlink(missing_ok=True)
        raise
    return Path(copy)


@contextlib.contextmanager
def _opened(name: str, path: Path):
    """A CSV file's bytes, gunzipped when it ends in ``.gz``; an empty file, or a .gz that is not gzip, is refused."""
    opener = gzip.open if _gzipped(path) else open
    try:
        with opener(path, "rb") as file:
            if not file.read(1):
                raise ChurnInputError(f"{path.name} is empty", table=name)
            file.seek(0)
            yield file
    except (OSError, EOFError) as exc:  # a .gz that is not gzip, or cut short
        raise ChurnInputError(f"{path.name} cannot be read: {exc}", table=name) from None


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
