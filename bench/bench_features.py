"""Benchmark: generation speed, feature-build time and peak memory, against a bare DuckDB scan-and-group-by.

    python bench/bench_features.py [--accounts 10000] [--months 12] [--freq monthly] [--events-format parquet]
                                   [--events-by-user] [--out bench/out/features]

Each step runs in its own process and reports its own peak memory (max RSS). The floor is one
DuckDB query over the same events file grouping by account and event type: the least any
feature build must do is read the log once. The bare passes are the groupings the features
need from the log (counts per account, event type and time bucket; each user's activity as
bits; a profile of the log), written as plain SQL: the least this feature set must do.
With ``--events-format csv`` (or ``jsonl``) the events are written as CSV (or JSON lines), as many
companies export them, and both the floor and the build read that file. With ``--events-by-user`` a
second folder holds the same log without its account column, as analytics trackers export it, and a
users table giving each user's account; its build runs interleaved with the first and must give the
same table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import duckdb

# Each events format: the DuckDB function reading it, and the COPY options writing it.
READERS = {".parquet": "read_parquet", ".csv": "read_csv", ".jsonl": "read_json"}
WRITE_OPTIONS = {".parquet": "(FORMAT parquet)", ".csv": "(HEADER)", ".jsonl": "(FORMAT json)"}

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
con.sql(f"CREATE TEMP TABLE floor AS SELECT account_id, event_type, count(*) AS n FROM {sys.argv[2]}('{sys.argv[1]}') GROUP BY ALL")
print(con.sql("SELECT sum(n) FROM floor").fetchone()[0], time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

BARE_PASSES = """
import json, resource, sys, time, duckdb
con = duckdb.connect()
con.sql("SET enable_progress_bar = false")
log = f"{sys.argv[2]}('{sys.argv[1]}')"
bucket = "(epoch(timestamp) // 518400)::BIGINT"  # 6-day buckets: about as many as a build's segments
queries = {
    "floor": f"SELECT account_id, event_type, count(*) FROM {log} GROUP BY ALL",
    # the floor reading the two further columns every build needs (the floor's two are tiny, dictionary-encoded)
    "floor_all_columns": f"SELECT account_id, event_type, count(*), max(timestamp), max(user_id) FROM {log} GROUP BY ALL",
    "segment_counts": f"SELECT account_id, event_type, {bucket} AS b, count(*), max(timestamp) FROM {log} GROUP BY ALL",
    "user_activity": f"SELECT account_id, user_id, min(timestamp), bit_or(1::BIGINT << ({bucket} % 62)) FROM {log} GROUP BY ALL",
    # a clean log's profile: rows per account (for unknown accounts), then whole-table figures (Parquet's statistics)
    "profile": f"SELECT account_id, count(*) FROM {log} GROUP BY ALL",
    "profile_whole_table": f"SELECT count(*), count(account_id), count(timestamp), count(event_type), "
                           f"min(timestamp), max(timestamp) FROM {log}",
}
best = dict.fromkeys(queries, float("inf"))
for _ in range(3):
    for name, query in queries.items():
        started = time.perf_counter()
        con.sql(f"CREATE OR REPLACE TEMP TABLE bare AS {query}")
        best[name] = min(best[name], time.perf_counter() - started)
print(json.dumps(best))  # unrounded: on a small log the floor is well under 10 ms
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

SQL = """
import sys, duckdb
duckdb.sql("SET enable_progress_bar = false")
for statement in sys.argv[1:]:
    duckdb.sql(statement)
"""

BUILD = """
import json, resource, sys, time
from features.build import build_feature_file
stages, last = {}, [None, time.perf_counter()]
def step(message):
    now = time.perf_counter()
    if last[0]:
        stages[last[0]] = round(now - last[1], 2)
    last[:] = [message.split(" →")[0], now]
report = build_feature_file(sys.argv[1], sys.argv[2], freq=sys.argv[3], on_progress=step)
step("done")
print(json.dumps(stages))
print(report.rows, report.seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code: str, *args: str) -> tuple[list[str], float, list[str]]:
    """Run ``code`` in a fresh interpreter: the fields of its last line (the last is its peak RSS in kB, returned
    in MB) and the lines above it."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout
    lines = out.strip().splitlines()
    fields = lines[-1].split()
    return fields[:-1], int(fields[-1]) / 1024, lines[:-1]


