"""Read a feature table and turn it into labelled rows, feature columns and their roles.

Any table works: the output of ``churn features`` or a company's own flat customer table.
Everything is checked here, before training starts, and every error names the column.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.errors import ChurnInputError
from training.model import blanks_as_missing, is_categorical

TABLE = "features"
LABEL = "_label"

POSITIVE_WORDS = frozenset({"1", "yes", "y", "true", "t", "churned", "churn", "lost", "cancelled", "canceled", "left"})
NEGATIVE_WORDS = frozenset({"0", "no", "n", "false", "f", "active", "retained", "stayed", "renewed", "kept"})


@dataclass(frozen=True)
class TrainingTable:
    """Labelled rows in a canonical order, and which column plays which role.

    ``rows`` holds every original column plus ``_label`` (0/1), sorted by time then id so that
    the row order of the file never changes a result.
    """

    rows: pd.DataFrame
    id_column: str
    label_column: str
    time_column: str | None
    feature_columns: list[str]
    dropped_columns: dict[str, str] = field(default_factory=dict)
    n_unlabelled: int = 0

    @property
    def y(self) -> np.ndarray:
        return self.rows[LABEL].to_numpy(dtype=np.int8)

    @property
    def X(self) -> pd.DataFrame:
        return self.rows[self.feature_columns]

    @property
    def n_positives(self) -> int:
        return int(self.y.sum())


def read_table(path: Path, *, table: str = TABLE) -> pd.DataFrame:
    """A Parquet or CSV file or a workbook, chosen by its extension: a CSV in its own encoding and with its own
    delimiter, as the feature build reads one (``features.files.csv_reading``: Excel's "CSV" on Windows is
    Windows-1252 with semicolons), a workbook by its sheet named ``table``, else its first
    (``features.files.workbook_frame``)."""
    from features.files import WORKBOOK_SUFFIXES, csv_reading, workbook_frame  # not Ibis and DuckDB for the API's start

    path = Path(path)
    if not path.is_file():
        raise ChurnInputError(f"file {str(path)!r} not found", table=table)
    check_table_type(path, table=table)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path, keep_default_na=True, **csv_reading(table, path))
        if suffix in WORKBOOK_SUFFIXES:
            return workbook_frame(table, path)
    except ChurnInputError:
        raise
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise ChurnInputError(f"cannot read {path.name}: {exc}", table=table) from None


def check_table_type(path: Path, *, table: str = TABLE) -> None:
    """Refuse, by its extension, a file ``read_table`` cannot read: before the work that would precede reading it."""
    from features.files import WORKBOOK_SUFFIXES

    if Path(path).suffix.lower() not in (".parquet", ".pq", ".csv", *WORKBOOK_SUFFIXES):
        raise ChurnInputError(
            f"{Path(path).name}: expected a .parquet or .csv file, or a workbook ({', '.join(WORKBOOK_SUFFIXES)})",
            table=table,
        )


def load_training_table(
    frame: pd.DataFrame,
    *,
    label: str = "churned",
    id_column: str = "account_id",
    time_column: str | None = None,
    exclude: tuple[str, ...] = (),
    max_categories: int = 200,
) -> TrainingTable:
    """Check the table and assign roles: id, time and label are never features.

    ``time_column=None`` uses ``as_of`` when the table has it; a name given explicitly must exist.
    Rows with an empty label are left out (they are the rows to score, not to learn from).
    """
    if len(frame) == 0:
        raise ChurnInputError("the table is empty", table=TABLE)
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    for role, name in (("label", label), ("id", id_column)):
        if name not in columns:
            raise ChurnInputError(
                f"{role} column not found (columns: {_preview(columns)}){_likely(role, frame)}", table=TABLE, column=name
            )
    if time_column is None:
        time_column = "as_of" if "as_of" in columns else None
    elif time_column not in columns:
        raise ChurnInputError(f"time column not found (columns: {_preview(columns)})", table=TABLE, column=time_column)
    for name in exclude:
        if name not in columns:
            raise ChurnInputError("column to exclude not found", table=TABLE, column=name)

    labels = parse_label(frame[label], column=label)
    rows = frame.assign(**{LABEL: labels})
    if time_column is not None:
        rows[time_column] = parse_times(rows[time_column], time_column)
    _check_unique_ids(rows, id_column, time_column)

    labelled = rows[labels.notna().to_numpy()]
    if len(labelled) == 0:
        raise ChurnInputError("every label is empty; nothing to learn from", table=TABLE, column=label)
    labelled = labelled.astype({LABEL: "int8"})
    counts = np.bincount(labelled[LABEL].to_numpy(), minlength=2)
    if counts.min() == 0:
        only = "churned (1)" if counts[1] else "retained (0)"
        raise ChurnInputError(
            f"label holds a single class: all {len(labelled)} labelled rows are {only}", table=TABLE, column=label
        )
    order = [time_column, id_column] if time_column else [id_column]
    # copy() consolidates the columns added above, so later selections stay fast and quiet.
    labelled = labelled.sort_values(order, kind="stable").reset_index(drop=True).copy()

    roles = {label, id_column, time_column, LABEL}
    candidates = [c for c in columns if c not in roles and c not in exclude]
    labelled = numbers_read_as_text(labelled, candidates)
    features, dropped = select_features(labelled[candidates], max_categories=max_categories)
    dropped.update({name: "excluded by request" for name in exclude})
    if not features:
        reasons = "; ".join(f"{k}: {v}" for k, v in dropped.items()) or "no columns besides id, time and label"
        raise ChurnInputError(f"no usable feature columns ({reasons})", table=TABLE)
    return TrainingTable(
        rows=labelled,
        id_column=id_column,
        label_column=label,
        time_column=time_column,
        feature_columns=features,
        dropped_columns=dropped,
        n_unlabelled=int(len(rows) - len(labelled)),
    )


def parse_label(series: pd.Series, *, column: str) -> pd.Series:
    """0/1 (nullable) from a boolean, 0/1 or two-valued text label; empty stays empty."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("Int8")
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series).astype("Float64")
        seen = sorted(values.dropna().unique().tolist())
        if not set(seen) <= {0.0, 1.0}:
            raise ChurnInputError(
                f"label has values {_preview(_tidy(seen))}; expected 0 and 1", table=TABLE, column=column
            )
        return values.astype("Int8")
    text = series.astype("string").str.strip().str.lower()
    text = text.mask(text == "")
    seen = sorted(text.dropna().unique().tolist())
    if len(seen) > 2:
        raise ChurnInputError(
            f"label has {len(seen)} values ({_preview(seen)}); expected two", table=TABLE, column=column
        )
    positive = [v for v in seen if v in POSITIVE_WORDS]
    negative = [v for v in seen if v in NEGATIVE_WORDS]
    if len(positive) > 1 or len(negative) > 1 or len(positive) + len(negative) < len(seen):
        raise ChurnInputError(
            f"cannot tell which of {_preview(seen)} means churned; use 1/0, yes/no, true/false or churned/active",
            table=TABLE,
            column=column,
        )
    return text.map({v: 1 for v in positive} | {v: 0 for v in negative}).astype("Int8")


