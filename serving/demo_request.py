"""The end of ``make demo``: wait for the API, score one real account from the snapshot, print the exchange.

    python -m serving.demo_request --url http://127.0.0.1:8000 --features demo/features.parquet --pid-file demo/serve.pid
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx
import pandas as pd

from serving.loaded_model import read_latest_snapshot
from serving.local_server import wait_until_ready


def sample_request(features_path: Path, feature_names: list[str]) -> dict:
    """A POST /v1/scores body for the first account of the latest snapshot, with the model's features only."""
    frame, _ = read_latest_snapshot(features_path, feature_names)
    row = frame.sort_values("account_id").iloc[0]
    values = {}
    for name in feature_names:
        value = row.get(name)
        if value is None or pd.isna(value):
            values[name] = None
        elif isinstance(value, str):
            values[name] = value
        else:
            values[name] = float(value)
    return {"accounts": [{"account_id": str(row["account_id"]), "features": values}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--features", type=Path, required=True, help="The feature table the server was started with.")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--pid-file", type=Path, default=None, help="Where the server's PID is, to say how to stop it.")
    parser.add_argument("--timeout", type=float, default=120.0, help="Seconds to wait for /readyz.")
    args = parser.parse_args()

    wait_until_ready(f"{args.url}/readyz", timeout=args.timeout)
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with httpx.Client(base_url=args.url, headers=headers, timeout=30) as client:
        model = client.get("/v1/model").raise_for_status().json()
        body = sample_request(args.features, [feature["name"] for feature in model["features"]])
        response = client.post("/v1/scores", json=body)
    print(f"The API is running at {args.url} (docs: {args.url}/docs), serving {model['name']} version {model['version']}.")
    print(f"\nPOST {args.url}/v1/scores   (account {body['accounts'][0]['account_id']}, {len(body['accounts'][0]['features'])} features)")
    print(f"-> {response.status_code}")
    print(json.dumps(response.json(), indent=2))
    if args.pid_file:
        print(f"\nStop it with: kill $(cat {args.pid_file})")


if __name__ == "__main__":
    main()
