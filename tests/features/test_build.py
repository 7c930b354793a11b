"""The feature table: hand-worked labels and values, point-in-time correctness, and a brute-force cross-check."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from features import contract
from features.build import build_features
from features.mapping import load_mapping
from features.synthetic import generate

NOW = datetime(2026, 6, 1)
T = pd.Timestamp


def _times(values: list) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="ISO8601"))


def contract_tables() -> dict[str, pd.DataFrame]:
    """Five accounts whose stories are written out in the tests below."""
    accounts = pd.DataFrame(
        {
            "account_id": ["stay", "leave", "renew_late", "come_back", "newbie"],
            "created_at": [T("2023-01-01"), T("2023-06-01"), T("2024-01-01"), T("2022-01-01"), T("2025-02-20")],
            "plan": ["pro", "basic", "pro", "basic", "basic"],
            "seats": [10, 5, 8, 3, 2],
            "industry": ["retail", "saas", "saas", "health", "retail"],
        }
    )
    subscriptions = pd.DataFrame(
        {
            "account_id": ["stay", "leave", "renew_late", "renew_late", "come_back", "come_back", "newbie"],
            "start_date": [T("2023-01-01"), T("2023-06-01"), T("2024-01-01"), T("2025-03-20"),
                           T("2022-01-01"), T("2025-04-10"), T("2025-02-20")],
            # leave: ends 2025-03-15 for good; renew_late: lapses 10 days (inside the 14-day grace);
            # come_back: ends 2025-02-10, returns 2025-04-10 (a churn, then a new customer spell).
            "end_date": [pd.NaT, T("2025-03-15"), T("2025-03-10"), pd.NaT, T("2025-02-10"), pd.NaT, pd.NaT],
            "mrr": [500.0, 100.0, 300.0, 320.0, 50.0, 60.0, 40.0],
            "seats": [10, 5, 8, 8, 3, 3, 2],
        }
    )
    logins = [
        ("stay", "u1", "2025-02-25 09:00"), ("stay", "u1", "2025-02-28 23:59"), ("stay", "u2", "2025-02-10 10:00"),
        ("stay", "u3", "2025-01-05 10:00"), ("stay", "u1", "2025-03-01 00:00"),  # on as_of 2025-03-01: not before it
        ("leave", "u4", "2025-01-20 08:00"),
        ("come_back", "u5", "2025-04-20 08:00"),
        ("newbie", "u6", "2025-02-21 08:00"),
    ]
    events = pd.DataFrame(logins, columns=["account_id", "user_id", "timestamp", "event_type"][:3])
    events["timestamp"] = _times(list(events["timestamp"]))
    events["event_type"] = "login"
    extra = pd.DataFrame(
        {
            "account_id": ["stay", "stay", "stay"],
            "user_id": ["u1", "u2", "u2"],
            "timestamp": _times(["2025-02-26 10:00", "2025-02-27 10:00", "2025-02-27 11:00"]),
            "event_type": ["Report_Created", "Quantum Widget Spun", "Quantum Widget Spun"],
        }
    )
    events = pd.concat([events, extra], ignore_index=True)
    # the log must reach back 180 days before the first date for every window to be observed
    start = pd.DataFrame({"account_id": ["stay"], "user_id": ["u0"], "timestamp": [T("2024-06-01")], "event_type": ["login"]})
    end = pd.DataFrame({"account_id": ["stay"], "user_id": ["u1"], "timestamp": [T("2025-12-31")], "event_type": ["login"]})
    events = pd.concat([start, events, end], ignore_index=True)
    # like the events, the tickets and emails reach back far enough (t0, the first email) for their windows to be observed
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t0", "t1", "t2", "t3"],
            "account_id": ["stay", "stay", "stay", "leave"],
            "opened_at": _times(["2024-06-01 10:00", "2025-02-20 10:00", "2025-02-27 10:00", "2025-02-01 10:00"]),
            "first_response_at": _times(["2024-06-01 11:00", "2025-02-20 14:00", "2025-03-02 10:00", "2025-02-01 12:00"]),
            "resolved_at": _times(["2024-06-02 10:00", "2025-02-21 10:00", pd.NaT, "2025-02-03 10:00"]),
            "priority": ["low", "high", "low", "low"],
            "category": ["bug", "billing", "bug", "bug"],
            "csat": [np.nan, 2.0, np.nan, 5.0],
        }
    )
    emails = pd.DataFrame(
        {
            "account_id": ["stay"] * 5,
            "user_id": ["u1"] * 5,
            "sent_at": _times(["2024-06-01", "2025-02-10", "2025-02-12", "2025-02-14", "2025-02-20"]),
            "opened_at": _times([pd.NaT, "2025-02-10 09:00", "2025-03-05 00:00", pd.NaT, "2025-02-21"]),
            "clicked_at": _times([pd.NaT, "2025-02-10 09:05", pd.NaT, pd.NaT, pd.NaT]),
        }
    )
    surveys = pd.DataFrame(
        {
            "account_id": ["stay", "stay", "stay"],
            "user_id": ["u1", "u2", "u1"],
            "responded_at": _times(["2024-12-01", "2025-02-15", "2025-03-10"]),
            "nps": [9, 4, 10],
        }
    )
    return {"accounts": accounts, "subscriptions": subscriptions, "events": events, "tickets": tickets,
            "emails": emails, "surveys": surveys}


DATES = [date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1), date(2025, 12, 1)]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    frame = build_features(contract_tables(), DATES, now=NOW)
    return frame.set_index(["account_id", frame["as_of"].dt.date])


def row(table, account, day):
    return table.loc[(account, day)]


def test_labels_follow_the_hand_worked_stories(table):
    labels = table["churned"].to_dict()
    # leave ends 2025-03-15 and never returns: churned within 30 days of 2025-03-01
    assert labels[("leave", date(2025, 3, 1))] == 1
    # renew_late's 10-day lapse is inside the grace period: a renewal, never churn
    assert labels[("renew_late", date(2025, 3, 1))] == 0
    assert ("renew_late", date(2025, 4, 1)) in labels and labels[("renew_late", date(2025, 4, 1))] == 0
    assert labels[("stay", date(2025, 3, 1))] == 0
    # the last date's horizon plus grace runs past the data's end (2025-12-31): unknown, not 0
    assert pd.isna(labels[("stay", date(2025, 12, 1))])


def test_a_churned_account_is_not_a_customer_until_it_comes_back(table):
    index = set(table.index)
    assert ("leave", date(2025, 4, 1)) not in index
    # come_back ended 2025-02-10 (beyond grace by 2025-03-01), returned 2025-04-10
    assert ("come_back", date(2025, 3, 1)) not in index
    assert ("come_back", date(2025, 4, 1)) not in index
    back = row(table, "come_back", date(2025, 5, 1))
    assert back["account__previous_churns"] == 1
    assert back["account__mrr"] == 60.0
    assert back["churned"] == 0


def test_usage_counts_only_what_happened_before_as_of(table):
    stay = row(table, "stay", date(2025, 3, 1))
    # logins on 02-25 and 02-28 23:59 (7d); plus 02-10 (30d); plus 01-05 (90d); 03-01 00:00 is on as_of: excluded
    assert stay["usage__logins__7d"] == 2
    assert stay["usage__logins__30d"] == 3
    assert stay["usage__logins__90d"] == 4
    assert stay["usage__active_users__7d"] == 2  # u1 and u2 (two widget spins on 02-27)
    assert stay["usage__active_users__30d"] == 2
    assert stay["usage__active_users__90d"] == 3
    assert stay["usage__days_since_last_activity"] == 1
    assert stay["usage__micro_conversions__7d"] == 1  # Report_Created matches report_created: case set aside
    assert stay["usage__seat_utilisation__90d"] == pytest.approx(3 / 10)
    assert stay["usage__active_user_share__90d"] == pytest.approx(3 / 4)  # u0 was last seen in 2024


def test_unfamiliar_event_types_get_generic_features(table):
    stay = row(table, "stay", date(2025, 3, 1))
    assert stay["events__quantum_widget_spun__count__30d"] == 2
    assert stay["events__quantum_widget_spun__per_active_user__30d"] == pytest.approx(1.0)
    assert stay["usage__breadth__30d"] == 2  # report_created and the widget; logins are not product features


def test_a_log_of_many_event_types_gets_generic_columns_for_the_most_frequent_and_breadth_for_all():
    """Page views or auto-captured clicks named by what was seen give thousands of event types."""
    tables = contract_tables()
    many = pd.DataFrame({"account_id": "stay", "user_id": "u1", "event_type": [f"Clicked element #{i}" for i in range(300)]})
    many["timestamp"] = T("2025-02-20 10:00") + pd.to_timedelta(range(300), unit="s")
    frequent = many.iloc[:5].assign(event_type="Frequent")
    tables["events"] = pd.concat([tables["events"], many, frequent], ignore_index=True)
    frame = build_features(tables, [date(2025, 3, 1)], now=NOW, max_event_types=3).set_index("account_id")
    generic = sorted(column for column in frame.columns if column.startswith("events__") and column.endswith("__count__30d"))
    assert generic == ["events__frequent__count__30d", "events__login__count__30d", "events__quantum_widget_spun__count__30d"]
    assert frame.loc["stay", "usage__breadth__30d"] == 303  # every product type, columns or not; logins are not product use
    assert frame.loc["stay", "usage__events__30d"] == 3 + 3 + 300 + 5


def test_the_urls_of_one_page_are_one_event_type_and_a_mapping_names_pages_by_their_template(tmp_path):
    """Web trackers name a page view by its URL: one page is as many event types as records and queries it shows."""
    tables = contract_tables()
    pages = ["/projects/1/board", "/projects/22/board/", "/projects/333/board?tab=2", "Viewed /projects/4/board",
             "/projects/4a1f0c2e-9b7d-4c3e-8f21-5d6e7a8b9c0d/settings", "/help/articles/360012345-Getting-started",
             "/help/articles/88", "https://app.acme.io/#/login?next=%2Fprojects"]
    extra = pd.DataFrame({"account_id": "stay", "user_id": "u1", "event_type": pages})
    extra["timestamp"] = T("2025-02-20 10:00") + pd.to_timedelta(range(len(pages)), unit="min")
    tables["events"] = pd.concat([tables["events"], extra], ignore_index=True)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[event_types]\nkb_view = ["/help/articles/{id}"]\n')
    frame = build_features(tables, [date(2025, 3, 1)], now=NOW, mapping=mapping).set_index("account_id")
    stay = frame.loc["stay"]
    assert stay["events__projects_id_board__count__30d"] == 3
    assert stay["events__viewed_projects_id_board__count__30d"] == 1  # a URL inside a name is read as its page too
    assert stay["events__projects_id_settings__count__30d"] == 1
    assert stay["events__help_articles_id__count__30d"] == 2
    assert stay["support__kb_views_per_active_user__30d"] == pytest.approx(2 / 2)  # u1 and u2 active
    assert stay["usage__logins__30d"] == 3 + 1  # the route of a single-page app: /login, on any host
    # report_created, the widget, and three pages (board, board named in a phrase, settings); help and login are not product use
    assert stay["usage__breadth__30d"] == 2 + 3
    assert not [column for column in frame.columns if "333" in column or "tab" in column]


def test_event_types_named_with_accents_or_in_another_script_keep_columns_of_their_own():
    tables = contract_tables()
    extra = pd.DataFrame(
        {
            "account_id": ["stay"] * 4,
            "user_id": ["u1"] * 4,
            "timestamp": _times(["2025-02-20 10:00", "2025-02-21 10:00", "2025-02-22 10:00", "2025-02-23 10:00"]),
            "event_type": ["Rapport créé", "ページ閲覧", "ページ閲覧", "設定変更"],
        }
    )
    tables["events"] = pd.concat([tables["events"], extra], ignore_index=True)
    frame = build_features(tables, [date(2025, 3, 1)], now=NOW).set_index("account_id")
    assert frame.loc["stay", "events__rapport_cree__count__30d"] == 1
    assert frame.loc["stay", "events__ページ閲覧__count__30d"] == 2
    assert frame.loc["stay", "events__設定変更__count__30d"] == 1
    assert not [column for column in frame.columns if "blank" in column]


def test_an_event_type_named_like_another_types_previous_window_keeps_its_own_counts():
    tables = contract_tables()
    extra = pd.DataFrame(
        {
            "account_id": ["stay"] * 3,
            "user_id": ["u1"] * 3,
            "timestamp": _times(["2025-02-20 10:00", "2025-02-21 10:00", "2025-01-20 10:00"]),
            "event_type": ["Export", "Prev Export", "Prev Export"],
        }
    )
    tables["events"] = pd.concat([tables["events"], extra], ignore_index=True)
    frame = build_features(tables, [date(2025, 3, 1)], now=NOW).set_index("account_id")
    assert frame.loc["stay", "events__export__count__30d"] == 1
    assert frame.loc["stay", "events__export__trend__30d"] == pytest.approx(2.0)  # (1 + 1) / (0 + 1)
    assert frame.loc["stay", "events__prev_export__count__30d"] == 1
    assert frame.loc["stay", "events__prev_export__trend__30d"] == pytest.approx(1.0)  # (1 + 1) / (1 + 1)


def test_events_without_a_user_count_as_events_but_as_nobody_active():
    tables = contract_tables()
    anonymous = pd.DataFrame({"account_id": ["stay"] * 2, "user_id": [None] * 2, "event_type": ["page_view"] * 2,
                              "timestamp": _times(["2025-02-26 10:00", "2025-02-27 10:00"])})
    dates = [date(2025, 3, 1)]
    before = build_features(tables, dates, now=NOW).set_index("account_id").loc["stay"]
    tables["events"] = pd.concat([tables["events"], anonymous], ignore_index=True)
    after = build_features(tables, dates, now=NOW).set_index("account_id").loc["stay"]
    assert after["usage__events__7d"] == before["usage__events__7d"] + 2
    for column in ("usage__active_users__7d", "usage__active_user_share__30d", "usage__seat_utilisation__7d"):
        assert after[column] == before[column], column


def test_support_features_see_responses_and_resolutions_only_once_they_happened(table):
    stay = row(table, "stay", date(2025, 3, 1))
    assert stay["support__tickets_opened__7d"] == 1
    assert stay["support__tickets_opened__30d"] == 2
    assert stay["support__unanswered_tickets"] == 1  # t2 was answered on 03-02, after as_of
    assert stay["support__open_backlog"] == 1
    assert stay["support__median_first_response_hours__30d"] == pytest.approx(4.0)  # t1 only
    assert stay["support__csat_mean__30d"] == 2.0
    assert stay["support__median_resolution_hours__30d"] == pytest.approx(24.0)


def test_windows_before_a_logs_first_row_are_unknown_not_empty():
    """A helpdesk adopted later than the product was, an email tool that keeps a year, an NPS programme begun late."""
    tables = contract_tables()
    tables["tickets"] = tables["tickets"][tables["tickets"]["ticket_id"] != "t0"]  # the log now starts on 2025-02-01
    tables["emails"] = tables["emails"].iloc[1:]  # on 2025-02-10
    tables["surveys"] = tables["surveys"].iloc[1:]  # on 2025-02-15
    stay = build_features(tables, [date(2025, 3, 1)], now=NOW).set_index("account_id").loc["stay"]
    assert stay["support__tickets_opened__7d"] == 1 and stay["support__tickets_opened_trend__7d"] == 1.0  # t2 against t1
    assert pd.isna(stay["support__tickets_opened__30d"]) and pd.isna(stay["support__low_csat_tickets__90d"])
    assert stay["support__open_backlog"] == 1  # not a window: every ticket the log holds
    assert stay["engagement__emails_sent__7d"] == 0
    assert pd.isna(stay["engagement__emails_sent__30d"]) and pd.isna(stay["engagement__email_open_rate__30d"])
    assert pd.isna(stay["engagement__nps_answers__90d"]) and stay["engagement__nps_latest"] == 4


def test_a_response_stamped_before_its_ticket_opened_took_no_time():
    tables = contract_tables()
    tickets = tables["tickets"]
    tickets.loc[tickets["ticket_id"] == "t1", "first_response_at"] = pd.Timestamp("2025-02-20 09:59")  # opened 10:00
    stay = build_features(tables, [date(2025, 3, 1)], now=NOW).set_index("account_id").loc["stay"]
    assert stay["support__median_first_response_hours__30d"] == 0.0


def test_engagement_rates_count_opens_before_as_of(table):
    stay = row(table, "stay", date(2025, 3, 1))
    assert stay["engagement__emails_sent__30d"] == 4
    assert stay["engagement__email_open_rate__30d"] == pytest.approx(2 / 4)  # 03-05 open is after as_of
    assert stay["engagement__email_click_rate__30d"] == pytest.approx(1 / 4)
    assert stay["engagement__nps_latest"] == 4  # the 03-10 answer is in the future
    assert stay["engagement__nps_mean__90d"] == pytest.approx((9 + 4) / 2)
    later = row(table, "stay", date(2025, 4, 1))
    assert later["engagement__nps_latest"] == 10


def test_account_family(table):
    newbie = row(table, "newbie", date(2025, 3, 1))
    assert newbie["account__first_90_days"] == 1
    assert newbie["account__tenure_days"] == 9
    assert newbie["account__plan"] == "basic"
    assert newbie["account__attr_industry"] == "retail"
    renew = row(table, "renew_late", date(2025, 4, 1))
    assert renew["account__mrr"] == 320.0
    assert renew["account__mrr_change__90d"] == pytest.approx(20.0)
    stay = row(table, "stay", date(2025, 3, 1))
    assert 0 < stay["account__days_to_renewal"] <= 366


# --- point in time ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("pit") / "data"
    generate(folder, n_accounts=80, months=8, seed=5)
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in
            ("accounts", "subscriptions", "events", "tickets", "emails", "surveys")}


def _features_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="churned").sort_values(["account_id", "as_of"]).reset_index(drop=True)


def test_rows_dated_on_or_after_as_of_change_no_feature(generated):
    as_of = date(2025, 6, 1)
    cut = T(as_of)
    before = build_features(generated, [as_of], now=NOW)
    rng = np.random.default_rng(0)
    tables = {name: frame.copy() for name, frame in generated.items()}

    events = tables["events"]
    late = events["timestamp"] >= cut
    events.loc[late, "event_type"] = rng.choice(["login", "password_reset", "brand_new"], size=late.sum())
    events.loc[late, "user_id"] = "someone_else"
    burst = events[~late].sample(200, random_state=1).assign(timestamp=cut + pd.Timedelta(hours=3), event_type="login")
    tables["events"] = pd.concat([events, burst], ignore_index=True)

    tickets = tables["tickets"]
    for column in ("first_response_at", "resolved_at"):
        later = tickets[column] >= cut
        tickets.loc[later, column] = tickets.loc[later, column] + pd.Timedelta(days=3)
    tickets.loc[tickets["resolved_at"] >= cut, "csat"] = 1.0
    emails = tables["emails"]
    emails.loc[emails["opened_at"] >= cut, "opened_at"] = pd.NaT
    emails.loc[emails["sent_at"] >= cut, "clicked_at"] = pd.NaT
    surveys = tables["surveys"]
    surveys.loc[surveys["responded_at"] >= cut, "nps"] = 0

    subs = tables["subscriptions"]
    subs[["start_date", "end_date"]] = subs[["start_date", "end_date"]].apply(pd.to_datetime)
    ending_later = subs["end_date"] >= cut
    subs.loc[ending_later, "end_date"] = subs.loc[ending_later, "end_date"] + pd.Timedelta(days=40)
    tables["subscriptions"] = pd.concat(
        [subs, pd.DataFrame({"account_id": [subs["account_id"].iloc[0]], "start_date": [cut], "end_date": [pd.NaT],
                             "mrr": [9999.0], "seats": [99]})],
        ignore_index=True,
    )
    after = build_features(tables, [as_of], now=NOW)
    pd.testing.assert_frame_equal(_features_only(before), _features_only(after))


def test_account_columns_telling_who_had_left_are_no_attributes(generated):
    """An account's status, churn reason or days since it last logged in are its state at the export: at every
    earlier as_of they would tell the model the label. Columns that tell the accounts that had left from the others
    almost perfectly are not carried; the generator's industry and country, which churn merely varies with, are. A
    column the mapping chooses is carried all the same: it is the company's call."""
    subscriptions = generated["subscriptions"]
    left = subscriptions.groupby("account_id")["end_date"].agg(lambda ends: ends.notna().all())
    accounts = generated["accounts"]
    gone = accounts["account_id"].map(left).to_numpy()
    assert 10 <= gone.sum() <= len(gone) - 10  # enough of each to tell
    rng = np.random.default_rng(1)
    told = accounts.assign(
        status=np.where(gone, "Churned", "Active"),
        churn_reason=np.where(gone, rng.choice(["price", "product"], len(gone)), None),
        days_since_login=np.where(gone, rng.integers(60, 300, len(gone)), rng.integers(0, 60, len(gone))),
        cancellation_fee=np.where(gone, 100.0, np.nan),
        noisy_status=np.where(gone ^ (rng.random(len(gone)) < 0.25), "Churned", "Active"),  # a quarter wrong
    )
    table = build_features({**generated, "accounts": told}, [date(2025, 6, 1)], now=NOW)
    carried = {column.removeprefix("account__attr_") for column in table.columns if column.startswith("account__attr_")}
    assert carried == {"industry", "country", "company_size", "noisy_status"}
    chosen = build_features({**generated, "accounts": told}, [date(2025, 6, 1)], now=NOW, mapping=replace(
        load_mapping(), attributes=("industry", "status")))
    assert {"account__attr_industry", "account__attr_status"} <= set(chosen.columns)


