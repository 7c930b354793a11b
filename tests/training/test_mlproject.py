"""`mlflow run . -e features`, `-e train`, `-e promote` and `-e score` reproduce the pipeline from the MLproject file."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_mlflow_run_trains_and_promotes(tmp_path, make_table, table_file):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    client = MlflowClient(tracking_uri=uri)
    # Created here so the project run's artifacts land in tmp_path, not in the repository.
    experiment_id = client.create_experiment("smoke", artifact_location=(tmp_path / "mlartifacts").as_uri())
    path = table_file(make_table(300, 6))
    bin_dir = str(Path(sys.executable).parent)
    env = os.environ | {
        "MLFLOW_TRACKING_URI": uri,
        "CHURN_ARTIFACT_LOCATION": str(tmp_path / "mlartifacts"),
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    env.pop("MLFLOW_RUN_ID", None)
    mlflow_cli = [str(Path(bin_dir) / "mlflow"), "run", str(ROOT), "--env-manager", "local", "--experiment-id", experiment_id]

    trained = subprocess.run(
        mlflow_cli + ["-e", "train", "-P", f"features={path}", "-P", "cv_folds=2"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "registered churn-model version 1 as @challenger" in trained.stdout

    promoted = subprocess.run(mlflow_cli + ["-e", "promote"], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert promoted.returncode == 0, promoted.stderr[-3000:]
    assert str(client.get_model_version_by_alias("churn-model", "champion").version) == "1"

    # The project run itself carries the model; the baseline run sits beside it in the same experiment.
    model_runs = client.search_runs([experiment_id], filter_string="tags.role = 'model'")
    baseline_runs = client.search_runs([experiment_id], filter_string="tags.role = 'baseline'")
    assert len(model_runs) == 1 and len(baseline_runs) == 1
    assert model_runs[0].data.tags.get("mlflow.project.entryPoint") == "train"

    out = tmp_path / "scores.parquet"
    scored = subprocess.run(
        mlflow_cli + ["-e", "score", "-P", f"features={path}", "-P", f"out={out}"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert scored.returncode == 0, scored.stderr[-3000:]
    scores = pd.read_parquet(out)
    assert len(scores) == len(pd.read_parquet(path)) and scores["model_version"].astype(str).eq("1").all()
    assert scores["churn_probability"].between(0, 1).all()


@pytest.mark.slow
def test_mlflow_run_builds_features_with_a_company_mapping(tmp_path):
    """The features entry point passes its parameters on: a company's own name for logins is counted as logins."""
    from features.synthetic import generate

    data = tmp_path / "data"
    generate(data, n_accounts=30, months=4, seed=1)
    events = pd.read_parquet(data / "events.parquet")
    events["event_type"] = events["event_type"].replace({"login": "Signed In"})
    events.to_parquet(data / "events.parquet", index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[event_types]\nlogin = ["Signed In"]\n')
    out = tmp_path / "features.parquet"
    bin_dir = str(Path(sys.executable).parent)
    path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    env = os.environ | {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db", "PATH": path}
    env.pop("MLFLOW_RUN_ID", None)
    run = [str(Path(bin_dir) / "mlflow"), "run", str(ROOT), "--env-manager", "local", "-e", "features"]
    params = {"data": data, "out": out, "mapping": mapping, "freq": "weekly", "horizon_days": 14}
    built = subprocess.run(
        run + [arg for name, value in params.items() for arg in ("-P", f"{name}={value}")],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    table = pd.read_parquet(out)
    assert table["as_of"].dt.day_of_week.eq(0).all() and table["as_of"].nunique() > 8  # weekly: Mondays
    assert table["usage__logins__30d"].sum() > 0
