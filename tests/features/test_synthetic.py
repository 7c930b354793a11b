"""The synthetic generator keeps the data contract and hides a churn process the observable tables reveal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from features.errors import ChurnInputError
from features.synthetic import GenerationSummary, generate

HISTORY_END = pd.Timestamp("2025-12-31")
GRACE = pd.Timedelta(days=14)
CONTRACT = {
    "accounts": {"account_id": "string", "created_at": "timestamp", "plan": "string", "seats": "integer",
                 "industry": "string", "country": "string", "company_size": "string"},
    "subscriptions": {"account_id": "string", "start_date": "date", "end_date": "date", "mrr": "floating",
                      "seats": "integer"},
    "events": {"account_id": "string", "user_id": "string", "timestamp": "timestamp", "event_type": "string"},
    "tickets": {"ticket_id": "string", "account_id": "string", "opened_at": "timestamp",
                "first_response_at": "timestamp", "resolved_at": "timestamp", "priority": "string",
                "category": "string", "csat": "floating"},
    "emails": {"account_id": "string", "user_id": "string", "sent_at": "timestamp", "opened_at": "timestamp",
               "clicked_at": "timestamp"},
    "surveys": {"account_id": "string", "user_id": "string", "responded_at": "timestamp", "nps": "integer"},
    "truth": {"account_id": "string", "month": "date", "churn_probability": "floating"},
}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("small") / "data"
    return out, generate(out, n_accounts=120, months=5, seed=11)


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> Path:
    """Large enough (three chunks, ~150 churns) for rates and signal comparisons to be stable."""
    out = tmp_path_factory.mktemp("medium") / "data"
    generate(out, n_accounts=1200, months=6, seed=3)
    return out


def read(folder: Path, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(folder / f"{table}.parquet")
    for column, kind in CONTRACT[table].items():
        if kind == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def customer_spells(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Subscriptions joined into customer spells: a gap of at most 14 days is a renewal, not churn."""
    subs = subscriptions.sort_values(["account_id", "start_date"]).reset_index(drop=True)
    previous_end = subs.groupby("account_id")["end_date"].shift()
    first = subs.groupby("account_id").cumcount() == 0
    subs["spell"] = (first | (subs["start_date"] - previous_end > GRACE)).cumsum()
    first, last = subs.groupby("spell").head(1).set_index("spell"), subs.groupby("spell").tail(1).set_index("spell")
    return pd.DataFrame({"account_id": first["account_id"], "start": first["start_date"], "end": last["end_date"]})


def monthly_status(folder: Path) -> pd.DataFrame:
    """Every (account, month) active at the month start, with whether it churned in that month."""
    spells = customer_spells(read(folder, "subscriptions"))
    months = pd.DataFrame({"month": sorted(read(folder, "truth")["month"].unique())})
    rows = spells.merge(months, how="cross")
    rows = rows[(rows["start"] <= rows["month"]) & (rows["end"].isna() | (rows["end"] > rows["month"]))].copy()
    rows["churned"] = rows["end"].notna() & (rows["end"] < rows["month"] + pd.offsets.MonthBegin(1))
    return rows[["account_id", "month", "churned", "end"]].reset_index(drop=True)


