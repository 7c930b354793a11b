"""Exploratory views of churn for a data folder in the contract, for notebooks.

Two readers at the edge (``load_tables``, ``load_feature_table``), then pure functions
from tables to frames: how many accounts and how much MRR a company loses each month,
how long cohorts stay, and which signals separate accounts that churned from those
that stayed. The notebooks call only these, so the numbers they show are the ones the
tests check.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from features.contract import (
    CONTRACT, DURATION, EARLIEST_LOG_TIME, ID, NUMBER, TIME, UNPARSED, annual_revenue, contract_renames, date_formats,
    displaced, flat_subscriptions, ids_unpadded, monthly_price, not_parsed, number_formats, paid_subscriptions,
    price_read, read_as, ticket_durations, times_after_opening, unparsed_flags,
)
from features.errors import ChurnInputError
from features.files import csv_reading, find_table, json_table, table_missing, workbook_frame

CONTRACT_TABLES = ("accounts", "subscriptions", "events", "tickets", "emails", "surveys")
REQUIRED_TABLES = ("accounts", "events")  # and subscriptions, for which a flat accounts table may stand
TIME_COLUMNS = {
    "accounts": ("created_at",),
    "subscriptions": ("start_date", "end_date", "trial_end"),
    "events": ("timestamp",),
    "tickets": ("opened_at", "first_response_at", "resolved_at"),
    "emails": ("sent_at", "opened_at", "clicked_at"),
    "surveys": ("responded_at",),
}
FAMILIES = ("usage", "support", "engagement", "account", "events")
# Stands in for the end of a subscription that is still running, so spans compare as intervals.
OPEN_END = pd.Timestamp("2200-01-01")


def load_tables(
    data_dir: str | Path,
    names: tuple[str, ...] = CONTRACT_TABLES,
    *,
    columns: dict[str, list[str]] | None = None,
    column_names: dict[str, dict[str, str]] | None = None,
    date_order: str | None = None,
    decimal_mark: str | None = None,
    files: dict[str, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the contract tables found in ``data_dir`` (as ``features.files.find_table`` finds them), times parsed
    as the build parses them.

    ``columns`` reads only some columns of a table, e.g. ``{"events": ["timestamp"]}``
    to find the observed period without loading the whole event log. ``column_names`` are the
    mapping's ``[columns.<table>]`` (``CompanyMapping.columns``), ``date_order`` its ``[dates] order``,
    ``decimal_mark`` its ``[numbers] decimal`` and ``files`` its ``[tables]``, as the build reads them.
    """
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ChurnInputError(f"data folder {folder} does not exist")
    tables, annual, price, sources = {}, None, None, {}
    for name in names:
        found = find_table(folder, name, (files or {}).get(name))
        if found is None:
            if name in REQUIRED_TABLES:
                raise table_missing(folder, name)
            continue
        first = found.paths[0]
        whole = (  # its columns are known once read
            _json_frame(name, found.paths) if found.format == "json"
            else workbook_frame(name, first) if found.format == "workbook" else None
        )
        csv_options = csv_reading(name, first) if found.format == "csv" else {}
        given = (
            pq.read_schema(first).names if found.format == "parquet"
            else list(whole.columns) if whole is not None else list(pd.read_csv(first, nrows=0, **csv_options).columns)
        )
        named = (column_names or {}).get(name)
        renames, left_out = contract_renames(name, given, named), displaced(given, named)
        sources[name] = renames
        wanted = [renames.get(column, column) for column in columns[name]] if columns and name in columns else None
        if found.format == "parquet":
            frame = pd.concat([pd.read_parquet(path, columns=wanted) for path in found.paths], ignore_index=True)
        elif whole is not None:
            frame = whole[wanted] if wanted else whole
        else:
            frame = pd.read_csv(first, usecols=wanted, **csv_options)
        frame = frame.drop(columns=[column for column in left_out if column in frame.columns])
        if not CONTRACT[name].is_log:  # a spreadsheet's blank rows below the data, as the build leaves them out
            blank = frame.apply(lambda column: column.isna() | column.astype("string").str.strip().eq("")).all(axis=1)
            frame = frame[~blank].reset_index(drop=True)
        if CONTRACT[name].unique:  # a row repeated whole (an export's overlapping pages), as the build keeps it once
            frame = frame.drop_duplicates(ignore_index=True)
        frame = frame.rename(columns={column: contract_name for contract_name, column in renames.items()})
        tables[name] = _ids_unpadded(frame, name) if ids_unpadded(name, from_text=found.format == "csv") else frame
        if name == "subscriptions":
            annual, price = annual_revenue(renames, named), renames["mrr"] if price_read(renames, named) else None
    if "subscriptions" in names and "subscriptions" not in tables:  # as the build reads them from flat accounts
        accounts = tables.get("accounts", pd.DataFrame())
        read = flat_subscriptions(list(accounts.columns), (column_names or {}).get("accounts"))
        tables["subscriptions"] = pd.DataFrame({contract: accounts[column] for contract, column in read.items()})
        annual = annual_revenue(read, (column_names or {}).get("accounts"))
    given = {name: ibis.memtable(frame) for name, frame in tables.items()}
    dates, numbers = date_formats(given, date_order), number_formats(given, decimal_mark)
    for name, frame in tables.items():  # numbers with marks ("$1,234.50"); plain ones are numbers already
        frame = _read_as_the_build_does(frame, name, list(numbers.get(name, {})), NUMBER, numbers.get(name))
        tables[name] = _with_times(frame, name, TIME_COLUMNS.get(name, ()), dates.get(name))
    if "tickets" in tables:  # a reply's and a resolution's time from how long each took, as the build reads them
        tickets, durations, _, _ = ticket_durations(ibis.memtable(tables["tickets"]), sources["tickets"])
        tickets = _read_as_the_build_does(tickets.to_pandas(), "tickets", list(durations), DURATION, durations)
        tables["tickets"] = times_after_opening(ibis.memtable(tickets)).to_pandas() if durations else tickets
    if annual:  # MRR a twelfth of a yearly revenue, as the build reads it
        tables["subscriptions"] = tables["subscriptions"].assign(mrr=tables["subscriptions"]["mrr"] / 12)
    if price:  # MRR a month's worth of a price per billing interval, as the build reads it
        tables["subscriptions"] = monthly_price(ibis.memtable(tables["subscriptions"]), price).to_pandas()
    if "trial_end" in tables.get("subscriptions", pd.DataFrame()).columns:  # paid for from a free trial's end
        paid, _, _ = paid_subscriptions(ibis.memtable(tables["subscriptions"]), cutoff=datetime.now())
        tables["subscriptions"] = paid.to_pandas()
    accounts = tables.get("accounts")
    if accounts is not None and "created_at" not in accounts.columns and "subscriptions" in tables:
        tables["accounts"] = _dated_by_first_subscription(accounts, tables["subscriptions"])
    return tables


