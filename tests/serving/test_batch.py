"""`churn score`: every row scored like the API, in chunks, written only when complete."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from churn.cli import app as cli
from serving.batch import score_file

from .conftest import payload


@pytest.fixture(scope="module")
def scored(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "scores.parquet"
    result = CliRunner().invoke(
        cli,
        ["score", "--features", str(store.features_path), "--out", str(out), "--chunk-rows", "700"],  # the served model
        env={"MLFLOW_TRACKING_URI": store.tracking_uri},
    )
    assert result.exit_code == 0, result.output
    assert "Scored 3,000 rows with churn-model version 1" in result.output
    return pd.read_parquet(out)


def test_every_row_is_scored_with_the_api_fields_and_the_model_version(scored, store):
    assert list(scored.columns) == [
        "account_id",
        "as_of",
        "churn_probability",
        "risk_tier",
        "top_drivers",
        "missing_features",
        "model_name",
        "model_version",
    ]
    assert len(scored) == len(store.frame)
    assert scored["account_id"].tolist() == store.frame["account_id"].tolist()
    assert set(scored["model_name"]) == {"churn-model"} and set(scored["model_version"]) == {"1"}


def test_batch_scores_equal_the_apis_for_the_same_rows(scored, client, store):
    rows = store.frame.iloc[690:720]  # across a chunk boundary
    api = client.post("/v1/scores", json=payload(rows)).json()["scores"]
    batch = scored.iloc[690:720]
    np.testing.assert_allclose(batch["churn_probability"], [s["churn_probability"] for s in api], rtol=0, atol=1e-12)
    assert batch["risk_tier"].tolist() == [s["risk_tier"] for s in api]
    for drivers, score in zip(batch["top_drivers"], api):
        assert [d["feature"] for d in drivers] == [d["feature"] for d in score["top_drivers"]]
        np.testing.assert_allclose([d["contribution"] for d in drivers], [d["contribution"] for d in score["top_drivers"]], atol=1e-12)
        assert [d["value"] for d in drivers] == [None if d["value"] is None else str(d["value"]) for d in score["top_drivers"]]
    assert [list(m) for m in batch["missing_features"]] == [s["missing_features"] for s in api]


def test_a_failure_leaves_no_output_behind(store, tmp_path):
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        cli,
        ["score", "--features", str(store.features_path), "--out", str(out)],
        env={"MLFLOW_TRACKING_URI": store.tracking_uri, "CHURN_MODEL_URI": "models:/churn-model@nobody"},
    )
    assert result.exit_code == 2
    assert "models:/churn-model@nobody" in result.output
    assert "version 1 is @champion; `churn promote` makes the challenger champion" in result.output  # what there is
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_not_parquet_is_refused_before_any_work(store, tmp_path):
    with pytest.raises(ValueError, match="parquet"):
        score_file("models:/churn-model@champion", store.features_path, tmp_path / "out.csv", tracking_uri=store.tracking_uri)


def test_a_csv_feature_table_scores_as_its_parquet_does(store, scored, tmp_path):
    table = tmp_path / "features.csv"
    store.frame.to_csv(table, index=False)
    report = score_file("models:/churn-model@champion", table, tmp_path / "out.parquet", tracking_uri=store.tracking_uri)
    assert report.rows == len(store.frame)
    from_csv = pd.read_parquet(tmp_path / "out.parquet")
    assert from_csv["account_id"].tolist() == scored["account_id"].tolist()
    assert pd.api.types.is_datetime64_any_dtype(from_csv["as_of"])  # dates, not text
    assert from_csv["as_of"].tolist() == pd.to_datetime(scored["as_of"]).tolist()
    np.testing.assert_allclose(from_csv["churn_probability"], scored["churn_probability"], rtol=0, atol=1e-12)


def test_a_feature_table_that_is_neither_parquet_nor_csv_is_refused(store, tmp_path):
    table = tmp_path / "features.json"
    table.write_text("{}")
    with pytest.raises(ValueError, match="parquet or .csv"):
        score_file("models:/churn-model@champion", table, tmp_path / "out.parquet", tracking_uri=store.tracking_uri)
    assert not (tmp_path / "out.parquet").exists()