def auc(score: pd.Series, label: pd.Series) -> float:
    ranks = score.rank()
    positives = int(label.sum())
    negatives = len(label) - positives
    return float((ranks[label].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def test_every_contract_table_has_the_contract_columns_and_types(small):
    folder, _ = small
    checks = {kind: getattr(pa.types, f"is_{kind}") for kind in ("string", "timestamp", "date", "integer", "floating")}
    for table, columns in CONTRACT.items():
        schema = pq.read_schema(folder / f"{table}.parquet")
        assert schema.names == list(columns), table
        for column, kind in columns.items():
            field_type = schema.field(column).type
            large_string = kind == "string" and pa.types.is_large_string(field_type)
            assert checks[kind](field_type) or large_string, (table, column)
        assert pq.read_metadata(folder / f"{table}.parquet").num_rows > 0, table


def test_summary_matches_what_was_written(small):
    folder, summary = small
    assert summary.out_dir == folder
    for table in ("accounts", "subscriptions", "events", "tickets", "emails", "surveys"):
        assert getattr(summary, table) == pq.read_metadata(folder / f"{table}.parquet").num_rows, table
    assert summary.accounts == 120
    assert 0 < summary.events_per_second and 0 < summary.seconds
    assert str(folder) in summary.describe()


def test_same_seed_gives_identical_tables_and_another_seed_does_not(small, tmp_path):
    folder, _ = small
    generate(tmp_path / "again", n_accounts=120, months=5, seed=11)
    generate(tmp_path / "other", n_accounts=120, months=5, seed=12)
    for table in CONTRACT:
        assert (tmp_path / "again" / f"{table}.parquet").read_bytes() == (folder / f"{table}.parquet").read_bytes()
    assert not read(tmp_path / "other", "events").equals(read(folder, "events"))
    assert not read(tmp_path / "other", "truth").equals(read(folder, "truth"))


def test_no_row_is_dated_after_the_history_end(medium):
    for table, columns in CONTRACT.items():
        frame = read(medium, table)
        for column, kind in columns.items():
            if kind in ("timestamp", "date"):
                assert frame[column].max() < HISTORY_END + pd.Timedelta(days=1), (table, column)


def test_events_fall_inside_the_history_and_inside_a_customer_spell(medium):
    events = read(medium, "events").sort_values("timestamp")
    spells = customer_spells(read(medium, "subscriptions")).sort_values("start")
    assert events["timestamp"].min() >= pd.Timestamp("2025-07-01")
    latest = pd.merge_asof(events, spells, left_on="timestamp", right_on="start", by="account_id")
    assert latest["start"].notna().all()
    assert (latest["end"].isna() | (latest["timestamp"] < latest["end"])).all()


def test_subscriptions_of_an_account_never_overlap(medium):
    subs = read(medium, "subscriptions").sort_values(["account_id", "start_date"])
    assert (subs["end_date"].isna() | (subs["end_date"] > subs["start_date"])).all()
    next_start = subs.groupby("account_id")["start_date"].shift(-1)
    follows = next_start.notna()
    assert subs.loc[follows, "end_date"].notna().all()
    assert (next_start[follows] >= subs.loc[follows, "end_date"]).all()
    assert (subs.groupby("account_id")["end_date"].apply(lambda ends: ends.isna().sum()) <= 1).all()


def test_truth_covers_exactly_the_months_active_at_the_month_start(medium):
    truth = read(medium, "truth")
    status = monthly_status(medium)
    assert truth["churn_probability"].between(0, 1).all()
    assert set(zip(truth["account_id"], truth["month"])) == set(zip(status["account_id"], status["month"]))
    assert (truth["month"].dt.day == 1).all()


def test_monthly_churn_rate_is_believable(medium):
    status = monthly_status(medium)
    rate = status.groupby("month")["churned"].mean()
    assert 0.01 <= rate.mean() <= 0.05
    assert rate.max() < 0.1


def test_truth_ranks_realised_churn_well_but_not_perfectly(medium):
    rows = read(medium, "truth").merge(monthly_status(medium), on=["account_id", "month"])
    oracle = auc(rows["churn_probability"], rows["churned"])
    assert 0.7 < oracle < 0.97
    assert abs(rows["churn_probability"].mean() - rows["churned"].mean()) < 0.01


def test_hazard_is_higher_in_the_month_a_subscription_term_comes_up_for_renewal(medium):
    subs = read(medium, "subscriptions")
    first = subs.sort_values("start_date").drop_duplicates("account_id")
    rows = read(medium, "truth").merge(first[["account_id", "start_date"]], on="account_id")
    anniversary = (rows["month"].dt.month == rows["start_date"].dt.month) & (rows["month"] > rows["start_date"])
    by_month = rows.groupby(anniversary)["churn_probability"].mean()
    assert by_month[True] > 2 * by_month[False]


def _logins_per_user(events: pd.DataFrame, windows: pd.DataFrame) -> pd.Series:
    """Logins per distinct logging-in user of each account in [start, end)."""
    logins = events[events["event_type"] == "login"].merge(windows, on="account_id")
    logins = logins[(logins["timestamp"] >= logins["start"]) & (logins["timestamp"] < logins["end"])]
    per_account = logins.groupby("account_id").agg(logins=("user_id", "size"), users=("user_id", "nunique"))
    return (per_account["logins"] / per_account["users"]).reindex(windows["account_id"], fill_value=0.0)


def test_accounts_that_churn_log_in_less_and_less_beforehand(medium):
    events = read(medium, "events")
    status = monthly_status(medium)
    from_start = status.loc[status["month"] == status["month"].min(), "account_id"]
    status = status[status["account_id"].isin(from_start)]
    churn_day = status.loc[status["churned"]].groupby("account_id")["end"].min()
    churn_day = churn_day[churn_day >= pd.Timestamp("2025-10-01")]
    ever_churned = status.groupby("account_id")["churned"].any()
    churned = pd.DataFrame({"account_id": churn_day.index, "end": churn_day.to_numpy()})
    stayed = pd.DataFrame({"account_id": ever_churned.index[~ever_churned], "end": HISTORY_END + pd.Timedelta(days=1)})
    assert len(churned) >= 30

    def logins(frame: pd.DataFrame, days_back: int, days_until: int) -> float:
        window = frame.assign(
            start=frame["end"] - pd.Timedelta(days=days_back), end=frame["end"] - pd.Timedelta(days=days_until)
        )
        return _logins_per_user(events, window).mean()

    assert logins(churned, 60, 0) < 0.8 * logins(stayed, 60, 0)
    assert logins(churned, 30, 0) / logins(churned, 90, 60) < logins(stayed, 30, 0) / logins(stayed, 90, 60)


def test_engagement_signals_are_weaker_in_accounts_about_to_churn(medium):
    status = monthly_status(medium)
    events, emails = read(medium, "events"), read(medium, "emails")
    micro_conversions = [
        "report_created", "dashboard_shared", "invite_sent", "integration_connected", "workflow_published"
    ]
    snapshots = []
    for month in sorted(status["month"].unique())[-3:]:
        since = month - pd.Timedelta(days=60)
        recent = events[(events["timestamp"] >= since) & (events["timestamp"] < month)]
        recent = recent.assign(kb=recent["event_type"] == "kb_view", micro=recent["event_type"].isin(micro_conversions))
        per_account = recent.groupby("account_id").agg(
            users=("user_id", "nunique"), breadth=("event_type", "nunique"), kb=("kb", "sum"), micro=("micro", "sum")
        )
        per_account["kb"] /= per_account["users"]
        per_account["micro"] /= per_account["users"]
        sent = emails[(emails["sent_at"] >= since) & (emails["sent_at"] < month)]
        per_account["open_rate"] = (sent["opened_at"] < month).groupby(sent["account_id"]).mean()
        active = status[status["month"] == month]
        snapshots.append(active.merge(per_account, left_on="account_id", right_index=True))
    rows = pd.concat(snapshots)
    assert rows["churned"].sum() >= 30
    means = rows.groupby("churned")[["breadth", "kb", "micro", "open_rate"]].mean()
    assert (means.loc[True] < means.loc[False]).all()


@pytest.mark.parametrize(
    "arguments",
    [{"n_accounts": 0, "months": 3, "seed": 1}, {"n_accounts": 5, "months": 0, "seed": 1},
     {"n_accounts": 5, "months": 3, "seed": -1}, {"n_accounts": 5.5, "months": 3, "seed": 1}],
)
def test_bad_arguments_are_reported_as_input_errors(tmp_path, arguments):
    with pytest.raises(ChurnInputError):
        generate(tmp_path / "data", **arguments)
    assert list(tmp_path.iterdir()) == []


def test_failed_generation_leaves_no_output(tmp_path):
    def fail(message: str) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        generate(tmp_path / "data", n_accounts=700, months=2, seed=1, on_progress=fail)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_gets_its_tables_replaced(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "events.csv").write_text("stale")
    (out / "notes.txt").write_text("kept")
    (out / "accounts.parquet").write_text("stale")
    generate(out, n_accounts=20, months=2, seed=1)
    assert not (out / "events.csv").exists()
    assert (out / "notes.txt").read_text() == "kept"
    assert len(read(out, "accounts")) == 20
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data"]