def _ids_unpadded(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The table's text ids without the spaces around them, blank ones empty, as the build reads them
    (``features.contract.ids_unpadded``)."""
    ids = [c for c, kind in CONTRACT[name].kinds.items() if kind == ID and c in frame.columns]
    text = [c for c in ids if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]
    stripped = {c: frame[c].astype("string").str.strip().replace("", pd.NA) for c in text}
    return frame.assign(**{c: values.astype(object).where(values.notna(), None) for c, values in stripped.items()})


def _dated_by_first_subscription(accounts: pd.DataFrame, subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Accounts lacking ``created_at`` dated by their first subscription's start, as the build dates them
    (``features.contract``); an account with no subscription is left out, as the build leaves it out."""
    first = subscriptions.groupby(subscriptions["account_id"].astype("string"))["start_date"].min()
    dated = accounts.assign(created_at=accounts["account_id"].astype("string").map(first).to_numpy())
    return dated[dated["created_at"].notna()].reset_index(drop=True)


def _json_frame(name: str, paths: list[Path]) -> pd.DataFrame:
    """A JSON table as the build reads it (``features.files.json_table``: nested objects' fields as columns)."""
    con = ibis.duckdb.connect()
    try:
        return json_table(con, name, paths).to_pandas()
    finally:
        con.disconnect()


def load_feature_table(path: str | Path, data_dir: str | Path, **build_options) -> pd.DataFrame:
    """The feature table at ``path`` if it exists, else one built in memory from ``data_dir``.

    ``build_options`` go to ``features.build.build_features`` (windows, horizon_days, mapping, ...); the
    mapping's column names are used to read the tables too.
    """
    if Path(path).is_file():
        return pd.read_parquet(path)
    from features.build import build_features
    from features.mapping import CompanyMapping, load_mapping

    mapping = build_options.pop("mapping", None)
    mapping = mapping if isinstance(mapping, CompanyMapping) else load_mapping(mapping)
    tables = load_tables(  # in the contract's names, times and numbers read
        data_dir, column_names=mapping.columns, date_order=mapping.date_order, decimal_mark=mapping.decimal_mark,
        files=mapping.tables,
    )
    return build_features(tables, mapping=dataclasses.replace(mapping, columns={}), **build_options)


def observed_period(tables: dict[str, pd.DataFrame]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day the data covers, read from the product events.

    Subscriptions reach back to contracts signed long before the export, but only the
    accounts still alive at its start appear, so months before the event log begins
    would show arrivals and no losses. Falls back to the subscription dates. Placeholder times
    (before ``EARLIEST_LOG_TIME``, such as 1970-01-01) are passed over, as the build passes them over.
    """
    events = tables.get("events")
    if events is not None and len(events):
        stamps = _with_times(events, "events", ("timestamp",))["timestamp"]
        stamps = stamps[stamps >= EARLIEST_LOG_TIME]
        if len(stamps):
            return stamps.min().normalize(), stamps.max().normalize()
    subs = _with_times(tables["subscriptions"], "subscriptions", ("start_date", "end_date"))
    return subs["start_date"].min(), max(subs["start_date"].max(), subs["end_date"].max())


def subscription_spells(subscriptions: pd.DataFrame, *, grace_days: int = 14) -> pd.DataFrame:
    """Unbroken stretches of paying, one row each: a gap of at most ``grace_days`` is a renewal, not a loss.

    Columns: account_id, spell (0, 1, … per account), start_date, end_date (NaT while running).
    """
    spells = _spells(_spell_rows(subscriptions, grace_days)).reset_index()
    spells["end_date"] = spells["end_date"].where(spells["end_date"] < OPEN_END)
    return spells


def churn_events(subscriptions: pd.DataFrame, *, grace_days: int = 14) -> pd.DataFrame:
    """One row per churn (account_id, churn_date): the end of a spell no new subscription continued.

    A spell ending within ``grace_days`` of the export's end counts as churned even
    though a late renewal could still arrive.
    """
    spells = subscription_spells(subscriptions, grace_days=grace_days)
    ended = spells[spells["end_date"].notna()]
    return ended[["account_id", "end_date"]].rename(columns={"end_date": "churn_date"}).reset_index(drop=True)


def monthly_churn(
    subscriptions: pd.DataFrame,
    *,
    grace_days: int = 14,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Logo and revenue churn per calendar month from ``start`` to ``end`` (both months included).

    An account is ``existing`` in a month when its spell began before the first day and
    had not ended by then; ``new`` when a spell (a first or a returning one) begins in
    the month; ``lost`` when a spell ends in it. churn_rate = lost / (new + existing).
    MRR is read at each month boundary, so expansion and contraction are the net change
    of accounts present at both; gross MRR churn = (churned + contraction) / MRR at start,
    net MRR churn = (churned + contraction - expansion) / MRR at start, and
    mrr_end = mrr_start + new_mrr + expansion_mrr - contraction_mrr - churned_mrr.
    A subscription without MRR counts as 0; without any (an export lacking MRR, a flat customer table without
    it), the MRR columns are empty and logo churn stands alone.
    """
    priced = "mrr" in subscriptions.columns and subscriptions["mrr"].notna().any()
    rows = _spell_rows(subscriptions if priced else subscriptions.assign(mrr=0.0), grace_days)
    spells = _spells(rows)
    first = pd.Timestamp(start if start is not None else spells["start_date"].min()).to_period("M")
    last = pd.Timestamp(end if end is not None else rows[["start_date", "end_date"]].max().max()).to_period("M")
    bounds = pd.period_range(first, last + 1, freq="M").to_timestamp()
    mrr = _mrr_at(rows, spells, bounds)

    records = []
    for m0, m1 in zip(bounds[:-1], bounds[1:]):
        at_start, at_end = mrr[m0], mrr[m1]
        new = spells["start_date"].between(m0, m1, inclusive="left")
        lost = spells["end_date"].between(m0, m1, inclusive="left")
        existing = at_start.notna()
        staying = existing & at_end.notna()
        change = (at_end - at_start)[staying]
        records.append({
            "month": m0,
            "existing": int(existing.sum()),
            "new": int(new.sum()),
            "lost": int(lost.sum()),
            "mrr_start": float(at_start.sum()),
            "new_mrr": float(at_end[new].sum()),
            "expansion_mrr": float(change.clip(lower=0).sum()),
            "contraction_mrr": float((-change).clip(lower=0).sum()),
            "churned_mrr": float(at_start[existing & lost].sum()),
            "mrr_end": float(at_end.sum()),
        })
    table = pd.DataFrame(records)
    table.insert(4, "churn_rate", _ratio(table["lost"], table["new"] + table["existing"]))
    lost_mrr = table["churned_mrr"] + table["contraction_mrr"]
    table["gross_mrr_churn"] = _ratio(lost_mrr, table["mrr_start"])
    table["net_mrr_churn"] = _ratio(lost_mrr - table["expansion_mrr"], table["mrr_start"])
    if not priced:
        revenue = [c for c in table.columns if "mrr" in c]
        table[revenue] = np.nan
    return table


def retention_curves(
    accounts: pd.DataFrame,
    subscriptions: pd.DataFrame,
    *,
    by: str = "cohort",
    grace_days: int = 14,
    cohort_freq: str = "M",
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    max_months: int | None = None,
    min_accounts: int = 1,
) -> pd.DataFrame:
    """Share of accounts paying k whole months after sign-up, per sign-up cohort or per value of an accounts column.

    ``since`` keeps accounts that signed up on or after it: accounts that signed up
    before the export began are only the survivors and would flatter the curves.
    ``until`` is the last observed day; an account counts at month k only once
    sign-up + k months has been observed, and points resting on fewer than
    ``min_accounts`` accounts are dropped. Long format: group, months, accounts,
    active, retention.
    """
    people = _with_times(accounts, "accounts", ("created_at",))
    if by != "cohort" and by not in people.columns:
        raise ChurnInputError(f"cannot group retention by {by!r}: no such column", table="accounts", column=by)
    people = people.assign(signup=people["created_at"].dt.normalize())
    if since is not None:
        people = people[people["signup"] >= pd.Timestamp(since)]
    spells = subscription_spells(subscriptions, grace_days=grace_days)
    if until is None:
        until = max(spells["start_date"].max(), spells["end_date"].max(), people["signup"].max())
    until = pd.Timestamp(until)
    group = people["signup"].dt.to_period(cohort_freq).astype(str) if by == "cohort" else people[by].astype(str)
    people = people.assign(group=group.to_numpy())[["account_id", "group", "signup"]]
    if max_months is None:
        max_months = max(0, len(pd.period_range(people["signup"].min(), until, freq="M")) - 1) if len(people) else 0

    spans = people.merge(spells, on="account_id")
    spans["end_date"] = spans["end_date"].fillna(OPEN_END)
    spans["start_day"] = spans["start_date"].dt.normalize()  # paying from the day it starts, at any hour
    parts = []
    for k in range(max_months + 1):
        day_k = people["signup"] + pd.DateOffset(months=k)
        observed = people[day_k <= until].assign(months=k)
        at = spans["signup"] + pd.DateOffset(months=k)
        paying = spans.loc[(spans["start_day"] <= at) & (at < spans["end_date"]), "account_id"]
        parts.append(observed.assign(active=observed["account_id"].isin(paying)))
    panel = pd.concat(parts, ignore_index=True)
    curves = panel.groupby(["group", "months"], as_index=False).agg(
        accounts=("account_id", "size"), active=("active", "sum")
    )
    curves["retention"] = curves["active"] / curves["accounts"]
    return curves[curves["accounts"] >= min_accounts].reset_index(drop=True)


def feature_columns(feature_table: pd.DataFrame, *, numeric: bool = True) -> list[str]:
    """Feature columns (``family__signal[__window]``) of a known family, numeric or not."""
    names = [c for c in feature_table.columns if "__" in c and c.split("__")[0] in FAMILIES]
    is_numeric = [pd.api.types.is_numeric_dtype(feature_table[c]) for c in names]
    return [c for c, flag in zip(names, is_numeric) if flag == numeric]


def signal_family_comparison(feature_table: pd.DataFrame, *, label: str = "churned") -> pd.DataFrame:
    """How far each numeric feature sits apart between churned and stayed rows, strongest first within a family.

    std_diff is the difference of means over the pooled standard deviation (Cohen's d):
    comparable across features of any unit. Rows are snapshots, so an account counts
    once per observation date; unlabelled rows are left out.
    """
    _require(feature_table, [label], "feature table")
    labelled = feature_table[feature_table[label].notna()]
    columns = feature_columns(labelled)
    churned = labelled[label].astype(int) == 1
    values = labelled[columns].astype(float)
    stats = {}
    for name, part in (("churned", values[churned]), ("stayed", values[~churned])):
        stats[f"{name}_mean"] = part.mean()
        stats[f"{name}_median"] = part.median()
        stats[f"{name}_var"] = part.var()
        stats[f"{name}_rows"] = part.notna().sum()
    table = pd.DataFrame(stats, index=pd.Index(columns, name="feature")).reset_index()
    pooled = np.sqrt((table["churned_var"] + table["stayed_var"]) / 2)
    table["std_diff"] = _ratio(table["churned_mean"] - table["stayed_mean"], pooled)
    parts = table["feature"].str.split("__", expand=True).reindex(columns=range(3))
    table["family"], table["signal"], table["window"] = parts[0], parts[1], parts[2]
    table["strength"] = table["std_diff"].abs()
    table["family"] = pd.Categorical(table["family"], categories=FAMILIES, ordered=True)
    ordered = table.sort_values(["family", "strength"], ascending=[True, False], na_position="last")
    keep = ["family", "feature", "signal", "window", "churned_mean", "stayed_mean", "churned_median",
            "stayed_median", "std_diff", "churned_rows", "stayed_rows"]
    return ordered[keep].assign(family=lambda t: t["family"].astype(str)).reset_index(drop=True)


def family_summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """One line per signal family: how many features, how strongly they separate, and the strongest one."""
    ranked = comparison.assign(strength=comparison["std_diff"].abs()).dropna(subset=["strength"])
    best = ranked.sort_values("strength", ascending=False).drop_duplicates("family")
    summary = ranked.groupby("family").agg(
        features=("feature", "size"), mean_abs_std_diff=("strength", "mean"), max_abs_std_diff=("strength", "max")
    )
    summary["strongest"] = best.set_index("family")["feature"]
    return summary.sort_values("max_abs_std_diff", ascending=False).reset_index()


def churn_rate_by(feature_table: pd.DataFrame, column: str, *, label: str = "churned") -> pd.DataFrame:
    """Share of labelled rows that churn within the horizon, per value of a (categorical) column."""
    _require(feature_table, [column, label], "feature table")
    labelled = feature_table[feature_table[label].notna()]
    rates = labelled.groupby(labelled[column].astype(str))[label].agg(rows="size", churn_rate="mean")
    return rates.reset_index().sort_values("churn_rate", ascending=False, ignore_index=True)


def churn_by_tenure(
    feature_table: pd.DataFrame,
    *,
    edges: tuple[int, ...] = (0, 30, 60, 90, 180, 365),
    tenure: str = "account__tenure_days",
    label: str = "churned",
) -> pd.DataFrame:
    """Churn rate of labelled rows by account age at the observation date: is early life the risky part?"""
    _require(feature_table, [tenure, label], "feature table")
    labelled = feature_table[feature_table[label].notna()]
    bins = [*edges, np.inf]
    names = [f"{lo}-{hi}d" for lo, hi in zip(edges[:-1], edges[1:])] + [f"{edges[-1]}d+"]
    bucket = pd.cut(labelled[tenure], bins=bins, labels=names, right=False)
    grouped = labelled.groupby(bucket, observed=False)
    table = grouped.agg(rows=(label, "size"), accounts=("account_id", "nunique"), churn_rate=(label, "mean"))
    return table.rename_axis("tenure").reset_index()


def first_90_days(
    feature_table: pd.DataFrame,
    *,
    days: int = 90,
    min_followup_days: int = 0,
    tenure: str = "account__tenure_days",
    label: str = "churned",
) -> pd.DataFrame:
    """Each new account's first snapshot, taken within its first ``days`` days, with whether it churned later.

    The first snapshot puts every new account at the same young age. The last one
    before day ``days`` would not: an account that churns on day 40 is last seen
    near its end, one that stays is last seen near day 90, and the comparison would
    mostly measure that. churned_later is 1 if any of the account's labelled rows is
    churned, 0 if none is and they reach at least ``min_followup_days`` past the
    snapshot, null otherwise (seen too briefly to have had a chance to churn). Feed
    the result to ``signal_family_comparison(..., label="churned_later")``.
    """
    _require(feature_table, ["account_id", "as_of", tenure, label], "feature table")
    rows = feature_table.assign(as_of=pd.to_datetime(feature_table["as_of"]))
    first = rows.sort_values(["account_id", "as_of"]).drop_duplicates("account_id", keep="first")
    snapshot = first[first[tenure] < days].set_index("account_id")
    labelled = rows[rows["account_id"].isin(snapshot.index) & rows[label].notna()]
    outcome = labelled.groupby("account_id").agg(ever=(label, "max"), last_labelled=("as_of", "max"))
    outcome = outcome.reindex(snapshot.index)
    followup = (outcome["last_labelled"] - snapshot["as_of"]).dt.days
    churned_later = outcome["ever"].where((outcome["ever"] == 1) | (followup >= min_followup_days))
    snapshot = snapshot.drop(columns=[label]).assign(followup_days=followup, churned_later=churned_later)
    return snapshot.reset_index()


def _spell_rows(subscriptions: pd.DataFrame, grace_days: int) -> pd.DataFrame:
    """Subscription rows sorted per account, each with its spell number and the coverage reached so far."""
    subs = _with_times(subscriptions, "subscriptions", ("start_date", "end_date"))
    _require(subs, ["account_id", "start_date", "end_date"], "subscriptions")
    subs = subs.sort_values(["account_id", "start_date"], kind="stable", ignore_index=True)
    by_account = subs.groupby("account_id", sort=False)
    subs["covered_until"] = subs["end_date"].fillna(OPEN_END).groupby(subs["account_id"]).cummax()
    reached = by_account["covered_until"].shift()
    opens = reached.isna() | (subs["start_date"] > reached + pd.Timedelta(days=grace_days))
    subs["spell"] = opens.astype(int).groupby(subs["account_id"]).cumsum() - 1
    return subs


def _spells(rows: pd.DataFrame) -> pd.DataFrame:
    """Start and end of each (account_id, spell); a running spell ends at OPEN_END."""
    return rows.groupby(["account_id", "spell"], sort=True).agg(
        start_date=("start_date", "min"), end_date=("covered_until", "max")
    )


def _mrr_at(rows: pd.DataFrame, spells: pd.DataFrame, bounds: pd.DatetimeIndex) -> pd.DataFrame:
    """MRR of every spell at each boundary (columns), NaN when the spell is not running then.

    A spell runs at a boundary when it began strictly before it and has not ended
    before it; its MRR is that of its latest subscription begun before the boundary,
    which carries a renewal gap over at the old price.
    """
    out = {}
    end = spells["end_date"]
    for bound in bounds:
        running = (spells["start_date"] < bound) & (end >= bound)
        begun = rows[rows["start_date"] < bound]
        latest = begun.groupby(["account_id", "spell"])["mrr"].last()
        out[bound] = latest.reindex(spells.index).fillna(0.0).where(running)  # running without MRR: 0
    return pd.DataFrame(out, index=spells.index)


def _with_times(frame: pd.DataFrame, table: str, columns: tuple[str, ...], formats: dict | None = None) -> pd.DataFrame:
    """A copy with the given time columns as naive UTC datetimes, read by the build's own rule (text with or without
    a zone, numeric dates in their ``formats``, Unix times); a number that is no Unix time (a bare year) is empty."""
    zoned = [c for c in columns if c in frame.columns and isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    in_utc = frame.assign(**{c: frame[c].dt.tz_convert(None) for c in zoned})
    return _read_as_the_build_does(in_utc, table, columns, TIME, formats)


def _read_as_the_build_does(frame: pd.DataFrame, table: str, columns, kind: str, formats: dict | None) -> pd.DataFrame:
    """A copy with the given columns of ``kind`` (``TIME``, ``NUMBER``, ``DURATION``) read as the build reads them
    (``features.contract.read_as``), text that is not one refused naming the column; times and numbers already of
    the kind as they are (a duration is in seconds once read)."""
    done = {TIME: pd.api.types.is_datetime64_any_dtype, NUMBER: pd.api.types.is_numeric_dtype}.get(kind, lambda _: False)
    given = [c for c in columns if c in frame.columns and not done(frame[c])]
    if not given:
        return frame
    raw = ibis.memtable(frame[given].reset_index(drop=True))
    typed = {c: read_as(raw[c], kind, table, c, (formats or {}).get(c, ())) for c in given}
    parsed = raw.select(**typed, **unparsed_flags(raw, typed, dict.fromkeys(given, kind))).to_pandas()
    converted = {}
    for column in given:
        values = frame[column]
        unread = parsed.get(f"{UNPARSED}{column}")
        if unread is not None and unread.any() and not pd.api.types.is_numeric_dtype(values):
            problem = not_parsed(int(unread.sum()), str(values[unread.to_numpy()].iloc[0]), kind)
            raise ChurnInputError(problem, table=table, column=column)
        converted[column] = pd.Series(parsed[column].to_numpy(), index=frame.index)
        if kind == TIME:
            converted[column] = converted[column].astype("datetime64[ns]")
    return frame.assign(**converted)


def _require(frame: pd.DataFrame, columns: list[str], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ChurnInputError(f"missing column(s) {', '.join(missing)}", table=table, column=missing[0])


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator != 0)).astype(float)
