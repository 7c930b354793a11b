"""Every endpoint of the real app (lifespan included) against a registered model."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.schemas import ScoreResponse
from serving.synthetic import feature_columns

from .conftest import METRICS, payload


def test_scores_are_calibrated_probabilities_with_tiers_and_positive_drivers(client, store, latest):
    rows = latest.head(20)
    response = client.post("/v1/scores", json=payload(rows))
    assert response.status_code == 200
    body = response.json()
    ScoreResponse.model_validate(body)
    assert body["model"] == {"name": "churn-model", "version": "1", "alias": "champion", "run_id": store.registered.run_id}

    model = store.registered.model
    expected = model.predict_proba(rows[feature_columns(rows)])[:, 1]
    np.testing.assert_allclose([s["churn_probability"] for s in body["scores"]], expected, rtol=0, atol=1e-9)
    assert [s["account_id"] for s in body["scores"]] == rows["account_id"].tolist()
    assert [s["risk_tier"] for s in body["scores"]] == model.risk_tier(expected).tolist()
    for score in body["scores"]:
        contributions = [d["contribution"] for d in score["top_drivers"]]
        assert len(contributions) <= 5
        assert all(c > 0 for c in contributions)
        assert contributions == sorted(contributions, reverse=True)
        assert {d["feature"] for d in score["top_drivers"]} <= set(model.feature_names_)


def test_driver_values_are_the_accounts_own(client, latest):
    row = latest.iloc[[0]]
    body = client.post("/v1/scores", json=payload(row)).json()
    sent = payload(row)["accounts"][0]["features"]
    for driver in body["scores"][0]["top_drivers"]:
        assert driver["value"] == sent[driver["feature"]]


def test_missing_features_are_scored_and_listed(client, store):
    response = client.post(
        "/v1/scores",
        json={"accounts": [{"account_id": "a", "features": {"usage__signal_00__30d": 3.0, "account__plan": None}}]},
    )
    assert response.status_code == 200
    score = response.json()["scores"][0]
    assert set(score["missing_features"]) == set(store.registered.model.feature_names_) - {"usage__signal_00__30d"}
    assert 0.0 <= score["churn_probability"] <= 1.0


def test_an_unseen_category_counts_as_missing(client):
    response = client.post("/v1/scores", json={"accounts": [{"account_id": "a", "features": {"account__plan": "platinum"}}]})
    assert response.status_code == 200
    assert "account__plan" in response.json()["scores"][0]["missing_features"]


def test_duplicate_account_ids_are_scored_independently(client, latest):
    body = payload(latest.head(1))
    body["accounts"] = body["accounts"] * 2
    scores = client.post("/v1/scores", json=body).json()["scores"]
    assert len(scores) == 2 and scores[0] == scores[1]


def test_scores_do_not_depend_on_batch_order(client, latest):
    rows = latest.head(30)
    forward = client.post("/v1/scores", json=payload(rows)).json()["scores"]
    backward = client.post("/v1/scores", json=payload(rows.iloc[::-1])).json()["scores"]
    assert forward == backward[::-1]


def test_account_endpoint_serves_the_latest_snapshot_like_a_posted_score(client, latest):
    row = latest.iloc[[7]]
    account_id = row["account_id"].iloc[0]
    response = client.get(f"/v1/accounts/{account_id}/score")
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == str(latest["as_of"].iloc[0])
    posted = client.post("/v1/scores", json=payload(row)).json()["scores"][0]
    assert body["score"]["churn_probability"] == pytest.approx(posted["churn_probability"], abs=1e-12)
    assert [d["feature"] for d in body["score"]["top_drivers"]] == [d["feature"] for d in posted["top_drivers"]]


def test_unknown_account_is_404_naming_it(client):
    response = client.get("/v1/accounts/no-such-account/score")
    assert response.status_code == 404
    assert "no-such-account" in response.json()["detail"]


@pytest.mark.parametrize("account_id", ["org/7/emea", "a b?c#d", "100%", "Zoë & Co."])
def test_account_ids_with_url_characters_are_fetched_percent_encoded(store, tmp_path, account_id):
    frame = store.frame.copy()
    latest_rows = frame.index[frame["as_of"] == frame["as_of"].max()]
    frame.loc[latest_rows[3], "account_id"] = account_id
    path = tmp_path / "features.parquet"
    frame.to_parquet(path, index=False)
    with TestClient(create_app(store.settings(features=path))) as client:
        response = client.get(f"/v1/accounts/{quote(account_id, safe='')}/score")
        missing = client.get(f"/v1/accounts/{quote(account_id + '/x', safe='')}/score")
    assert response.status_code == 200, response.text
    assert response.json()["score"]["account_id"] == account_id
    assert missing.status_code == 404 and repr(account_id + "/x") in missing.json()["detail"]


def test_account_endpoint_without_a_snapshot_says_how_to_load_one(store):
    with TestClient(create_app(store.settings(features=None))) as client:
        response = client.get("/v1/accounts/acc-00001/score")
    assert response.status_code == 404
    assert "--features" in response.json()["detail"]


def test_model_endpoint_shows_version_run_metrics_and_features(client, store):
    body = client.get("/v1/model").json()
    model = store.registered.model
    assert (body["name"], body["version"], body["alias"], body["run_id"]) == ("churn-model", "1", "champion", store.registered.run_id)
    assert body["metrics"] == METRICS
    assert [f["name"] for f in body["features"]] == model.feature_names_
    plan = next(f for f in body["features"] if f["name"] == "account__plan")
    assert plan["kind"] == "categorical" and plan["categories"] == model.categories_["account__plan"]
    assert body["tier_thresholds"] == {"medium": model.tier_thresholds_[0], "high": model.tier_thresholds_[1]}
    assert body["snapshot"]["as_of"] == "2024-03-01" and body["snapshot"]["accounts"] == 1000


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"ready": True, "model_version": "1", "last_reload_error": None}


def test_not_ready_without_a_model_and_scoring_says_why(store):
    with TestClient(create_app(store.settings(model_uri="models:/churn-model@nobody"))) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "nobody" in ready.json()["last_reload_error"]
        assert client.get("/healthz").status_code == 200
        scored = client.post("/v1/scores", json={"accounts": [{"account_id": "a", "features": {}}]})
        assert scored.status_code == 503


def test_metrics_count_requests_time_them_and_report_tiers_and_version(store, latest):
    with TestClient(create_app(store.settings())) as client:
        client.post("/v1/scores", json=payload(latest.head(10)))
        client.get("/v1/accounts/nobody/score")
        text = client.get("/metrics").text
    assert 'churn_http_requests_total{method="POST",route="/v1/scores",status="200"} 1.0' in text
    assert 'churn_http_requests_total{method="GET",route="/v1/accounts/{account_id}/score",status="404"} 1.0' in text
    assert 'churn_http_request_duration_seconds_count{method="POST",route="/v1/scores"} 1.0' in text
    assert sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith("churn_scores_total{")) == 10
    assert 'churn_model_version 1.0' in text
    assert 'version="1"' in text


def test_openapi_documents_an_example_for_every_endpoint(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def has_example(content: dict) -> bool:
        for media in content.values():
            if "example" in media or "examples" in media:
                return True
            ref = media.get("schema", {}).get("$ref", "")
            if "examples" in schemas.get(ref.rsplit("/", 1)[-1], {}):
                return True
        return False

    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) == 7
    for path, method, op in operations:
        assert has_example(op["responses"]["200"].get("content", {})), f"{method.upper()} {path} has no response example"
        if "requestBody" in op:
            assert has_example(op["requestBody"]["content"]), f"{method.upper()} {path} has no request example"
