"""Per-leaf Saabas tables: the raw score is reproduced exactly, and the drivers mostly agree with TreeSHAP."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from serving import scoring
from serving.scoring import score_matrix, top_positive
from serving.synthetic import feature_columns, fit_synthetic_model, synthetic_features
from serving.trees import attributions, compile_trees, leaf_rows, margins


def _raw_and_tables(booster: lgb.Booster, matrix: np.ndarray):
    tables = compile_trees(booster)
    rows = leaf_rows(tables, booster.predict(matrix, pred_leaf=True))
    return booster.predict(matrix, raw_score=True), tables, rows


@pytest.fixture(scope="module")
def churn_model():
    frame = synthetic_features(2000, 6, seed=11)
    return fit_synthetic_model(frame, n_trees=40, num_leaves=15), frame


def _awkward_rows(model, frame, n=400, seed=0) -> np.ndarray:
    """Training-like rows plus NaNs, unknown categories, values exactly on split thresholds and extremes."""
    rng = np.random.default_rng(seed)
    matrix = model.encode(frame[feature_columns(frame)].sample(n, random_state=seed))
    plan = model.feature_names_.index("account__plan")
    matrix[rng.random(matrix.shape) < 0.15] = np.nan
    matrix[rng.random(n) < 0.1, plan] = np.nan
    thresholds = [
        (node["split_feature"], node["threshold"])
        for tree in model.booster_.dump_model()["tree_info"]
        for node in _internal_nodes(tree["tree_structure"])
        if node["decision_type"] == "<="
    ]
    for i in range(0, n, 3):
        feature, threshold = thresholds[rng.integers(len(thresholds))]
        matrix[i, feature] = threshold
    matrix[1::7, 0] = 1e300
    matrix[2::7, 0] = -1e300
    matrix[3::7, 1] = 0.0
    return matrix


def _internal_nodes(node):
    if "leaf_index" in node:
        return
    yield node
    yield from _internal_nodes(node["left_child"])
    yield from _internal_nodes(node["right_child"])


def test_leaf_values_and_attributions_reproduce_the_raw_score(churn_model):
    model, frame = churn_model
    matrix = _awkward_rows(model, frame)
    raw, tables, rows = _raw_and_tables(model.booster_, matrix)

    np.testing.assert_allclose(margins(tables, rows), raw, rtol=0, atol=1e-9)
    np.testing.assert_allclose(tables.bias + attributions(tables, rows).sum(axis=1), raw, rtol=0, atol=1e-9)


def test_small_and_large_batches_give_the_same_attributions(churn_model):
    model, frame = churn_model
    _, tables, rows = _raw_and_tables(model.booster_, _awkward_rows(model, frame, n=100))
    one_by_one = np.vstack([attributions(tables, rows[i : i + 1]) for i in range(len(rows))])
    np.testing.assert_allclose(attributions(tables, rows), one_by_one, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        {"zero_as_missing": True},
        {"use_missing": False},
        {"max_cat_to_onehot": 8},
        {"num_leaves": 2, "min_data_in_leaf": 500},
    ],
    ids=["zero-as-missing", "missing-none", "one-hot-categorical", "stumps"],
)
def test_every_missing_value_rule_and_categorical_split_is_reproduced(params):
    rng = np.random.default_rng(5)
    n = 3000
    matrix = rng.normal(size=(n, 5))
    matrix[:, 4] = rng.integers(0, 6, size=n)
    matrix[rng.random((n, 5)) < 0.1] = np.nan
    matrix[rng.random((n, 5)) < 0.1] = 0.0
    label = (np.nan_to_num(matrix[:, 0]) + (matrix[:, 4] == 2) + rng.normal(0, 0.5, n) > 0.5).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbosity": -1, "min_data_in_leaf": 20, "num_leaves": 8, **params},
        lgb.Dataset(matrix, label, categorical_feature=[4]),
        num_boost_round=30,
    )
    probe = matrix.copy()
    probe[::5, 4] = 17.0  # a category never seen in training
    probe[1::5, 4] = -1.0
    probe[2::5, 4] = 2.7  # LightGBM truncates to category 2
    raw, tables, rows = _raw_and_tables(booster, probe)
    np.testing.assert_allclose(tables.bias + attributions(tables, rows).sum(axis=1), raw, rtol=0, atol=1e-9)


def test_scores_match_the_models_own_probabilities(churn_model):
    model, frame = churn_model
    matrix = _awkward_rows(model, frame, seed=1)
    scores = score_matrix(model, compile_trees(model.booster_), matrix, top_drivers=5)
    np.testing.assert_allclose(scores.probability, model.predict_proba(matrix)[:, 1], rtol=0, atol=1e-9)
    assert list(scores.tier) == list(model.risk_tier(model.predict_proba(matrix)[:, 1]))


def test_a_batch_split_across_threads_scores_exactly_as_its_rows_do_one_part_at_a_time(churn_model):
    model, frame = churn_model
    matrix = np.vstack([_awkward_rows(model, frame, n=1500, seed=seed) for seed in (2, 3)])
    tables = compile_trees(model.booster_)
    assert len(matrix) >= scoring._SPLIT_ROWS and model.n_jobs > 1  # so the whole batch is split
    whole = score_matrix(model, tables, matrix, top_drivers=4)
    parts = [score_matrix(model, tables, matrix[i : i + 200], top_drivers=4) for i in range(0, len(matrix), 200)]
    np.testing.assert_allclose(whole.probability, np.concatenate([p.probability for p in parts]), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(whole.driver_columns, np.vstack([p.driver_columns for p in parts]))
    np.testing.assert_allclose(whole.driver_contributions, np.vstack([p.driver_contributions for p in parts]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(whole.probability, model.predict_proba(matrix)[:, 1], rtol=0, atol=1e-9)


def test_top_positive_orders_pads_and_never_reports_a_negative_push():
    contributions = np.array([[0.1, -0.5, 0.7, 0.0, 0.3], [-0.1, -0.2, -0.3, -0.4, -0.5]])
    columns, values = top_positive(contributions, 3)
    assert columns.tolist() == [[2, 4, 0], [-1, -1, -1]]
    np.testing.assert_allclose(values, [[0.7, 0.3, 0.1], [0, 0, 0]])


def test_saabas_drivers_mostly_agree_with_exact_shap(churn_model):
    model, frame = churn_model
    matrix = model.encode(frame[feature_columns(frame)].sample(300, random_state=2))
    _, tables, rows = _raw_and_tables(model.booster_, matrix)
    saabas, _ = top_positive(attributions(tables, rows), 3)
    exact, _ = top_positive(model.contributions(matrix)[:, :-1], 3)
    has_driver = exact[:, 0] >= 0
    top1 = np.mean(saabas[has_driver, 0] == exact[has_driver, 0])
    overlap = np.mean([len(set(s[s >= 0]) & set(e[e >= 0])) / max(1, (e >= 0).sum()) for s, e in zip(saabas, exact)])
    assert top1 >= 0.7
    assert overlap >= 0.7
