"""Arrow schemas of the data contract and the few converters every table builder shares."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.synthetic.timeline import SECONDS_PER_DAY

TIMESTAMP = pa.timestamp("us")
CATEGORY = pa.dictionary(pa.int32(), pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "accounts": pa.schema(
        [
            ("account_id", pa.string()),
            ("created_at", TIMESTAMP),
            ("plan", pa.string()),
            ("seats", pa.int64()),
            ("industry", pa.string()),
            ("country", pa.string()),
            ("company_size", pa.string()),
        ]
    ),
    "subscriptions": pa.schema(
        [
            ("account_id", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("mrr", pa.float64()),
            ("seats", pa.int64()),
        ]
    ),
    "events": pa.schema(
        [("account_id", CATEGORY), ("user_id", CATEGORY), ("timestamp", TIMESTAMP), ("event_type", CATEGORY)]
    ),
    "tickets": pa.schema(
        [
            ("ticket_id", pa.string()),
            ("account_id", CATEGORY),
            ("opened_at", TIMESTAMP),
            ("first_response_at", TIMESTAMP),
            ("resolved_at", TIMESTAMP),
            ("priority", CATEGORY),
            ("category", CATEGORY),
            ("csat", pa.float64()),
        ]
    ),
    "emails": pa.schema(
        [
            ("account_id", CATEGORY),
            ("user_id", CATEGORY),
            ("sent_at", TIMESTAMP),
            ("opened_at", TIMESTAMP),
            ("clicked_at", TIMESTAMP),
        ]
    ),
    "surveys": pa.schema(
        [("account_id", CATEGORY), ("user_id", CATEGORY), ("responded_at", TIMESTAMP), ("nps", pa.int64())]
    ),
    "truth": pa.schema([("account_id", pa.string()), ("month", pa.date32()), ("churn_probability", pa.float64())]),
}
TABLE_NAMES = tuple(SCHEMAS)


def category(codes: np.ndarray, values) -> pa.DictionaryArray:
    """Strings as codes into ``values``: far cheaper to build and write than millions of Python strings."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(values, pa.string()))


def timestamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """Naive UTC timestamps from integer seconds since the epoch; ``missing`` marks nulls."""
    micros = np.asarray(seconds, dtype=np.int64) * 1_000_000
    return pa.array(micros, TIMESTAMP, mask=missing)


def dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), pa.date32(), mask=missing)


def day_seconds(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64) * SECONDS_PER_DAY
