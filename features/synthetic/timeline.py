"""The calendar of a synthetic history: whole months ending on a fixed date, so a seed alone fixes the output."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

HISTORY_END = date(2025, 12, 31)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Timeline:
    """Month boundaries as integer days since 1970-01-01; ``month_starts[-1]`` is the day after the history end."""

    month_starts: np.ndarray

    @property
    def months(self) -> int:
        return len(self.month_starts) - 1

    @property
    def start_day(self) -> int:
        return int(self.month_starts[0])

    @property
    def end_day(self) -> int:
        """First day after the history (exclusive bound)."""
        return int(self.month_starts[-1])

    @property
    def days_in_month(self) -> np.ndarray:
        return np.diff(self.month_starts)

    @property
    def first_month_index(self) -> int:
        """Calendar months since 1970-01 of the first history month."""
        return int(np.datetime64(int(self.month_starts[0]), "D").astype("datetime64[M]").astype(np.int64))

    def month_dates(self) -> np.ndarray:
        return self.month_starts[:-1].astype("datetime64[D]")

    def start_date(self) -> date:
        return self.month_dates()[0].astype(date)

    def end_date(self) -> date:
        return HISTORY_END


def build_timeline(months: int) -> Timeline:
    """``months`` calendar months ending with the month of HISTORY_END."""
    last = np.datetime64(HISTORY_END, "M")
    bounds = np.arange(last - months + 1, last + 2, dtype="datetime64[M]")
    return Timeline(month_starts=bounds.astype("datetime64[D]").astype(np.int64))


def month_index(days: np.ndarray) -> np.ndarray:
    """Calendar months since 1970-01 for integer days since 1970-01-01."""
    return np.asarray(days, dtype="datetime64[D]").astype("datetime64[M]").astype(np.int64)


def day_in_month(month_idx: np.ndarray, day_of_month: np.ndarray) -> np.ndarray:
    """Integer day of ``day_of_month`` (0-based) in the given calendar months, clamped to the month's last day."""
    first, following = _first_day(month_idx), _first_day(np.asarray(month_idx) + 1)
    return first + np.minimum(day_of_month, following - first - 1)


def _first_day(month_idx: np.ndarray) -> np.ndarray:
    return np.asarray(month_idx, dtype=np.int64).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