def test_the_association_measures_equal_scipys_and_scikit_learns():
    from scipy.stats.contingency import association
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    values = pd.Series(rng.choice(list("abcd"), 500))
    flag = pd.Series(rng.random(500) < np.where(values == "a", 0.6, 0.3))
    scores = pd.Series(rng.integers(0, 20, 500).astype(float))  # ties, counted half
    plain_v = contract._cramers_v(values, flag, bias_corrected=False)
    assert plain_v == pytest.approx(association(pd.crosstab(values, flag).to_numpy()))
    assert contract._cramers_v(values, flag) == pytest.approx(plain_v, abs=0.02)  # four categories: little bias
    assert contract._auc(scores, flag) == pytest.approx(roc_auc_score(flag, scores))
    assert contract._cramers_v(values, pd.Series([True] * 500)) == 0.0  # one side only: nothing to tell
    assert contract._cramers_v(flag, flag) == pytest.approx(1.0)
    cities = pd.Series(rng.integers(0, 300, 500)).astype(str)  # many small categories, unrelated to the flag
    assert contract._cramers_v(cities, flag, bias_corrected=False) > 0.6 > 0.2 > contract._cramers_v(cities, flag)


def test_features_match_a_brute_force_reading_of_the_log(generated):
    dates = [date(2025, 5, 1), date(2025, 7, 1)]
    table = build_features(generated, dates, now=NOW)
    events = generated["events"]
    emails = generated["emails"]
    history_start = events["timestamp"].min()
    product = {"report_created", "dashboard_shared", "invite_sent", "integration_connected", "workflow_published"}
    checked = 0
    for got in table.sample(40, random_state=3).to_dict("records"):
        as_of = got["as_of"]
        mine = events[(events["account_id"] == got["account_id"]) & (events["timestamp"] < as_of)]
        for w in (7, 30, 90):
            if as_of - pd.Timedelta(days=2 * w) < history_start:
                assert pd.isna(got[f"usage__logins_trend__{w}d"])
                continue
            window = mine[mine["timestamp"] >= as_of - pd.Timedelta(days=w)]
            previous = mine[(mine["timestamp"] >= as_of - pd.Timedelta(days=2 * w)) & (mine["timestamp"] < as_of - pd.Timedelta(days=w))]
            logins = int((window["event_type"] == "login").sum())
            assert got[f"usage__logins__{w}d"] == logins
            assert got[f"usage__active_users__{w}d"] == window["user_id"].nunique()
            assert got[f"usage__active_users_trend__{w}d"] == pytest.approx((window["user_id"].nunique() + 1) / (previous["user_id"].nunique() + 1))
            assert got[f"usage__micro_conversions__{w}d"] == int(np.isin(window["event_type"].to_numpy(dtype=object), sorted(product)).sum())
            sent = emails[(emails["account_id"] == got["account_id"]) & (emails["sent_at"] < as_of) & (emails["sent_at"] >= as_of - pd.Timedelta(days=w))]
            opened = (sent["opened_at"] < as_of).sum()
            expected = opened / len(sent) if len(sent) else np.nan
            assert got[f"engagement__email_open_rate__{w}d"] == pytest.approx(expected, nan_ok=True)
        if len(mine):
            assert got["usage__days_since_last_activity"] == (as_of.normalize() - mine["timestamp"].max().normalize()).days
        else:
            assert pd.isna(got["usage__days_since_last_activity"])
        checked += 1
    assert checked == 40
