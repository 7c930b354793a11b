"""Subscription book-keeping: terms that renew, resize, lapse and occasionally restart."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.synthetic import tables
from features.synthetic.timeline import day_in_month, month_index

MAX_SEATS = 400
MONTHLY_SEAT_CHANGE = 0.03  # monthly chance a month-to-month customer resizes
RENEWAL_GAP_SHARE = 0.2  # renewals that start a few days after the old term ended
OPEN_END = -1


class Contracts:
    """The running subscription of every account in a chunk, and every row closed so far."""

    def __init__(self, seats: np.ndarray, price_per_seat: np.ndarray):
        self.seats = seats.copy()
        self.start = np.zeros(len(seats), dtype=np.int64)
        self._price = price_per_seat
        self._rows: list[tuple[np.ndarray, ...]] = []

    def open(self, which: np.ndarray, start_day: np.ndarray) -> None:
        self.start[which] = start_day

    def close(self, which: np.ndarray, end_day: np.ndarray) -> None:
        which = np.flatnonzero(which) if which.dtype == bool else which
        seats = self.seats[which]
        self._rows.append((which, self.start[which], end_day, self._price[which] * seats, seats))

    def renew(self, which: np.ndarray, renewal_day: np.ndarray, outlook: np.ndarray, last_day: int, rng) -> None:
        """End the expiring term and start the next, larger for accounts doing well, smaller for struggling ones."""
        index = np.flatnonzero(which)
        self.close(index, renewal_day[index])
        draw = rng.random(len(index))
        expand = draw < 1 / (1 + np.exp(1.2 - outlook[index]))
        contract = draw > 1 - 1 / (1 + np.exp(1.8 + outlook[index]))
        factor = np.where(expand, rng.uniform(1.1, 1.5, len(index)), 1.0)
        factor = np.where(contract, rng.uniform(0.6, 0.9, len(index)), factor)
        self.seats[index] = _resize(self.seats[index], factor)
        gap = np.where(rng.random(len(index)) < RENEWAL_GAP_SHARE, rng.integers(1, 6, len(index)), 0)
        self.start[index] = np.minimum(renewal_day[index] + gap, last_day)

    def resize_some(self, which: np.ndarray, month_start: int, month_end: int, outlook: np.ndarray, rng) -> None:
        """Month-to-month customers sometimes add or drop seats, which starts a new subscription row."""
        index = np.flatnonzero(which & (rng.random(len(which)) < MONTHLY_SEAT_CHANGE))
        day = rng.integers(month_start + 1, month_end, len(index))
        self.close(index, day)
        grows = rng.random(len(index)) < 1 / (1 + np.exp(-outlook[index]))
        factor = np.where(grows, rng.uniform(1.1, 1.4, len(index)), rng.uniform(0.6, 0.9, len(index)))
        self.seats[index] = _resize(self.seats[index], factor)
        self.start[index] = day

    def table(self, account_ids: list[str], still_open: np.ndarray) -> pa.Table:
        """Closed rows plus one open row (null end date) per account that is still a customer."""
        index = np.flatnonzero(still_open)
        self.close(index, np.full(len(index), OPEN_END))
        which, start, end, mrr, seats = (np.concatenate(column) for column in zip(*self._rows))
        order = np.lexsort((start, which))
        which, start, end, mrr, seats = which[order], start[order], end[order], mrr[order], seats[order]
        return pa.table(
            {
                "account_id": pa.array(np.asarray(account_ids)[which], pa.string()),
                "start_date": tables.dates(start),
                "end_date": tables.dates(end, missing=end == OPEN_END),
                "mrr": pa.array(np.round(mrr, 2), pa.float64()),
                "seats": pa.array(seats, pa.int64()),
            },
            schema=tables.SCHEMAS["subscriptions"],
        )


def term_start_at(created: np.ndarray, history_start: int, monthly_term: np.ndarray) -> np.ndarray:
    """Start of the term running at the history start: the last sign-up anniversary for annual contracts."""
    created_month = month_index(created)
    signup_day = created - day_in_month(created_month, 0)
    years = (month_index(np.full(len(created), history_start)) - created_month) // 12
    years = np.where(day_in_month(created_month + 12 * years, signup_day) > history_start, years - 1, years)
    anniversary = day_in_month(created_month + 12 * np.maximum(years, 0), signup_day)
    return np.where(monthly_term, created, anniversary)


def _resize(seats: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Scale seats by ``factor``, moving at least one seat whenever the factor says to move."""
    changed = np.round(seats * factor).astype(np.int64)
    changed = np.where(factor > 1, np.maximum(changed, seats + 1), changed)
    changed = np.where(factor < 1, np.minimum(changed, seats - 1), changed)
    return np.clip(changed, 1, MAX_SEATS)
