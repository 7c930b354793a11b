"""New versions arrive without downtime; a version that fails to load never replaces a working one."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from serving.app import create_app
from serving.synthetic import fit_synthetic_model, register_synthetic_model, synthetic_features

from .conftest import payload

NAME = "churn-reload"


@pytest.fixture(scope="module")
def versions(store):
    """A registered model of its own with two versions, so moving its alias leaves the other tests alone."""
    frame = synthetic_features(1500, 8, seed=21)
    first = register_synthetic_model(store.registered.model, frame, tracking_uri=store.tracking_uri, name=NAME)
    second_model = fit_synthetic_model(frame, n_trees=20, num_leaves=7, seed=1)
    second = register_synthetic_model(second_model, frame, tracking_uri=store.tracking_uri, name=NAME, alias=None)
    return first, second


@pytest.fixture()
def registry(store, versions):
    """Each test starts with alias champion on version 1."""
    first, second = versions
    mlflow_client = MlflowClient(store.tracking_uri)
    mlflow_client.set_registered_model_alias(NAME, "champion", first.version)
    return NAME, first, second, mlflow_client


def test_reload_swaps_to_the_version_the_alias_points_to(store, registry, latest):
    name, first, second, mlflow_client = registry
    with TestClient(create_app(store.settings(model_uri=f"models:/{name}@champion"))) as client:
        assert client.get("/v1/model").json()["version"] == first.version
        mlflow_client.set_registered_model_alias(name, "champion", second.version)
        assert client.get("/v1/model").json()["version"] == first.version  # nothing changes until reload

        response = client.post("/v1/admin/reload")
        assert response.status_code == 200
        assert response.json()["previous"]["version"] == first.version
        assert response.json()["current"]["version"] == second.version
        assert client.get("/v1/model").json()["run_id"] == second.run_id
        scored = client.post("/v1/scores", json=payload(latest.head(3))).json()
        assert scored["model"]["version"] == second.version
        assert 'churn_model_version 2.0' in client.get("/metrics").text


def test_a_broken_version_keeps_the_old_one_serving_and_reports_the_error(store, registry, tmp_path, latest):
    name, first, _, mlflow_client = registry
    broken = mlflow_client.create_model_version(name, source=str(tmp_path / "no-model-here"))
    with TestClient(create_app(store.settings(model_uri=f"models:/{name}@champion"))) as client:
        mlflow_client.set_registered_model_alias(name, "champion", broken.version)
        response = client.post("/v1/admin/reload")
        assert response.status_code == 409
        assert f"version {first.version} keeps serving" in response.json()["detail"]
        assert client.get("/v1/model").json()["version"] == first.version
        assert client.post("/v1/scores", json=payload(latest.head(2))).status_code == 200
        ready = client.get("/readyz").json()
        assert ready["ready"] and ready["model_version"] == first.version and ready["last_reload_error"]

        mlflow_client.delete_registered_model_alias(name, "champion")
        assert client.post("/v1/admin/reload").status_code == 409
        assert client.get("/v1/model").json()["version"] == first.version
        assert 'churn_model_reloads_total{outcome="failed"} 2.0' in client.get("/metrics").text


def test_no_request_fails_while_versions_are_swapped(store, registry, latest):
    name, first, second, mlflow_client = registry
    body = payload(latest.head(5))
    with TestClient(create_app(store.settings(model_uri=f"models:/{name}@champion"))) as client:

        def score_many(_: int) -> list[tuple[int, str]]:
            results = []
            for _ in range(40):
                response = client.post("/v1/scores", json=body)
                results.append((response.status_code, response.json()["model"]["version"]))
            return results

        with ThreadPoolExecutor(4) as pool:
            scoring = [pool.submit(score_many, i) for i in range(4)]
            for version in (second.version, first.version, second.version):
                mlflow_client.set_registered_model_alias(name, "champion", version)
                assert client.post("/v1/admin/reload").status_code == 200
            results = [result for future in scoring for result in future.result()]
    assert {status for status, _ in results} == {200}
    assert {version for _, version in results} <= {first.version, second.version}


def test_polling_picks_up_a_moved_alias(store, registry):
    name, first, second, mlflow_client = registry
    with TestClient(create_app(store.settings(model_uri=f"models:/{name}@champion", poll_seconds=0.2))) as client:
        assert client.get("/v1/model").json()["version"] == first.version
        mlflow_client.set_registered_model_alias(name, "champion", second.version)
        deadline = time.monotonic() + 20
        while client.get("/v1/model").json()["version"] != second.version and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/v1/model").json()["version"] == second.version
