"""The experiment review: pure views on hand-made frames, and the store readers on a small trained registry."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.errors import ChurnInputError
from training import review
from training.evaluate import classification_metrics
from training.model import ChurnModel

from .conftest import feature_table

MODEL = "review-model"


@pytest.fixture(scope="module")
def fitted_model() -> ChurnModel:
    table = feature_table(200, 3, unlabelled_last=False)
    X = table.drop(columns=["account_id", "as_of", "churned"])
    return ChurnModel(n_estimators=100, early_stopping_rounds=10).fit(X, table["churned"].to_numpy())


@pytest.fixture
def store(review_registry):
    """The shared two-version registry, with the tracking URI pointing at it for the test."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(review_registry["uri"])
    yield review_registry
    mlflow.set_tracking_uri(previous)


def test_metrics_table_reads_validation_metrics_and_links_registered_versions():
    runs = pd.DataFrame({
        "run_id": ["r2", "r1"],
        "tags.mlflow.runName": ["lightgbm", "logistic-regression-baseline"],
        "tags.role": ["model", "baseline"],
        "start_time": pd.to_datetime(["2024-02-01", "2024-01-01"]),
        "params.rows_validation": ["120", "120"],
        "metrics.val_roc_auc": [0.81, 0.7],
        "metrics.val_brier": [0.1, 0.12],
    })
    versions = pd.DataFrame({"version": ["3"], "run_id": ["r2"], "aliases": ["champion"]})
    table = review.metrics_table(runs, versions)
    assert table["run_id"].tolist() == ["r2", "r1"]
    assert table["roc_auc"].tolist() == [0.81, 0.7]
    assert table["validation_rows"].tolist() == [120, 120]
    assert table["pr_auc"].isna().all()  # a metric no run logged is empty, not an error
    assert table["version"].tolist()[0] == "3" and pd.isna(table["version"].tolist()[1])
    assert review.run_label(table.iloc[0]) == "lightgbm r2 v3 @champion"
    assert review.run_label(table.iloc[1]) == "logistic-regression-baseline r1"


def test_top_share_overlap_is_one_for_the_same_ranking_and_zero_for_the_reverse():
    p = np.linspace(0, 1, 50)
    assert review.top_share_overlap(p, p * 3) == pytest.approx(1.0)
    assert review.top_share_overlap(p, -p) == pytest.approx(0.0)
    # A model that ties every row puts each in its top 10% with probability 0.1.
    assert review.top_share_overlap(p, np.zeros(50)) == pytest.approx(0.1)


def test_driver_strength_ranks_by_mean_absolute_shap_and_ignores_the_bias_column():
    contributions = np.array([[0.1, -2.0, 5.0], [0.3, 2.0, 5.0]])
    table = review.driver_strength(contributions, ["a", "b"])
    assert table["feature"].tolist() == ["b", "a"]
    assert table["mean_abs_shap"].tolist() == pytest.approx([2.0, 0.2])
    assert table["mean_shap"].tolist() == pytest.approx([0.0, 0.2])


def test_top_drivers_are_the_largest_positive_contributions_only():
    contributions = np.array([[0.5, -1.0, 2.0, 0.1, 9.0], [-0.1, -0.2, -0.3, -0.4, 9.0]])
    drivers = review.top_drivers(contributions, ["a", "b", "c", "d"], k=3)
    assert drivers[0] == [("c", 2.0), ("a", 0.5), ("d", 0.1)]
    assert drivers[1] == []  # an account nothing pushes up has no drivers, bias or not


def test_latest_snapshot_keeps_the_last_observation_date():
    table = pd.DataFrame({"account_id": ["a", "a", "b"], "as_of": ["2024-01-01", "2024-02-01", "2024-02-01"]})
    assert review.latest_snapshot(table)["account_id"].tolist() == ["a", "b"]
    assert len(review.latest_snapshot(table.drop(columns=["as_of"]))) == 3
    assert len(review.latest_snapshot(table, time_column=None)) == 3  # a model trained on a flat table: one snapshot


def test_riskiest_accounts_are_the_highest_probabilities_with_drivers_that_push_them_up(fitted_model):
    rows = review.latest_snapshot(feature_table(120, 2, seed=5, unlabelled_last=False))
    risky = review.riskiest_accounts(fitted_model, rows, top=10, drivers=2)
    everyone = fitted_model.predict_proba(rows)[:, 1]
    assert len(risky) == 10
    assert risky["churn_probability"].is_monotonic_decreasing
    assert risky["churn_probability"].min() >= np.sort(everyone)[-10]
    assert set(risky["risk_tier"]) <= {"low", "medium", "high"}
    first = risky["driver_1"].iloc[0]
    assert first.split(" = ")[0] in fitted_model.feature_names_ and "(+" in first
    shuffled = review.riskiest_accounts(fitted_model, rows.sample(frac=1.0, random_state=3), top=10, drivers=2)
    pd.testing.assert_frame_equal(shuffled, risky)


def test_riskiest_accounts_of_a_flat_table_are_listed_by_its_own_id(fitted_model):
    rows = feature_table(60, 1, unlabelled_last=False).rename(columns={"account_id": "customerID", "as_of": "snapshot"})
    risky = review.riskiest_accounts(fitted_model, rows, top=5, id_column="customerID", time_column="snapshot")
    assert list(risky.columns[:4]) == ["customerID", "snapshot", "churn_probability", "risk_tier"]
    assert set(risky["customerID"]) <= set(rows["customerID"])


def test_riskiest_accounts_names_a_missing_id_column(fitted_model):
    rows = feature_table(20, 1, unlabelled_last=False).drop(columns=["account_id"])
    with pytest.raises(ChurnInputError, match="features.account_id: id column not found"):
        review.riskiest_accounts(fitted_model, rows)


def test_champion_and_challenger_are_scored_on_the_challenger_runs_validation_rows(store):
    head = review.champion_vs_challenger(MODEL)
    assert list(head.scores) == ["champion v1", "challenger v2"]
    assert len(head.rows) == len(head.y) == int(mlflow.get_run(store["second"].run_id)
                                                  .data.params["rows_validation"])
    # The challenger's figures on its own validation rows are the ones training logged.
    logged = store["second"].evaluation.metrics
    assert head.metrics().loc["challenger v2", "roc_auc"] == pytest.approx(logged["roc_auc"])
    assert head.metrics().loc["champion v1", "roc_auc"] == pytest.approx(
        classification_metrics(head.y, head.scores["champion v1"])["roc_auc"]
    )


def test_runs_side_by_side_load_each_model_run_and_skip_baselines(store):
    runs = review.experiment_runs("review")
    versions = review.registered_versions(MODEL)
    assert versions["aliases"].tolist() == ["champion", "challenger"]
    table = review.metrics_table(runs, versions)
    assert sorted(table["role"]) == ["baseline", "baseline", "model", "model"]
    models = review.run_models(runs, versions)
    assert [label.split(" @")[1] for label in models] == ["challenger", "champion"]  # newest first
    assert review.training_features_path(MODEL) == str(store["features"])


def test_missing_experiment_and_model_are_named(store):
    with pytest.raises(ChurnInputError, match="no experiment named 'nope'"):
        review.experiment_runs("nope")
    with pytest.raises(ChurnInputError, match="registry.nope: no such registered model"):
        review.registered_versions("nope")
    with pytest.raises(ChurnInputError, match="registry.nope: no version has alias @challenger"):
        review.champion_vs_challenger("nope")
