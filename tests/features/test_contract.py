"""Bad input stops the build with an error naming table, column and problem, and writes nothing."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

import ibis
import pandas as pd
import pytest
from typer.testing import CliRunner

from churn.cli import app
from features import analysis, contract, text_values
from features.build import build_feature_file, build_features, unbuilt_features
from features.calendar import Calendar
from features.errors import ChurnInputError
from features.mapping import load_mapping
from features.windows import in_window
from tests.features.test_build import NOW, T, contract_tables

DATES = [date(2025, 3, 1), date(2025, 4, 1)]


def write_folder(folder: Path, tables: dict[str, pd.DataFrame], csv: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if name in csv:
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def broken(change) -> dict[str, pd.DataFrame]:
    tables = contract_tables()
    change(tables)
    return tables


CASES = {
    "missing column": (
        lambda t: t.__setitem__("events", t["events"].drop(columns="event_type")), "events", "event_type", "required column is missing",
    ),
    "duplicate id": (
        lambda t: t.__setitem__("accounts", pd.concat([t["accounts"], t["accounts"].iloc[[1]].assign(seats=50)])),
        "accounts", "account_id", "duplicate value 'leave'",
    ),
    "negative seats": (lambda t: t["subscriptions"].loc.__setitem__((0, "seats"), -3), "subscriptions", "seats", "negative"),
    "nps out of range": (lambda t: t["surveys"].loc.__setitem__((0, "nps"), 11), "surveys", "nps", "outside 0-10"),
    "end before start": (
        lambda t: t["subscriptions"].loc.__setitem__((1, "end_date"), pd.Timestamp("2020-01-01")),
        "subscriptions", "end_date", "before start_date",
    ),
    "empty id": (lambda t: t["subscriptions"].loc.__setitem__((2, "account_id"), None), "subscriptions", "account_id", "empty value"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_tables_are_refused_naming_table_column_and_problem(case):
    change, table, column, problem = CASES[case]
    with pytest.raises(ChurnInputError) as error:
        build_features(broken(change), DATES, now=NOW)
    assert (error.value.table, error.value.column) == (table, column)
    assert problem in error.value.problem


def test_an_unparseable_csv_timestamp_is_named_with_an_example(tmp_path):
    tables = contract_tables()
    tickets = tables["tickets"].astype({"opened_at": "object"})
    tickets.loc[1, "opened_at"] = "last tuesday"
    tables["tickets"] = tickets
    folder = write_folder(tmp_path / "data", tables, csv=("tickets",))
    out = tmp_path / "features.parquet"
    with pytest.raises(ChurnInputError, match=r"tickets\.opened_at: 1 value\(s\) are not a timestamp, e\.g\. 'last tuesday'"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    assert not out.exists() and list(tmp_path.glob("*.partial")) == []


def test_csv_tables_are_kept_parsed_as_parquet_for_the_build_alone(tmp_path, monkeypatch):
    """Each CSV table is parsed once into a Parquet file in the temporary folder, removed when the build ends,
    whether it succeeds or fails; the features are those of the same tables given as frames."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    tables = contract_tables()
    folder = write_folder(tmp_path / "data", tables, csv=("events", "tickets"))
    kept = []

    def look(message: str):
        if message.startswith("building features"):
            kept.extend(path.name for path in scratch.glob("churn-parsed-*/*.parquet"))

    build_feature_file(folder, tmp_path / "features.parquet", as_of=DATES, now=NOW, on_progress=look)
    assert len(kept) == 2 and list(scratch.iterdir()) == []
    expected = build_features(tables, DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "features.parquet"), expected, check_dtype=False)
    lines = (folder / "events.csv").read_text().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[2], "soon", 1)
    (folder / "events.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ChurnInputError, match=r"events\.timestamp: 1 value\(s\) are not a timestamp, e\.g\. 'soon'"):
        build_feature_file(folder, tmp_path / "failed.parquet", as_of=DATES, now=NOW)
    assert list(scratch.iterdir()) == [] and not (tmp_path / "failed.parquet").exists()


def test_cli_exits_non_zero_and_leaves_an_existing_output_untouched(tmp_path):
    folder = write_folder(tmp_path / "data", broken(CASES["negative seats"][0]))
    out = tmp_path / "features.parquet"
    out.write_bytes(b"previous table")
    result = CliRunner().invoke(app, ["features", "--data", str(folder), "--out", str(out), "--as-of", "2025-03-01"])
    assert result.exit_code == 2
    assert "subscriptions.seats" in result.output and "negative" in result.output
    assert out.read_bytes() == b"previous table"


def test_missing_required_table_and_missing_folder(tmp_path):
    tables = contract_tables()
    del tables["events"]
    folder = write_folder(tmp_path / "data", tables)
    with pytest.raises(ChurnInputError, match=r"^events: no events.parquet, events.csv, JSON or workbook in .*, nor one "
                       r"of another tool's name \(event, tracks, product_events, usage, …\); it holds accounts.parquet, "
                       r"emails.parquet, .*: if one of them is the events table, name it in a mapping file"):
        build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    with pytest.raises(ChurnInputError, match="does not exist"):
        build_feature_file(tmp_path / "nowhere", tmp_path / "f.parquet", as_of=DATES, now=NOW)


def test_tables_in_files_of_other_tools_names_or_named_in_the_mapping_are_read_and_reported(tmp_path):
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    folder = tmp_path / "data"
    folder.mkdir()
    tables["accounts"].to_csv(folder / "Customers.csv", index=False)
    tables["events"].to_parquet(folder / "tracks.parquet", index=False)
    tables["tickets"].to_csv(folder / "support_tickets.csv", index=False)
    tables["surveys"].to_parquet(folder / "nps.parquet", index=False)
    tables["emails"].to_csv(folder / "crm_email_export_2025.csv", index=False)
    tables["subscriptions"].to_parquet(folder / "subscriptions.parquet", index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[tables]\nemails = "crm_email_export_2025.csv"\n')

    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert report.table_files == {"accounts": "Customers.csv", "events": "tracks.parquet", "tickets": "support_tickets.csv",
                                  "emails": "crm_email_export_2025.csv", "surveys": "nps.parquet"}
    assert "tables read from files of other names: accounts from 'Customers.csv', events from 'tracks.parquet'" in (
        report.describe()
    )
    read = analysis.load_tables(folder, files=load_mapping(mapping).tables)  # as the notebooks read them
    assert set(read) == {"accounts", "subscriptions", "events", "tickets", "emails", "surveys"}

    tables["accounts"].to_csv(folder / "companies.csv", index=False)
    with pytest.raises(ChurnInputError, match=r"^accounts: 'Customers' and 'companies' could each be the accounts table, "
                       r"and which is meant would be a guess; name it in a mapping file: \[tables\] accounts = 'Customers.csv'"):
        build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW, mapping_path=mapping)
    (folder / "companies.csv").unlink()
    mapping.write_text('[tables]\nemails = "emails.csv"\n')
    with pytest.raises(ChurnInputError, match=r"^emails: the mapping reads 'emails.csv' as emails, but .* has no such"):
        build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW, mapping_path=mapping)
    mapping.write_text('[tables]\nclients = "Customers.csv"\n')
    with pytest.raises(ChurnInputError, match=r"tables\.clients: unknown table; expected one of accounts"):
        build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW, mapping_path=mapping)


def test_unknown_accounts_and_future_rows_are_counted_not_used(tmp_path):
    tables = contract_tables()
    ghost = pd.DataFrame({"account_id": ["ghost"] * 3, "user_id": ["g"] * 3, "event_type": ["login"] * 3,
                          "timestamp": pd.to_datetime(["2025-02-20", "2025-02-21", "2025-02-22"])})
    future = pd.DataFrame({"account_id": ["stay"] * 2, "user_id": ["u1"] * 2, "event_type": ["login"] * 2,
                           "timestamp": pd.to_datetime(["2027-01-01", "2027-02-01"])})
    tables["events"] = pd.concat([tables["events"], ghost, future], ignore_index=True)
    out = tmp_path / "features.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", tables), out, as_of=DATES, now=NOW)
    assert report.skipped[("events", "unknown account")] == 3
    assert report.skipped[("events", "future-dated")] == 2
    assert "events: 3 unknown account" in report.describe()
    frame = pd.read_parquet(out)
    assert "ghost" not in set(frame["account_id"])
    assert report.rows == len(frame) and report.observed_until < datetime(2026, 1, 1)


def test_the_build_says_which_urls_and_names_it_read_as_one(tmp_path):
    tables = contract_tables()
    pages = [f"/projects/{n}/board" for n in (1, 2, 3)] + ["/reports/9", "/reports/10", "/settings"] + [
        "Viewed Project 48213", "Viewed Project 50122"]  # a tracker's names with record ids in them
    views = pd.DataFrame({"account_id": "stay", "user_id": "u1", "event_type": pages,
                          "timestamp": pd.date_range("2025-02-20", periods=len(pages), freq="h")})
    tables["events"] = pd.concat([tables["events"], views], ignore_index=True)
    report = build_feature_file(write_folder(tmp_path / "data", tables), tmp_path / "f.parquet", as_of=DATES, now=NOW)
    assert report.pages == {"/projects/{id}/board": 3, "/reports/{id}": 2, "Viewed Project {id}": 2}
    assert "record ids and queries set aside: 3 as '/projects/{id}/board', 2 as '/reports/{id}', 2 as 'Viewed Project" in (
        report.describe()
    )
    table = pd.read_parquet(tmp_path / "f.parquet")
    assert "events__viewed_project_id__count__30d" in table.columns


def test_subscription_rows_repeated_whole_are_one_subscription_but_two_ids_are_two(tmp_path):
    """Overlapping pages of a billing export repeat rows: kept, each copy would add its MRR and seats again."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    subscriptions = tables["subscriptions"].assign(subscription_id=[f"sub_{i}" for i in range(len(tables["subscriptions"]))])
    stay = subscriptions[subscriptions["account_id"] == "stay"]
    tables["subscriptions"] = pd.concat([subscriptions, stay, stay], ignore_index=True)
    out = tmp_path / "copies.parquet"
    report = build_feature_file(write_folder(tmp_path / "copies", tables), out, as_of=DATES, now=NOW)
    assert report.skipped[("subscriptions", contract.EXACT_COPY)] == 2
    assert f"subscriptions: 2 {contract.EXACT_COPY}" in report.describe()
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert len(analysis.load_tables(tmp_path / "copies", ("accounts", "subscriptions"))["subscriptions"]) == len(subscriptions)

    tables["subscriptions"] = pd.concat([subscriptions, stay.assign(subscription_id="sub_add_on")], ignore_index=True)
    two = build_features(tables, DATES, now=NOW).set_index(["account_id", "as_of"])
    first = ("stay", pd.Timestamp(DATES[0]))
    assert two.loc[first, "account__mrr"] == 2 * expected.set_index(["account_id", "as_of"]).loc[first, "account__mrr"]


def test_rows_of_one_subscription_id_and_start_are_one_subscription_and_refused_when_they_differ(tmp_path):
    """An export appended to an earlier one repeats each subscription, some still running in the earlier one:
    kept, a churned customer would stay a customer for good."""
    tables = contract_tables()
    subscriptions = tables["subscriptions"].assign(id=[f"sub_{i}" for i in range(len(tables["subscriptions"]))])
    expected = build_features({**tables, "subscriptions": subscriptions}, DATES, now=NOW)
    earlier = subscriptions.assign(end_date=pd.NaT, Status="active")  # as the earlier export had them
    later = subscriptions.assign(Status=subscriptions["end_date"].isna().map({True: "active", False: "canceled"}))
    folder = write_folder(tmp_path / "data", {**tables, "subscriptions": pd.concat([later, earlier], ignore_index=True)})
    out = tmp_path / "f.parquet"
    with pytest.raises(ChurnInputError, match=r"^subscriptions\.subscription_id: 'sub_\d' has rows starting 20\d\d-\d\d-\d\d "
                                              r"that differ \(3 extra row\(s\)\), .* keep each subscription's latest row"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    assert not out.exists()

    alike = pd.concat([later, later[later["end_date"].isna()].assign(Status="trialing")], ignore_index=True)
    report = build_feature_file(write_folder(tmp_path / "alike", {**tables, "subscriptions": alike}), out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)  # one subscription each, kept once
    assert report.skipped[("subscriptions", contract.EXACT_COPY)] == 4
    # leave's subscription renewed five days after it ended, in a row of its own keeping its id: not churn then
    renewed = subscriptions[subscriptions["account_id"] == "leave"].assign(start_date=T("2025-03-20"), end_date=pd.NaT)
    kept = build_features({**tables, "subscriptions": pd.concat([subscriptions, renewed])}, DATES, now=NOW)
    labels = lambda frame: frame.set_index(["account_id", "as_of"])["churned"]  # noqa: E731
    assert labels(expected)[("leave", T(DATES[0]))] == 1 and labels(kept)[("leave", T(DATES[0]))] == 0


def test_a_page_view_logs_path_is_its_event_type(tmp_path):
    """Segment's pages table names no event: each row is a page view, with its path, URL and title."""
    tables = contract_tables()
    events = tables["events"]
    paths = events["event_type"].map(lambda event_type: f"/{event_type}")
    paths.iloc[-3:] = ["/projects/1/board", "/projects/22/board", "/projects/333/board"]
    pages = pd.DataFrame({
        "id": [f"ajs-{i}" for i in range(len(events))], "account_id": events["account_id"], "user_id": events["user_id"],
        "timestamp": events["timestamp"], "path": paths, "url": "https://app.acme.io" + paths + "?ref=nav",
        "title": "Acme",
    })
    out = tmp_path / "f.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", {**tables, "events": pages}), out, as_of=DATES, now=NOW)
    assert report.common_names["events.event_type"] == "path"
    built = pd.read_parquet(out).set_index(["account_id", "as_of"])
    as_paths = build_features({**tables, "events": events.assign(event_type=paths)}, DATES, now=NOW)
    pd.testing.assert_frame_equal(built, as_paths.set_index(["account_id", "as_of"]), check_dtype=False)
    assert built["usage__logins__30d"].gt(0).any()  # /login is a login
    assert "events__projects_id_board__count__30d" in built.columns


