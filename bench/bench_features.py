"""Benchmark: generation speed, feature-build time and peak memory, against a bare DuckDB scan-and-group-by.

    python bench/bench_features.py [--accounts 10000] [--months 12] [--out bench/out/features]

Each step runs in its own process and reports its own peak memory (max RSS). The floor is one
DuckDB query over the same events file grouping by account and event type: the least any
feature build must do is read the log once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

GENERATE = """
import resource, sys, time
from features.synthetic import generate
started = time.perf_counter()
summary = generate(sys.argv[1], n_accounts=int(sys.argv[2]), months=int(sys.argv[3]), seed=7)
print(summary.events, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

FLOOR = """
import resource, sys, time, duckdb
started = time.perf_counter()
con = duckdb.connect()
con.sql(f"CREATE TEMP TABLE floor AS SELECT account_id, event_type, count(*) AS n FROM read_parquet('{sys.argv[1]}') GROUP BY ALL")
print(con.sql("SELECT sum(n) FROM floor").fetchone()[0], time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

BUILD = """
import resource, sys
from features.build import build_feature_file
report = build_feature_file(sys.argv[1], sys.argv[2])
print(report.rows, report.seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code: str, *args: str) -> tuple[list[str], float]:
    """Run ``code`` in a fresh interpreter; the fields it printed (the last is its peak RSS in kB) in MB."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout
    fields = out.strip().splitlines()[-1].split()  # DuckDB may draw a progress bar above
    return fields[:-1], int(fields[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("bench/out/features"))
    parser.add_argument("--repeats", type=int, default=3, help="Floor and build runs; the best of each is reported.")
    args = parser.parse_args()
    data, table = args.out / "data", args.out / "features.parquet"

    (events, gen_seconds), gen_peak = run(GENERATE, str(data), str(args.accounts), str(args.months))
    events, gen_seconds = int(events), float(gen_seconds)
    floors, builds, peaks = [], [], []
    for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
        (_, floor_seconds), _ = run(FLOOR, str(data / "events.parquet"))
        floors.append(float(floor_seconds))
        (rows, build_seconds), peak = run(BUILD, str(data), str(table))
        builds.append(float(build_seconds))
        peaks.append(peak)
    figures = {
        "accounts": args.accounts,
        "months": args.months,
        "events": events,
        "generate_seconds": round(gen_seconds, 1),
        "events_per_second": round(events / gen_seconds),
        "generate_peak_mb": round(gen_peak),
        "feature_rows": int(rows),
        "floor_seconds": round(min(floors), 2),
        "build_seconds": round(min(builds), 1),
        "build_seconds_all": [round(b, 1) for b in builds],
        "build_peak_mb": round(max(peaks)),
        "build_over_floor": round(min(builds) / min(floors), 1),
    }
    print(json.dumps(figures, indent=2))
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
