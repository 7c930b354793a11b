"""Bad input gets a 4xx naming the field; no client input produces a 500."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tests.serving.conftest import payload

NUMERIC = "usage__signal_03__30d"


def _post(client, accounts):
    return client.post("/v1/scores", json={"accounts": accounts})


def _raw(client, text: str):
    return client.post("/v1/scores", content=text, headers={"content-type": "application/json"})


def _fields(response) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_a_misspelt_feature_is_named_with_the_closest_known_name(client):
    response = _post(client, [{"account_id": "a", "features": {"usage__signal_03_30d": 1.0}}])
    assert response.status_code == 422
    assert _fields(response) == ["accounts[0].features.usage__signal_03_30d"]
    assert f"did you mean '{NUMERIC}'" in response.json()["detail"]


def test_text_for_a_numeric_feature_is_refused(client):
    response = _post(client, [{"account_id": "a", "features": {}}, {"account_id": "b", "features": {NUMERIC: "12"}}])
    assert response.status_code == 422
    assert _fields(response) == [f"accounts[1].features.{NUMERIC}"]
    assert "not a number" in response.json()["detail"]


def test_a_number_for_a_categorical_feature_is_refused(client):
    response = _post(client, [{"account_id": "a", "features": {"account__plan": 3}}])
    assert response.status_code == 422
    assert _fields(response) == ["accounts[0].features.account__plan"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * 400])
def test_nan_infinity_and_overflowing_numbers_are_refused(client, literal):
    response = _raw(client, '{"accounts": [{"account_id": "a", "features": {"%s": %s}}]}' % (NUMERIC, literal))
    assert response.status_code == 422
    assert _fields(response) == [f"accounts[0].features.{NUMERIC}"]
    assert "finite" in response.json()["detail"]


def test_an_empty_batch_is_refused(client):
    response = _post(client, [])
    assert response.status_code == 422
    assert _fields(response) == ["accounts"]


def test_a_batch_above_the_limit_is_413(client):
    response = _post(client, [{"account_id": str(i), "features": {}} for i in range(51)])
    assert response.status_code == 413
    assert "limit of 50" in response.json()["detail"]


@pytest.fixture(scope="module")
def small_body_client(store):
    """A server taking bodies up to 20 kB: 50 accounts of a few features fit, 50 of every feature do not."""
    with TestClient(create_app(store.settings(max_body_mb=0.02))) as test_client:
        yield test_client


def test_a_body_above_the_byte_limit_is_413_before_it_is_read(small_body_client, latest):
    full = json.dumps(payload(latest.head(50))).encode()
    assert len(full) > 20_000
    declared = small_body_client.post("/v1/scores", content=full, headers={"content-type": "application/json"})
    streamed = small_body_client.post(  # no Content-Length: the bytes are counted as they arrive
        "/v1/scores", content=iter([full[i : i + 4096] for i in range(0, len(full), 4096)]),
        headers={"content-type": "application/json"},
    )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {"detail": "body: larger than this server's limit of 0.02 MB per request", "errors": []}
    small = _post(small_body_client, [{"account_id": str(i), "features": {NUMERIC: 1.0}} for i in range(50)])
    assert small.status_code == 200


def test_a_batch_at_the_limit_is_scored(client):
    assert _post(client, [{"account_id": str(i), "features": {}} for i in range(50)]).status_code == 200


@pytest.mark.parametrize(
    ("account", "field"),
    [
        ({"features": {}}, "accounts[0].account_id"),
        ({"account_id": None, "features": {}}, "accounts[0].account_id"),
        ({"account_id": "", "features": {}}, "accounts[0].account_id"),
        ({"account_id": 17, "features": {}}, "accounts[0].account_id"),
        ({"account_id": "a"}, "accounts[0].features"),
        ({"account_id": "a", "features": [1, 2]}, "accounts[0].features"),
        ({"account_id": "a", "features": {}, "featurs": {}}, "accounts[0].featurs"),
    ],
)
def test_structural_problems_name_the_field(client, account, field):
    response = _post(client, [account])
    assert response.status_code == 422
    assert field in _fields(response)
    assert field in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "{",
        "[]",
        "null",
        '"accounts"',
        '{"accounts": {}}',
        '{"accounts": [null]}',
        '{"accounts": [[]]}',
        '{"accounts": "x"}',
        '{"accounts": [{"account_id": "a", "features": {"%s": {"nested": 1}}}]}' % NUMERIC,
        '{"accounts": [{"account_id": "a", "features": {"%s": [1]}}]}' % NUMERIC,
        '{"accounts": [{"account_id": "a", "features": {"account__plan": {"x": []}}}]}',
        '{"accounts": [{"account_id": "a", "features": {"account__plan": true}}]}',
        '{"accounts": [{"account_id": "a", "features": {"": 1}}]}',
        '{"accounts": [{"account_id": {"id": 1}, "features": null}]}',
        '{"accounts": [{"account_id": "a", "features": {"%s": 1e308, "%s": -1e308}}]}' % (NUMERIC, "usage__signal_00__30d"),
        '{"accounts": [{"account_id": "%s", "features": {}}]}' % ("x" * 5000),
        '{"accounts": [{"account_id": "a", "features": {}}], "extra": 1}',
    ],
)
def test_malformed_payloads_never_produce_a_server_error(client, body):
    response = _raw(client, body)
    assert 200 <= response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["detail"]


def test_booleans_count_as_numbers_and_huge_finite_numbers_are_scored(client):
    response = _post(client, [{"account_id": "a", "features": {NUMERIC: True, "usage__signal_00__30d": 1e308}}])
    assert response.status_code == 200


def test_every_problem_in_a_batch_is_reported_up_to_a_limit(client):
    accounts = [{"account_id": str(i), "features": {NUMERIC: "x", "nope": 1}} for i in range(30)]
    response = _post(client, accounts)
    assert response.status_code == 422
    assert len(response.json()["errors"]) == 20
    assert "(and 40 more)" in response.json()["detail"]


def test_wrong_content_type_is_a_client_error(client):
    response = client.post("/v1/scores", content=json.dumps({"accounts": []}), headers={"content-type": "text/plain"})
    assert 400 <= response.status_code < 500