def test_placeholder_times_in_a_log_are_counted_not_used(tmp_path):
    """An export's stand-in for a missing time (a Unix time of 0, a spreadsheet's day zero) would otherwise start
    the log's history decades early: observation dates back to it, and every window since observed and idle."""
    tables = contract_tables()
    expected = build_features(tables, None, now=NOW)
    events, tickets = tables["events"], tables["tickets"]
    placeholders = {
        "events": pd.concat([events, events.iloc[:2].assign(timestamp=pd.Timestamp("1970-01-01"))], ignore_index=True),
        "tickets": pd.concat(
            [tickets, tickets.iloc[:1].assign(ticket_id="t-old", opened_at=pd.Timestamp("1900-01-01"))], ignore_index=True
        ),
    }
    out = tmp_path / "features.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", {**tables, **placeholders}), out, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert report.skipped[("events", contract.PLACEHOLDER)] == 2 and report.skipped[("tickets", contract.PLACEHOLDER)] == 1
    assert "events: 2 dated before 1990 (a placeholder such as 1970-01-01, not a time)" in report.describe()
    period = analysis.observed_period({"events": placeholders["events"]})
    assert period[0] == events["timestamp"].min().normalize()


def test_log_rows_with_an_empty_required_column_are_counted_not_used(tmp_path):
    """An event no account made (anonymous traffic), with no time or no type; a ticket without an id."""
    tables = contract_tables()
    blanks = pd.DataFrame({"account_id": [None, "stay", "stay"], "user_id": ["x", "u1", "u1"],
                           "timestamp": pd.to_datetime(["2025-02-20", None, "2025-02-21"]), "event_type": ["login", "login", None]})
    tickets = tables["tickets"]
    orphan = tickets.iloc[[0, 0]].assign(ticket_id=None)  # two without an id are not duplicates of each other
    messy = {**tables, "events": pd.concat([tables["events"], blanks], ignore_index=True),
             "tickets": pd.concat([tickets, orphan], ignore_index=True)}
    out = tmp_path / "features.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", messy), out, as_of=DATES, now=NOW)
    assert {reason: report.skipped[("events", reason)] for reason in ("empty account_id", "empty timestamp", "empty event_type")} == {
        "empty account_id": 1, "empty timestamp": 1, "empty event_type": 1}
    assert report.skipped[("tickets", "empty ticket_id")] == 2
    assert "events: 1 empty account_id" in report.describe()
    pd.testing.assert_frame_equal(pd.read_parquet(out), build_features(tables, DATES, now=NOW), check_dtype=False)


def _users_of(*logs: pd.DataFrame) -> pd.DataFrame:
    pairs = pd.concat([log[["user_id", "account_id"]] for log in logs]).dropna().drop_duplicates()
    return pairs.reset_index(drop=True)


def test_logs_naming_users_alone_take_each_users_account_from_the_users_table(tmp_path):
    """Analytics trackers key events by user, email and survey tools by contact, a helpdesk a ticket of no organization
    by its requester: with a users table, a log without account_id (or with it empty in some rows) gives the table
    of the log that names every account. A row whose user is not in users, and names no account, is counted and not
    used, apart from a row naming no user either. A contact named by email address is found whatever case each
    export writes it in."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    events, emails, surveys = tables["events"], tables["emails"], tables["surveys"]
    stranger = events.iloc[[1, 2]].assign(user_id="u-stranger")
    anonymous = events.iloc[[3, 4, 5]].assign(user_id=None)  # a tracker's events before anyone signed in
    surveys = surveys.assign(account_id=surveys["account_id"].where(surveys.index % 2 == 0))  # empty in some rows
    tickets = tables["tickets"].assign(requester_id=["u1", "u1", "u2", "u4"])  # a ticket of no organization
    tickets["account_id"] = tickets["account_id"].where(tickets["ticket_id"] != "t3")
    by_user = {
        **tables,
        "tickets": tickets,
        "events": pd.concat([events, stranger, anonymous], ignore_index=True).drop(columns="account_id"),
        # contacts named by email address, which the CRM's users table writes in its own case
        "emails": emails.drop(columns="account_id").assign(contact=emails["user_id"] + "@acme.com").drop(columns="user_id"),
        "surveys": surveys,
        "users": pd.concat([_users_of(events), _users_of(emails).assign(user_id=lambda f: f["user_id"].str.upper() + "@Acme.com")])
        .rename(columns={"user_id": "User ID"}).assign(email="x@example.com"),
    }
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns.emails]\nuser_id = "contact"\n')
    out = tmp_path / "features.parquet"
    folder = write_folder(tmp_path / "data", by_user, csv=("users", "emails"))
    report = build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert report.skipped[("events", contract.NO_ACCOUNT)] == 2
    assert report.skipped[("events", contract.NO_USER)] == 3
    assert f"2 {contract.NO_ACCOUNT}" in report.describe() and f"3 {contract.NO_USER}" in report.describe()
    assert expected["usage__logins__30d"].gt(0).any() and expected["engagement__emails_sent__30d"].gt(0).any()
    assert report.common_names["tickets.user_id"] == "requester_id"
    assert expected.loc[expected["account_id"] == "leave", "support__tickets_opened__90d"].gt(0).any()  # t3's


def test_a_log_whose_users_are_keyed_otherwise_than_users_is_refused_naming_the_column_that_holds_them():
    """A CRM's contacts keyed by contact id, events by email address: not one event would find its account, so the
    build stops rather than reading an empty log, and names the contacts' column that holds the addresses."""
    tables = contract_tables()
    events = tables["events"].assign(user_id=lambda f: f["user_id"] + "@acme.com").drop(columns="account_id")
    users = _users_of(tables["events"]).assign(Email=lambda f: f["user_id"].str.upper() + "@ACME.COM")
    contacts = users.assign(user_id=[f"003{i:05d}" for i in range(len(users))]).rename(columns={"user_id": "Id"})
    with pytest.raises(ChurnInputError) as error:
        build_features({**tables, "events": events, "users": contacts}, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("events", "user_id")
    message = str(error.value)
    assert "not one of its users is in users.user_id (read from 'Id') ('u0@acme.com' against '00300000', say)" in message
    assert message.endswith('users.Email holds them: name it in a mapping file, [columns.users] user_id = "Email"')
    with pytest.raises(ChurnInputError, match="name users by the same ids in both tables$"):
        build_features({**tables, "events": events, "users": contacts.drop(columns="Email")}, DATES, now=NOW)
    mapping = dataclasses.replace(load_mapping(), columns={"users": {"user_id": "Email"}})
    named = build_features({**tables, "events": events, "users": contacts}, DATES, now=NOW, mapping=mapping)
    pd.testing.assert_frame_equal(named, build_features(tables, DATES, now=NOW))


def test_a_table_naming_no_known_account_is_refused_naming_the_accounts_column_that_holds_its_keys():
    """A helpdesk naming organizations by name, the CRM by id: every ticket would be left out as of an unknown
    account, so the build stops and names the accounts' column holding the names; with none, it says so."""
    tables = contract_tables()
    accounts = tables["accounts"].assign(name=lambda f: f["account_id"].str.title() + " Ltd")
    tickets = tables["tickets"].assign(account_id=lambda f: f["account_id"].str.title() + " Ltd")
    with pytest.raises(ChurnInputError) as error:
        build_features({**tables, "accounts": accounts, "tickets": tickets}, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("tickets", "account_id")
    hint = "accounts.name holds them: tickets names accounts by it, where the other tables have account_id"
    assert str(error.value).endswith(hint)
    events = tables["events"].assign(account_id="acct-" + tables["events"]["account_id"])
    with pytest.raises(ChurnInputError, match=r"^events\.account_id: not one row names a known account \('acct-stay' "
                                              r"against accounts' 'stay', say\).*by the same ids in every table$"):
        build_features({**tables, "events": events}, DATES, now=NOW)


def test_a_users_table_is_read_only_for_logs_lacking_accounts_and_a_user_of_several_accounts_gives_none(tmp_path):
    """A user in two clients' workspaces: a row of theirs naming no account could be either's, so it is counted and
    left out, while the rows of users of one account take theirs."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    users = ["u0", "u1", "u2", "u2", "u3", "u4", "u5", "u6", None]
    torn = pd.DataFrame({"user_id": users, "account_id": ["stay"] * 3 + ["leave", "stay", "leave", "come_back", "newbie", "stay"]})
    pd.testing.assert_frame_equal(build_features({**tables, "users": torn}, DATES, now=NOW), expected)
    events = tables["events"]
    without_accounts = {**tables, "events": events.drop(columns="account_id")}
    without_u2 = build_features({**tables, "events": events[events["user_id"] != "u2"]}, DATES, now=NOW)
    shared = build_features({**without_accounts, "users": torn}, DATES, now=NOW)
    pd.testing.assert_frame_equal(shared, without_u2)
    assert not shared.equals(expected)  # u2's events were counted before
    folder = write_folder(tmp_path / "data", {**without_accounts, "users": torn})
    report = build_feature_file(folder, tmp_path / "features.parquet", as_of=DATES, now=NOW)
    n_u2 = int((events["user_id"] == "u2").sum())
    assert report.skipped[("events", contract.SHARED_USER)] == n_u2 == 3
    assert report.skipped[("events", contract.NO_ACCOUNT)] == 0
    assert f"events: {n_u2} {contract.SHARED_USER}" in report.describe()
    with pytest.raises(ChurnInputError) as error:
        build_features(without_accounts, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("events", "account_id")
    assert "users table of user_id and account_id" in error.value.problem
    with pytest.raises(ChurnInputError) as error:
        build_features({**without_accounts, "users": torn.drop(columns="account_id")}, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("users", "account_id")
    assert "required column is missing" in error.value.problem and "users table" not in error.value.problem


def test_accounts_without_a_creation_date_are_dated_by_their_first_subscription(tmp_path):
    """A CRM or billing export may carry no creation date: the first subscription is when an account became a
    customer. An account never subscribed is left out, counted, and its events are an unknown account's."""
    tables = contract_tables()  # each account here was created on its first subscription's start
    expected = build_features(tables, DATES, now=NOW)
    prospect = pd.DataFrame({"account_id": ["prospect"], "plan": ["trial"], "seats": [1], "industry": ["retail"]})
    visits = tables["events"].iloc[:2].assign(account_id="prospect")
    undated = {
        **tables,
        "accounts": pd.concat([tables["accounts"].drop(columns="created_at"), prospect], ignore_index=True),
        "events": pd.concat([tables["events"], visits], ignore_index=True),
    }
    out = tmp_path / "features.parquet"
    folder = write_folder(tmp_path / "data", undated, csv=("accounts",))
    report = build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert report.skipped[("accounts", contract.NEVER_SUBSCRIBED)] == 1
    assert report.skipped[("events", "unknown account")] == 2
    assert f"accounts.created_at: the table has none, so {contract.FIRST_SUBSCRIPTION} stands for" in report.describe()
    assert expected["account__tenure_days"].notna().all()
    read = analysis.load_tables(folder, ("accounts", "subscriptions"))["accounts"].set_index("account_id")
    assert read["created_at"].to_dict() == tables["accounts"].set_index("account_id")["created_at"].to_dict()


def test_a_flat_accounts_table_with_churn_dates_stands_for_the_subscriptions(tmp_path):
    """A company without a billing export hands its customer table: one subscription per account, from its
    created_at to its churn date, with its MRR; the notebooks read the same subscriptions."""
    tables = contract_tables()
    kept = ["stay", "leave", "newbie"]  # one subscription each
    accounts = tables["accounts"][tables["accounts"]["account_id"].isin(kept)].reset_index(drop=True)
    subscriptions = tables["subscriptions"][tables["subscriptions"]["account_id"].isin(kept)].reset_index(drop=True)
    expected = build_features({**tables, "accounts": accounts, "subscriptions": subscriptions}, DATES, now=NOW)
    flat = accounts.merge(subscriptions[["account_id", "end_date", "mrr"]], on="account_id")
    flat = flat.rename(columns={"end_date": "Churned At", "mrr": "MRR"})
    folder = write_folder(tmp_path / "data", {**tables, "accounts": flat}, csv=("accounts",))
    (folder / "subscriptions.parquet").unlink()
    out = tmp_path / "features.parquet"
    report = build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert expected["churned"].eq(1).any() and expected["account__mrr"].gt(0).all()  # labels and MRR to compare
    stands_in = "one subscription per account (from its created_at to its Churned At)"
    assert f"subscriptions: the table has none, so {stands_in} stands for it" in report.describe()
    assert report.unused_columns["accounts.MRR"] == "read as subscriptions.mrr"
    read = analysis.load_tables(folder, ("accounts", "subscriptions"))["subscriptions"]
    assert read["end_date"].tolist() == subscriptions["end_date"].tolist()
    # with a free trial's end: newbie (from 20 February) is a customer from 10 March
    trial_end = pd.Series(pd.NaT, index=flat.index, dtype="datetime64[us]").mask(flat["account_id"] == "newbie", T("2025-03-10"))
    write_folder(folder, {"accounts": flat.assign(**{"Trial End Date": trial_end})}, csv=("accounts",))
    tried = build_features(
        {**tables, "accounts": accounts, "subscriptions": subscriptions.assign(
            start_date=subscriptions["start_date"].where(subscriptions["account_id"] != "newbie", T("2025-03-10")))},
        DATES, now=NOW,
    )
    report = build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), tried, check_dtype=False)
    assert report.trials == 1 and report.unused_columns["accounts.Trial End Date"] == "read as subscriptions.trial_end"
    assert ("newbie", DATES[0]) in set(zip(expected["account_id"], expected["as_of"].dt.date))
    assert ("newbie", DATES[0]) not in set(zip(tried["account_id"], tried["as_of"].dt.date))

    for columns, problem in (([], "it has none"), (["Churned At", "cancelled_on"], "more than one")):
        frame = flat.drop(columns="Churned At").assign(**{column: flat["Churned At"] for column in columns})
        unbilled = {name: table for name, table in tables.items() if name != "subscriptions"}
        with pytest.raises(ChurnInputError, match=f"^subscriptions: required table is missing; .*{problem}"):
            build_features({**unbilled, "accounts": frame}, DATES, now=NOW)
    told = flat.drop(columns="Churned At").assign(Status="active")  # who left, but not when
    with pytest.raises(ChurnInputError, match="'Status' says who left but not when") as error:
        build_features({**unbilled, "accounts": told}, DATES, now=NOW)
    assert '[columns.accounts] churned_at = "your column"' in error.value.problem


