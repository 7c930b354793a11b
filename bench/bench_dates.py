"""Reading text times: numeric dates (``09/20/2024 05:05:33 PM``) against the same times as ISO 8601 text.

Makes ``--rows`` times in an in-memory DuckDB table in each form and reads them as the build does
(``features.contract.read_as``, with the formats ``date_formats`` finds), interleaved, best of
``--repeats``; also the time ``date_formats`` takes to look at each column.

    .venv/bin/python bench/bench_dates.py [--rows 5000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import ibis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.contract import TIME, date_formats, read_as  # noqa: E402

FORMS = {"iso": "%Y-%m-%d %H:%M:%S", "numeric": "%m/%d/%Y %I:%M:%S %p"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    con = ibis.duckdb.connect()
    reads, looks, checks = {}, {}, {}
    for name, form in FORMS.items():
        con.raw_sql(
            f"CREATE TABLE {name} AS SELECT strftime(TIMESTAMP '2024-01-01' + to_seconds((i * 7919) % 31536000), "
            f"'{form}') AS timestamp FROM range({args.rows}) AS r(i)"
        )
        table = con.table(name)
        started = time.perf_counter()
        formats = date_formats({"events": table}).get("events", {}).get("timestamp", ())
        looks[name] = time.perf_counter() - started
        times = read_as(table.timestamp, TIME, "events", "timestamp", formats)
        reads[name] = (table.aggregate(latest=times.max(), read=times.count()), [form.strftime for form in formats])
    runs = {name: [] for name in FORMS}
    for _ in range(args.repeats):
        for name, (query, _) in reads.items():
            started = time.perf_counter()
            checks[name] = query.to_pyarrow().to_pylist()[0]
            runs[name].append(time.perf_counter() - started)
    best = {name: min(seconds) for name, seconds in runs.items()}
    print(json.dumps({
        "rows": args.rows,
        "formats_found": {name: formats for name, (_, formats) in reads.items()},
        "read_seconds": {name: [round(s, 2) for s in seconds] for name, seconds in runs.items()},
        "best_seconds": {name: round(s, 2) for name, s in best.items()},
        "numeric_over_iso": round(best["numeric"] / best["iso"], 2),
        "looking_seconds": {name: round(s, 2) for name, s in looks.items()},
        "all_read": all(check["read"] == args.rows for check in checks.values()),
        "same_latest": checks["iso"]["latest"] == checks["numeric"]["latest"],
    }, indent=2, default=str))


if __name__ == "__main__":
    main()