def numbers_read_as_text(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with each of ``columns`` that holds numbers and blank cells as numbers, the blanks empty.

    An export that writes an empty number as a space (the well-known telco churn table's
    ``TotalCharges`` does, for customers in their first month) makes a CSV reader take the whole
    column for text: thousands of distinct values, and dropped. A column needs a blank cell to be
    read this way, so text columns that merely look numeric (a postcode) stay text.
    """
    converted = {}
    for name in columns:
        series = frame[name]
        given = blanks_as_missing(series)
        if given is series or given.count() == series.count():  # not text, or no blank cell
            continue
        numbers = pd.to_numeric(given, errors="coerce")
        if given.count() and numbers.count() == given.count():
            converted[name] = numbers.astype("float64")
    return frame.assign(**converted) if converted else frame


def select_features(frame: pd.DataFrame, *, max_categories: int) -> tuple[list[str], dict[str, str]]:
    """Columns a model can learn from, and why the others were dropped."""
    kept, dropped = [], {}
    for name in frame.columns:
        series = frame[name]
        dated = pd.api.types.is_datetime64_any_dtype(series) or isinstance(series.dtype, pd.PeriodDtype)
        if dated or holds_dates(series):
            dropped[name] = "dates are not features"
            continue
        n_values = series.nunique(dropna=True)
        if n_values == 0:
            dropped[name] = "empty"
        elif n_values == 1 and not series.isna().any():
            dropped[name] = "constant"
        elif is_categorical(series) and n_values > max_categories:
            dropped[name] = f"text with {n_values} distinct values (more than {max_categories})"
        else:
            kept.append(name)
    return kept, dropped


# Dates as text: ISO 8601 (2024-09-20, 2024-09-20T17:05:00Z), a month (2024-09), or numeric (09/20/2024, 20.09.24).
TEXT_DATE = (
    r"^([0-9]{4}-[0-9]{1,2}(-[0-9]{1,2})?([T ][0-9].*)?"  # ISO 8601, or a month
    r"|[0-9]{1,2}[/.-][0-9]{1,2}[/.-]([0-9]{2}|[0-9]{4})( [0-9].*)?)$"  # numeric
)


def holds_dates(series: pd.Series) -> bool:
    """Whether a text column holds dates, every value given being one (``TEXT_DATE``), as a CSV holds them.

    Read as text, a column of signup or renewal dates would become a category: one level per day, none of them
    seen again in the rows a model scores, and a date such as ``churned_on`` would tell the label outright.
    """
    if not is_categorical(series):
        return False
    given = blanks_as_missing(series.astype("string")).dropna()
    return bool(len(given)) and bool(given.str.fullmatch(TEXT_DATE).all())


def content_fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the table's content, independent of the file format and row order."""
    canonical = frame[sorted(frame.columns)]
    row_hashes = np.sort(pd.util.hash_pandas_object(canonical, index=False).to_numpy())
    digest = hashlib.sha256(row_hashes.tobytes())
    digest.update("\x1f".join(f"{c}:{canonical[c].dtype}" for c in canonical.columns).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_truth(path: Path) -> pd.DataFrame:
    """The generator's truth table: account_id, month, churn_probability."""
    truth = read_table(path, table="truth")
    for name in ("account_id", "month", "churn_probability"):
        if name not in truth.columns:
            raise ChurnInputError("column not found", table="truth", column=name)
    months = parse_times(truth["month"], "month", table="truth").dt.to_period("M")
    probability = pd.to_numeric(truth["churn_probability"], errors="coerce").astype("float64")
    return pd.DataFrame({"account_id": truth["account_id"].astype("string"), "month": months, "churn_probability": probability})


def parse_times(series: pd.Series, column: str, *, table: str = TABLE) -> pd.Series:
    """A table's date column as datetimes (a CSV holds them as text); an error naming the column when it is not dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return series
    try:
        return pd.to_datetime(series, errors="raise")
    except (TypeError, ValueError):
        raise ChurnInputError("expected dates", table=table, column=column) from None


def _check_unique_ids(rows: pd.DataFrame, id_column: str, time_column: str | None) -> None:
    if rows[id_column].isna().any():
        raise ChurnInputError(f"{int(rows[id_column].isna().sum())} rows have no id", table=TABLE, column=id_column)
    keys = [id_column, time_column] if time_column else [id_column]
    duplicated = rows.duplicated(keys, keep=False)
    if duplicated.any():
        example = rows.loc[duplicated, keys].iloc[0]
        where = f" within one {time_column}" if time_column else ""
        shown = ", ".join(f"{k}={example[k]}" for k in keys)
        raise ChurnInputError(
            f"{int(duplicated.sum())} rows share an id{where} (e.g. {shown}); expected one row per account"
            + (" and date" if time_column else ""),
            table=TABLE,
            column=id_column,
        )


_LABEL_NAMES = {"churn", "churned", "exited", "attrition", "cancelled", "canceled", "left", "target", "label"}


def _likely(role: str, frame: pd.DataFrame) -> str:
    """A hint naming the columns that look like the missing one, as a flat table names them: ``Churn``, ``Exited``,
    ``Attrition_Flag`` for a label; ``customerID``, ``Client Id`` for an id (one value per row)."""
    from features.windows import plain  # the contract's column matching; imported late, as it brings Ibis

    names = {column: plain(column) for column in frame.columns}
    if role == "label":
        found = [c for c, name in names.items() if name in _LABEL_NAMES or "churn" in name or "attrition" in name]
        option = "--label"
    else:
        found = [c for c, name in names.items() if name.endswith("id") and frame[c].is_unique]
        option = "--id"
    if not found:
        return ""
    return f"; {_preview(found)} {'looks' if len(found) == 1 else 'look'} like one: {option} {shlex.quote(found[0])}"


def _tidy(values: list[float]) -> list:
    return [int(v) if float(v).is_integer() else v for v in values]


def _preview(values: list, limit: int = 8) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f", … ({len(values)} in all)" if len(values) > limit else "")