def test_a_salesforce_account_export_stands_for_the_subscriptions_with_its_columns_named_in_the_mapping(tmp_path):
    """Salesforce ends a custom field's name in ``__c`` (``Plan__c``, ``Churn_Date__c``): set aside, it reads as the
    contract's column. A flat table's churn date and MRR under names of the company's own are named in the mapping,
    which also chooses between two dates that each could say when a customer left."""
    tables = contract_tables()
    kept = ["stay", "leave", "newbie"]
    accounts = tables["accounts"][tables["accounts"]["account_id"].isin(kept)].reset_index(drop=True)
    subscriptions = tables["subscriptions"][tables["subscriptions"]["account_id"].isin(kept)].reset_index(drop=True)
    expected = build_features({**tables, "accounts": accounts, "subscriptions": subscriptions}, DATES, now=NOW)
    flat = accounts.merge(subscriptions[["account_id", "end_date", "mrr"]], on="account_id").rename(columns={
        "account_id": "Id", "created_at": "CreatedDate", "plan": "Plan__c", "seats": "Licenses__c",
        "end_date": "Churn_Date__c", "mrr": "Monthly_Fee__c",
    }).assign(Cancellation_Date__c=pd.NaT)  # a date that could say so too, always empty
    unbilled = {name: table for name, table in tables.items() if name != "subscriptions"}
    folder = write_folder(tmp_path / "data", {**unbilled, "accounts": flat}, csv=("accounts",))
    with pytest.raises(ChurnInputError, match="'Churn_Date__c', 'Cancellation_Date__c', which is more than one"):
        build_features({**unbilled, "accounts": flat}, DATES, now=NOW)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns.accounts]\nchurned_at = "Churn_Date__c"\nmrr = "Monthly_Fee__c"\n')
    out = tmp_path / "features.parquet"
    report = build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert report.common_names["accounts.seats"] == "Licenses__c"
    assert report.unused_columns["accounts.Monthly_Fee__c"] == "read as subscriptions.mrr"  # as the company names it
    assert report.derived_columns["subscriptions"] == "one subscription per account (from its created_at to its Churn_Date__c)"
    assert report.unused_columns["accounts.Cancellation_Date__c"] == contract.EMPTY  # no attribute: says nothing
    read = analysis.load_tables(folder, ("accounts", "subscriptions"), column_names=load_mapping(mapping).columns)
    assert read["subscriptions"]["end_date"].tolist() == subscriptions["end_date"].tolist()
    assert read["subscriptions"]["mrr"].tolist() == subscriptions["mrr"].tolist()


def test_a_yearly_revenue_stands_for_mrr_as_a_twelfth_of_it(tmp_path):
    """CRMs keep ARR, not MRR: a table with no MRR column and one of ARR gives MRR as a twelfth of it, in a
    subscriptions table or a flat customer table, and the build says so. A column the mapping names as mrr is MRR."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    subscriptions = tables["subscriptions"]
    yearly = subscriptions.drop(columns="mrr").assign(ARR=(subscriptions["mrr"] * 12).map("${:,.2f}".format))
    folder = write_folder(tmp_path / "data", {**tables, "subscriptions": yearly}, csv=("subscriptions",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert "subscriptions.mrr: the table has none, so a twelfth of the yearly 'ARR' stands for it" in report.describe()
    assert "subscriptions.mrr" not in report.common_names
    read = analysis.load_tables(folder, ("accounts", "subscriptions"))["subscriptions"]
    assert read["mrr"].tolist() == subscriptions["mrr"].tolist()
    assert expected["account__mrr"].gt(0).all()

    kept = ["stay", "leave", "newbie"]  # one subscription each
    accounts = tables["accounts"][tables["accounts"]["account_id"].isin(kept)].reset_index(drop=True)
    billed = subscriptions[subscriptions["account_id"].isin(kept)].reset_index(drop=True)
    flat = accounts.merge(billed[["account_id", "end_date", "mrr"]], on="account_id")
    flat = flat.rename(columns={"end_date": "Churn_Date__c"})
    flat["Annual Recurring Revenue"] = flat.pop("mrr") * 12
    unbilled = {name: table for name, table in tables.items() if name != "subscriptions"}
    pd.testing.assert_frame_equal(
        build_features({**unbilled, "accounts": flat}, DATES, now=NOW),
        build_features({**tables, "accounts": accounts, "subscriptions": billed}, DATES, now=NOW),
    )
    assert contract.annual_revenue({"mrr": "ARR"}, {"mrr": "ARR"}) is None  # named by the mapping: it is MRR
    both = ["account_id", "start_date", "end_date", "Monthly Recurring Revenue", "ARR"]
    assert contract.contract_renames("subscriptions", both)["mrr"] == "Monthly Recurring Revenue"  # MRR comes first


def test_unknown_accounts_do_not_stretch_the_observed_period():
    """A stray row outside the real history must not make unobserved windows count as zero, or unlabelled
    dates labelled: the log's first time and the data's last come from known accounts only."""
    tables = contract_tables()
    stray = pd.DataFrame({"account_id": ["ghost"] * 2, "user_id": ["g"] * 2, "event_type": ["login"] * 2,
                          "timestamp": pd.to_datetime(["2019-01-01", "2026-05-01"])})
    with_stray = {**tables, "events": pd.concat([tables["events"], stray], ignore_index=True)}
    dates = [date(2024, 7, 1), *DATES, date(2025, 12, 1)]  # the log runs from 2024-06-01 to 2025-12-31
    clean, stretched = build_features(tables, dates, now=NOW), build_features(with_stray, dates, now=NOW)
    assert clean["usage__logins__90d"].isna().any() and clean["churned"].isna().any()  # the test can fail
    pd.testing.assert_frame_equal(stretched, clean)


def test_the_data_ends_with_the_last_event_whatever_later_dates_other_tables_hold(tmp_path):
    """A billing export shows running contracts with their term end, and a support export may run past the events.
    Taken as the data's end, either would make months without an event into observation dates, and a term end a churn."""
    tables = contract_tables()  # the events end on 2025-12-31; the build runs on 2026-06-01
    subscriptions = tables["subscriptions"]
    running = subscriptions["end_date"].isna()
    billed = subscriptions.assign(end_date=subscriptions["end_date"].mask(running, T("2026-02-20")))
    later_ticket = tables["tickets"].iloc[[0]].assign(ticket_id="t9", opened_at=T("2026-04-01"), first_response_at=pd.NaT,
                                                      resolved_at=pd.NaT)
    later_email = tables["emails"].iloc[[0]].assign(sent_at=T("2026-04-01"), opened_at=T("2026-04-02"), clicked_at=pd.NaT)
    exported = {**tables, "subscriptions": billed, "tickets": pd.concat([tables["tickets"], later_ticket]),
                "emails": pd.concat([tables["emails"], later_email])}
    report = build_feature_file(write_folder(tmp_path / "data", exported), tmp_path / "features.parquet", now=NOW)
    expected = build_features(tables, now=NOW)
    assert expected["as_of"].max() == T("2025-12-01")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "features.parquet"), expected, check_dtype=False)
    assert report.scheduled_ends == running.sum() == 4
    assert "subscriptions: 4 end after the last event (2025-12-31), so they are taken as scheduled" in report.describe()


def test_an_observation_date_past_the_last_event_is_refused_as_every_account_would_look_idle(tmp_path):
    tables = contract_tables()  # the last event is on 2025-12-31
    allowed = build_features(tables, [date(2026, 1, 1)], now=NOW)
    assert allowed["usage__logins__7d"].sum() > 0
    with pytest.raises(ChurnInputError, match=r"as_of: 2026-01-02 is after the data's end: the last event is at "
                                              r"2025-12-31 00:00.*the latest observation date the data allows is 2026-01-01"):
        build_features(tables, [date(2025, 12, 1), date(2026, 1, 2)], now=NOW)
    out = tmp_path / "features.parquet"
    result = CliRunner().invoke(app, ["features", "--data", str(write_folder(tmp_path / "data", tables)), "--out", str(out),
                                      "--as-of", "2026-03-01"])
    assert result.exit_code != 0 and "2026-03-01 is after the data's end" in result.output and not out.exists()


@pytest.mark.parametrize("layout", ["parquet", "csv"])
def test_a_clean_log_is_profiled_from_whole_table_figures_exactly_as_by_the_full_pass(tmp_path, layout):
    """Logs naming only known accounts and nothing after the cut-off skip the per-account pass; any other log
    takes it, so what is counted and dropped never depends on the shortcut."""
    tables = contract_tables()
    folder = write_folder(tmp_path / "data", tables, csv=tuple(tables) if layout == "csv" else ())
    con = ibis.duckdb.connect()
    raw = contract.read_tables(con, folder)
    named = {name: table.rename(contract.contract_renames(name, table.columns)) for name, table in raw.items()}
    typed = {name: contract._typed(name, table, {}) for name, table in named.items()}
    accounts = typed["accounts"]
    for name in ("subscriptions", "events", "tickets", "emails", "surveys"):
        clean = contract._clean_profile(name, typed[name], accounts, NOW)
        assert clean == contract._profile_per_account(name, typed[name], accounts, NOW), name
    events = typed["events"]
    first = events.filter(events.account_id == "stay").limit(1)
    blanks = events.union(first.mutate(timestamp=ibis.null("timestamp"))).union(first.mutate(event_type=ibis.null("string")))
    clean = contract._clean_profile("events", blanks, accounts, NOW)
    assert (clean["empty__timestamp"], clean["empty__event_type"]) == (1, 1)
    assert clean == contract._profile_per_account("events", blanks, accounts, NOW)
    assert contract._clean_profile("events", events, accounts, datetime(2025, 6, 1)) is None  # rows after the cut-off
    ghost = events.filter(events.account_id == "stay").mutate(account_id=ibis.literal("ghost"))
    assert contract._clean_profile("events", events.union(ghost), accounts, NOW) is None
    anonymous = events.mutate(account_id=ibis.null("string"))
    assert contract._clean_profile("events", events.union(anonymous), accounts, NOW) is None
    placeholder = first.mutate(timestamp=ibis.literal(datetime(1970, 1, 1)))
    assert contract._clean_profile("events", events.union(placeholder), accounts, NOW) is None
    assert contract._profile_per_account("events", events.union(placeholder), accounts, NOW)["early"] == 1


def test_numeric_ids_match_across_tables_whatever_their_number_type():
    """Ids 100 (int), 100.0 (a float column, as pandas writes one with gaps) and 100 (nullable int) are one account."""
    tables = contract_tables()
    numbers = {account: 100 + i for i, account in enumerate(tables["accounts"]["account_id"])}
    numbered = {name: frame.assign(account_id=frame["account_id"].map(numbers)) for name, frame in tables.items()}
    numbered["events"]["account_id"] = numbered["events"]["account_id"].astype("float64")
    numbered["tickets"]["account_id"] = numbered["tickets"]["account_id"].astype("Int64")
    expected = build_features(tables, DATES, now=NOW)
    expected["account_id"] = expected["account_id"].map(lambda account: str(numbers[account]))
    pd.testing.assert_frame_equal(build_features(numbered, DATES, now=NOW), expected.sort_values(["as_of", "account_id"], ignore_index=True))


def test_times_with_a_utc_offset_are_read_as_the_instants_they_name(tmp_path):
    """The same events as UTC times in Parquet, as zoned times in Parquet and as text with an offset in CSV."""
    tables = contract_tables()
    in_utc = write_folder(tmp_path / "utc", tables)
    berlin = tables["events"]["timestamp"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")  # +01:00 and +02:00
    zoned = write_folder(tmp_path / "zoned", {**tables, "events": tables["events"].assign(timestamp=berlin)})
    text = tables["events"].assign(timestamp=berlin.map(lambda t: t.isoformat()))
    offset_csv = write_folder(tmp_path / "csv", {**tables, "events": text}, csv=("events",))
    assert text["timestamp"].str.endswith("+01:00").any() and text["timestamp"].str.endswith("+02:00").any()
    built = {}
    for name, folder in {"utc": in_utc, "zoned": zoned, "csv": offset_csv}.items():
        build_feature_file(folder, tmp_path / f"{name}.parquet", as_of=DATES, now=NOW)
        built[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    pd.testing.assert_frame_equal(built["zoned"], built["utc"])
    pd.testing.assert_frame_equal(built["csv"], built["utc"])


def _at(t: pd.Timestamp, zone: str) -> pd.Timestamp:
    return t.tz_localize("UTC").tz_convert(zone)


# Ways a UTC instant is written as text, each to be read back as that instant.
TEXT_TIMES = (
    lambda t: _at(t, "Europe/Berlin").isoformat(),  # 2025-02-25T10:00:00+01:00
    lambda t: f" {t:%Y-%m-%d %H:%M:%S} ",  # no zone is UTC; spaces around it
    lambda t: f"{t:%Y-%m-%dT%H:%M:%S}Z",
    lambda t: f"{t:%Y-%m-%d %H:%M:%S} UTC",
    lambda t: f"{_at(t, 'Asia/Kolkata'):%Y-%m-%d %H:%M:%S.%f%z}",  # 2025-02-25 14:30:00.000000+0530
    lambda t: f"{_at(t, 'Etc/GMT+3'):%Y-%m-%d %H:%M:%S %z}",  # 2025-02-25 06:00:00 -0300, as Ruby writes it
    lambda t: str(int(t.timestamp())),  # Unix seconds
    lambda t: str(int(t.timestamp() * 1000)),  # Unix milliseconds
)


def test_every_way_of_writing_a_time_as_text_names_the_same_instant():
    """One column mixing ISO text with and without a zone or offset, and Unix times: the features are those of
    the UTC timestamps."""
    tables = contract_tables()
    events = tables["events"]
    text = [TEXT_TIMES[i % len(TEXT_TIMES)](t) for i, t in enumerate(events["timestamp"])]
    assert len(events) > len(TEXT_TIMES)
    expected = build_features(tables, DATES, now=NOW)
    as_text = build_features({**tables, "events": events.assign(timestamp=text)}, DATES, now=NOW)
    pd.testing.assert_frame_equal(as_text, expected)


def _written(frame: pd.DataFrame, columns: tuple[str, ...], form: str) -> pd.DataFrame:
    """``frame`` with ``columns`` as text in the strftime ``form``, empty where there is no time."""
    return frame.assign(**{c: frame[c].map(lambda t: t.strftime(form) if pd.notna(t) else "") for c in columns})


def test_numeric_dates_are_read_month_or_day_first_as_each_table_shows(tmp_path):
    """Each CSV as another tool exports it: events month first with AM/PM (a US CRM), subscriptions month first
    without a time, tickets day first with dots (a European helpdesk). A first number above 12 is a day, a second
    one a month; the table is that of the timestamps, and the notebooks read the same times."""
    tables = contract_tables()
    written = {
        **tables,
        "events": _written(tables["events"], ("timestamp",), "%m/%d/%Y %I:%M:%S %p"),  # 02/25/2025 09:00:00 AM
        "subscriptions": _written(tables["subscriptions"], ("start_date", "end_date"), "%m/%d/%Y"),
        "tickets": _written(tables["tickets"], ("opened_at", "first_response_at", "resolved_at"), "%d.%m.%Y %H:%M"),
    }
    folder = write_folder(tmp_path / "data", written, csv=("events", "subscriptions", "tickets"))
    out = tmp_path / "features.parquet"
    build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), build_features(tables, DATES, now=NOW))
    assert formats_of(contract.date_formats(contract.read_tables(ibis.duckdb.connect(), folder))) == {
        "events": {"timestamp": ["%m/%d/%Y %I:%M:%S %p"]},
        "subscriptions": {"start_date": ["%m/%d/%Y"], "end_date": ["%m/%d/%Y"]},
        "tickets": {c: ["%d.%m.%Y %H:%M"] for c in ("opened_at", "first_response_at", "resolved_at")},
    }
    read = analysis.load_tables(folder)
    assert read["events"]["timestamp"].tolist() == tables["events"]["timestamp"].tolist()
    assert read["tickets"]["opened_at"].tolist() == tables["tickets"]["opened_at"].tolist()


