"""End to end through MLflow: bad input registers nothing; a good run becomes challenger, then champion."""

import dataclasses
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from churn.cli import app
from features.errors import ChurnInputError
from training.experiment import TrainingOptions
from training.pipeline import train
from training.registry import promote

MODEL = "churn-model"


def registered_versions() -> list:
    return MlflowClient().search_model_versions(f"name='{MODEL}'")


def aliases() -> dict[str, str]:
    try:
        return {alias: str(version) for alias, version in MlflowClient().get_registered_model(MODEL).aliases.items()}
    except mlflow.exceptions.MlflowException:
        return {}


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory):
    """One store for every bad-input case: each must leave it as empty as it found it."""
    folder = tmp_path_factory.mktemp("bad-input")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    assert registered_versions() == []
    yield str(folder / "mlartifacts")
    mlflow.set_tracking_uri(previous)


def _too_few_positives(frame: pd.DataFrame) -> pd.DataFrame:
    churners = frame.index[frame["churned"] == 1]
    return frame.assign(churned=frame["churned"].where(~frame.index.isin(churners[10:]), 0))


def _only_constant_features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["account_id", "as_of", "churned"]].assign(plan="pro", seats=5)


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda f: f.iloc[0:0], "the table is empty"),
        (lambda f: f.assign(churned=0), "label holds a single class"),
        (_too_few_positives, "too few churned rows"),
        (lambda f: f.drop(columns=["churned"]), "features.churned: label column not found"),
        (_only_constant_features, "no usable feature columns"),
        (lambda f: pd.concat([f, f.iloc[[5]]]), "features.account_id: 2 rows share an id within one as_of"),
    ],
    ids=["empty", "single-class", "few-positives", "no-label", "constant-features", "duplicate-id"],
)
def test_bad_input_is_a_clear_error_and_registers_nothing(empty_store, make_table, table_file, fast_options, corrupt, message):
    path = table_file(corrupt(make_table(200, 5)))
    with pytest.raises(ChurnInputError, match=message):
        train(path, fast_options, artifact_location=empty_store)
    assert registered_versions() == []
    assert mlflow.search_runs(search_all_experiments=True).empty


def test_cli_train_on_a_bad_file_exits_non_zero_with_the_message(tracking, make_table, table_file):
    path = table_file(make_table(100, 4).assign(churned="maybe"), "bad.csv")
    result = CliRunner().invoke(app, ["train", "--features", str(path)])
    assert result.exit_code == 2
    assert "error: features.churned: cannot tell which of 'maybe' means churned" in result.output
    assert registered_versions() == []


def test_train_registers_a_challenger_that_promote_makes_champion_and_that_scores_anywhere(
    tracking, make_table, table_file
):
    frame = make_table(300, 6)
    path = table_file(frame)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--features", str(path), "--cv-folds", "2", "--experiment", "e2e"])
    assert trained.exit_code == 0, trained.output
    assert f"registered {MODEL} version 1 as @challenger" in trained.output
    assert "mlflow ui --backend-store-uri" in trained.output
    assert aliases() == {"challenger": "1"}

    promoted = runner.invoke(app, ["promote"])
    assert promoted.exit_code == 0, promoted.output
    assert "the first model becomes champion" in promoted.output
    assert aliases() == {"challenger": "1", "champion": "1"}

    run = mlflow.get_run(registered_versions()[0].run_id)
    assert {"git_commit", "data_fingerprint", "training_group", "split_kind"} <= set(run.data.tags)
    assert run.data.metrics["val_roc_auc"] > 0.7 and "cv_roc_auc_std" in run.data.metrics
    assert [i.dataset.name for i in run.inputs.dataset_inputs]
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "plots")}
    assert {f"plots/{n}.png" for n in ("roc", "pr", "calibration", "lift", "feature_importance", "shap_summary")} <= artifacts
    baseline = mlflow.search_runs(experiment_names=["e2e"], filter_string="tags.role = 'baseline'")
    assert len(baseline) == 1 and baseline["tags.training_group"][0] == run.data.tags["training_group"]

    unlabelled = frame[frame["churned"].isna()]
    scores = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion").predict(unlabelled.drop(columns=["churned"]))
    assert len(scores) == len(unlabelled)
    assert scores["churn_probability"].between(0, 1).all()
    assert set(scores["risk_tier"]) <= {"low", "medium", "high"}


