"""The app in real uvicorn processes on 127.0.0.1: the --factory entry point, and `churn serve` with the demo helper."""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from serving.local_server import free_port, started, wait_until_ready

from .conftest import payload

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def servers(store, tmp_path_factory) -> dict[str, str]:
    """Base URLs of both entry points, started together so that their start-ups overlap."""
    logs = tmp_path_factory.mktemp("servers")
    env = {
        "MLFLOW_TRACKING_URI": store.tracking_uri,
        "CHURN_FEATURES": str(store.features_path),
        "CHURN_API_KEYS": '["k"]',
        "CHURN_MAX_BODY_MB": "1",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        "PATH": f"{BIN}:/usr/bin:/bin",
    }
    factory_port, serve_port = free_port(), free_port()
    commands = {
        "factory": [str(BIN / "uvicorn"), "--factory", "serving.app:create_app_from_env", "--host", "127.0.0.1", "--port", str(factory_port)],
        "serve": [str(BIN / "churn"), "serve", "--port", str(serve_port), "--features", str(store.features_path), "--no-access-log"],
    }
    urls = {"factory": f"http://127.0.0.1:{factory_port}", "serve": f"http://127.0.0.1:{serve_port}"}
    with ExitStack() as stack:
        processes = {name: stack.enter_context(started(command, env=env, log=logs / f"{name}.log")) for name, command in commands.items()}
        for name, process in processes.items():
            wait_until_ready(f"{urls[name]}/readyz", process=process)
        yield urls


@pytest.mark.slow
def test_uvicorn_factory_serves_scores(servers, latest):
    base = servers["factory"]
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer k"}) as client:
        response = client.post("/v1/scores", json=payload(latest.head(2)))
        account = client.get(f"/v1/accounts/{latest['account_id'].iloc[0]}/score")
    unauthorised = httpx.post(f"{base}/v1/scores", json=payload(latest.head(1)))
    assert response.status_code == 200
    assert [s["account_id"] for s in response.json()["scores"]] == latest["account_id"].head(2).tolist()
    assert account.json()["score"]["churn_probability"] == response.json()["scores"][0]["churn_probability"]
    assert unauthorised.status_code == 401


@pytest.mark.slow
def test_an_oversized_streamed_body_is_refused_and_the_server_goes_on(servers, latest):
    chunk = b" " * 65_536  # whitespace: valid JSON padding, so only the size can refuse it
    body = iter([b'{"accounts": ', *[chunk] * 32, b"[]}"])  # 2 MB, sent without a Content-Length
    with httpx.Client(base_url=servers["factory"], headers={"Authorization": "Bearer k"}) as client:
        refused = client.post("/v1/scores", content=body, headers={"content-type": "application/json"})
        after = client.post("/v1/scores", json=payload(latest.head(1)))
    assert refused.status_code == 413
    assert refused.json()["detail"] == "body: larger than this server's limit of 1 MB per request"
    assert after.status_code == 200


@pytest.mark.slow
def test_churn_serve_runs_and_the_demo_helper_prints_a_scored_account(servers, store):
    demo = subprocess.run(
        [
            sys.executable, "-m", "serving.demo_request", "--url", servers["serve"], "--features", str(store.features_path),
            "--api-key", "k", "--pid-file", "demo/serve.pid",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert demo.returncode == 0, demo.stderr
    assert "-> 200" in demo.stdout
    assert '"churn_probability"' in demo.stdout
    assert "Stop it with: kill $(cat demo/serve.pid)" in demo.stdout
