"""Serving speed: our API against `mlflow models serve`, side by side on the same registered model.

Registers a 300-tree, 80-feature churn model (synthetic data) in a throw-away MLflow store under
/tmp, starts both servers on 127.0.0.1 (one uvicorn worker each) and measures, in one run:

- single-account requests, every score with its top drivers: latency p50/p99 and throughput at
  1, 4 and 16 concurrent keep-alive connections (bounded by requests and seconds per level);
- one request of 10,000 accounts to our API;
- in-process costs per account: prediction alone, our leaf lookup + path attribution, exact
  TreeSHAP (``pred_contrib``), request encoding;
- how often the path-attribution drivers agree with exact SHAP's;
- `churn score` batch throughput (rows/s, Parquet in and out).

    .venv/bin/python bench/bench_serving.py [--seconds 6] [--batch-rows 200000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import post_request, run_load  # noqa: E402

from serving.batch import score_file  # noqa: E402
from serving.encoding import FeatureEncoding, encode_accounts  # noqa: E402
from serving.local_server import free_port, running  # noqa: E402
from serving.scoring import account_results, score_matrix, top_positive  # noqa: E402
from serving.synthetic import feature_columns, fit_synthetic_model, register_synthetic_model, synthetic_features  # noqa: E402
from serving.trees import attributions, compile_trees, leaf_rows  # noqa: E402

BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def feature_dicts(frame: pd.DataFrame) -> list[dict]:
    features = frame[feature_columns(frame)].astype(object)
    return features.where(features.notna(), None).to_dict("records")


def per_row_ms(function, items, repeat: int = 1) -> float:
    timings = []
    for item in items:
        started = time.perf_counter()
        for _ in range(repeat):
            function(item)
        timings.append((time.perf_counter() - started) / repeat)
    return float(np.median(timings)) * 1e3


def micro_costs(model, frame: pd.DataFrame) -> dict[str, float]:
    """Median cost per single-account call, in milliseconds."""
    tables, encoding = compile_trees(model.booster_), FeatureEncoding.of(model)
    matrix = model.encode(frame[feature_columns(frame)])
    rows = [matrix[i : i + 1] for i in range(1000)]
    dicts = feature_dicts(frame.head(1000))
    booster = model.booster_

    def whole(features: dict) -> None:
        one = encode_accounts(encoding, [features])
        account_results(score_matrix(model, tables, one, top_drivers=5), encoding, ["a"])

    started = time.perf_counter()
    booster.predict(matrix[:10_000], raw_score=True)
    batch_predict_ms = (time.perf_counter() - started) * 1e3
    started = time.perf_counter()
    score_matrix(model, tables, matrix[:10_000], top_drivers=5)
    batch_ms = (time.perf_counter() - started) * 1e3
    return {
        "predict (raw score)": per_row_ms(lambda x: booster.predict(x, raw_score=True, num_threads=1), rows),
        "leaf lookup + path attribution + tiers": per_row_ms(lambda x: score_matrix(model, tables, x, top_drivers=5), rows),
        "exact SHAP (pred_contrib)": per_row_ms(lambda x: booster.predict(x, pred_contrib=True, num_threads=1), rows[:300]),
        "request encoding (dict -> matrix)": per_row_ms(lambda d: encode_accounts(encoding, [d]), dicts),
        "whole in-process path (encode, score, result dicts)": per_row_ms(whole, dicts),
        "per account in a 10,000-row batch: predict (raw score)": batch_predict_ms / 10_000,
        "per account in a 10,000-row batch: score with drivers and tiers": batch_ms / 10_000,
    }


def driver_agreement(model, frame: pd.DataFrame) -> dict[str, float]:
    """Path-attribution drivers against exact SHAP's, both as 'largest positive contributions'."""
    tables = compile_trees(model.booster_)
    matrix = model.encode(frame[feature_columns(frame)])
    rows = leaf_rows(tables, model.booster_.predict(matrix, pred_leaf=True))
    path, _ = top_positive(attributions(tables, rows), 5)
    exact, _ = top_positive(model.contributions(matrix)[:, :-1], 5)
    has_driver = exact[:, 0] >= 0

    def overlap(k: int) -> float:
        shares = [
            len(set(p[:k][p[:k] >= 0]) & set(e[:k][e[:k] >= 0])) / (e[:k] >= 0).sum()
            for p, e in zip(path[has_driver], exact[has_driver])
        ]
        return float(np.mean(shares))

    return {
        "rows": int(len(matrix)),
        "top-1 match": float(np.mean(path[has_driver, 0] == exact[has_driver, 0])),
        "top-1 within exact top-3": float(np.mean([p[0] in e[:3] for p, e in zip(path[has_driver], exact[has_driver])])),
        "top-3 overlap": overlap(3),
        "top-5 overlap": overlap(5),
    }