def test_a_worse_challenger_does_not_take_champion_unless_forced(tracking, make_table, table_file, fast_options):
    path = table_file(make_table(300, 6))
    good = train(path, fast_options, artifact_location=tracking["artifacts"])
    assert good.registered_version == "1"
    assert promote(MODEL).promoted

    # Labels shuffled, judged against a bar no shuffled run can reach: it fails and changes nothing.
    shuffled = make_table(300, 6)
    shuffled["churned"] = shuffled["churned"].sample(frac=1.0, random_state=1).to_numpy()
    strict = dataclasses.replace(fast_options, min_auc=0.9)
    failed = train(table_file(shuffled, "shuffled.parquet"), strict, artifact_location=tracking["artifacts"])
    assert failed.registered_version is None and failed.quality_failures
    assert aliases() == {"challenger": "1", "champion": "1"}

    # Without its two strongest features the model is weaker; the bar is relaxed so it registers.
    weaker_options = TrainingOptions(
        cv_folds=0, exclude=("usage__sessions_trend__30d", "usage__logins__30d"), min_auc=0.0,
        max_auc_below_baseline=1.0, model_params=fast_options.model_params,
    )
    weaker = train(path, weaker_options, artifact_location=tracking["artifacts"])
    assert weaker.registered_version == "2"
    assert aliases() == {"challenger": "2", "champion": "1"}

    refused = promote(MODEL)
    assert not refused.promoted
    assert refused.challenger_metrics["roc_auc"] < refused.champion_metrics["roc_auc"]
    assert "challenger ROC AUC" in refused.describe() and "champion" in refused.describe()
    assert aliases()["champion"] == "1"

    forced = promote(MODEL, force=True)
    assert forced.promoted
    assert aliases() == {"challenger": "2", "champion": "2"}
    assert np.isfinite(forced.champion_metrics["roc_auc"])


def test_a_feature_that_leaks_the_label_keeps_the_model_out_of_the_registry(tracking, make_table, table_file, fast_options):
    """A status column from today's export tells every past row whether it churned; the run says which column."""
    frame = make_table(300, 6)
    frame["account__attr_status"] = np.where(frame["churned"].eq(1).fillna(False), "cancelled", "active")
    leaky = train(table_file(frame), fast_options, artifact_location=tracking["artifacts"])
    assert leaky.registered_version is None and aliases() == {}
    assert any("account__attr_status (AUC 1.000) alone separates churned" in failure for failure in leaky.quality_failures)
    run = mlflow.get_run(leaky.run_id)
    assert run.data.metrics["max_single_feature_auc"] == pytest.approx(1.0)

    excluded = dataclasses.replace(fast_options, exclude=("account__attr_status",))
    clean = train(table_file(frame), excluded, artifact_location=tracking["artifacts"])
    assert clean.registered_version == "1" and mlflow.get_run(clean.run_id).data.metrics["max_single_feature_auc"] < 0.9


def test_a_flat_table_keyed_by_its_own_id_is_scored_in_batch_and_served_by_that_id(tracking, make_table, tmp_path):
    from fastapi.testclient import TestClient

    from churn.settings import Settings
    from serving.app import create_app
    from serving.loaded_model import load_model
    from training.pyfunc import TableKeys

    frame = make_table(400, 1, unlabelled_last=False).drop(columns=["as_of"])
    frame = frame.rename(columns={"account_id": "customerID"}).assign(Churn=np.where(frame["churned"] == 1, "Yes", "No"))
    path = tmp_path / "customers.csv"
    frame.drop(columns=["churned"]).to_csv(path, index=False)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--features", str(path), "--id", "customerID", "--label", "Churn", "--cv-folds", "2"])
    assert trained.exit_code == 0, trained.output
    assert runner.invoke(app, ["promote"]).exit_code == 0
    uri = f"models:/{MODEL}@champion"

    out = tmp_path / "scores.parquet"
    scored = runner.invoke(app, ["score", "--model", uri, "--features", str(path), "--out", str(out), "--chunk-rows", "150"])
    assert scored.exit_code == 0, scored.output
    batch = pd.read_parquet(out)
    assert "as_of" not in batch.columns
    assert batch["account_id"].tolist() == frame["customerID"].tolist()
    expected = mlflow.pyfunc.load_model(uri).predict(pd.read_csv(path))["churn_probability"]
    np.testing.assert_allclose(batch["churn_probability"], expected, rtol=0, atol=1e-12)

    loaded = load_model(uri, tracking_uri=tracking["uri"], features_path=path)
    assert loaded.keys == TableKeys("customerID", None)
    assert loaded.snapshot.account_ids == frame["customerID"].tolist() and loaded.snapshot.as_of is None
    settings = Settings(MLFLOW_TRACKING_URI=tracking["uri"], model_uri=uri, features=path, api_keys=[], admin_key=None)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/model").json()["keys"] == {"id_column": "customerID", "time_column": None}
        one = client.get(f"/v1/accounts/{frame['customerID'][7]}/score").json()["score"]
        assert one["churn_probability"] == pytest.approx(batch["churn_probability"][7], abs=1e-12)

    without_id = tmp_path / "no_id.csv"
    frame.drop(columns=["customerID", "churned"]).to_csv(without_id, index=False)
    refused = runner.invoke(app, ["score", "--model", uri, "--features", str(without_id), "--out", str(tmp_path / "x.parquet")])
    assert refused.exit_code == 2
    assert "no customerID column (the model was trained on a table keyed by it)" in refused.output
    assert not (tmp_path / "x.parquet").exists()
