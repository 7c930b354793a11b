"""Assemble the feature table: one row per customer and observation date, every family, and the label.

``feature_table`` is the whole definition as one Ibis expression over contract tables, so any
Ibis backend can run it; ``build_features`` runs it on DuckDB for pandas frames, and
``build_feature_file`` reads a data folder and writes Parquet without a partial file ever
appearing at the output path.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from features import account, engagement, support, usage
from features.account import account_features
from features.contract import Prepared, cached, found_tables, prepare, read_under_other_names
from features.files import open_table
from features.calendar import Calendar
from features.engagement import email_features, emails_by_segment, survey_features
from features.errors import ChurnInputError
from features.event_types import page_template
from features.labels import churn_dates, churn_labels, customers, last_labelled_date
from features.mapping import CompanyMapping, load_mapping
from features.support import support_features
from features.usage import (
    counts_per_segment, event_type_counts, events_by_segment, generic_event_types, usage_features, usage_ratios, user_activity,
)
from features.windows import observation_dates

KEYS = ("account_id", "as_of")
LABEL = "churned"
# Contract columns → the features that need them (name patterns): a feature is not built when the data lacks them all.
NEEDS = (account.NEEDS, usage.NEEDS, support.NEEDS, engagement.NEEDS)


@dataclass(frozen=True)
class FeatureOptions:
    """Everything that shapes the table besides the data; defaults match ``churn.settings.Settings``."""

    windows: tuple[int, ...] = (7, 30, 90)
    horizon_days: int = 30
    grace_days: int = 14
    freq: str = "monthly"
    max_event_types: int = 50
    mapping: CompanyMapping = field(default_factory=load_mapping)

    def __post_init__(self):
        if not self.windows or any(not isinstance(w, int) or w <= 0 for w in self.windows):
            raise ChurnInputError(f"windows must be positive whole days, got {self.windows}", table="windows")
        object.__setattr__(self, "windows", tuple(sorted(set(self.windows))))
        if self.horizon_days <= 0:
            raise ChurnInputError(f"must be positive, got {self.horizon_days}", table="horizon_days")
        if self.grace_days < 0:
            raise ChurnInputError(f"must not be negative, got {self.grace_days}", table="grace_days")
        if self.max_event_types < 0:
            raise ChurnInputError(f"must not be negative, got {self.max_event_types}", table="max_event_types")

    @property
    def generic_window(self) -> int:
        """Per-event-type features use one window, 30 days when it is among the windows, to keep the table narrow."""
        return 30 if 30 in self.windows else self.windows[len(self.windows) // 2]


@dataclass
class BuildReport:
    """What a build produced and what it left out, for the command line and the logs."""

    rows: int
    features: int
    as_of: list[date]
    labelled_rows: int
    churned_rows: int
    observed_until: datetime
    last_labelled: date
    skipped: dict[tuple[str, str], int]
    event_types: int
    seconds: float
    pages: dict[str, int] = field(default_factory=dict)  # a template → the event types in the log read as it
    out: Path | None = None
    unused_columns: dict[str, str] = field(default_factory=dict)
    meanings_absent: list[str] = field(default_factory=list)
    scheduled_ends: int = 0
    absent_columns: tuple[str, ...] = ()
    unbuilt_features: list[str] = field(default_factory=list)
    common_names: dict[str, str] = field(default_factory=dict)
    derived_columns: dict[str, str] = field(default_factory=dict)
    events_period: str | None = None  # "week", "month": what each row of a log of counts covers
    trials: int = 0  # subscriptions starting with a free trial, counted from its end
    table_files: dict[str, str] = field(default_factory=dict)  # table → the file of another name it was read from

    def describe(self) -> str:
        dates = f"{self.as_of[0]} … {self.as_of[-1]}" if self.as_of else "none"
        rate = self.churned_rows / self.labelled_rows if self.labelled_rows else float("nan")
        lines = [
            f"{self.rows:,} rows × {self.features} features for {len(self.as_of)} observation dates ({dates})"
            + (f" → {self.out}" if self.out else ""),
            f"labelled rows {self.labelled_rows:,} (as_of up to {self.last_labelled}; data observed until "
            f"{self.observed_until:%Y-%m-%d}), churned within the horizon {rate:.1%}",
            f"{self.event_types} event types seen{self._pages()}; built in {self.seconds:.1f}s",
        ]
        skipped = [f"{table}: {count:,} {reason}" for (table, reason), count in sorted(self.skipped.items()) if count]
        lines.append("skipped rows: " + ("; ".join(skipped) if skipped else "none"))
        if self.table_files:
            read = ", ".join(f"{table} from {file!r}" for table, file in self.table_files.items())
            lines.append(f"tables read from files of other names: {read} (a mapping's [tables] names others)")
        if self.common_names:
            read = ", ".join(f"{column} from {given!r}" for column, given in self.common_names.items())
            lines.append(f"read under other tools' names: {read} (a mapping's [columns.<table>] names others)")
        lines += [f"{column}: the table has none, so {what} {'stand for them' if ', ' in column else 'stands for it'}"
                  for column, what in self.derived_columns.items()]
        if self.trials:
            lines.append(
                f"subscriptions: {self.trials:,} start with a free trial, so each is a customer's from the trial's end "
                "(a trial ending unpaid is no customer leaving, and is left out)"
            )
        if self.events_period:
            lines.append(
                f"events are dated by {self.events_period}: each row's events are taken as known at its "
                f"{self.events_period}'s end, so no observation date sees a {self.events_period} before it is over"
            )
        lines += [f"not carried: {column} ({why})" for column, why in self.unused_columns.items()]
        if self.absent_columns:
            unbuilt = ", ".join(self.unbuilt_features[:6]) + (
                f", … ({len(self.unbuilt_features)} in all)" if len(self.unbuilt_features) > 6 else ""
            )
            lines.append(
                f"columns the tables lack (empty throughout): {', '.join(self.absent_columns)}; "
                + (f"features not built for want of them: {unbuilt}" if unbuilt else "no feature needs them")
            )
        if self.scheduled_ends:
            lines.append(
                f"subscriptions: {self.scheduled_ends:,} end after the last event ({self.observed_until:%Y-%m-%d}), so "
                "they are taken as scheduled: running through the data's end, not churn yet"
            )
        if self.meanings_absent:
            lines.append(
                f"no event type means {', '.join(self.meanings_absent)}, so "
                f"{'its' if len(self.meanings_absent) == 1 else 'their'} features are zero: if the log names "
                "such events otherwise, list those names in a mapping file (--mapping)"
            )
        return "\n".join(lines)

    def _pages(self) -> str:
        if not self.pages:
            return ""
        widest = sorted(self.pages, key=lambda page: (-self.pages[page], page))[:3]
        shown = ", ".join(f"{self.pages[page]:,} as {page!r}" for page in widest)
        more = ", …" if len(self.pages) > 3 else ""
        return f" (URLs and names read as one, record ids and queries set aside: {shown}{more})"


@dataclass(frozen=True)
class FeaturePlan:
    """The feature expression and what was learnt about the data while planning it."""

    table: ir.Table
    as_of: list[date]
    prepared: Prepared
    event_types: list[str]
    last_labelled: date
    unbuilt: list[str] = field(default_factory=list)


def plan_features(
    raw: dict[str, ir.Table],
    as_of: list[date] | None,
    options: FeatureOptions,
    *,
    now: datetime | None = None,
    on_progress: Callable[[str], None] = lambda message: None,
    keep_parsed: Callable[[ir.Table], ir.Table] | None = None,
) -> FeaturePlan:
    """Check the tables, compact the big ones, and return the feature expression.

    Compacted tables are cached on the tables' own backend (``Table.cache``: a temporary table on
    DuckDB, a cached DataFrame on Spark), so each big log is read once. Rows dated after ``now``
    (the wall clock by default) are dropped and counted, as are rows naming unknown accounts.
    ``keep_parsed`` keeps a table parsed from text (CSV) for the reads that follow; cached by default.
    """
    cutoff = now or datetime.now()
    on_progress("checking tables")
    mapping = options.mapping
    prepared = prepare(
        raw, cutoff=cutoff, attributes=mapping.attributes, column_names=mapping.columns, date_order=mapping.date_order,
        decimal_mark=mapping.decimal_mark, ratings=mapping.ratings, keep=keep_parsed,
    )
    tables = prepared.tables
    dates = sorted(set(as_of)) if as_of else _default_dates(prepared, options.freq)
    if not dates:
        raise ChurnInputError(
            f"no {options.freq} observation date falls inside the data ({prepared.observed_until:%Y-%m-%d} is its end)",
            table="as_of",
        )
    _refuse_dates_past_the_data(dates, prepared.observed_until)
    dates_table = ibis.memtable(
        pa.table({"as_of": pa.array([datetime.combine(d, datetime.min.time()) for d in dates], pa.timestamp("us"))})
    )
    calendar = Calendar(tuple(dates), options.windows)
    on_progress(f"compacting events for {len(dates)} observation dates")
    events = tables["events"]
    events = events.filter(events.timestamp < calendar.moments[-1])  # no feature sees later events
    by_segment = cached(events_by_segment(events, calendar))
    users = cached(user_activity(events, calendar))
    type_counts = event_type_counts(by_segment, calendar)
    event_types = [name for name, _ in type_counts]
    generic_types = generic_event_types(type_counts, options.max_event_types)
    per_segment = cached(
        counts_per_segment(by_segment, mapping=options.mapping, event_types=event_types, generic_types=generic_types)
    )
    subscriptions = tables["subscriptions"]
    churns = cached(churn_dates(subscriptions, options.grace_days))
    spine = cached(customers(subscriptions, dates_table))

    on_progress("defining features")
    labelled = churn_labels(
        spine, churns, horizon_days=options.horizon_days, grace_days=options.grace_days, observed_until=prepared.observed_until
    )
    families = [
        account_features(
            spine, tables["accounts"], subscriptions, dates_table, churns,
            change_days=max(options.windows), grace_days=options.grace_days,
        ),
        usage_features(
            spine, by_segment, per_segment, users, calendar,
            mapping=options.mapping, event_types=event_types, generic_types=generic_types,
            generic_window=options.generic_window, history_start=prepared.first_times["events"],
        ),
    ]
    starts = prepared.first_times  # each log's windows are unknown before its own first row
    if "tickets" in tables:
        tickets = tables["tickets"]
        families.append(support_features(spine, tickets, dates_table, options.windows, history_start=starts["tickets"]))
    if "emails" in tables:
        emails = cached(emails_by_segment(tables["emails"], calendar))
        families.append(email_features(spine, emails, calendar, history_start=starts["emails"]))
    if "surveys" in tables:
        surveys, window = tables["surveys"], max(options.windows)
        families.append(survey_features(spine, surveys, dates_table, window, history_start=starts["surveys"]))

    table = labelled.select(*KEYS, LABEL)
    for family in families:
        table = table.join(family, list(KEYS))
    table = table.mutate(**usage_ratios(table, options.windows, seats="seats_for_ratios", users_ever="users_ever"))
    helpers = ["seats_for_ratios", "users_ever", *[f"active_users_{w}" for w in options.windows]]
    table = table.drop(*helpers)
    unbuilt = unbuilt_features(table.columns, prepared.absent_columns)
    table = table.drop(*unbuilt).order_by(["as_of", "account_id"])
    last = last_labelled_date(prepared.observed_until, horizon_days=options.horizon_days, grace_days=options.grace_days)
    return FeaturePlan(
        table=table, as_of=dates, prepared=prepared, event_types=event_types, last_labelled=last, unbuilt=unbuilt
    )


def unbuilt_features(columns: list[str], absent_columns: tuple[str, ...]) -> list[str]:
    """The features needing contract columns the tables lack (``Prepared.absent_columns``), which would be empty or
    wrong (a helpdesk export without first responses would show every ticket as unanswered)."""
    absent = set(absent_columns)
    patterns = [name for needs in NEEDS for lacking, names in needs.items() if absent.issuperset(lacking) for name in names]
    windowed = [f"{pattern}__*" for pattern in patterns]  # usage__active_users is also usage__active_users__30d
    return [c for c in columns if any(fnmatch.fnmatchcase(c, pattern) for pattern in patterns + windowed)]


def build_features(
    tables: dict[str, pd.DataFrame],
    as_of: list[date] | None = None,
    *,
    options: FeatureOptions | None = None,
    now: datetime | None = None,
    **option_values,
) -> pd.DataFrame:
    """The feature table for pandas frames keyed by contract table name (``accounts``, ``events``, …).

    ``option_values`` are ``FeatureOptions`` fields (``windows``, ``horizon_days``, ...), with a
    ``mapping`` given as a ``CompanyMapping`` or a path.
    """
    options = options or _options(**option_values)
    con = _duckdb()
    try:
        raw = {name: con.create_table(_temp_name(name), frame, temp=True) for name, frame in tables.items()}
        plan = plan_features(raw, as_of, options, now=now)
        return plan.table.to_pandas()
    finally:
        _disconnect(con)


def build_feature_file(
    data_dir: str | Path,
    out: str | Path,
    *,
    as_of: list[date] | None = None,
    freq: str = "monthly",
    windows: tuple[int, ...] = (7, 30, 90),
    horizon_days: int = 30,
    grace_days: int = 14,
    mapping_path: str | Path | None = None,
    max_event_types: int = 50,
    now: datetime | None = None,
    on_progress: Callable[[str], None] = lambda message: None,
) -> BuildReport:
    """Read a data folder in the contract, build every feature on DuckDB, and write one Parquet file."""
    started = time.perf_counter()
    out = Path(out)
    options = FeatureOptions(
        windows=tuple(windows), horizon_days=horizon_days, grace_days=grace_days, freq=freq,
        max_event_types=max_event_types, mapping=load_mapping(mapping_path),
    )
    files = found_tables(data_dir, options.mapping.tables)
    with _file_build() as (con, keep_parsed):
        raw = {name: open_table(con, name, table_files) for name, table_files in files.items()}
        plan = plan_features(raw, as_of, options, now=now, on_progress=on_progress, keep_parsed=keep_parsed)
        on_progress(f"building features → {out}")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
        try:
            con.to_parquet(plan.table, partial)
            summary = con.read_parquet(partial)
            counts = summary.aggregate(
                rows=summary.count(), labelled=summary[LABEL].count(), churned=summary[LABEL].sum()
            ).to_pyarrow().to_pylist()[0]
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return BuildReport(
        rows=counts["rows"],
        features=len(plan.table.columns) - len(KEYS) - 1,
        as_of=plan.as_of,
        labelled_rows=counts["labelled"],
        churned_rows=int(counts["churned"] or 0),
        observed_until=plan.prepared.observed_until,
        last_labelled=plan.last_labelled,
        skipped=plan.prepared.skipped,
        event_types=len(plan.event_types),
        pages=pages_read(plan.event_types),
        seconds=time.perf_counter() - started,
        out=out,
        unused_columns=plan.prepared.unused_columns,
        meanings_absent=options.mapping.meanings_absent(plan.event_types),
        scheduled_ends=plan.prepared.scheduled_ends,
        absent_columns=plan.prepared.absent_columns,
        unbuilt_features=plan.unbuilt,
        common_names=plan.prepared.common_names,
        derived_columns=plan.prepared.derived_columns,
        events_period=str(plan.prepared.events_period) if plan.prepared.events_period else None,
        trials=plan.prepared.trials,
        table_files=read_under_other_names(files),
    )


def pages_read(event_types: list[str]) -> dict[str, int]:
    """Each template standing for several event types of the log (URLs of one page, names of one event with record
    ids in them), with how many."""
    counts = Counter(page for event_type in event_types if (page := page_template(event_type)) != event_type)
    return {page: n for page, n in counts.items() if n > 1}


def _options(*, mapping: CompanyMapping | str | Path | None = None, **values) -> FeatureOptions:
    if not isinstance(mapping, CompanyMapping):
        mapping = load_mapping(mapping)
    if "windows" in values:
        values["windows"] = tuple(values["windows"])
    return FeatureOptions(mapping=mapping, **values)


def _refuse_dates_past_the_data(dates: list[date], observed_until: datetime) -> None:
    """An observation date at most the day after the last event. A later one's windows would hold days nobody
    observed, counted as days without use: every account would look idle, and score as leaving."""
    latest = observed_until.date() + timedelta(days=1)
    if dates[-1] > latest:
        raise ChurnInputError(
            f"{dates[-1]} is after the data's end: the last event is at {observed_until:%Y-%m-%d %H:%M}, so the days "
            f"up to {dates[-1]} would count as days without use; the latest observation date the data allows is {latest}",
            table="as_of",
        )


def _default_dates(prepared: Prepared, freq: str) -> list[date]:
    """Every period start across the event log (the subscriptions reach back further than usage is known)."""
    first = prepared.first_times.get("events") or prepared.first_times["subscriptions"]
    return observation_dates(first, prepared.observed_until, freq)


def _duckdb():
    """An in-memory DuckDB (it spills to disk past its memory limit); progress lines are ours, not its bar."""
    con = ibis.duckdb.connect()
    with contextlib.suppress(duckdb.Error):  # inside Jupyter DuckDB refuses the setting without ipywidgets
        con.raw_sql("SET enable_progress_bar = false")
    return con


@contextlib.contextmanager
def _file_build():
    """A DuckDB connection and how it keeps tables parsed from text, for one build from files; both are gone
    when the build ends, whether or not it succeeds."""
    con = _duckdb()
    with tempfile.TemporaryDirectory(prefix="churn-parsed-") as parsed:
        try:
            yield con, functools.partial(_kept_as_parquet, folder=Path(parsed))
        finally:
            _disconnect(con)


def _kept_as_parquet(table: ir.Table, folder: Path) -> ir.Table:
    """A table parsed from text, written once to a Parquet file in ``folder`` and read from it after.

    Parquet holds repeated ids and event types encoded, where a temporary table holds every text value
    in full: for the bench's CSV log of 34 M events the build peaks at about half the memory, and the
    reads that follow are faster. The file lives as long as the build.
    """
    con = table._find_backend()
    path = folder / f"{ibis.util.gen_name('parsed')}.parquet"
    con.to_parquet(table, path)
    return con.read_parquet(path)


def _disconnect(con) -> None:
    """Drop the tables ``Table.cache`` made, then close; left to Ibis they are dropped later, on a closed connection."""
    for name in list(con._cache_name_to_entry):
        con._finalize_cached_table(name)
    con.disconnect()


_counter = iter(range(1 << 62))


def _temp_name(what: str) -> str:
    return f"churn_{what}_{next(_counter)}"
