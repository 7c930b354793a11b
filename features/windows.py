"""The one window rule, the one naming rule, and the observation dates every feature shares.

A feature at ``as_of`` sees a row only if its time ``t`` satisfies ``as_of - window <= t < as_of``.
``as_of`` is a date and means midnight at its start, so everything that happened on the
day before counts and nothing on the day itself does.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir

FREQUENCIES = ("monthly", "weekly")


def in_window(t, as_of, window_days: int | None = None, *, lag_days: int = 0):
    """``as_of - lag - window <= t < as_of - lag``; no lower bound when ``window_days`` is None.

    ``lag_days=window_days`` gives the previous window of equal length (for trends). Works on
    Ibis values and on plain Python dates alike, so segment bookkeeping and SQL agree.
    """
    end = shift(_align(t, as_of), -lag_days)
    before = t < end
    if window_days is None:
        return before
    return (t >= shift(end, -window_days)) & before


def shift(moment, days: int):
    """``moment`` plus ``days`` days; Ibis cannot type a zero interval, so zero is no shift at all."""
    return moment + timedelta(days=days) if days else moment


def days_between(later, earlier):
    """Whole calendar days from ``earlier`` to ``later``: a difference of dates, which every engine counts alike
    (a difference of timestamps in days is counted in boundaries crossed by DuckDB, in elapsed time by Spark)."""
    return later.date().delta(earlier.date(), unit="day")


def feature_name(family: str, signal: str, window_days: int | None = None) -> str:
    """``usage__logins__30d``: family, signal and window, so a column's definition is found from its name."""
    name = f"{family}__{signal}"
    return name if window_days is None else f"{name}__{window_days}d"


@functools.lru_cache(maxsize=1 << 16)
def slug(text: str) -> str:
    """Lowercase, accents dropped, runs of anything but letters and digits one underscore.

    ``Rapport créé`` is ``rapport_cree``; letters of other scripts are kept, so two event types
    named in Japanese do not share one slug (and one column) for want of Latin letters. Cached:
    a log of page views may hold tens of thousands of event types, each looked at several times.
    """
    text = str(text)
    if not text.isascii():
        letters = (_without_accent(character) for character in unicodedata.normalize("NFC", text))
        text = "".join(letters)
    return re.sub(r"[\W_]+", "_", text.casefold()).strip("_") or "blank"


def plain(text: str) -> str:
    """``text`` with case, spaces and punctuation set aside: ``Password Reset Requested``, ``password-reset-requested``
    and ``passwordResetRequested`` are all ``passwordresetrequested``."""
    return slug(text).replace("_", "")


def words(text: str) -> list[str]:
    """``text``'s words, lower case, camelCase split too: ``userSignedIn`` and ``User Signed-In`` are user, signed, in."""
    return slug(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(text))).split("_")


def _without_accent(character: str) -> str:
    """A Latin letter without its accents (``é`` → ``e``); any other character as it is."""
    decomposed = unicodedata.normalize("NFKD", character)
    return decomposed.encode("ascii", "ignore").decode() if decomposed[:1].isascii() else character


def trend(current, previous):
    """``(current + 1) / (previous + 1)``: 1 is flat, 2 doubled, 0.5 halved; defined when the past is empty."""
    return (current + 1) / (previous + 1)


def sum_if(count, condition):
    """A whole ``count`` summed over the rows meeting ``condition`` (zero when rows exist and none do).

    A sum of a conditional rather than a filtered aggregate (``sum(where=...)``): with dozens of
    them in one query, DuckDB runs filtered aggregates several times slower. Summed as a double,
    exact for counts below 2**53: DuckDB sums 64-bit integers into 128-bit totals, and that wider
    state makes a query with dozens of such sums about 1.5 times slower.
    """
    return ibis.ifelse(condition, count.cast("float64"), 0.0).sum().cast("int64")


def observed(count, as_of, days: int, start: datetime | None):
    """A count over the ``days`` before ``as_of``, null meaning no rows: zero when nothing happened in a window
    the log covers, null when the window reaches back before ``start`` (the log's first row).

    Before its first row a log knows nothing, rather than that nothing happened: a helpdesk adopted
    last year, or an email tool that keeps a year, would otherwise read as a year of no tickets or emails.
    """
    zero = count.fill_null(0)
    if start is None:
        return zero
    return ibis.ifelse(shift(as_of, -days) >= ibis.literal(start, type="timestamp"), zero, ibis.null())


def ratio(numerator, denominator):
    """Null, not zero or infinity, when the denominator is zero or missing."""
    return numerator / denominator.nullif(0)


def on_spine(spine: ir.Table, table: ir.Table) -> ir.Table:
    """``table``'s columns for every (account_id, as_of) of the spine, null where it has no row."""
    keys = ["account_id", "as_of"]
    base = spine.select(*keys)
    joined = base.left_join(table, keys)
    return joined.select(*[base[key] for key in keys], *[table[c] for c in table.columns if c not in keys])


def observation_dates(first: datetime, last: datetime, freq: str) -> list[date]:
    """Period starts (first of month, or Mondays) strictly after ``first`` and on or before ``last``."""
    if freq not in FREQUENCIES:
        from features.errors import ChurnInputError

        raise ChurnInputError(f"unknown frequency {freq!r}; use one of {', '.join(FREQUENCIES)}", table="freq")
    day = first.date() if isinstance(first, datetime) else first
    dates = []
    while True:
        day = _next_period_start(day, freq)
        if day > (last.date() if isinstance(last, datetime) else last):
            return dates
        dates.append(day)


def _next_period_start(day: date, freq: str) -> date:
    if freq == "weekly":
        return day + timedelta(days=7 - day.weekday())
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _align(t, as_of):
    """Python refuses to compare datetimes with dates; Ibis does it for us."""
    if isinstance(t, datetime) and type(as_of) is date:
        return datetime.combine(as_of, datetime.min.time())
    return as_of