def formats_of(found: dict) -> dict:
    return {name: {column: [form.strftime for form in forms] for column, forms in columns.items()} for name, columns in found.items()}


def test_numeric_dates_no_value_can_tell_take_the_other_tables_order_or_the_mappings():
    """"03/04/2025" is 4 March or 3 April: a table of such dates alone takes the order the other tables show, and is
    refused when none shows one, or they show both; a table showing both orders is refused, as is a two-digit year."""
    untold = ibis.memtable({"account_id": ["a", "b"], "start_date": ["03/04/2025", "1/2/2025"], "end_date": ["", ""]})
    us = ibis.memtable({"account_id": ["a"], "timestamp": ["03/24/2025 10:00"], "event_type": ["login"]})
    european = ibis.memtable({"ticket_id": ["t"], "account_id": ["a"], "opened_at": ["24.03.2025"]})
    iso = ibis.memtable({"account_id": ["a"], "created_at": ["2025-03-24"]})
    assert formats_of(contract.date_formats({"accounts": iso, "subscriptions": untold, "events": us})) == {
        "subscriptions": {"start_date": ["%m/%d/%Y"]}, "events": {"timestamp": ["%m/%d/%Y %H:%M"]},
    }
    with pytest.raises(ChurnInputError, match=(
        r"subscriptions\.start_date: dates such as '03/04/2025' may be month first or day first, and no date in the "
        r"tables tells which; name the order in a mapping file: \[dates\] order = \"month_first\" or \"day_first\""
    )):
        contract.date_formats({"accounts": iso, "subscriptions": untold})
    with pytest.raises(ChurnInputError, match="subscriptions.start_date: .* the other tables write them both ways"):
        contract.date_formats({"subscriptions": untold, "events": us, "tickets": european})
    declared = contract.date_formats({"subscriptions": untold}, "day_first")
    assert formats_of(declared) == {"subscriptions": {"start_date": ["%d/%m/%Y"]}}
    assert declared["subscriptions"]["start_date"][0].java == "d/M/yyyy"
    mixed = ibis.memtable({"ticket_id": ["t", "u"], "account_id": ["a", "a"], "opened_at": ["24.03.2025", "03.24.2025"]})
    with pytest.raises(ChurnInputError, match=r"tickets\.opened_at: holds dates written month first \('03\.24\.2025'"):
        contract.date_formats({"tickets": mixed})
    short = ibis.memtable({"ticket_id": ["t"], "account_id": ["a"], "opened_at": ["24.03.25"]})
    with pytest.raises(ChurnInputError, match=r"tickets\.opened_at: dates such as '24\.03\.25' give the year in two digits"):
        contract.date_formats({"tickets": short})


def test_the_mapping_names_the_date_order_and_a_date_that_does_not_follow_it_is_named(tmp_path):
    tables = contract_tables()
    surveys = tables["surveys"][tables["surveys"]["responded_at"].dt.day <= 12]  # 01/12/2024, 10/03/2025: no date tells
    tables["surveys"] = surveys
    written = {**tables, "surveys": _written(surveys, ("responded_at",), "%d/%m/%Y")}
    folder = write_folder(tmp_path / "data", written, csv=("surveys",))
    out = tmp_path / "features.parquet"
    with pytest.raises(ChurnInputError, match=r"surveys\.responded_at: dates such as '01/12/2024' may be month first"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    assert not out.exists()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[dates]\norder = "day_first"\n')
    build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), build_features(tables, DATES, now=NOW))
    read = analysis.load_tables(folder, date_order=load_mapping(mapping).date_order)
    assert read["surveys"]["responded_at"].tolist() == surveys["responded_at"].tolist()
    later = pd.DataFrame({"account_id": ["stay"], "user_id": ["u1"], "responded_at": ["12/24/2024"], "nps": [7]})
    write_folder(folder, {"surveys": pd.concat([written["surveys"], later])}, csv=("surveys",))
    with pytest.raises(ChurnInputError, match=r"responded_at: 1 value\(s\) are not a timestamp, e\.g\. '12/24/2024' \(numeric dates"):
        build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    for text, problem in (('[dates]\norder = "us"\n', "dates.order: expected 'month_first' or 'day_first'"),
                          ('[dates]\nformat = "%d/%m"\n', "dates: expected \\[dates\\] with one key, order")):
        mapping.write_text(text)
        with pytest.raises(ChurnInputError, match=problem):
            load_mapping(mapping)


def test_numeric_dates_past_the_first_rows_looked_at_are_named_with_how_to_read_them(tmp_path, monkeypatch):
    monkeypatch.setattr(contract, "SAMPLE_ROWS", 2)
    tables = contract_tables()
    tickets = tables["tickets"].astype({"opened_at": "object"})
    tickets.loc[tickets.index[-1], "opened_at"] = "03/15/2025 10:00"
    folder = write_folder(tmp_path / "data", {**tables, "tickets": tickets}, csv=("tickets",))
    with pytest.raises(ChurnInputError, match=(
        r"tickets\.opened_at: 1 value\(s\) are not a timestamp, e\.g\. '03/15/2025 10:00' \(numeric dates are read in "
        r"the forms a table's first 2 rows show, with a four-digit year, month or day first as its dates or the mapping "
        r"tell: \[dates\] order"
    )):
        build_feature_file(folder, tmp_path / "features.parquet", as_of=DATES, now=NOW)


# Numeric dates as exports write them → the time each names, month first unless marked day first; None: not read.
NUMERIC_DATES = {
    "9/20/2024 5:05 PM": "2024-09-20 17:05:00",
    "9/20/2024 5:05PM": "2024-09-20 17:05:00",
    "12/01/2024 12:30 am": "2024-12-01 00:30:00",
    "12/01/2024 12:30:15 PM": "2024-12-01 12:30:15",
    " 09-20-2024 17:05:30 ": "2024-09-20 17:05:30",
    "day first: 20.09.2024 17:05:30,5": "2024-09-20 17:05:30.500000",
    "day first: 1.2.2025": "2025-02-01 00:00:00",
    "2024-09-20T17:05:00Z": "2024-09-20 17:05:00",  # not numeric: read as ever
    "12/01/2024 13:00 PM": None,
    "02/30/2024": None,
    "day first: 31/04/2024": None,
    "09/20/2024 noon": None,
    "09/20-2024": None,
}


def test_numeric_dates_name_the_time_they_write():
    for text, expected in NUMERIC_DATES.items():
        order = "day_first" if text.startswith("day first: ") else "month_first"
        text = text.removeprefix("day first: ")
        form = text_values.date_format(text.strip().upper(), order)
        table = ibis.memtable({"t": [text]})
        got = table.select(t=contract.read_as(table.t, "time", "events", "timestamp", (form,) if form else ())).to_pandas()["t"][0]
        assert (None if pd.isna(got) else str(got)) == expected, text


def test_numbers_written_as_spreadsheets_and_locales_write_them_are_read(tmp_path):
    """MRR as a US spreadsheet writes it ($1,100.00) and seats as a German one (1.100,0): each column's marks tell
    its decimal mark; the table is that of the numbers, and the notebooks read the same MRR."""
    tables = contract_tables()
    subscriptions = tables["subscriptions"].assign(mrr=[500, 100, 300, 1100, 50, 60, 40.5], seats=[10, 5, 8, 1100, 3, 3, 2])
    accounts = tables["accounts"].assign(seats=[10, 5, 8, 1100, 2])
    expected = build_features({**tables, "subscriptions": subscriptions, "accounts": accounts}, DATES, now=NOW)
    written = {
        **tables,
        "subscriptions": subscriptions.assign(
            mrr=[f"${m:,.2f}" for m in subscriptions["mrr"]], seats=[f"{n:,}".replace(",", ".") + ",0" for n in subscriptions["seats"]]
        ),
        "accounts": accounts.assign(seats=[f" {n:,} " for n in accounts["seats"]]),  # 1,100: either mark; the others tell
    }
    assert written["subscriptions"]["mrr"].tolist()[3] == "$1,100.00" and written["subscriptions"]["seats"].tolist()[3] == "1.100,0"
    folder = write_folder(tmp_path / "data", written, csv=("subscriptions", "accounts"))
    out = tmp_path / "features.parquet"
    with pytest.raises(ChurnInputError, match=r"accounts\.seats: numbers such as '1,100' may use either mark for decimals, and the other columns use both"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    written["accounts"] = accounts.assign(seats=accounts["seats"].astype(str))
    write_folder(folder, {"accounts": written["accounts"]}, csv=("accounts",))
    build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    read = analysis.load_tables(folder)["subscriptions"]
    assert read["mrr"].tolist() == subscriptions["mrr"].tolist() and read["seats"].tolist() == subscriptions["seats"].tolist()
    written["subscriptions"].loc[0, "mrr"] = "$5OO.00"  # letters O, not zeros
    write_folder(folder, {"subscriptions": written["subscriptions"]}, csv=("subscriptions",))
    with pytest.raises(ChurnInputError, match=r"subscriptions\.mrr: 1 value\(s\) are not a number, e\.g\. '\$5OO\.00' \(numbers with thousands"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)


def test_the_decimal_mark_numbers_cannot_tell_is_the_other_columns_or_the_mappings(tmp_path):
    subscriptions = lambda mrr: ibis.memtable({"account_id": ["a"] * len(mrr), "start_date": ["2025-01-01"] * len(mrr), "mrr": mrr})  # noqa: E731
    untold = subscriptions(["$1,234", "$5"])
    assert text_values.decimal_mark("9,999.99") == "." and text_values.decimal_mark("9.999,99") == ","
    assert text_values.decimal_mark("99,9") == "," and text_values.decimal_mark("9,99,999") == "."  # lakhs: 1,00,000
    assert text_values.decimal_mark("9,999") is None and text_values.decimal_mark("999") is None
    with pytest.raises(ChurnInputError, match=(
        r"subscriptions\.mrr: numbers such as '\$1,234' may use either mark for decimals, and no number in the tables "
        r"tells which; name the decimal mark in a mapping file: \[numbers\] decimal = \"\.\" or \",\""
    )):
        contract.number_formats({"subscriptions": untold})
    european = ibis.memtable({"ticket_id": ["t"], "account_id": ["a"], "csat": ["4,5"]})
    assert contract.number_formats({"subscriptions": untold, "tickets": european}) == {
        "subscriptions": {"mrr": text_values.NumberFormat(",")}, "tickets": {"csat": text_values.NumberFormat(",")},
    }
    declared = contract.number_formats({"subscriptions": untold}, ".")["subscriptions"]["mrr"]
    read = untold.select(mrr=contract.read_as(untold.mrr, "number", "subscriptions", "mrr", declared)).to_pandas()["mrr"]
    assert read.tolist() == [1234.0, 5.0]
    negative = subscriptions(["(1,234.50)", "1 234.50 USD", "-$1'234.5", "CHF 12 seats"])
    form = contract.number_formats({"subscriptions": negative})["subscriptions"]["mrr"]
    read = negative.select(m=contract.read_as(negative.mrr, "number", "subscriptions", "mrr", form)).to_pandas()["m"]
    assert read.fillna(0).tolist() == [-1234.5, 1234.5, -1234.5, 0] and read.isna().tolist() == [False] * 3 + [True]
    with pytest.raises(ChurnInputError, match=r"subscriptions\.mrr: holds numbers written with a decimal point \('\$1,234\.50'\) and with a decimal comma \('99,5'\)"):
        contract.number_formats({"subscriptions": subscriptions(["$1,234.50", "99,5"])})
    assert contract.number_formats({"subscriptions": subscriptions(["1234.5", "7"])}) == {}  # plain numbers as they are
    assert contract.number_formats({"subscriptions": subscriptions(["$5", "€ 12"])}) == {  # no mark: either reads them
        "subscriptions": {"mrr": text_values.NumberFormat(".")},
    }
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[numbers]\ndecimal = ","\n')
    assert load_mapping(mapping).decimal_mark == ","
    mapping.write_text('[numbers]\ndecimal = "comma"\n')
    with pytest.raises(ChurnInputError, match="numbers.decimal: expected '.' or ','"):
        load_mapping(mapping)


def test_text_csat_ratings_are_read_as_scores_and_unrated_ones_as_empty(tmp_path):
    """As Zendesk exports satisfaction (good, bad, offered for a ticket not rated); a company's own words by its mapping."""
    tables = contract_tables()
    scored = tables["tickets"].assign(csat=[None, 1.0, None, 5.0])
    expected = build_features({**tables, "tickets": scored}, DATES, now=NOW)
    as_text = tables["tickets"].assign(csat=["Offered", "bad", "", " Good "])
    folder = write_folder(tmp_path / "data", {**tables, "tickets": as_text}, csv=("tickets",))
    out = tmp_path / "features.parquet"
    build_feature_file(folder, out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert expected["support__csat_mean__90d"].notna().any()
    pd.testing.assert_frame_equal(build_features({**tables, "tickets": as_text}, DATES, now=NOW), expected)
    own = tables["tickets"].assign(csat=["Pas noté", "Pas bien", "", "Très bien"])
    write_folder(folder, {"tickets": own}, csv=("tickets",))
    with pytest.raises(ChurnInputError, match=(
        r"tickets\.csat: 3 value\(s\) are not a number, e\.g\. '(Pas noté|Pas bien|Très bien)' \(text ratings are read by "
        r"the mapping's \[csat\] scores and unrated; e\.g\. \[csat\] scores"
    )):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[csat]\nscores = { "très bien" = 5, "pas_bien" = 1 }\nunrated = ["pas noté"]\n')
    build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert load_mapping(mapping).ratings.unrated == ("pasnoté",)
    for text, problem in (('[csat]\nscores = { good = 7 }\n', "csat.scores: expected { text = a score from 1 to 5"),
                          ('[csat]\nunrated = "offered"\n', "csat.unrated: expected a list of texts"),
                          ('[csat]\nscore = { good = 5 }\n', "csat: expected \\[csat\\] with scores")):
        mapping.write_text(text)
        with pytest.raises(ChurnInputError, match=problem):
            load_mapping(mapping)


def test_a_table_may_be_a_folder_of_parquet_parts_or_a_gzipped_csv(tmp_path):
    """As Spark writes a table (``events.parquet/part-*.parquet`` beside ``_SUCCESS``), or a plain ``events/`` folder."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    for layout in ("events.parquet", "events"):
        folder = write_folder(tmp_path / layout / "data", {k: v for k, v in tables.items() if k != "events"})
        parts = folder / layout
        parts.mkdir()
        for i, part in enumerate((tables["events"].iloc[:5], tables["events"].iloc[5:9], tables["events"].iloc[9:])):
            part.to_parquet(parts / f"part-{i:05d}.parquet", index=False)
        (parts / "_SUCCESS").touch()
        build_feature_file(folder, tmp_path / f"{layout}.out.parquet", as_of=DATES, now=NOW)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{layout}.out.parquet"), expected, check_dtype=False)
    gzipped = write_folder(tmp_path / "gz", {k: v for k, v in tables.items() if k != "surveys"})
    tables["surveys"].to_csv(gzipped / "surveys.csv.gz", index=False)
    build_feature_file(gzipped, tmp_path / "gz.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "gz.parquet"), expected, check_dtype=False)
    (gzipped / "surveys.csv.gz").rename(gzipped / "NPS.CSV.GZ")  # named in capitals, as on Windows
    tables["events"].assign(timestamp=tables["events"]["timestamp"].astype(str)).to_json(
        gzipped / "TRACKS.JSONL.GZ", orient="records", lines=True, compression="gzip"
    )
    (gzipped / "events.parquet").unlink()
    report = build_feature_file(gzipped, tmp_path / "gz.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "gz.parquet"), expected, check_dtype=False)
    assert report.table_files == {"events": "TRACKS.JSONL.GZ", "surveys": "NPS.CSV.GZ"}
    write_folder(tmp_path / "empty", {name: tables[name] for name in ("accounts", "subscriptions")})
    (tmp_path / "empty" / "events.parquet").mkdir()
    with pytest.raises(ChurnInputError, match=r"events: folder .* holds no \.parquet or JSON files"):
        build_feature_file(tmp_path / "empty", tmp_path / "empty.parquet", as_of=DATES, now=NOW)


def test_tables_may_be_json_lines_or_arrays_and_nested_objects_give_their_fields(tmp_path):
    """Analytics trackers export events as JSON lines, Mixpanel's with each event's time and user inside a nested
    ``properties`` object, others as a folder of daily files; a helpdesk's API gives an array of objects. Their
    text times are read as a CSV's are."""
    import gzip
    import json

    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {n: tables[n] for n in ("accounts", "subscriptions", "emails", "surveys")})
    events = tables["events"]
    with gzip.open(folder / "events.jsonl.gz", "wt") as file:
        for row in events.itertuples():
            properties = {"time": int(row.timestamp.timestamp()), "distinct_id": row.user_id, "$browser": "Chrome"}
            file.write(json.dumps({"event": row.event_type, "properties": properties}) + "\n")
    pd.DataFrame({"user_id": events["user_id"], "org": events["account_id"]}).drop_duplicates().to_json(
        folder / "users.ndjson", orient="records", lines=True
    )
    tickets = tables["tickets"].assign(opened_at=tables["tickets"]["opened_at"].dt.strftime("%Y-%m-%dT%H:%M:%S+00:00"))
    tickets.to_json(folder / "tickets.json", orient="records", date_format="iso")
    (folder / "emails.parquet").unlink()  # as daily files of an export, the later ones with a key more
    (folder / "emails").mkdir()
    for day, (_, part) in enumerate(tables["emails"].groupby(tables["emails"].index % 2)):
        part = part.assign(campaign="renewal") if day else part
        part.to_json(folder / "emails" / f"day-{day}.json.gz", orient="records", lines=True, date_format="iso")
    (folder / "emails" / "_SUCCESS").touch()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns.users]\naccount_id = "org"\n')
    out = tmp_path / "features.parquet"
    report = build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    built = pd.read_parquet(out)
    pd.testing.assert_frame_equal(built, expected, check_dtype=False)
    assert report.common_names["events.timestamp"] == "time" and report.common_names["events.user_id"] == "distinct_id"
    read = analysis.load_tables(folder, ("accounts", "subscriptions", "events"))["events"]
    assert read["timestamp"].min() == T("2024-06-01")  # the notebooks read the nested Unix times too

    (folder / "tickets.json").write_text('[{"ticket_id": "t1", "account_id": "stay"}, {"ticket_id": ')
    with pytest.raises(ChurnInputError, match=r"^tickets: cannot be read: .*JSON"):
        build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    (folder / "tickets.json").write_text("  ")
    with pytest.raises(ChurnInputError, match=r"^tickets: tickets\.json is empty"):
        build_feature_file(folder, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), built)  # a refused build leaves the last output as it was


