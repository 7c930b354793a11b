"""Event logs of counts per day, week or month: a count is that many events, and a period's count is seen only
once the period is over."""

from __future__ import annotations

from datetime import date, datetime

import ibis
import pandas as pd
import pytest

from features import contract
from features.build import build_feature_file, build_features
from features.errors import ChurnInputError
from features.rollups import NO_EVENTS, Period, log_period
from tests.features.test_build import NOW, T, contract_tables
from tests.features.test_contract import DATES, write_folder


def daily_counts(events: pd.DataFrame) -> pd.DataFrame:
    """The events as a warehouse rolls them up: a row per account, user, day and event type with its count, under
    the names such a table has, and a row of no events."""
    day = events["timestamp"].dt.floor("D")
    counts = events.groupby(["account_id", "user_id", day, "event_type"]).size().rename("n_events").reset_index()
    counts = counts.rename(columns={"timestamp": "date"})
    idle = counts.iloc[[0]].assign(user_id="u9", n_events=0)
    return pd.concat([counts, idle], ignore_index=True)


def test_a_log_of_daily_counts_builds_the_table_its_events_build(tmp_path):
    tables = contract_tables()
    tables["events"]["timestamp"] = tables["events"]["timestamp"].dt.floor("D")
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {**tables, "events": daily_counts(tables["events"])}, csv=("events",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert expected["usage__events__30d"].gt(1).any()
    assert report.skipped[("events", NO_EVENTS)] == 1  # u9's day of no events: not an active user
    assert {key: report.common_names[key] for key in ("events.timestamp", "events.event_count")} == {
        "events.timestamp": "date", "events.event_count": "n_events",
    }
    assert report.events_period is None and "dated by" not in report.describe()


def test_a_count_with_times_of_day_is_that_many_events_and_the_times_are_kept():
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    once = build_features({**tables, "events": tables["events"].assign(count=1)}, DATES, now=NOW)
    twice = build_features({**tables, "events": tables["events"].assign(count=2)}, DATES, now=NOW)

    pd.testing.assert_frame_equal(once, expected)
    assert twice["usage__events__30d"].equals(2 * expected["usage__events__30d"])
    assert twice["usage__active_users__30d"].equals(expected["usage__active_users__30d"])
    assert twice["usage__days_since_last_activity"].equals(expected["usage__days_since_last_activity"])


def weekly_counts() -> pd.DataFrame:
    """stay's week of 17 February ends on Sunday the 23rd; its week of 24 February runs to 2 March, past 1 March."""
    rows = [
        ("stay", "u0", "2024-06-03", "login", 1),  # the log's first week: every window is observed
        ("stay", "u1", "2025-02-17", "login", 3),
        ("stay", "u1", "2025-02-24", "login", 5),
        ("stay", "u3", "2025-02-24", "login", 0),  # no events: u3 was not active
        ("stay", "u2", "2025-03-24", "Report_Created", 2),
        ("leave", "u4", "2025-01-20", "login", 2),
        ("stay", "u1", "2025-12-22", "login", 1),
    ]
    return pd.DataFrame(rows, columns=["account_id", "user_id", "week", "event", "count"])


def test_a_weeks_count_is_seen_only_once_the_week_is_over(tmp_path):
    tables = contract_tables()
    folder = write_folder(tmp_path / "data", {**tables, "events": weekly_counts()}, csv=("events",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    table = pd.read_parquet(tmp_path / "f.parquet").set_index(["account_id", "as_of"])

    march, april = table.loc[("stay", T("2025-03-01"))], table.loc[("stay", T("2025-04-01"))]
    assert march["usage__logins__7d"] == 3 and march["usage__logins__30d"] == 3  # the week of 24 February is not over
    assert march["usage__active_users__7d"] == 1
    assert april["usage__logins__30d"] == 5 and april["usage__events__30d"] == 7
    assert april["usage__active_users__30d"] == 2  # u1 and u2, not u3
    assert table.loc[("leave", T("2025-03-01")), "usage__logins__90d"] == 2
    assert report.events_period == "week" and report.skipped[("events", NO_EVENTS)] == 1
    assert "events are dated by week: each row's events are taken as known at its week's end" in report.describe()


def test_a_months_count_is_seen_from_the_first_date_after_its_month_and_counted_from_the_months_start():
    tables = contract_tables()
    rows = [("stay", "u0", "2024-09-01", 1), ("stay", "u1", "2025-02-01", 4), ("stay", "u1", "2025-03-01", 6),
            ("stay", "u1", "2025-12-01", 1)]
    events = pd.DataFrame(rows, columns=["account_id", "user_id", "timestamp", "count"]).assign(event_type="login")
    events["timestamp"] = pd.to_datetime(events["timestamp"])
    table = build_features({**tables, "events": events}, DATES, now=NOW).set_index(["account_id", "as_of"])

    march, april = table.loc[("stay", T("2025-03-01"))], table.loc[("stay", T("2025-04-01"))]
    assert march["usage__logins__30d"] == 4 and april["usage__logins__30d"] == 6
    # the log starts on 1 September 2024, not at that month's end: the 180 days before 1 March (from 2 September)
    # are observed, so the 90-day trend is (4 + 1) / (1 + 1), not unknown
    assert march["usage__logins__90d"] == 4 and march["usage__logins_trend__90d"] == 2.5


@pytest.mark.parametrize(("value", "problem"), [(-2, "negative or not a whole number, e.g. -2.0"),
                                                 (2.5, "negative or not a whole number, e.g. 2.5")])
def test_a_count_that_is_no_number_of_events_is_refused_naming_it(value, problem):
    tables = contract_tables()
    counts = tables["events"].assign(count=1.0)
    counts.loc[4, "count"] = value
    with pytest.raises(ChurnInputError) as error:
        build_features({**tables, "events": counts}, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("events", "event_count")
    assert problem in error.value.problem


def test_a_row_of_no_known_count_is_counted_not_used(tmp_path):
    tables = contract_tables()
    counts = tables["events"].assign(count=1.0)
    counts.loc[4, "count"] = None
    folder = write_folder(tmp_path / "data", {**tables, "events": counts})
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    expected = build_features({**tables, "events": tables["events"].drop(index=4)}, DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert report.skipped[("events", "empty event_count")] == 1


def _days(*values: str) -> list[date]:
    return [date.fromisoformat(value) for value in values]


def test_a_logs_period_is_told_by_its_days():
    assert log_period(_days("2025-01-06", "2025-01-13", "2025-02-03")) == Period(weeks=1)
    assert str(log_period(_days("2025-01-06", "2025-01-20", "2025-02-17"))) == "2 weeks"
    assert log_period(_days("2025-01-01", "2025-02-01", "2025-04-01")) == Period(months=1)
    assert str(log_period(_days("2025-01-01", "2025-04-01", "2025-10-01"))) == "quarter"
    assert str(log_period(_days("2024-01-01", "2025-01-01"))) == "year"
    assert log_period(_days("2025-01-06", "2025-01-07")) is None  # days
    assert log_period(_days("2025-01-06", "2025-01-15")) is None  # neither a week apart nor months' firsts
    assert log_period(_days("2025-01-06", "2025-01-14")) is None  # a week apart, two weekdays: days of a sparse log
    assert log_period(_days("2025-01-01")) is None


@pytest.mark.parametrize(("period", "start", "last"), [
    (Period(months=1), datetime(2025, 2, 1), datetime(2025, 2, 28, 23, 59, 59)),
    (Period(months=3), datetime(2024, 12, 1), datetime(2025, 2, 28, 23, 59, 59)),
    (Period(weeks=1), datetime(2025, 2, 24), datetime(2025, 3, 2, 23, 59, 59)),
])
def test_a_periods_last_moment_and_its_start_are_each_others_inverse(period, start, last):
    value = ibis.literal(start, type="timestamp")
    assert ibis.duckdb.connect().execute(period.last_moment(value)).to_pydatetime() == last
    assert period.start_of(last) == start


def wide_daily_counts(events: pd.DataFrame) -> pd.DataFrame:
    """The events (of days, without users) as a usage table as CS tools keep one: account, day, and a column of
    counts per event type, beside columns that are no counts of events (active users, minutes in the app, a plan's
    id)."""
    wide = events.pivot_table(index=["account_id", "timestamp"], columns="event_type", aggfunc="size", fill_value=0)
    wide = wide.rename_axis(columns=None).reset_index().rename(columns={"timestamp": "day", "account_id": "org_id"})
    return wide.assign(active_users=1, minutes_in_app=12.5, plan_id=3)


def days_without_users(events: pd.DataFrame) -> pd.DataFrame:
    return events.assign(timestamp=events["timestamp"].dt.floor("D")).drop(columns="user_id")


def test_a_wide_table_of_daily_counts_a_column_per_event_type_builds_the_table_its_events_build(tmp_path):
    tables = contract_tables()
    events = days_without_users(tables["events"])
    expected = build_features({**tables, "events": events}, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {**tables, "events": wide_daily_counts(events)}, csv=("events",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)

    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert expected["usage__logins__30d"].gt(0).any() and "events__quantum_widget_spun__count__30d" in expected.columns
    assert report.derived_columns["events.event_type, event_count"] == (
        f"{contract.WIDE_COUNTS} ('Quantum Widget Spun', 'Report_Created', 'login')"
    )
    assert report.unused_columns == {
        "events.active_users": contract.USERS_COUNTED, "events.minutes_in_app": contract.NO_COUNT, "events.plan_id": "an id"
    }
    assert report.skipped[("events", NO_EVENTS)] > 0  # the days an account logged in and spun no widget


def test_a_wide_tables_columns_counting_users_or_measuring_are_not_event_types():
    names = ["users", "active_users", "unique_visitors", "user_count", "DAU", "seats_used", "new_users", "users_invited",
             "logins", "Reports Created", "mrr", "minutes_in_app", "health_score", "plan_id", "avg_session_length"]
    table = ibis.memtable({**{name: [1, 2] for name in names}, "refunds": [-1, 2], "notes": ["a", "b"],
                           "account_id": ["a", "b"], "timestamp": ["2025-01-01", "2025-01-02"]})
    counts, not_read = contract.event_type_columns(table)
    assert counts == ["new_users", "users_invited", "logins", "Reports Created"]
    assert [name for name, why in not_read.items() if why == contract.USERS_COUNTED] == names[:6]
    assert [name for name, why in not_read.items() if why == contract.NO_COUNT] == [
        "mrr", "minutes_in_app", "health_score", "avg_session_length"
    ]
    assert not_read["refunds"].startswith("not a count") and not_read["notes"] == contract.NOT_A_NUMBER


def test_an_events_table_without_event_types_whose_numbers_are_no_counts_is_refused_saying_why():
    tables = contract_tables()
    daily = days_without_users(tables["events"]).groupby(["account_id", "timestamp"]).size().rename("active_users")
    with pytest.raises(ChurnInputError) as error:
        build_features({**tables, "events": daily.reset_index()}, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("events", "event_type")
    assert error.value.problem.startswith("required column is missing, and no column is a count of events to read as")
    assert f"'active_users' is {contract.USERS_COUNTED}" in error.value.problem