def keyed_by_user(data: Path, log: Path, folder: Path) -> Path:
    """``folder`` holding the data with the events' account column dropped, and a users table of each user's account."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in data.iterdir():
        if path.stem not in ("events", "truth"):
            (folder / path.name).unlink(missing_ok=True)
            (folder / path.name).symlink_to(path.resolve())
    reader, options = READERS[log.suffix], WRITE_OPTIONS[log.suffix]
    in_duckdb(
        f"COPY (SELECT * EXCLUDE (account_id) FROM {reader}('{log}')) TO '{folder / log.name}' {options}",
        f"COPY (SELECT DISTINCT user_id, account_id FROM {reader}('{log}')) TO '{folder / 'users.parquet'}'",
    )
    return folder


def in_duckdb(*statements: str) -> None:
    """Run SQL statements in a fresh interpreter: a process started from this one would report this one's peak
    memory as its own (Linux keeps the peak across ``exec``)."""
    subprocess.run([sys.executable, "-c", SQL, *statements], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--freq", default="monthly", choices=["monthly", "weekly"], help="Observation dates of the build.")
    parser.add_argument("--events-format", default="parquet", choices=["parquet", "csv", "jsonl"],
                        help="The events file's format.")
    parser.add_argument("--events-by-user", action="store_true", help="Also build from the log keyed by user alone.")
    parser.add_argument("--out", type=Path, default=Path("bench/out/features"))
    parser.add_argument("--repeats", type=int, default=3, help="Floor and build runs; the best of each is reported.")
    args = parser.parse_args()
    data, table = args.out / "data", args.out / "features.parquet"

    (events, gen_seconds), gen_peak, _ = run(GENERATE, str(data), str(args.accounts), str(args.months))
    events, gen_seconds = int(events), float(gen_seconds)
    log = data / f"events.{args.events_format}"
    if args.events_format != "parquet":
        in_duckdb(f"COPY (FROM read_parquet('{data / 'events.parquet'}')) TO '{log}' {WRITE_OPTIONS[log.suffix]}")
        (data / "events.parquet").unlink()
    by_user = keyed_by_user(data, log, args.out / "data_by_user") if args.events_by_user else None
    floors, builds, peaks, stages, by_user_builds, by_user_peaks = [], [], [], [], [], []
    for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
        (_, floor_seconds), _, _ = run(FLOOR, str(log), READERS[log.suffix])
        floors.append(float(floor_seconds))
        (rows, build_seconds), peak, above = run(BUILD, str(data), str(table), args.freq)
        builds.append(float(build_seconds))
        peaks.append(peak)
        stages.append(json.loads(above[-1]))
        if by_user:
            (_, seconds), peak, _ = run(BUILD, str(by_user), str(args.out / "features_by_user.parquet"), args.freq)
            by_user_builds.append(float(seconds))
            by_user_peaks.append(peak)
    _, _, above = run(BARE_PASSES, str(log), READERS[log.suffix])
    bare = json.loads(above[-1])
    figures = {
        "accounts": args.accounts,
        "months": args.months,
        "freq": args.freq,
        "events_format": args.events_format,
        "events_file_mb": round(log.stat().st_size / 2**20),
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
        "build_stages_seconds": stages[builds.index(min(builds))],  # of the fastest build
        # The groupings any build of these features makes, as bare SQL over the log (best of three, one process):
        "bare_passes_seconds": {name: round(seconds, 2) for name, seconds in bare.items()},
        "bare_passes_over_floor": round(
            (bare["segment_counts"] + bare["user_activity"] + bare["profile"] + bare["profile_whole_table"]) / bare["floor"], 1
        ),
        # the build against the floor that reads every column of the log, as the build must (same process as the passes)
        "build_over_floor_all_columns": round(min(builds) / bare["floor_all_columns"], 1),
    }
    if by_user:
        first, second = f"'{table}'", f"'{args.out / 'features_by_user.parquet'}'"
        differing = f"(FROM {first} EXCEPT ALL FROM {second}) UNION ALL (FROM {second} EXCEPT ALL FROM {first})"
        same = duckdb.sql(f"SELECT count(*) FROM ({differing})").fetchone()[0] == 0
        figures |= {
            "by_user_build_seconds": round(min(by_user_builds), 1),
            "by_user_build_seconds_all": [round(b, 1) for b in by_user_builds],
            "by_user_build_peak_mb": round(max(by_user_peaks)),
            "by_user_over_build": round(min(by_user_builds) / min(builds), 2),
            "by_user_same_table": same,
        }
    print(json.dumps(figures, indent=2))
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
