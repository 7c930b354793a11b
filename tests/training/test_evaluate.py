"""Metrics against values worked out by hand on tiny arrays."""

import numpy as np
import pandas as pd
import pytest

from training.evaluate import (
    classification_metrics,
    expected_calibration_error,
    find_segment_columns,
    oracle_comparison,
    recall_at_top,
    segment_metrics,
    single_feature_auc,
    summarise_folds,
    tenure_bucket,
    top_share_lift,
)

Y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


def test_top_decile_lift_and_recall_on_a_hand_worked_example():
    # The top 10% is one row (0.9), a churner: half of the 2 churners, at 5x the 20% base rate.
    assert recall_at_top(Y, P, share=0.1) == pytest.approx(0.5)
    assert top_share_lift(Y, P, share=0.1) == pytest.approx(5.0)
    # The top 30% (0.9, 0.8, 0.7) still holds one churner.
    assert recall_at_top(Y, P, share=0.3) == pytest.approx(0.5)
    assert top_share_lift(Y, P, share=0.3) == pytest.approx((1 / 3) / 0.2)


def test_tied_scores_share_the_top_slots_so_row_order_does_not_matter():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    flat = np.full(10, 0.5)
    assert recall_at_top(y, flat, share=0.1) == pytest.approx(0.1)
    assert top_share_lift(y, flat, share=0.1) == pytest.approx(1.0)
    assert recall_at_top(y[::-1], flat, share=0.1) == recall_at_top(y, flat, share=0.1)


def test_expected_calibration_error_on_hand_worked_examples():
    # Ten bins of one row each: the mean absolute gap between p and y.
    assert expected_calibration_error(Y, P) == pytest.approx(np.abs(P - Y).mean())
    # Bins of p = 0.1 and p = 0.5 holding exactly 10% and 50% churners: perfectly calibrated.
    y = np.array([1] + [0] * 9 + [1] * 5 + [0] * 5)
    p = np.array([0.1] * 10 + [0.5] * 10)
    assert expected_calibration_error(y, p) == pytest.approx(0.0)
    # Everyone at 0.2 while half churn: off by 0.3 everywhere.
    assert expected_calibration_error(np.array([1, 0] * 10), np.full(20, 0.2)) == pytest.approx(0.3)


def test_classification_metrics_agree_with_their_definitions():
    metrics = classification_metrics(Y, P)
    assert metrics["roc_auc"] == pytest.approx(14 / 16)  # 14 of the 16 churner/stayer pairs ranked right
    assert metrics["brier"] == pytest.approx(np.mean((P - Y) ** 2))
    assert metrics["log_loss"] == pytest.approx(-np.mean(Y * np.log(P) + (1 - Y) * np.log(1 - P)))
    assert metrics["pr_auc"] == pytest.approx((1 / 1 + 2 / 4) / 2)


def test_segments_are_found_by_name_and_tenure_is_bucketed():
    assert find_segment_columns(["account__plan", "account__tenure_days", "x"]) == {
        "plan": "account__plan",
        "tenure": "account__tenure_days",
    }
    days = pd.Series([0, 89, 90, 400, 800, None])
    assert tenure_bucket(days, "tenure_days").tolist() == ["0-90d", "0-90d", "90-365d", "1-2y", "2y+", "unknown"]
    assert tenure_bucket(pd.Series([2, 13]), "tenure_months").tolist() == ["0-90d", "1-2y"]

    frame = pd.DataFrame({"plan": ["a"] * 5 + ["b"] * 5, "other": 1})
    table = segment_metrics(frame, Y, P)
    assert table["value"].tolist() == ["a", "b"]
    assert table["rows"].tolist() == [5, 5]
    assert segment_metrics(frame[["other"]], Y, P).empty


def test_oracle_auc_matches_rows_on_account_and_month():
    ids = pd.Series(["a", "b", "c", "d"])
    times = pd.Series(pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-01", "2024-03-01"]))
    y = np.array([1, 0, 1, 0])
    truth = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "a"],
            "month": pd.PeriodIndex(["2024-03", "2024-03", "2024-03", "2024-02", "2024-02"], freq="M"),
            "churn_probability": [0.9, 0.1, 0.2, 0.8, 0.0],
        }
    )
    model = np.array([0.7, 0.2, 0.1, 0.3])
    result = oracle_comparison(ids, times, y, model, truth)
    assert result["match_rate"] == pytest.approx(0.75)  # d has no truth for March
    assert result["oracle_auc"] == pytest.approx(1.0)  # a 0.9, c 0.2 both above b 0.1
    assert result["model_auc_matched"] == pytest.approx(0.5)  # a above b, c below b
    assert result["auc_ratio"] == pytest.approx(0.5)


def test_fold_summary_reports_mean_and_spread():
    summary = summarise_folds([{"roc_auc": 0.7}, {"roc_auc": 0.8}, {"roc_auc": 0.9}])
    assert summary["cv_roc_auc_mean"] == pytest.approx(0.8)
    assert summary["cv_roc_auc_std"] == pytest.approx(0.1)


def test_single_feature_auc_scores_each_group_by_its_churn_rate():
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 1, 0])
    plan = pd.Series(["a", "a", "a", "b", "b", "b", "b", None, None, "c"])
    rate = pd.Series(y).groupby(plan.fillna("empty")).transform("mean").to_numpy()  # a 2/3, b 1/4, empty 1/2, c 0
    from sklearn.metrics import roc_auc_score

    got = single_feature_auc(pd.DataFrame({"plan": plan}), y, min_rows=1)["plan"]
    assert got == pytest.approx(roc_auc_score(y, rate))
    # With groups of at least 3 rows, "c" and the two empty rows are pooled into one group (1/3).
    pooled = np.where(plan.isin(["a", "b"]), rate, 1 / 3)
    assert single_feature_auc(pd.DataFrame({"plan": plan}), y, min_rows=3)["plan"] == pytest.approx(roc_auc_score(y, pooled))


def test_single_feature_auc_finds_a_leak_whichever_way_it_points_and_not_chance():
    rng = np.random.default_rng(0)
    y = (rng.random(4000) < 0.1).astype(int)
    X = pd.DataFrame({
        "status": np.where(y == 1, "churned", "active"),  # recorded after the fact
        "end_date_known": np.where(y == 1, rng.normal(size=4000), np.nan),  # filled in only for churners
        "retention_score": -3.0 * y + rng.normal(size=4000),  # a leak pointing down
        "is_cancelled": y.astype("float64"),  # two values, no quantiles to cut
        "days_since_cancellation": np.where(y == 1, rng.integers(1, 400, 4000), 0),  # zero for nine rows in ten
        "logins": rng.poisson(5 - 2 * y),  # a real signal
        "noise": rng.normal(size=4000),
        "crm_id": rng.integers(0, 3000, 4000).astype(str),  # thousands of values, each seen once or twice
    })
    auc = single_feature_auc(X, y)
    leaks = ["status", "end_date_known", "retention_score", "is_cancelled", "days_since_cancellation"]
    assert set(auc.index[:5]) == set(leaks) and (auc[leaks] > 0.97).all()
    assert 0.6 < auc["logins"] < 0.9 and auc["noise"] < 0.6 and auc["crm_id"] < 0.6
