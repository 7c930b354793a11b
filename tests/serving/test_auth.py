"""Scoring needs an API key, admin the separate admin key; health and metrics stay open."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app

BODY = {"accounts": [{"account_id": "a", "features": {}}]}


@pytest.fixture(scope="module")
def secured(store):
    with TestClient(create_app(store.settings(api_keys=["score-key", "other-key"], admin_key="admin-key"))) as client:
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(("method", "path"), [("post", "/v1/scores"), ("get", "/v1/model"), ("get", "/v1/accounts/acc-00001/score")])
def test_scoring_endpoints_need_a_valid_key(secured, method, path):
    kwargs = {"json": BODY} if method == "post" else {}
    missing = getattr(secured, method)(path, **kwargs)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert getattr(secured, method)(path, headers=_bearer("wrong"), **kwargs).status_code == 401
    assert getattr(secured, method)(path, headers={"Authorization": "Basic c2NvcmUta2V5"}, **kwargs).status_code == 401
    for key in ("score-key", "other-key", "admin-key"):
        assert getattr(secured, method)(path, headers=_bearer(key), **kwargs).status_code == 200


def test_admin_needs_the_admin_key_not_a_scoring_key(secured):
    assert secured.post("/v1/admin/reload").status_code == 401
    assert secured.post("/v1/admin/reload", headers=_bearer("wrong")).status_code == 401
    assert secured.post("/v1/admin/reload", headers=_bearer("score-key")).status_code == 403
    assert secured.post("/v1/admin/reload", headers=_bearer("admin-key")).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
def test_health_metrics_and_docs_stay_open(secured, path):
    assert secured.get(path).status_code == 200


def test_admin_is_closed_when_keys_are_set_but_no_admin_key(store):
    with TestClient(create_app(store.settings(api_keys=["score-key"]))) as client:
        response = client.post("/v1/admin/reload", headers=_bearer("score-key"))
    assert response.status_code == 403
    assert "CHURN_ADMIN_KEY" in response.json()["detail"]


def test_keys_come_from_the_environment(store, monkeypatch):
    from churn.settings import Settings

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.tracking_uri)
    monkeypatch.setenv("CHURN_API_KEYS", '["env-key"]')
    monkeypatch.setenv("CHURN_ADMIN_KEY", "env-admin")
    settings = Settings(features=store.features_path)
    with TestClient(create_app(settings)) as client:
        assert client.post("/v1/scores", json=BODY).status_code == 401
        assert client.post("/v1/scores", json=BODY, headers=_bearer("env-key")).status_code == 200
        assert client.post("/v1/admin/reload", headers=_bearer("env-admin")).status_code == 200
