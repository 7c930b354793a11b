"""Event logs of counts per period, as data warehouses export product usage: each row an account's (or a user's)
number of events of one type on a day, in a week or in a month.

A row's ``event_count`` stands for that many events. A row dated by its period's first day holds events up
to the period's end, so a week's or a month's row is taken as known at its period's last moment: an
observation date inside a period does not see its count, which holds days after the date. A day's row
needs no moving, as observation dates fall on midnights. A log with times of day is a log of events, read
as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir

# A row counting no events: nobody was active, and it is left out (warehouse rollups often list every day).
NO_EVENTS = "a count of 0 (no events)"
# The last moment of a period, as the start of the next one is the first moment nothing of it is unknown.
LAST_MOMENT = timedelta(seconds=1)


@dataclass(frozen=True)
class Period:
    """How long each row of a log dated by periods covers: some weeks or some months."""

    weeks: int = 0
    months: int = 0

    def __str__(self) -> str:
        if self.weeks:
            return "week" if self.weeks == 1 else f"{self.weeks} weeks"
        return {1: "month", 3: "quarter", 12: "year"}.get(self.months, f"{self.months} months")

    def last_moment(self, start: ir.TimestampValue) -> ir.TimestampValue:
        """The last moment of the period starting at ``start``."""
        length = ibis.interval(days=7 * self.weeks) if self.weeks else ibis.interval(months=self.months)
        return start + length - ibis.interval(seconds=LAST_MOMENT.seconds)

    def start_of(self, last_moment: datetime) -> datetime:
        """The start of the period whose last moment is ``last_moment`` (``last_moment``'s inverse)."""
        end = last_moment + LAST_MOMENT
        if self.weeks:
            return end - timedelta(weeks=self.weeks)
        months = end.year * 12 + end.month - 1 - self.months
        return end.replace(year=months // 12, month=months % 12 + 1)


def log_period(days: list[date]) -> Period | None:
    """The period of a log whose rows are dated by ``days`` (distinct, in order, none with a time of day): weeks
    when every day is the same weekday a whole number of weeks apart, months when every day is a month's first;
    None for a log of days, or when two days are too few to tell."""
    if len(days) < 2:
        return None
    gap = min((later - earlier).days for earlier, later in zip(days, days[1:]))
    if all(day.day == 1 for day in days) and gap >= 28:
        month_number = [day.year * 12 + day.month for day in days]
        return Period(months=min(later - earlier for earlier, later in zip(month_number, month_number[1:])))
    if gap % 7 == 0 and len({day.weekday() for day in days}) == 1:
        return Period(weeks=gap // 7)
    return None


def period_of(events: ir.Table, since: datetime) -> Period | None:
    """The period ``events`` are dated by (``log_period``, from the days at or after ``since``: earlier ones are
    placeholders), None for a log with times of day: a look at rows until one has a time of day, which a log of
    events shows in its first row."""
    timed = events.filter(events.timestamp != events.timestamp.truncate("D")).select("timestamp").limit(1)
    if timed.to_pyarrow().num_rows:
        return None
    dated = events.filter(events.timestamp >= since)
    days = dated.select(day=dated.timestamp.date()).distinct().order_by("day")
    return log_period(days.to_pyarrow().column("day").to_pylist())


def counted_at_period_end(events: ir.Table, period: Period) -> ir.Table:
    """``events`` with each row dated by its period's last moment (``Period.last_moment``)."""
    return events.mutate(timestamp=period.last_moment(events.timestamp))


def without_empty_counts(events: ir.Table) -> tuple[ir.Table, dict[str, int]]:
    """A log of counts without the rows counting nothing, or nothing known (``event_count`` empty), and how many
    of each there were; the log as it is when it has no counts."""
    if "event_count" not in events.columns:
        return events, {}
    count = events.event_count
    figures = events.aggregate(zero=(count == 0).sum().fill_null(0), empty=count.isnull().sum().fill_null(0))
    found = figures.to_pyarrow().to_pylist()[0]
    skipped = {NO_EVENTS: int(found["zero"]), "empty event_count": int(found["empty"])}
    return (events.filter(count > 0) if any(skipped.values()) else events), skipped


def event_total(events: ir.Table) -> ir.IntegerScalar:
    """How many events the rows stand for: their counts' sum in a log of counts, else one per row."""
    if "event_count" in events.columns:
        return events.event_count.sum().cast("int64")
    return events.count()
