"""The exploratory views on hand-made tables whose churn rates, MRR movements and retention are worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from matplotlib.figure import Figure

from features import analysis, analysis_plots
from features.errors import ChurnInputError

# March 2025: A01-A08 pay at the start of the month, A09 signs up, A01 and A02 leave,
# A03 lapses five days and renews, A04 expands 100 -> 150, A05 contracts 100 -> 80.
# A10 left in February.
SUBSCRIPTIONS = [
    ("A01", "2025-01-01", "2025-03-10", 100.0),
    ("A02", "2025-01-01", "2025-03-20", 100.0),
    ("A03", "2025-01-01", "2025-03-15", 100.0),
    ("A03", "2025-03-20", None, 100.0),
    ("A04", "2025-01-01", "2025-03-10", 100.0),
    ("A04", "2025-03-10", None, 150.0),
    ("A05", "2025-01-01", "2025-03-05", 100.0),
    ("A05", "2025-03-05", None, 80.0),
    ("A06", "2025-01-01", None, 100.0),
    ("A07", "2025-01-01", None, 100.0),
    ("A08", "2025-01-01", None, 100.0),
    ("A09", "2025-03-12", None, 50.0),
    ("A10", "2025-01-01", "2025-02-10", 100.0),
]


@pytest.fixture
def subscriptions() -> pd.DataFrame:
    return pd.DataFrame(SUBSCRIPTIONS, columns=["account_id", "start_date", "end_date", "mrr"])


@pytest.fixture
def accounts() -> pd.DataFrame:
    ids = [f"A{i:02d}" for i in range(1, 11)]
    created = ["2025-01-01"] * 8 + ["2025-03-12 15:30", "2025-01-01"]
    return pd.DataFrame({"account_id": ids, "created_at": created, "plan": ["starter", "growth"] * 5})


@pytest.fixture
def feature_table() -> pd.DataFrame:
    """Two churned and three stayed rows, plus one unlabelled row that must be ignored."""
    return pd.DataFrame(
        {
            "account_id": ["A01", "A02", "A03", "A04", "A05", "A06"],
            "as_of": pd.to_datetime(["2025-03-01"] * 6),
            "churned": [1, 1, 0, 0, 0, None],
            "usage__logins__30d": [1.0, 3.0, 10.0, 12.0, 14.0, 500.0],
            "support__tickets_opened__90d": [4, 2, 1, 1, 1, 0],
            "account__tenure_days": [20, 400, 45, 500, 700, 10],
            "account__plan": ["starter", "starter", "growth", "starter", "growth", "growth"],
        }
    )


def month(table: pd.DataFrame, first_day: str) -> pd.Series:
    return table.set_index("month").loc[pd.Timestamp(first_day)]


def test_monthly_churn_counts_lost_over_existing_plus_new(subscriptions):
    table = analysis.monthly_churn(subscriptions, start="2025-01-01", end="2025-04-30")
    assert list(table["month"].dt.strftime("%Y-%m")) == ["2025-01", "2025-02", "2025-03", "2025-04"]
    march = month(table, "2025-03-01")
    assert (march["existing"], march["new"], march["lost"]) == (8, 1, 2)
    assert march["churn_rate"] == pytest.approx(2 / (8 + 1))
    february = month(table, "2025-02-01")
    assert (february["existing"], february["new"], february["lost"]) == (9, 0, 1)
    assert february["churn_rate"] == pytest.approx(1 / 9)


def test_monthly_churn_without_mrr_counts_accounts_alone(subscriptions):
    """An export without MRR (a flat customer table without it) still has logo churn; a subscription with no MRR
    is still a customer."""
    priced = analysis.monthly_churn(subscriptions, start="2025-01-01", end="2025-04-30")
    for unpriced in (subscriptions.drop(columns="mrr"), subscriptions.assign(mrr=float("nan"))):
        table = analysis.monthly_churn(unpriced, start="2025-01-01", end="2025-04-30")
        accounts = ["month", "existing", "new", "lost", "churn_rate"]
        pd.testing.assert_frame_equal(table[accounts], priced[accounts])
        assert table[[c for c in table.columns if "mrr" in c]].isna().all().all()
    free = subscriptions.assign(mrr=subscriptions["mrr"].where(subscriptions["account_id"] != "A06"))
    march = month(analysis.monthly_churn(free, start="2025-03-01", end="2025-03-31"), "2025-03-01")
    assert (march["existing"], march["mrr_start"]) == (8, 700)


def test_monthly_churn_splits_mrr_movements(subscriptions):
    march = month(analysis.monthly_churn(subscriptions, start="2025-03-01", end="2025-03-31"), "2025-03-01")
    assert march["mrr_start"] == 800
    assert (march["churned_mrr"], march["contraction_mrr"], march["expansion_mrr"], march["new_mrr"]) == (200, 20, 50, 50)
    assert march["gross_mrr_churn"] == pytest.approx((200 + 20) / 800)
    assert march["net_mrr_churn"] == pytest.approx((200 + 20 - 50) / 800)
    assert march["mrr_end"] == 680


def test_mrr_bridge_and_account_flow_close_every_month(subscriptions):
    table = analysis.monthly_churn(subscriptions, start="2024-12-01", end="2025-06-30")
    bridge = table["mrr_start"] + table["new_mrr"] + table["expansion_mrr"] - table["contraction_mrr"] - table["churned_mrr"]
    assert bridge.tolist() == pytest.approx(table["mrr_end"].tolist())
    assert table["mrr_start"].iloc[1:].tolist() == table["mrr_end"].iloc[:-1].tolist()
    closing = table["existing"] + table["new"] - table["lost"]
    assert table["existing"].iloc[1:].tolist() == closing.iloc[:-1].tolist()


def test_a_lapse_longer_than_the_grace_period_is_a_loss_and_a_return(subscriptions):
    march = month(analysis.monthly_churn(subscriptions, grace_days=3, start="2025-03-01", end="2025-03-31"), "2025-03-01")
    assert (march["existing"], march["new"], march["lost"]) == (8, 2, 3)
    assert march["churn_rate"] == pytest.approx(3 / 10)


def test_churn_events_are_the_ends_of_unrenewed_spells(subscriptions):
    events = analysis.churn_events(subscriptions)
    assert events.sort_values("account_id").values.tolist() == [
        ["A01", pd.Timestamp("2025-03-10")],
        ["A02", pd.Timestamp("2025-03-20")],
        ["A10", pd.Timestamp("2025-02-10")],
    ]
    assert len(analysis.churn_events(subscriptions, grace_days=3)) == 4


def test_row_order_and_inputs_do_not_matter(subscriptions):
    before = subscriptions.copy()
    expected = analysis.monthly_churn(subscriptions, start="2025-01-01", end="2025-04-30")
    shuffled = subscriptions.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(analysis.monthly_churn(shuffled, start="2025-01-01", end="2025-04-30"), expected)
    pd.testing.assert_frame_equal(subscriptions, before)


def test_retention_by_cohort(accounts, subscriptions):
    curves = analysis.retention_curves(accounts, subscriptions, until="2025-06-30")
    january = curves[curves["group"] == "2025-01"].set_index("months")
    # Nine January sign-ups: A10 gone by 1 March, A01 and A02 by 1 April.
    assert january["retention"].tolist() == pytest.approx([1, 1, 8 / 9, 6 / 9, 6 / 9, 6 / 9])
    assert (january["accounts"] == 9).all()
    march = curves[curves["group"] == "2025-03"]
    assert march["months"].tolist() == [0, 1, 2, 3]  # 12 July is not observed yet
    assert (march["retention"] == 1).all()
    later_that_day = subscriptions.assign(
        start_date=subscriptions["start_date"].replace("2025-03-12", "2025-03-12 16:00"))
    curves = analysis.retention_curves(accounts, later_that_day, until="2025-06-30")
    assert (curves.loc[curves["group"] == "2025-03", "retention"] == 1).all()  # paying from its first day


def test_retention_by_plan_and_cohort_filters(accounts, subscriptions):
    curves = analysis.retention_curves(accounts, subscriptions, by="plan", until="2025-06-30")
    growth = curves[curves["group"] == "growth"].set_index("months")["retention"]
    # growth holds A02, A04, A06, A08, A10: A10 leaves in February, A02 in March.
    assert growth.loc[[0, 2, 3]].tolist() == pytest.approx([1, 4 / 5, 3 / 5])
    recent = analysis.retention_curves(accounts, subscriptions, since="2025-02-01", until="2025-06-30")
    assert set(recent["group"]) == {"2025-03"}
    sparse = analysis.retention_curves(accounts, subscriptions, until="2025-06-30", min_accounts=2)
    assert set(sparse["group"]) == {"2025-01"}


def test_retention_by_unknown_column_names_it(accounts, subscriptions):
    with pytest.raises(ChurnInputError, match="accounts.region"):
        analysis.retention_curves(accounts, subscriptions, by="region")


def test_missing_subscription_column_is_named(subscriptions):
    with pytest.raises(ChurnInputError, match="subscriptions.end_date"):
        analysis.monthly_churn(subscriptions.drop(columns="end_date"))


def test_signal_family_comparison(feature_table):
    comparison = analysis.signal_family_comparison(feature_table).set_index("feature")
    assert set(comparison.index) == {"usage__logins__30d", "support__tickets_opened__90d", "account__tenure_days"}
    logins = comparison.loc["usage__logins__30d"]
    assert (logins["churned_mean"], logins["stayed_mean"], logins["stayed_median"]) == (2, 12, 12)
    # Variances 2 and 4: pooled SD sqrt(3).
    assert logins["std_diff"] == pytest.approx(-10 / math.sqrt(3))
    assert (logins["churned_rows"], logins["stayed_rows"]) == (2, 3)
    assert (logins["family"], logins["signal"], logins["window"]) == ("usage", "logins", "30d")
    assert pd.isna(comparison.loc["account__tenure_days", "window"])
    summary = analysis.family_summary(comparison.reset_index())
    assert summary.iloc[0]["family"] == "usage"


def test_comparison_needs_the_label(feature_table):
    with pytest.raises(ChurnInputError, match="churned"):
        analysis.signal_family_comparison(feature_table.drop(columns="churned"))


def test_churn_rate_by_category_and_tenure(feature_table):
    by_plan = analysis.churn_rate_by(feature_table, "account__plan").set_index("account__plan")
    assert by_plan.loc["starter", "churn_rate"] == pytest.approx(2 / 3)
    assert by_plan.loc["growth", "rows"] == 2  # the unlabelled growth row is left out
    by_tenure = analysis.churn_by_tenure(feature_table, edges=(0, 90, 365)).set_index("tenure")
    assert by_tenure["rows"].tolist() == [2, 0, 3]
    assert by_tenure.loc["0-90d", "churn_rate"] == pytest.approx(0.5)


def test_first_90_days_takes_the_first_snapshot_and_the_later_outcome():
    rows = pd.DataFrame(
        {
            "account_id": ["N1", "N1", "N1", "N2", "N2", "N3", "OLD", "OLD"],
            "as_of": pd.to_datetime(
                ["2025-01-01", "2025-02-01", "2025-03-01", "2025-02-01", "2025-05-01", "2025-04-01", "2025-03-01", "2025-04-01"]
            ),
            "account__tenure_days": [10, 41, 69, 5, 94, 30, 95, 126],
            "usage__logins__30d": [5.0, 6.0, 7.0, 1.0, 0.0, 9.0, 3.0, 3.0],
            "churned": [0, 0, 0, 0, 1, None, 0, 0],
        }
    )
    early = analysis.first_90_days(rows.sample(frac=1.0, random_state=1)).set_index("account_id")
    assert set(early.index) == {"N1", "N2", "N3"}
    assert early["usage__logins__30d"].to_dict() == {"N1": 5.0, "N2": 1.0, "N3": 9.0}
    assert early.loc["N1", "churned_later"] == 0 and early.loc["N2", "churned_later"] == 1
    assert early.loc["N1", "followup_days"] == 59
    assert pd.isna(early.loc["N3", "churned_later"])
    strict = analysis.first_90_days(rows, min_followup_days=60).set_index("account_id")
    assert pd.isna(strict.loc["N1", "churned_later"]) and strict.loc["N2", "churned_later"] == 1


def test_load_tables_reads_csv_and_parquet(tmp_path, accounts, subscriptions):
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    subscriptions.to_parquet(tmp_path / "subscriptions.parquet")
    times = ["2025-01-03 10:00", "2025-01-04T01:30:00+02:00", "2025-06-01T09:00:00-04:00"]  # offsets: UTC instants
    pd.DataFrame({"account_id": "A01", "user_id": "u", "timestamp": times, "event_type": "login"}).to_csv(
        tmp_path / "events.csv", index=False
    )
    tables = analysis.load_tables(tmp_path)
    assert set(tables) == {"accounts", "subscriptions", "events"}
    assert pd.api.types.is_datetime64_any_dtype(tables["accounts"]["created_at"])
    assert tables["events"]["timestamp"].tolist() == [
        pd.Timestamp("2025-01-03 10:00"), pd.Timestamp("2025-01-03 23:30"), pd.Timestamp("2025-06-01 13:00")
    ]
    assert analysis.observed_period(tables) == (pd.Timestamp("2025-01-03"), pd.Timestamp("2025-06-01"))
    surveys = pd.DataFrame({"account_id": "A01", "user_id": "u", "responded_at": [1735689600123, 2025], "nps": 9})  # ms; a year
    surveys.to_parquet(tmp_path / "surveys.parquet")
    assert analysis.load_tables(tmp_path)["surveys"]["responded_at"].tolist()[0] == pd.Timestamp("2025-01-01")
    assert pd.isna(analysis.load_tables(tmp_path)["surveys"]["responded_at"].tolist()[1])
    (tmp_path / "events.csv").unlink()
    with pytest.raises(ChurnInputError, match="events"):
        analysis.load_tables(tmp_path)


def test_plots_return_figures(accounts, subscriptions, feature_table):
    monthly = analysis.monthly_churn(subscriptions, start="2025-01-01", end="2025-04-30")
    curves = analysis.retention_curves(accounts, subscriptions, until="2025-06-30")
    comparison = analysis.signal_family_comparison(feature_table)
    figures = [
        analysis_plots.plot_monthly_churn(monthly),
        analysis_plots.plot_retention(curves),
        analysis_plots.plot_family_comparison(comparison),
        analysis_plots.plot_signal_distributions(feature_table, ["usage__logins__30d", "account__tenure_days"]),
        analysis_plots.plot_churn_by_tenure(analysis.churn_by_tenure(feature_table)),
    ]
    assert all(isinstance(figure, Figure) for figure in figures)
    assert len(figures[0].axes) == 2
    unpriced = analysis.monthly_churn(subscriptions.drop(columns="mrr"), start="2025-01-01", end="2025-04-30")
    assert len(analysis_plots.plot_monthly_churn(unpriced).axes) == 1  # no MRR to draw: logo churn alone
