"""The logged model scores the rows real tables hold, through ``mlflow.pyfunc.load_model``."""

import logging

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.types import DataType

from features.errors import ChurnInputError
from training.data import load_training_table
from training.fit import fit_churn_model
from training.pyfunc import load_churn_model, log_churn_model
from training.split import split_rows


@pytest.fixture(scope="module")
def logged(tmp_path_factory, make_table):
    """A small model, trained on a table with a nullable integer column, logged to its own store."""
    folder = tmp_path_factory.mktemp("pyfunc")
    frame = make_table(200, 5)
    frame["support__tickets__90d"] = pd.array(np.where(np.arange(len(frame)) % 7 == 0, None, np.arange(len(frame)) % 5), dtype="Int64")
    table = load_training_table(frame)
    split = split_rows(table.y, times=table.rows["as_of"])
    model = fit_churn_model(table.X, table.y, split.train, split.holdout, {"n_estimators": 50})
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{folder}/mlflow.db")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    experiment = mlflow.create_experiment("pyfunc", artifact_location=(folder / "mlartifacts").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        info = log_churn_model(model, input_example=table.X.head(5))
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    yield {"model": model, "rows": table.X.head(20).reset_index(drop=True), "uri": info.model_uri, "info": info, "pyfunc": pyfunc}
    mlflow.set_tracking_uri(previous)


def test_signature_names_every_feature_and_marks_each_optional(logged):
    inputs = logged["info"].signature.inputs
    assert inputs.input_names() == logged["model"].feature_names_
    assert not any(spec.required for spec in inputs.inputs)
    assert {spec.name: spec.type for spec in inputs.inputs}["account__plan"] == DataType.string


def test_loaded_model_scores_like_the_fitted_one(logged):
    scores = logged["pyfunc"].predict(logged["rows"])
    np.testing.assert_allclose(scores["churn_probability"], logged["model"].predict_proba(logged["rows"])[:, 1])
    assert set(scores["risk_tier"]) <= {"low", "medium", "high"}
    assert load_churn_model(logged["uri"]).feature_names_ == logged["model"].feature_names_


def test_missing_values_nullable_integers_json_records_and_absent_columns_all_score(logged):
    pyfunc, rows = logged["pyfunc"], logged["rows"]
    expected = logged["model"].predict_proba(rows)[:, 1]
    variants = {
        "missing count": rows.assign(usage__logins__30d=[np.nan] + [3.0] * 19),
        "nullable count": rows.assign(usage__logins__30d=pd.array([None] + [3] * 19, dtype="Int64")),
        "integers where training saw a nullable column": rows.assign(support__tickets__90d=np.arange(20)),
        "json records": pd.DataFrame(rows.astype(object).where(rows.notna(), None).to_dict("records")),
        "absent column": rows.drop(columns=["noise__value__30d"]),
    }
    for name, frame in variants.items():
        scores = pyfunc.predict(frame)["churn_probability"].to_numpy()
        np.testing.assert_allclose(scores, logged["model"].predict_proba(frame)[:, 1], err_msg=name)
    np.testing.assert_allclose(pyfunc.predict(variants["json records"])["churn_probability"], expected)


def test_a_blank_cell_of_a_number_column_read_as_text_scores_as_missing(logged):
    rows = logged["rows"]
    as_text = rows.astype({"usage__logins__30d": "string"})
    as_text.loc[0, "usage__logins__30d"] = " "
    missing = rows.astype({"usage__logins__30d": "float64"})
    missing.loc[0, "usage__logins__30d"] = np.nan
    model = logged["model"]
    np.testing.assert_allclose(model.predict_proba(as_text)[:, 1], model.predict_proba(missing)[:, 1])


def test_a_value_that_is_not_a_number_is_refused_naming_the_column(logged):
    rows = logged["rows"].astype({"usage__logins__30d": object})
    rows.loc[0, "usage__logins__30d"] = "many"
    with pytest.raises(ChurnInputError, match="features.usage__logins__30d: expected numbers"):
        logged["pyfunc"].predict(rows)
