"""The feature definitions run unchanged on a second engine: Spark (local mode) gives DuckDB's table."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from features.build import KEYS, FeatureOptions, _disconnect, _duckdb, plan_features
from features.contract import read_tables
from features.synthetic import generate

pytestmark = pytest.mark.slow
NOW = datetime(2030, 1, 1)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("churn-features-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _feature_table(con, data) -> pd.DataFrame:
    plan = plan_features(read_tables(con, data), None, FeatureOptions(), now=NOW)
    return plan.table.to_pandas().sort_values(list(KEYS)).reset_index(drop=True)


def _on_both_engines(spark, data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The feature table of ``data`` built on DuckDB, then on Spark."""
    import ibis

    duckdb_con = _duckdb()
    try:
        on_duckdb = _feature_table(duckdb_con, data)
    finally:
        _disconnect(duckdb_con)
    return on_duckdb, _feature_table(ibis.pyspark.connect(spark), data)


def _as_another_company_exports_it(data) -> None:
    """Numeric account ids (whole floats in the events), events as a folder of parts with their own column style
    (the later part with a column more), tickets as Excel's "Unicode text" (UTF-16, tab-separated) with times as
    text with a UTC offset and each resolution as the time it took (26:05:00), subscriptions and emails as CSV with dates month first (09/20/2024, 09/20/2024 05:05:33
    PM), subscriptions with a price per billing interval as money ($1,234.50) instead of MRR and some with a free trial, surveys as JSON
    lines with each answer nested and its time in Unix milliseconds, emails naming users alone (their accounts in
    a users workbook), page views in the later part of the events named by URL, accounts with a founding year and
    a closing date as text (as Excel saves "CSV" on a Western Windows: Windows-1252, semicolons), CSAT as Zendesk
    writes it (good, bad, offered), and columns an export often lacks (the tickets' priority and category, the
    emails' clicks)."""
    frames = {path.stem: pd.read_parquet(path) for path in data.glob("*.parquet") if path.stem != "truth"}
    for name, frame in frames.items():
        frame["account_id"] = frame["account_id"].str[1:].astype("int64")
    accounts = frames["accounts"]
    accounts["founded"] = (accounts["created_at"].dt.year - accounts.index % 20).astype(str)  # Spark alone reads "2001" as a time
    accounts["closed_on"] = (accounts["created_at"] + pd.Timedelta(days=400)).dt.strftime("%Y-%m-%d").where(accounts.index % 3 == 0, "")
    frames["events"]["account_id"] = frames["events"]["account_id"].astype("float64")
    tickets = frames.pop("tickets").drop(columns=["priority", "category"])
    tickets["csat"] = np.select([tickets["csat"] >= 4, tickets["csat"] <= 2, tickets["csat"] == 3], ["Good", "bad", "Offered"], "")
    emails = frames["emails"]  # as an email tool exports them, naming contacts, with their accounts in a users table
    users = pd.concat([frames["events"], emails])[["user_id", "account_id"]].drop_duplicates()
    users.astype({"account_id": "int64"}).to_excel(data / "users.xlsx", index=False)  # saved from a spreadsheet
    frames["emails"] = emails.drop(columns=["clicked_at", "account_id"])
    took = (tickets.pop("resolved_at") - tickets["opened_at"]).dt.total_seconds()  # as HubSpot exports it
    tickets["Time to close (HH:mm:ss)"] = took.map(lambda s: f"{s // 3600:.0f}:{s % 3600 // 60:02.0f}:{s % 60:02.0f}", "ignore")
    for column in ("opened_at", "first_response_at"):
        zoned = tickets[column].dt.tz_localize("UTC").dt.tz_convert("America/Sao_Paulo")
        tickets[column] = zoned.map(lambda t: t.isoformat() if pd.notna(t) else "")
    (data / "tickets.parquet").unlink()
    tickets.to_csv(data / "tickets.csv", index=False, sep="\t", encoding="utf-16")  # Excel's "Unicode text"
    subscriptions = frames["subscriptions"]  # every fourth begins with a free trial of two weeks
    subscriptions["Trial End"] = (subscriptions["start_date"] + pd.Timedelta(days=14)).where(subscriptions.index % 4 == 1)
    for name, columns, form in (  # as US billing and email tools export them: 09/20/2024, 09/20/2024 05:05:33 PM
        ("subscriptions", ("start_date", "end_date", "Trial End"), "%m/%d/%Y"), ("emails", ("sent_at", "opened_at"), "%m/%d/%Y %I:%M:%S %p"),
    ):
        frame = frames.pop(name)
        for column in columns:
            frame[column] = frame[column].map(lambda t: t.strftime(form) if pd.notna(t) else "")
        if name == "subscriptions":  # no MRR, but a price per billing interval, written as a spreadsheet writes money
            yearly = frame.index % 3 == 0
            frame["Interval"] = np.where(yearly, "Year", "month")
            price = frame.pop("mrr") * np.where(yearly, 12, 1)
            frame["Amount"] = [f"${m:,.2f}" if i % 2 else f"USD {m:,.2f}" for i, m in enumerate(price)]
        (data / f"{name}.parquet").unlink()
        frame.to_csv(data / f"{name}.csv", index=False)
    surveys = frames.pop("surveys")  # as JSON lines, the answer nested, its time in Unix milliseconds
    surveys["responded_at"] = (surveys["responded_at"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)
    answers = surveys[["nps", "responded_at"]].to_dict("records")
    nested = surveys[["account_id", "user_id"]].assign(answer=answers)
    nested.to_json(data / "surveys.jsonl", orient="records", lines=True)
    (data / "surveys.parquet").unlink()
    events = frames.pop("events").rename(columns={"account_id": "AccountId", "event_type": "Event Type"})
    (data / "events.parquet").unlink()
    (data / "events").mkdir()
    half = len(events) // 2
    later = events.iloc[half:].assign(device="web")
    views = later["Event Type"] == "dashboard_view"  # a web tracker names a page view by its URL, record id and all
    later.loc[views, "Event Type"] = [f"https://app.example.com/dashboards/{n % 40}?tab=usage" for n in range(views.sum())]
    for i, part in enumerate((events.iloc[:half], later)):
        part.to_parquet(data / "events" / f"part-{i:05d}.parquet", index=False)
    accounts = frames.pop("accounts")  # as Excel saves "CSV" on a Western Windows: Windows-1252, with semicolons
    accounts["region"] = np.where(accounts.index % 2 == 0, "Île-de-France", "Bavière")
    (data / "accounts.parquet").unlink()
    accounts.to_csv(data / "accounts.csv", sep=";", index=False, encoding="cp1252")
    for name, frame in frames.items():
        frame.to_parquet(data / f"{name}.parquet", index=False)


def test_spark_builds_the_same_feature_table_as_duckdb(spark, tmp_path):
    data = tmp_path / "data"
    generate(data, n_accounts=80, months=6, seed=3)
    _as_another_company_exports_it(data)
    on_duckdb, on_spark = _on_both_engines(spark, data)

    assert list(on_spark.columns) == list(on_duckdb.columns)
    assert len(on_duckdb) > 300 and on_duckdb["churned"].notna().any()
    assert on_duckdb["account_id"].str.fullmatch(r"\d+").all()
    assert on_duckdb["usage__logins__30d"].gt(0).any() and on_duckdb["support__tickets_opened__90d"].gt(0).any()
    assert on_duckdb["engagement__nps_latest"].notna().any()
    assert on_duckdb["account__mrr"].gt(0).mean() > 0.9 and on_duckdb["account__days_to_renewal"].lt(32).any()
    assert on_duckdb["events__https_app_example_com_dashboards_id__count__30d"].gt(0).any()  # 40 URLs, one page
    assert set(on_duckdb["account__attr_region"]) == {"Île-de-France", "Bavière"}
    assert "account__attr_founded" in on_duckdb.columns and "account__attr_closed_on" not in on_duckdb.columns
    assert on_duckdb["support__median_resolution_hours__30d"].gt(0).any()  # from the time each took
    assert on_duckdb["support__csat_mean__90d"].isin([1.0, 5.0]).any() and on_duckdb["support__low_csat_tickets__90d"].gt(0).any()
    assert on_duckdb["engagement__emails_sent__30d"].gt(0).mean() > 0.5  # the users table gave emails their accounts
    assert "engagement__email_click_rate__30d" not in on_duckdb.columns and "engagement__email_open_rate__30d" in on_duckdb.columns
    pd.testing.assert_frame_equal(on_spark[list(KEYS)], on_duckdb[list(KEYS)], check_dtype=False)
    for column in on_duckdb.columns.drop(list(KEYS)):
        mine, theirs = on_duckdb[column], on_spark[column]
        if pd.api.types.is_numeric_dtype(theirs) or mine.isna().all():
            np.testing.assert_allclose(
                pd.to_numeric(mine).astype("float64"), pd.to_numeric(theirs).astype("float64"),
                rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=column,  # Spark's percentile rounds medians at 1e-6
            )
        else:
            assert mine.tolist() == theirs.tolist(), column


def test_spark_reads_a_log_of_email_events_as_duckdb_does(spark, tmp_path):
    from tests.features.test_build import contract_tables
    from tests.features.test_contract import _users_of, email_events, write_folder

    tables = contract_tables()
    users = _users_of(tables["events"], tables["emails"]).assign(user_id=lambda f: f["user_id"] + "@acme.com")
    data = write_folder(tmp_path / "data", {**tables, "emails": email_events(tables["emails"]), "users": users},
                        csv=("emails",))
    on_duckdb, on_spark = _on_both_engines(spark, data)
    emails = [column for column in on_duckdb.columns if column.startswith("engagement__email")]
    assert on_duckdb["engagement__email_open_rate__30d"].gt(0).any()
    pd.testing.assert_frame_equal(on_spark[[*KEYS, *emails]], on_duckdb[[*KEYS, *emails]], check_dtype=False)


def test_spark_reads_a_wide_table_of_weekly_counts_as_duckdb_does(spark, tmp_path):
    """A column of counts per event type, a row per account and week: both read as a log of counts, each week's
    seen once it is over."""
    from tests.features.test_build import contract_tables
    from tests.features.test_contract import write_folder
    from tests.features.test_rollups import weekly_counts

    weeks = weekly_counts().pivot_table(index=["account_id", "week"], columns="event", values="count", aggfunc="sum")
    wide = weeks.fillna(0).rename_axis(columns=None).reset_index().assign(active_users=1)
    data = write_folder(tmp_path / "data", {**contract_tables(), "events": wide}, csv=("events",))
    on_duckdb, on_spark = _on_both_engines(spark, data)
    usage = [column for column in on_duckdb.columns if column.startswith(("usage__", "events__"))]
    assert on_duckdb["usage__logins__30d"].gt(0).any() and on_duckdb["events__report_created__count__30d"].gt(0).any()
    pd.testing.assert_frame_equal(on_spark[[*KEYS, *usage]], on_duckdb[[*KEYS, *usage]], check_dtype=False)


def test_spark_sets_each_segments_bit_of_a_users_activity_as_duckdb_does(spark):
    """Every bit of a 64-bit word, not only the low 32: Spark reads a bare 1 as a 32-bit int, whose shifts wrap."""
    import ibis

    from features.calendar import BITS_PER_WORD, Calendar

    calendar = Calendar(tuple(date(2024, month, 1) for month in range(1, 13)), (7, 30, 90))
    assert calendar.words >= 2
    segments = pa.table({"segment": pa.array(range(len(calendar.points)), pa.int16())})
    expected = {f"bits_{word}": [1 << (s - 1 - word * BITS_PER_WORD) if 0 <= s - 1 - word * BITS_PER_WORD < BITS_PER_WORD
                                 else 0 for s in segments["segment"].to_pylist()] for word in range(calendar.words)}
    rows = ibis.memtable(segments)
    query = rows.select("segment", **calendar.activity_bits(rows.segment)).order_by("segment")
    for con in (ibis.duckdb.connect(), ibis.pyspark.connect(spark)):
        bits = con.to_pandas(query)
        assert {name: bits[name].tolist() for name in expected} == expected, con.name