def load_levels(port: int, requests: list[bytes], *, levels, max_requests: int, seconds: float) -> list[dict]:
    run_load(HOST, port, requests, concurrency=1, max_requests=max(5, max_requests // 50), max_seconds=seconds / 2)  # warm-up
    results = []
    for concurrency in levels:
        result = run_load(HOST, port, requests, concurrency=concurrency, max_requests=max_requests, max_seconds=seconds)
        results.append(
            {
                "concurrency": concurrency,
                "requests": result.requests,
                "errors": result.errors,
                "p50_ms": result.percentile(50),
                "p99_ms": result.percentile(99),
                "throughput_rps": result.throughput,
            }
        )
        print(f"  c={concurrency:<3} {results[-1]['requests']:>6} requests  p50 {results[-1]['p50_ms']:7.2f} ms  "
              f"p99 {results[-1]['p99_ms']:7.2f} ms  {results[-1]['throughput_rps']:8.1f} req/s  errors {result.errors}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=6.0, help="Time limit per load level.")
    parser.add_argument("--batch-rows", type=int, default=200_000)
    parser.add_argument("--agreement-rows", type=int, default=5_000, help="Accounts on which drivers are compared with exact SHAP.")
    parser.add_argument("--out", type=Path, default=Path("bench/out/serving.json"))
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_at_start": os.getloadavg()},
        "uvicorn": {"http": "httptools" if importlib.util.find_spec("httptools") else "h11",
                    "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"},
    }

    work = Path(tempfile.mkdtemp(prefix="churn-bench-serving-", dir="/tmp"))
    tracking_uri = f"sqlite:///{work}/mlflow.db"
    print(f"work folder {work}", flush=True)
    train = synthetic_features(args.train_rows, args.features - 1, seed=0)
    model = fit_synthetic_model(train, n_trees=args.trees)
    registered = register_synthetic_model(model, train, tracking_uri=tracking_uri)
    report["model"] = {"trees": model.booster_.num_trees(), "features": len(model.feature_names_), "version": registered.version}
    print(f"model: {report['model']}", flush=True)

    probe = synthetic_features(10_000, args.features - 1, seed=1)
    snapshot_path = work / "snapshot.parquet"
    probe.to_parquet(snapshot_path, index=False)
    report["micro_ms"] = micro_costs(model, probe)
    report["driver_agreement"] = driver_agreement(model, probe.head(args.agreement_rows))
    print(json.dumps({"micro_ms": report["micro_ms"], "driver_agreement": report["driver_agreement"]}, indent=2), flush=True)

    ours_port, mlflow_port = free_port(), free_port()
    dicts = feature_dicts(probe)
    ids = probe["account_id"].tolist()
    ours_requests = [
        post_request(HOST, ours_port, "/v1/scores", {"accounts": [{"account_id": i, "features": f}]}) for i, f in zip(ids[:2000], dicts)
    ]
    names = model.feature_names_
    mlflow_requests = [
        post_request(HOST, mlflow_port, "/invocations", {"dataframe_split": {"columns": names, "data": [[f[n] for n in names]]}})
        for f in dicts[:2000]
    ]
    big_request = post_request(HOST, ours_port, "/v1/scores", {"accounts": [{"account_id": i, "features": f} for i, f in zip(ids, dicts)]})
    env = {"MLFLOW_TRACKING_URI": tracking_uri, "PATH": f"{BIN}:{os.environ.get('PATH', '')}", "CHURN_FEATURES": str(snapshot_path)}
    ours_command = [str(BIN / "uvicorn"), "--factory", "serving.app:create_app_from_env", "--host", HOST, "--port", str(ours_port), "--no-access-log"]
    mlflow_command = [str(BIN / "mlflow"), "models", "serve", "-m", "models:/churn-model@champion", "--env-manager", "local",
                      "-h", HOST, "-p", str(mlflow_port), "--workers", "1"]

    levels = (1, 4, 16)
    with ExitStack() as servers:
        servers.enter_context(running(ours_command, ready_url=f"http://{HOST}:{ours_port}/readyz", env=env, log=work / "ours.log"))
        servers.enter_context(running(mlflow_command, ready_url=f"http://{HOST}:{mlflow_port}/ping", env=env, log=work / "mlflow.log", timeout=180))
        print("ours: single-account POST /v1/scores (drivers on every score)", flush=True)
        report["ours"] = load_levels(ours_port, ours_requests, levels=levels, max_requests=50_000, seconds=args.seconds)
        print("mlflow models serve: single-row POST /invocations (probability and tier, no drivers)", flush=True)
        report["mlflow"] = load_levels(mlflow_port, mlflow_requests, levels=levels, max_requests=600, seconds=args.seconds)
        big = run_load(HOST, ours_port, [big_request], concurrency=1, max_requests=5, max_seconds=60)
        report["ours_10k_request_ms"] = {"runs": big.requests, "errors": big.errors, "median": big.percentile(50), "best": float(big.latencies.min() * 1e3)}
        print(f"ours: one request of 10,000 accounts: {report['ours_10k_request_ms']}", flush=True)

    batch_path = work / "batch.parquet"
    synthetic_features(args.batch_rows, args.features - 1, seed=2, n_accounts=args.batch_rows // 4).to_parquet(batch_path, index=False)
    batch = score_file("models:/churn-model@champion", batch_path, work / "scores.parquet", tracking_uri=tracking_uri)
    report["batch"] = {"rows": batch.rows, "seconds": batch.seconds, "rows_per_second": batch.rows / batch.seconds}
    print(f"batch: {report['batch']}", flush=True)

    report["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print_table(report)


def print_table(report: dict) -> None:
    machine = report["machine"]
    print(f"\n{machine['cpus']} CPUs; load average (1 min) {machine['load_average_at_start'][0]:.1f} at start, "
          f"{machine['load_average_at_end'][0]:.1f} at end (the load generator shares the machine with both servers)")
    print("\n| concurrency | ours p50 ms | ours p99 ms | ours req/s | mlflow p50 ms | mlflow p99 ms | mlflow req/s | throughput ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for ours, theirs in zip(report["ours"], report["mlflow"]):
        ratio = ours["throughput_rps"] / theirs["throughput_rps"]
        print(f"| {ours['concurrency']} | {ours['p50_ms']:.2f} | {ours['p99_ms']:.2f} | {ours['throughput_rps']:.0f} | "
              f"{theirs['p50_ms']:.1f} | {theirs['p99_ms']:.1f} | {theirs['throughput_rps']:.1f} | {ratio:.0f}x |")
    big = report["ours_10k_request_ms"]
    print(f"\nOne request of 10,000 accounts: median {big['median']:.0f} ms, best {big['best']:.0f} ms ({big['runs']} runs)")
    print(f"Batch scoring: {report['batch']['rows']:,} rows in {report['batch']['seconds']:.1f} s = {report['batch']['rows_per_second']:,.0f} rows/s")
    print("\nIn-process cost per account (median, ms):")
    for name, value in report["micro_ms"].items():
        print(f"  {name:<64} {value:.3f}")
    agreement = report["driver_agreement"]
    print(f"\nPath-attribution drivers vs exact SHAP on {agreement['rows']} accounts: top-1 match {agreement['top-1 match']:.0%}, "
          f"top-1 within exact top-3 {agreement['top-1 within exact top-3']:.0%}, "
          f"top-3 overlap {agreement['top-3 overlap']:.0%}, top-5 overlap {agreement['top-5 overlap']:.0%}")


if __name__ == "__main__":
    main()