def test_a_csv_line_that_does_not_parse_is_named(tmp_path):
    """A field too many (a comma in an unquoted category) would shift that row's later columns: refused, not guessed."""
    folder = write_folder(tmp_path / "data", contract_tables(), csv=("tickets",))
    lines = (folder / "tickets.csv").read_text().splitlines()
    lines[2] += ",urgent"
    (folder / "tickets.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "features.parquet"
    result = CliRunner().invoke(app, ["features", "--data", str(folder), "--out", str(out), "--as-of", "2025-03-01"])
    assert result.exit_code == 2 and not out.exists()
    message = " ".join(result.output.split())
    assert re.search(r"tickets: 1 line\(s\) of tickets\.csv cannot be read as CSV, e\.g\. line 3 \(.*9.*\): 't1,stay,.*,urgent'", message)


def test_a_csv_saved_as_utf16_is_read_and_an_empty_or_falsely_gzipped_one_is_named(tmp_path):
    """Excel's "Unicode text" is UTF-16 with a byte-order mark; a zero-byte file is an export that failed."""
    tables = contract_tables()
    tables["accounts"]["industry"] = ["détail", "saas", "saas", "santé", "détail"]
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {name: frame for name, frame in tables.items() if name != "accounts"})
    tables["accounts"].to_csv(folder / "accounts.csv", index=False, encoding="utf-16")
    build_feature_file(folder, tmp_path / "utf16.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "utf16.parquet"), expected, check_dtype=False)
    (folder / "accounts.csv").write_bytes(b"")
    with pytest.raises(ChurnInputError, match=r"^accounts: accounts\.csv is empty$"):
        build_feature_file(folder, tmp_path / "empty.parquet", as_of=DATES, now=NOW)
    (folder / "accounts.csv").unlink()
    (folder / "accounts.csv.gz").write_bytes(b"account_id,created_at\n")  # named .gz, but plain text
    with pytest.raises(ChurnInputError, match=r"^accounts: accounts\.csv\.gz cannot be read: Not a gzipped file"):
        build_feature_file(folder, tmp_path / "gz.parquet", as_of=DATES, now=NOW)


def test_a_csv_excel_saved_on_windows_is_read_in_its_code_page_and_loses_no_line(tmp_path, caplog):
    """Excel's "CSV" on a Western Windows: Windows-1252 text, with semicolons where a comma is the decimal mark. DuckDB
    would leave out each line that is not UTF-8; the build and the notebooks read every line, a line already in UTF-8
    (an export appended to) as UTF-8, and say how the file was read."""
    tables = contract_tables()
    tables["accounts"]["industry"] = ["détail", "saas", "Zürich", "santé", "détail"]
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {name: frame for name, frame in tables.items() if name != "accounts"})
    lines = tables["accounts"].to_csv(sep=";", index=False).splitlines(keepends=True)
    text = b"".join(line.encode("utf-8" if "Zürich" in line else "cp1252") for line in lines)
    assert b"d\xe9tail" in text and "Zürich".encode() in text
    (folder / "accounts.csv").write_bytes(text)
    with caplog.at_level("WARNING", logger="features.files"):
        build_feature_file(folder, tmp_path / "windows.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "windows.parquet"), expected, check_dtype=False)
    assert "accounts.csv is not all UTF-8" in caplog.text
    assert not list(Path(tempfile.gettempdir()).glob("churn-accounts-*.csv"))  # the UTF-8 copy is gone
    read = analysis.load_tables(folder, names=("accounts",))["accounts"]
    assert list(read["industry"]) == list(tables["accounts"]["industry"])


def test_a_spreadsheets_blank_rows_are_left_out_and_counted_but_a_row_without_its_id_is_refused(tmp_path):
    """Excel exports the formatted rows below the data as ``;;;;``: they hold nothing, and are no account without an
    id. A row with anything in it and no id still stops the build."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {k: v for k, v in tables.items() if k not in ("accounts", "subscriptions")})
    (folder / "accounts.csv").write_text(tables["accounts"].to_csv(sep=";", index=False) + ";;;;\n ; ;;;\n")
    (folder / "subscriptions.csv").write_text(tables["subscriptions"].to_csv(index=False) + ",,,,\n")
    report = build_feature_file(folder, tmp_path / "blank.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "blank.parquet"), expected, check_dtype=False)
    assert report.skipped[("accounts", contract.BLANK_ROW)] == 2
    assert report.skipped[("subscriptions", contract.BLANK_ROW)] == 1
    assert f"accounts: 2 {contract.BLANK_ROW}" in report.describe()
    read = analysis.load_tables(folder, names=("accounts", "subscriptions"))
    assert len(read["accounts"]) == len(tables["accounts"]) and len(read["subscriptions"]) == len(tables["subscriptions"])
    (folder / "accounts.csv").write_text(tables["accounts"].to_csv(index=False) + ",,pro,,\n")
    with pytest.raises(ChurnInputError, match=r"^accounts\.account_id: 1 empty value"):
        build_feature_file(folder, tmp_path / "no_id.parquet", as_of=DATES, now=NOW)


def test_rows_repeated_whole_are_kept_once_and_counted_but_two_rows_of_one_id_that_differ_are_refused(tmp_path):
    """A helpdesk's or CRM's paged export repeats the rows where its pages overlapped."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    accounts, tickets = tables["accounts"], tables["tickets"]
    repeated = {**tables, "accounts": pd.concat([accounts, accounts.iloc[[1]]]),
                "tickets": pd.concat([tickets.iloc[[2]], tickets, tickets.iloc[[0, 2]]])}
    folder = write_folder(tmp_path / "data", repeated, csv=("tickets",))
    report = build_feature_file(folder, tmp_path / "copies.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "copies.parquet"), expected, check_dtype=False)
    assert report.skipped[("accounts", contract.EXACT_COPY)] == 1 and report.skipped[("tickets", contract.EXACT_COPY)] == 3
    assert f"tickets: 3 {contract.EXACT_COPY}" in report.describe()
    read = analysis.load_tables(folder, names=("accounts", "tickets"))
    assert len(read["accounts"]) == len(accounts) and len(read["tickets"]) == len(tickets)
    changed = accounts.iloc[[1]].assign(plan="enterprise")
    with pytest.raises(ChurnInputError, match=r"^accounts\.account_id: duplicate value 'leave' \(1 extra row"):
        build_features({**tables, "accounts": pd.concat([accounts, accounts.iloc[[1]], changed])}, DATES, now=NOW)


def test_a_workbook_is_read_by_its_first_sheet_and_one_that_is_not_a_workbook_is_named(tmp_path):
    """A CRM's accounts report and a billing tool's subscriptions saved from a spreadsheet: cells keep their numbers
    and dates, the report's title rows are no rows, a column beside the data with no header and nothing in it is no
    column, and the sheet named after the table is read, else the first (later ones are notes)."""
    tables = contract_tables()
    tables["accounts"]["industry"] = ["détail", "saas", "saas", "santé", "détail"]
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {k: v for k, v in tables.items() if k not in ("accounts", "subscriptions")})
    with pd.ExcelWriter(folder / "accounts.xlsx") as workbook:  # a CRM report: its title and date above the table
        title = pd.DataFrame([["Accounts by owner"], ["Generated 2025-03-01"]])
        title.to_excel(workbook, sheet_name="Accounts", index=False, header=False)
        tables["accounts"].assign(**{" ": None}).to_excel(workbook, sheet_name="Accounts", index=False, startrow=3)
        pd.DataFrame({"note": ["exported from the CRM"]}).to_excel(workbook, sheet_name="Notes", index=False)
    with pd.ExcelWriter(folder / "subscriptions.xlsx") as workbook:  # the sheet named after the table, not the first
        pd.DataFrame({"read me": ["MRR in USD"]}).to_excel(workbook, sheet_name="Read me", index=False)
        tables["subscriptions"].to_excel(workbook, sheet_name="Subscriptions", index=False)
    report = build_feature_file(folder, tmp_path / "workbook.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "workbook.parquet"), expected, check_dtype=False)
    assert not report.unused_columns  # the empty column beside the data is not carried, nor named
    read = analysis.load_tables(folder, names=("accounts", "subscriptions"))
    assert list(read["accounts"]["industry"]) == list(tables["accounts"]["industry"])
    assert list(read["subscriptions"]["mrr"]) == list(tables["subscriptions"]["mrr"])
    (folder / "accounts.xlsx").write_text("account_id,created_at\n")  # a CSV given a workbook's name
    with pytest.raises(ChurnInputError, match=r"^accounts: accounts\.xlsx cannot be read as a workbook"):
        build_feature_file(folder, tmp_path / "not_a_workbook.parquet", as_of=DATES, now=NOW)


def test_parquet_parts_may_differ_in_columns_and_a_file_that_is_not_parquet_is_named(tmp_path):
    """An export that gained a column and lost ``user_id`` midway: the later part's events are nobody's activity."""
    tables = contract_tables()
    events = tables["events"]
    folder = write_folder(tmp_path / "data", {name: frame for name, frame in tables.items() if name != "events"})
    (folder / "events").mkdir()
    events.iloc[:6].to_parquet(folder / "events" / "part-0.parquet", index=False)
    later = events.iloc[6:].drop(columns="user_id").assign(device="mobile")
    later.to_parquet(folder / "events" / "part-1.parquet", index=False)
    build_feature_file(folder, tmp_path / "parts.parquet", as_of=DATES, now=NOW)
    anonymous = events.assign(user_id=events.user_id.where(events.index < 6, None))
    expected = build_features({**tables, "events": anonymous}, DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "parts.parquet"), expected, check_dtype=False)
    (folder / "events" / "part-1.parquet").write_text("account_id,timestamp\n")
    with pytest.raises(ChurnInputError, match=r"^events: cannot be read: .*part-1\.parquet"):
        build_feature_file(folder, tmp_path / "damaged.parquet", as_of=DATES, now=NOW)
    assert not (tmp_path / "damaged.parquet").exists()


def test_contract_columns_written_in_another_style_are_recognised(tmp_path):
    tables = contract_tables()
    styled = {
        "accounts": tables["accounts"].rename(columns={"account_id": "Account ID", "created_at": "createdAt"}),
        "events": tables["events"].rename(columns={"account_id": "ACCOUNT_ID", "user_id": "UserId", "timestamp": "Timestamp"}),
    }
    expected = build_features(tables, DATES, now=NOW)
    pd.testing.assert_frame_equal(build_features({**tables, **styled}, DATES, now=NOW), expected)
    folder = write_folder(tmp_path / "data", {**tables, **styled}, csv=("events",))
    frames = analysis.load_tables(folder, columns={"events": ["timestamp"]})
    assert list(frames["events"].columns) == ["timestamp"] and "account_id" in frames["accounts"].columns


def test_columns_under_the_names_other_tools_give_them_are_read_as_the_contracts_and_reported(tmp_path):
    """An analytics tracker's events (event, distinct_id, time in Unix seconds), a CRM's accounts (id, signup_date),
    Stripe's subscriptions (customer, ended_at), a helpdesk's tickets (id, organization_id, created_at, solved_at,
    satisfaction_rating): no mapping needed."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    events = tables["events"].rename(columns={"account_id": "org_id", "user_id": "distinct_id", "event_type": "event"})
    events["time"] = (events.pop("timestamp") - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    exported = {
        **tables,
        "accounts": tables["accounts"].rename(columns={"account_id": "id", "created_at": "signup_date"}),
        "subscriptions": tables["subscriptions"].rename(columns={"account_id": "customer", "end_date": "ended_at"}),
        "events": events,
        "tickets": tables["tickets"].rename(columns={
            "ticket_id": "id", "account_id": "organization_id", "opened_at": "created_at", "resolved_at": "solved_at",
            "csat": "satisfaction_rating",
        }),
    }
    out = tmp_path / "features.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", exported), out, as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)
    assert report.common_names == {
        "accounts.account_id": "id", "accounts.created_at": "signup_date", "subscriptions.account_id": "customer",
        "subscriptions.end_date": "ended_at", "events.account_id": "org_id",
        "events.user_id": "distinct_id", "events.event_type": "event", "events.timestamp": "time",
        "tickets.ticket_id": "id", "tickets.account_id": "organization_id", "tickets.opened_at": "created_at",
        "tickets.resolved_at": "solved_at", "tickets.csat": "satisfaction_rating",
    }
    assert "read under other tools' names: accounts.account_id from 'id'" in report.describe()
    assert expected["support__csat_mean__90d"].notna().any()  # the renamed columns carry values the test compares

    both = {**tables, "events": tables["events"].rename(columns={"event_type": "event"}).assign(action="click")}
    with pytest.raises(ChurnInputError) as error:  # two common names for one column: which is meant is a guess
        build_features(both, DATES, now=NOW)
    assert (error.value.table, error.value.column) == ("events", "event_type")
    assert "'event' and 'action' could each be event_type" in error.value.problem
    assert '[columns.events] event_type = "event"' in error.value.problem
    closed_too = tables["tickets"].rename(columns={"resolved_at": "Solved at"}).assign(closed_at=pd.NaT)
    closed = {**tables, "tickets": closed_too}
    with pytest.raises(ChurnInputError, match="'Solved at' and 'closed_at' could each be resolved_at"):
        build_features(closed, DATES, now=NOW)  # a column an export may lack: not silently left out
    requested = tables["tickets"].assign(requester_id="u1", requester="Jane")  # the id, not the name
    assert contract.contract_renames("tickets", list(requested.columns))["user_id"] == "requester_id"
    styled = {**tables, "events": tables["events"].rename(columns={"timestamp": "Timestamp"}).assign(time=0)}
    pd.testing.assert_frame_equal(build_features(styled, DATES, now=NOW), expected)  # the contract's name comes first


def test_an_analytics_export_naming_users_by_address_needs_no_mapping():
    """Google Analytics' export names an event and its time event_name and event_timestamp (Unix microseconds); a
    product's own log may name its user by address."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    events = tables["events"].rename(columns={"event_type": "event_name", "user_id": "user_email"})
    events["event_timestamp"] = (events.pop("timestamp") - pd.Timestamp("1970-01-01")) // pd.Timedelta(microseconds=1)
    pd.testing.assert_frame_equal(build_features({**tables, "events": events}, DATES, now=NOW), expected)
    assert expected["usage__active_users__30d"].sum() > 0  # the users were read


def test_ids_padded_with_spaces_read_as_the_ids_they_are(tmp_path):
    """A fixed-width or hand-kept export pads its ids (`` stay``, ``t1  ``); an id of spaces alone is none."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    tickets = tables["tickets"]
    padded = {
        "accounts": tables["accounts"].assign(account_id=" " + tables["accounts"]["account_id"]),
        "subscriptions": tables["subscriptions"].assign(account_id=tables["subscriptions"]["account_id"] + " "),
        "tickets": tickets.assign(ticket_id=tickets["ticket_id"] + "  ", account_id=" " + tickets["account_id"]),
    }
    padded["tickets"].loc[len(tickets)] = ["t9", "   ", *tickets.iloc[0, 2:]]
    folder = write_folder(tmp_path / "data", {**tables, **padded}, csv=("accounts", "tickets"))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert report.skipped[("tickets", "empty account_id")] == 1
    assert analysis.load_tables(folder)["tickets"]["account_id"].iloc[:-1].tolist() == tickets["account_id"].tolist()


def test_a_survey_tools_answers_need_no_mapping():
    """Delighted exports an answer's time as Response timestamp (Unix seconds) and its score as Score; Google Forms
    the time as Timestamp."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    surveys = tables["surveys"]
    delighted = surveys.rename(columns={"nps": "Score", "responded_at": "Response timestamp"})
    delighted["Response timestamp"] = (surveys["responded_at"] - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)
    google_forms = surveys.rename(columns={"nps": "NPS Score", "responded_at": "Timestamp"})
    for exported in (delighted, google_forms):
        pd.testing.assert_frame_equal(build_features({**tables, "surveys": exported}, DATES, now=NOW), expected)
    assert expected["engagement__nps_latest"].notna().any()


def test_a_crms_accounts_a_billing_tools_subscriptions_and_freshdesks_tickets_need_no_mapping(tmp_path):
    """HubSpot's companies (Record ID, Create Date), a plan and licences under their CRM names, MRR and seats as a
    billing export names them, and Freshdesk's ticket times."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    exported = {
        **tables,
        "accounts": tables["accounts"].rename(
            columns={"account_id": "Record ID", "created_at": "Create Date", "plan": "Plan Name", "seats": "Licenses"}),
        "subscriptions": tables["subscriptions"].rename(columns={"mrr": "Monthly Recurring Revenue", "seats": "Seat Count"}),
        "tickets": tables["tickets"].rename(columns={
            "opened_at": "created_time", "first_response_at": "first_responded_at", "resolved_at": "resolved_time"}),
    }
    report = build_feature_file(write_folder(tmp_path / "data", exported), tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert report.common_names == {
        "accounts.account_id": "Record ID", "accounts.created_at": "Create Date", "accounts.plan": "Plan Name",
        "accounts.seats": "Licenses", "subscriptions.mrr": "Monthly Recurring Revenue",
        "subscriptions.seats": "Seat Count", "tickets.opened_at": "created_time",
        "tickets.first_response_at": "first_responded_at", "tickets.resolved_at": "resolved_time",
    }


def test_a_helpdesk_giving_how_long_replies_and_resolutions_took_dates_them_from_the_opening(tmp_path):
    """Zendesk exports the first reply and the resolution as minutes after the opening (beside the same within
    business hours, no elapsed time), HubSpot as hours, minutes and seconds: each stands for the time it gives."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    tickets = tables["tickets"].copy()
    took = {column: tickets.pop(column) - tickets["opened_at"] for column in ("first_response_at", "resolved_at")}
    zendesk = tickets.assign(**{
        "First reply time in minutes": took["first_response_at"] / pd.Timedelta(minutes=1),
        "First reply time in minutes within business hours": 1.0,
        "Full resolution time in minutes": took["resolved_at"] / pd.Timedelta(minutes=1),
    })
    pd.testing.assert_frame_equal(build_features({**tables, "tickets": zendesk}, DATES, now=NOW), expected)
    assert expected["support__median_first_response_hours__90d"].gt(0).any()  # the durations carry values

    def clock(durations: pd.Series) -> pd.Series:
        seconds = durations.dt.total_seconds()
        return seconds.map(lambda s: f"{s // 3600:.0f}:{s % 3600 // 60:02.0f}:{s % 60:02.0f}", "ignore")  # 26:05:00

    hubspot = tickets.assign(**{"Time to first agent reply (HH:mm:ss)": clock(took["first_response_at"]),
                                "Time to close (HH:mm:ss)": clock(took["resolved_at"])})
    folder = write_folder(tmp_path / "data", {**tables, "tickets": hubspot}, csv=("tickets",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert "tickets.resolved_at: the table has none, so opened_at plus 'Time to close (HH:mm:ss)' stands for it" in (
        report.describe()
    )
    loaded = analysis.load_tables(folder)["tickets"]  # the notebooks read them so too
    times = ["first_response_at", "resolved_at"]
    pd.testing.assert_frame_equal(loaded[times], tables["tickets"][times].reset_index(drop=True), check_dtype=False)
    hubspot.loc[1, "Time to close (HH:mm:ss)"] = "3 days"
    folder = write_folder(tmp_path / "bad", {**tables, "tickets": hubspot}, csv=("tickets",))
    with pytest.raises(ChurnInputError, match="1 value\\(s\\) of column 'Time to close \\(HH:mm:ss\\)' are not a duration"):
        build_feature_file(folder, tmp_path / "g.parquet", as_of=DATES, now=NOW)
    assert not (tmp_path / "g.parquet").exists()

    unitless = tickets.assign(first_response_time=5.0, resolved_at=tables["tickets"]["resolved_at"])
    report = build_feature_file(write_folder(tmp_path / "unitless", {**tables, "tickets": unitless}), tmp_path / "h.parquet",
                                as_of=DATES, now=NOW)
    assert report.unused_columns["tickets.first_response_time"].startswith("numbers in a unit its name does not state")
    assert "support__median_first_response_hours__90d" in report.unbuilt_features  # not guessed
    assert "support__median_resolution_hours__90d" not in report.unbuilt_features
    timed = tables["tickets"].rename(columns={"resolved_at": "Resolution Time"})  # times, under a duration's name
    pd.testing.assert_frame_equal(build_features({**tables, "tickets": timed}, DATES, now=NOW), expected)


def test_a_billing_exports_notes_in_brackets_are_set_aside(tmp_path):
    """Stripe's subscriptions export notes each time's zone in its name (``Start (UTC)``, ``Ended At (UTC)``) and
    writes times to the minute: read as the contract's start_date and end_date, with its other columns left alone."""
    tables = contract_tables()
    subscriptions = tables["subscriptions"]
    stripe = pd.DataFrame({
        "id": [f"sub_{i}" for i in range(len(subscriptions))],
        "Customer ID": subscriptions["account_id"],
        "Status": subscriptions["end_date"].isna().map({True: "active", False: "canceled"}),
        "Start (UTC)": subscriptions["start_date"].dt.strftime("%Y-%m-%d %H:%M"),
        "Ended At (UTC)": subscriptions["end_date"].dt.strftime("%Y-%m-%d %H:%M"),
        "Current Period End (UTC)": (subscriptions["start_date"] + pd.Timedelta(days=30)).dt.strftime("%Y-%m-%d %H:%M"),
        "MRR (USD)": subscriptions["mrr"].map("${:,.2f}".format),
    })
    out = tmp_path / "f.parquet"
    folder = write_folder(tmp_path / "data", {**tables, "subscriptions": stripe}, csv=("subscriptions",))
    report = build_feature_file(folder, out, as_of=DATES, now=NOW)
    seats_of = subscriptions.drop(columns="seats")  # Stripe's export has none: the accounts' seats stand
    pd.testing.assert_frame_equal(
        pd.read_parquet(out), build_features({**tables, "subscriptions": seats_of}, DATES, now=NOW), check_dtype=False
    )
    assert report.common_names == {
        "subscriptions.subscription_id": "id", "subscriptions.account_id": "Customer ID",
        "subscriptions.start_date": "Start (UTC)", "subscriptions.end_date": "Ended At (UTC)",
    }


def _priced(subscriptions: pd.DataFrame, intervals: list[str], counts: list[int]) -> pd.DataFrame:
    """Subscriptions as Stripe's dashboard exports them: no MRR, but a price per seat (Amount, as money) for every
    Interval Count intervals, and Quantity seats."""
    months = pd.Series(intervals).map({"month": 1, "Year": 12, "quarterly": 3}) * pd.Series(counts)
    return pd.DataFrame({
        "id": [f"sub_{i}" for i in range(len(subscriptions))],
        "Customer ID": subscriptions["account_id"],
        "Quantity": subscriptions["seats"],
        "Amount": (subscriptions["mrr"] * months / subscriptions["seats"]).map("${:,.4f}".format),
        "Interval": intervals,
        "Interval Count": counts,
        "Start (UTC)": subscriptions["start_date"].dt.strftime("%Y-%m-%d %H:%M"),
        "Ended At (UTC)": subscriptions["end_date"].dt.strftime("%Y-%m-%d %H:%M"),
    })


def test_a_price_per_billing_interval_is_read_as_a_months_worth_of_it(tmp_path):
    tables = contract_tables()
    subscriptions = tables["subscriptions"]
    intervals, counts = ["month", "Year", "month", "quarterly", "month", "Year", "month"], [1, 1, 1, 1, 1, 2, 3]
    folder = write_folder(tmp_path / "data", {**tables, "subscriptions": _priced(subscriptions, intervals, counts)},
                          csv=("subscriptions",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    built = pd.read_parquet(tmp_path / "f.parquet")
    terms = subscriptions.assign(term_months=[1, 12, 1, 3, 1, 24, 3])  # each renews every billing interval
    expected = build_features({**tables, "subscriptions": terms}, DATES, now=NOW)
    pd.testing.assert_frame_equal(built, expected, check_dtype=False)
    assert built["account__mrr"].gt(0).all()
    assert report.derived_columns == {
        "subscriptions.mrr": "a month's worth of 'Amount' × 'Quantity' per 'Interval' (every 'Interval Count' of them)"
    }
    assert "subscriptions.mrr: the table has none, so a month's worth of 'Amount' × 'Quantity' per" in report.describe()
    assert set(report.common_names) == {
        "subscriptions.subscription_id", "subscriptions.account_id", "subscriptions.start_date", "subscriptions.end_date"
    }
    read = analysis.load_tables(folder, ("accounts", "subscriptions"))["subscriptions"]  # as the notebooks read it
    assert read["mrr"].tolist() == pytest.approx(subscriptions["mrr"].tolist(), rel=1e-5)  # prices to 4 decimals


def test_a_subscriptions_end_is_read_from_when_it_expired_else_when_it_was_cancelled():
    """Billing tools without an ended_at: Recurly's expires_at beside canceled_at (when the cancellation was asked
    for), Chargebee's cancelled_at."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    subscriptions = tables["subscriptions"]
    chargebee = subscriptions.rename(columns={"end_date": "cancelled_at"})
    recurly = subscriptions.rename(columns={"end_date": "expires_at"}).assign(
        canceled_at=subscriptions["end_date"] - pd.Timedelta(days=10)
    )
    for exported in (chargebee, recurly):
        pd.testing.assert_frame_equal(build_features({**tables, "subscriptions": exported}, DATES, now=NOW), expected)


def test_a_free_trial_is_no_customer_until_it_ends_and_one_ending_unpaid_never_is(tmp_path):
    """Billing tools export a trial's end with each subscription (Stripe's Trial End, Recurly's trial_ends_at)."""
    tables = contract_tables()
    trying = pd.DataFrame({  # converts on 6 March; tries and leaves before its trial ends; still tries at the cut-off
        "account_id": ["converts", "tries", "still_tries"], "created_at": [T("2025-02-20")] * 3, "plan": "basic",
        "seats": 2, "industry": "retail",
    })
    accounts = pd.concat([tables["accounts"], trying], ignore_index=True)
    paid = pd.DataFrame({"account_id": ["converts"], "start_date": [T("2025-03-06")], "end_date": [pd.NaT],
                         "mrr": [40.0], "seats": [2]})
    expected = build_features({**tables, "accounts": accounts,
                               "subscriptions": pd.concat([tables["subscriptions"], paid], ignore_index=True)},
                              DATES, now=NOW)
    trials = pd.DataFrame({"account_id": ["converts", "tries", "still_tries"], "start_date": [T("2025-02-20")] * 3,
                           "end_date": [pd.NaT, T("2025-03-05"), pd.NaT], "mrr": 40.0, "seats": 2,
                           "trial_ends_at": [T("2025-03-06"), T("2025-03-06"), NOW + pd.Timedelta(days=30)]})
    subscriptions = pd.concat([tables["subscriptions"].assign(trial_ends_at=pd.NaT), trials], ignore_index=True)
    subscriptions["trial_ends_at"] = subscriptions["trial_ends_at"].dt.strftime("%Y-%m-%d").fillna("")
    folder = write_folder(tmp_path / "data", {**tables, "accounts": accounts, "subscriptions": subscriptions},
                          csv=("subscriptions",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    built = pd.read_parquet(tmp_path / "f.parquet")

    pd.testing.assert_frame_equal(built, expected, check_dtype=False)
    customers = set(zip(built["account_id"], built["as_of"].dt.date))
    assert ("converts", DATES[1]) in customers and ("converts", DATES[0]) not in customers  # in its trial on 1 March
    assert "tries" not in set(built["account_id"])  # otherwise a customer on 1 March, churned four days later
    assert report.trials == 1 and report.skipped[("subscriptions", contract.UNPAID_TRIAL)] == 1
    assert report.skipped[("subscriptions", contract.TRIAL_RUNNING)] == 1 and "still_tries" not in set(built["account_id"])
    assert "subscriptions: 1 start with a free trial, so each is a customer's from the trial's end" in report.describe()
    read = analysis.load_tables(folder, ("accounts", "subscriptions"))["subscriptions"]  # as the notebooks read it
    assert read.set_index("account_id").loc["converts", "start_date"] == T("2025-03-06") and "tries" not in set(read["account_id"])


def test_a_billing_interval_of_no_known_length_is_refused_naming_it(tmp_path):
    tables = contract_tables()
    priced = _priced(tables["subscriptions"], ["month"] * 7, [1] * 7).assign(Interval=["month"] * 6 + ["fortnight"])
    folder = write_folder(tmp_path / "data", {**tables, "subscriptions": priced}, csv=("subscriptions",))
    out = tmp_path / "f.parquet"
    with pytest.raises(ChurnInputError, match=r"subscriptions\.billing_interval: 'fortnight' is not a billing interval"):
        build_feature_file(folder, out, as_of=DATES, now=NOW)
    assert not out.exists()


def test_a_price_without_an_interval_is_not_mrr_and_a_mapped_mrr_is_mrr_as_it_is():
    tables = contract_tables()
    priced = _priced(tables["subscriptions"], ["month"] * 7, [1] * 7)
    report = build_features({**tables, "subscriptions": priced.drop(columns=["Interval"])}, DATES, now=NOW)
    assert "account__mrr" not in report.columns  # a price of no known period: the table has no MRR
    mapping = load_mapping(None)
    named = dataclasses.replace(mapping, columns={"subscriptions": {"mrr": "Amount"}})
    as_named = build_features({**tables, "subscriptions": priced}, DATES, now=NOW, mapping=named)
    first = as_named.set_index("account_id").loc["stay"].iloc[0]
    assert first["account__mrr"] == pytest.approx(500 / 10)  # the price of a seat a month, as the mapping says


def test_salesforce_cases_hubspot_and_jira_tickets_need_no_mapping():
    """A helpdesk's tickets under the names Salesforce (CreatedDate, ClosedDate), HubSpot (Ticket ID, Create date,
    First agent reply date, Close date) and Jira (Created, Resolved) export them."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    cases = tables["tickets"].rename(columns={
        "ticket_id": "Id", "account_id": "AccountId", "opened_at": "CreatedDate", "resolved_at": "ClosedDate"})
    hubspot = tables["tickets"].rename(columns={"ticket_id": "Ticket ID", "opened_at": "Create date",
                                                "first_response_at": "First agent reply date", "resolved_at": "Close date"})
    jira = tables["tickets"].rename(columns={"opened_at": "Created", "resolved_at": "Resolved"})
    for tickets in (cases, hubspot, jira):
        pd.testing.assert_frame_equal(build_features({**tables, "tickets": tickets}, DATES, now=NOW), expected)
    assert expected["support__median_resolution_hours__90d"].notna().any()


def test_an_email_tools_export_keyed_by_recipient_address_needs_no_mapping(tmp_path):
    """An email tool names each message's recipient by address and its times its own way (Send Time, First Opened
    At, First Clicked At); with a users table of addresses, its accounts are found and the table is the contract's."""
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    emails = tables["emails"]
    exported = pd.DataFrame({
        "Recipient": emails["user_id"] + "@Acme.com", "Campaign": "Onboarding", "Send Time": emails["sent_at"],
        "First Opened At": emails["opened_at"], "First Clicked At": emails["clicked_at"],
    })
    users = _users_of(tables["events"], emails).assign(user_id=lambda f: f["user_id"] + "@acme.com")
    folder = write_folder(tmp_path / "data", {**tables, "emails": exported, "users": users}, csv=("emails",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert {key: report.common_names[key] for key in report.common_names if key.startswith("emails.")} == {
        "emails.user_id": "Recipient", "emails.sent_at": "Send Time", "emails.opened_at": "First Opened At",
        "emails.clicked_at": "First Clicked At",
    }
    assert expected["engagement__email_open_rate__30d"].notna().any()


def email_events(emails: pd.DataFrame) -> pd.DataFrame:
    """The emails as HubSpot exports its email events: a row per send, open and click (and others not read), each
    message a recipient's of one campaign; opened twice, the first open counts."""
    rows = []
    for i, email in emails.reset_index(drop=True).iterrows():
        sent = {"Recipient": f"{email['user_id']}@acme.com", "Email Campaign ID": 9000 + i, "Type": "SENT",
                "Created": email["sent_at"]}
        rows += [sent, {**sent, "Type": "DELIVERED", "Created": email["sent_at"] + pd.Timedelta(seconds=2)}]
        if pd.notna(email["opened_at"]):
            rows += [{**sent, "Type": "OPEN", "Created": email["opened_at"] + pd.Timedelta(days=d)} for d in (2, 0)]
        if pd.notna(email["clicked_at"]):
            rows.append({**sent, "Type": "CLICK", "Created": email["clicked_at"]})
        rows.append({**sent, "Type": "UNSUBSCRIBED", "Created": email["sent_at"] + pd.Timedelta(days=1)})
    return pd.DataFrame(rows)


def test_a_log_of_email_events_is_read_as_one_email_per_message(tmp_path):
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    users = _users_of(tables["events"], tables["emails"]).assign(user_id=lambda f: f["user_id"] + "@acme.com")
    log = email_events(tables["emails"])
    folder = write_folder(tmp_path / "data", {**tables, "emails": log, "users": users}, csv=("emails",))
    report = build_feature_file(folder, tmp_path / "f.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), expected, check_dtype=False)
    assert expected["engagement__email_open_rate__30d"].gt(0).any() and expected["engagement__email_click_rate__30d"].gt(0).any()
    assert report.derived_columns[contract.EMAIL_TIMES] == contract.EMAIL_EVENTS_READ
    assert f"{contract.EMAIL_TIMES}: the table has none, so each message's first send, open and click" in report.describe()
    assert {key: report.common_names[key] for key in report.common_names if key.startswith("emails.")} == {
        "emails.user_id": "Recipient", "emails.sent_at": "Created", "emails.email_event": "Type",
        "emails.message_id": "Email Campaign ID",
    }
    assert not [column for column in report.absent_columns if column.startswith("emails.")]
    sendgrid = log.rename(columns={"Recipient": "email", "Type": "event", "Created": "timestamp",
                                   "Email Campaign ID": "sg_message_id"}).assign(type="", reason="")  # a bounce's type
    sendgrid["event"] = sendgrid["event"].str.lower()
    pd.testing.assert_frame_equal(build_features({**tables, "emails": sendgrid, "users": users}, DATES, now=NOW), expected)

    with pytest.raises(ChurnInputError, match=r"^emails\.message_id: a log of email events .* needs each message's id"):
        build_features({**tables, "emails": log.drop(columns="Email Campaign ID"), "users": users}, DATES, now=NOW)
    # a column of kinds of email, no event among them: the emails are the contract's, sends without opens
    kinds = tables["emails"][["account_id", "user_id", "sent_at"]].assign(type="newsletter")
    sent = build_features({**tables, "emails": kinds}, DATES, now=NOW)
    assert sent["engagement__emails_sent__30d"].equals(expected["engagement__emails_sent__30d"])
    assert "engagement__email_open_rate__30d" not in sent.columns


def test_a_missing_column_is_named_with_the_columns_the_table_has():
    tables = contract_tables()
    tables["events"] = tables["events"].rename(columns={"event_type": "what_happened"})
    with pytest.raises(ChurnInputError, match=r"events\.event_type: required column is missing; the table has 'account_id', 'user_id'"):
        build_features(tables, DATES, now=NOW)


def test_unix_times_in_any_unit_are_read_and_a_number_that_is_none_is_named(tmp_path):
    tables = contract_tables()
    epoch = lambda times, per_second: (times - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1) * per_second  # noqa: E731
    events, tickets, emails = tables["events"].copy(), tables["tickets"].copy(), tables["emails"].copy()
    events["timestamp"] = epoch(events["timestamp"], 1)  # seconds, int64
    tickets["opened_at"] = epoch(tickets["opened_at"], 1000)  # milliseconds
    emails["sent_at"] = epoch(emails["sent_at"], 10**9).astype("float64")  # nanoseconds, as floats
    surveys = tables["surveys"].assign(responded_at=epoch(tables["surveys"]["responded_at"], 10**6).astype(str))  # µs as text
    unix = {**tables, "events": events, "tickets": tickets, "emails": emails, "surveys": surveys}
    expected = build_features(tables, DATES, now=NOW)
    build_feature_file(write_folder(tmp_path / "unix", unix, csv=("surveys",)), tmp_path / "unix.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "unix.parquet"), expected, check_dtype=False)
    events.loc[3, "timestamp"] = 2025  # a year, not a time
    with pytest.raises(ChurnInputError, match=r"events\.timestamp: 1 value\(s\) are not a timestamp, e\.g\. '2025'"):
        build_features({**tables, "events": events}, DATES, now=NOW)


def test_spreadsheet_serial_dates_are_read_and_a_time_before_1990_is_no_serial(tmp_path):
    """A date column formatted as a number in a spreadsheet exports days since 1899-12-30, the time as the fraction:
    45658.75 is 2025-01-01 18:00."""
    tables = contract_tables()
    serial = lambda times: (times - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)  # noqa: E731
    subscriptions = tables["subscriptions"].assign(start_date=serial(tables["subscriptions"]["start_date"]),
                                                   end_date=serial(tables["subscriptions"]["end_date"]))
    tickets = tables["tickets"].assign(opened_at=serial(tables["tickets"]["opened_at"]).map(repr))  # as text, in a CSV
    assert (tickets["opened_at"].str.contains(r"\.\d")).any()  # some carry a time of day
    expected = build_features(tables, DATES, now=NOW)
    folder = write_folder(tmp_path / "data", {**tables, "tickets": tickets}, csv=("tickets",))
    (folder / "subscriptions.parquet").unlink()
    subscriptions.to_excel(folder / "subscriptions.xlsx", index=False)
    build_feature_file(folder, tmp_path / "serial.parquet", as_of=DATES, now=NOW)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "serial.parquet"), expected, check_dtype=False)
    early = subscriptions.assign(start_date=subscriptions["start_date"].where(subscriptions.index != 0, 32000.0))
    with pytest.raises(ChurnInputError, match=r"subscriptions\.start_date: 1 value\(s\) are not a timestamp, e\.g\. '32000"):
        build_features({**tables, "subscriptions": early}, DATES, now=NOW)


def test_optional_tables_may_be_missing_and_their_families_are_absent():
    tables = {name: frame for name, frame in contract_tables().items() if name in ("accounts", "subscriptions", "events")}
    frame = build_features(tables, DATES, now=NOW)
    families = {column.split("__")[0] for column in frame.columns if "__" in column}
    assert families == {"account", "usage", "support", "engagement", "events"}  # resets, kb views, downloads come from events
    assert not [c for c in frame.columns if c.startswith(("support__tickets", "engagement__email", "engagement__nps"))]


def test_a_column_an_export_often_lacks_leaves_out_only_the_features_that_need_it(tmp_path):
    tables = contract_tables()
    full = build_features(tables, DATES, now=NOW)
    lacking = {
        "accounts": ["seats"], "subscriptions": ["seats"], "events": ["user_id"],
        "tickets": ["first_response_at", "priority", "category", "csat"], "emails": ["user_id", "clicked_at"], "surveys": ["user_id"],
    }
    for name, columns in lacking.items():
        tables[name] = tables[name].drop(columns=columns)
    data = write_folder(tmp_path / "data", tables)
    report = build_feature_file(data, tmp_path / "features.parquet", as_of=DATES, now=NOW)
    built = pd.read_parquet(tmp_path / "features.parquet")
    windowed = lambda *signals: {f"{signal}__{w}d" for signal in signals for w in (7, 30, 90)}  # noqa: E731
    per_user_of_each_type = {c for c in full.columns if c.startswith("events__") and c.endswith("__per_active_user__30d")}
    assert len(per_user_of_each_type) == 3  # login, report_created, quantum_widget_spun
    assert set(full.columns) - set(built.columns) == {
        "account__seats", "account__mrr_per_seat", "support__unanswered_tickets", *per_user_of_each_type,
        *windowed("usage__seat_utilisation", "support__median_first_response_hours", "support__csat_mean",
                  "support__low_csat_tickets", "engagement__email_click_rate", "engagement__email_click_rate_change",
                  "usage__active_users", "usage__active_users_trend", "usage__events_per_active_user",
                  "usage__active_user_share", "support__kb_views_per_active_user"),
    }
    pd.testing.assert_frame_equal(built, full[built.columns])  # every other feature as before
    assert report.absent_columns == tuple(f"{name}.{column}" for name, columns in lacking.items() for column in columns)
    assert "columns the tables lack (empty throughout): accounts.seats, subscriptions.seats, events.user_id, tickets." in (
        report.describe()
    )
    assert unbuilt_features(list(full.columns), ("accounts.seats",)) == []  # the subscriptions' seats still give seats


def test_a_company_mapping_names_its_own_login_event(tmp_path):
    tables = contract_tables()
    tables["events"]["event_type"] = tables["events"]["event_type"].replace({"login": "Session Opened"})
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("event_types:\n  login: [session opened]\n")
    default = build_features(tables, DATES, now=NOW).set_index("account_id")
    mapped = build_features(tables, DATES, now=NOW, mapping=mapping).set_index("account_id")
    march = lambda frame: frame[frame["as_of"] == pd.Timestamp("2025-03-01")]  # noqa: E731
    assert march(default).loc["stay", "usage__logins__30d"] == 0
    assert march(mapped).loc["stay", "usage__logins__30d"] == 3
    assert march(default).loc["stay", "events__session_opened__count__30d"] == 3


def test_event_types_match_the_mapping_with_case_spaces_and_punctuation_set_aside():
    tables = contract_tables()
    default = build_features(tables, DATES, now=NOW)
    events = tables["events"]
    logins = events.index[events["event_type"] == "login"]
    names = ["Signed In", "signed-in", "signedIn", "LOG_IN", "Session Started", "User Signed In", "auth.login"]
    events.loc[logins, "event_type"] = [names[i % len(names)] for i in range(len(logins))]
    events.loc[events["event_type"] == "Report_Created", "event_type"] = "report created"
    renamed = build_features(tables, DATES, now=NOW)
    usage = [column for column in default.columns if column.startswith("usage__")]
    assert default["usage__logins__90d"].sum() > 0 and default["usage__micro_conversions__30d"].sum() > 0
    pd.testing.assert_frame_equal(renamed[usage], default[usage])  # logins, micro-conversions and breadth alike


def test_an_event_name_matches_without_the_actor_or_namespace_it_starts_with():
    """Trackers name who acted ("User Signed In", "memberLoggedIn") and back ends the part logging it ("auth.login");
    only a leading word or namespace is set aside, so a failed login or a logout is no login."""
    mapping = load_mapping()
    logins = ["User Signed In", "memberLoggedIn", "auth.login", "user:signed_in", "app.auth.login", "Login Succeeded"]
    others = ["user.failed_login", "Failed Login", "User Signed Out", "auth", "User", "Account Created", "v2.0 login report"]
    assert mapping.types_of("login", logins + others) == logins
    assert mapping.types_of("password_reset", ["AdminPasswordReset", "auth.password_reset", "reset"]) == [
        "AdminPasswordReset", "auth.password_reset"
    ]
    assert mapping.types_of("kb_view", ["kb.article_viewed", "customer.kb_view", "kb"]) == ["kb.article_viewed", "customer.kb_view"]


def test_the_report_names_meanings_no_event_type_carries(tmp_path):
    data = write_folder(tmp_path / "data", contract_tables())
    report = build_feature_file(data, tmp_path / "features.parquet", as_of=DATES, now=NOW)
    assert report.meanings_absent == ["password_reset", "kb_view", "content_download"]
    assert "no event type means password_reset, kb_view, content_download, so their features are zero" in report.describe()
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[event_types]\nkb_view = []\npassword_reset = ["Quantum Widget Spun"]\n')
    report = build_feature_file(data, tmp_path / "features.parquet", as_of=DATES, now=NOW, mapping_path=mapping)
    assert report.meanings_absent == ["content_download"]  # switched off is not absent
    assert "no event type means content_download, so its features are zero" in report.describe()


def test_a_broken_mapping_file_is_named(tmp_path):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text("[event_types]\nlogins = ['x']\n")
    with pytest.raises(ChurnInputError, match="event_types.logins: unknown key"):
        load_mapping(mapping)


def test_the_mapping_names_a_companys_own_columns(tmp_path):
    tables = contract_tables()
    expected = build_features(tables, DATES, now=NOW)
    events = tables["events"].rename(columns={"account_id": "tenant", "timestamp": "happened", "event_type": "event"})
    tickets = tables["tickets"].rename(columns={"opened_at": "created"})
    data = write_folder(tmp_path / "data", {**tables, "events": events.assign(timestamp="ingested"), "tickets": tickets})
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[columns.events]\naccount_id = "tenant"\ntimestamp = "happened"\nevent_type = "event"\n'
        '[columns.tickets]\nopened_at = "created"\n[columns.emails]\nsent_at = "sent_at"\n'
    )
    out = tmp_path / "features.parquet"
    report = build_feature_file(data, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)
    assert report.unused_columns["events.timestamp"] == "the mapping reads 'happened' as timestamp"
    with pytest.raises(ChurnInputError, match=r"events\.account_id: required column is missing; .*\[columns\.events\] account_id"):
        build_feature_file(data, out, as_of=DATES, now=NOW)
    # the notebooks read the folder through the same mapping
    named = load_mapping(mapping)
    in_memory = analysis.load_feature_table(tmp_path / "not-built.parquet", data, as_of=DATES, now=NOW, mapping=named)
    pd.testing.assert_frame_equal(in_memory, expected)
    events_read = analysis.load_tables(data, ("accounts", "subscriptions", "events"), column_names=named.columns)["events"]
    assert list(events_read.columns) == ["account_id", "user_id", "timestamp", "event_type"]
    problems = {
        '[columns.events]\ntimestamp = "when"\n': r"events\.timestamp: the mapping reads column 'when' as timestamp, but the table has",
        '[columns.events]\ntime = "occurred_at"\n': r"columns\.events\.time: not a column of the contract's events",
        '[columns.event]\ntimestamp = "occurred_at"\n': r"columns\.event: unknown table",
        '[columns.accounts]\nends = "x"\n': r"accounts\.ends: not a column of the contract's accounts; those are account_id, "
                                             r"created_at, plan, seats, and for a flat customer table churned_at, mrr, trial_end$",
        '[columns.events]\ntimestamp = "org_id"\naccount_id = "org_id"\n': r"columns\.events: 'org_id' is named for two",
    }
    for text, problem in problems.items():
        mapping.write_text(text)
        with pytest.raises(ChurnInputError, match=problem):
            build_feature_file(data, out, as_of=DATES, now=NOW, mapping_path=mapping)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected)  # a refused build leaves the last table as it was


def with_snapshot_columns(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """An accounts export as a CRM gives it: a churn date and a status as they stood at export, beside a founding year."""
    accounts = tables["accounts"].assign(
        churned_at=pd.to_datetime([None, "2025-03-15", None, "2025-02-10", None]),
        closed_on=["", "2025-03-15", None, "2025-02-10T10:00:00Z", ""],
        cancelled_on=["", "03/15/2025", "", "2/10/2025", ""],  # as a spreadsheet writes dates
        status=["active", "churned", "active", "active", "active"],
        founded=["2001", "2015", "", "1999", "2024"],
    )
    return {**tables, "accounts": accounts}


def test_dates_in_accounts_are_not_carried_and_the_report_says_why(tmp_path):
    """Accounts are a snapshot at export: ``churned_at`` there would show every earlier row its future."""
    tables = with_snapshot_columns(contract_tables())
    for csv in ((), ("accounts",)):  # a date column, and ISO text read from CSV, are both dates
        out = tmp_path / f"features{len(csv)}.parquet"
        report = build_feature_file(write_folder(tmp_path / f"data{len(csv)}", tables, csv=csv), out, as_of=DATES, now=NOW)
        frame = pd.read_parquet(out)
        carried = [c for c in frame.columns if c.startswith("account__attr_")]
        assert carried == ["account__attr_industry", "account__attr_status", "account__attr_founded"]
        # text whose every value is a number is a number, so a model can order it; words stay categories
        assert pd.api.types.is_float_dtype(frame["account__attr_founded"]) and frame["account__attr_founded"].max() == 2024
        assert pd.api.types.is_string_dtype(frame["account__attr_status"])
        assert set(report.unused_columns) == {"accounts.churned_at", "accounts.closed_on", "accounts.cancelled_on"}
        assert "not carried: accounts.churned_at (a date: accounts are as exported" in report.describe()


def test_the_mapping_chooses_which_account_columns_are_attributes(tmp_path):
    tables = with_snapshot_columns(contract_tables())
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[accounts]\nattributes = ["industry", "founded"]\n')
    out = tmp_path / "features.parquet"
    report = build_feature_file(write_folder(tmp_path / "data", tables), out, as_of=DATES, now=NOW, mapping_path=mapping)
    frame = pd.read_parquet(out)
    assert [c for c in frame.columns if c.startswith("account__attr_")] == ["account__attr_industry", "account__attr_founded"]
    assert report.unused_columns["accounts.status"] == "not among the mapping's [accounts] attributes"
    assert frame["usage__logins__30d"].sum() > 0  # a mapping without [event_types] keeps the default event meanings
    for chosen, problem in (("tier", "no such column; its extra columns: 'industry', 'churned_at'"), ("churned_at", "a date"),
                            ("plan", "a contract column")):
        mapping.write_text(f'[accounts]\nattributes = ["{chosen}"]\n')
        with pytest.raises(ChurnInputError, match=f"accounts.{chosen}: named in the mapping's attributes, but .*{problem}"):
            build_feature_file(tmp_path / "data", out, as_of=DATES, now=NOW, mapping_path=mapping)
    assert pd.read_parquet(out).equals(frame)
    mapping.write_text("[account]\nattributes = []\n")
    with pytest.raises(ChurnInputError, match="unknown table 'account'"):
        load_mapping(mapping)


def test_name_like_account_columns_are_not_carried_unless_the_mapping_chooses_them():
    """A company's name, website or CRM id is distinct for nearly every account: no category a model can learn from."""
    n = 30
    accounts = ibis.memtable(pd.DataFrame({
        "account_id": [f"a{i}" for i in range(n)], "created_at": pd.Timestamp("2024-01-01"), "plan": "pro", "seats": 5,
        "name": [f"Company {i}" for i in range(n)],
        "website": [f"c{min(i, 27)}.example" for i in range(n)],  # 28 distinct of 30: still name-like
        "industry": ["retail", "saas", "health"] * 10,
        "employees": [str(10 * i) for i in range(n)],  # numbers are ordered, whatever their spread
    }))
    carried, not_carried = contract.account_attributes(accounts, None)
    assert carried == {"industry": contract.TEXT, "employees": contract.NUMBER}
    assert not_carried == {"accounts.name": contract.NAME_LIKE, "accounts.website": contract.NAME_LIKE}
    chosen, _ = contract.account_attributes(accounts, ("name", "industry"))
    assert chosen == {"name": contract.TEXT, "industry": contract.TEXT}
    few = accounts.limit(contract.NAME_LIKE_ROWS - 1)  # too few accounts to tell a name from a category
    assert "name" in contract.account_attributes(few, None)[0]


def test_segments_agree_with_the_window_rule():
    calendar = Calendar((date(2025, 3, 1), date(2025, 4, 1), date(2025, 4, 15)), (7, 30))
    times = pd.date_range("2024-12-01", "2025-04-20", freq="37min")
    import ibis

    frame = ibis.memtable(pd.DataFrame({"t": times})).mutate(segment=lambda t: calendar.segment(t.t)).to_pandas()
    for moment in calendar.moments:
        for span, (window, lag) in calendar.spans.items():
            expected = [bool(in_window(t.to_pydatetime(), moment, window, lag_days=lag)) for t in frame["t"]]
            got = [s < calendar.index(moment) and calendar.in_span(int(s), moment, span) for s in frame["segment"]]
            assert got == expected, (moment, span)


def test_activity_bits_meet_a_span_mask_exactly_when_the_segment_is_in_the_span():
    import ibis

    calendar = Calendar((date(2025, 3, 1), date(2025, 4, 1), date(2025, 4, 15)), (7, 30))
    segments = list(range(len(calendar.points)))  # the first and last segment are in no span and get no bit
    table = ibis.memtable(pd.DataFrame({"segment": segments}))
    bits = table.mutate(**calendar.activity_bits(table.segment.cast("int16"))).to_pandas()
    masks = calendar.span_masks().to_pandas().set_index("as_of")
    hits = 0
    for moment in calendar.moments:
        for span in calendar.spans:
            expected = [s < calendar.index(moment) and calendar.in_span(s, moment, span) for s in segments]
            got = [
                any(int(row[f"bits_{word}"]) & int(masks.loc[moment, f"{span}_{word}"]) for word in range(calendar.words))
                for _, row in bits.iterrows()
            ]
            assert got == expected, (moment, span)
            hits += sum(got)
    assert hits > 0
