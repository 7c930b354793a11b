"""How exports write times, numbers and ratings as text, and how each engine reads them.

Text times with a zone or an offset, Unix times in any unit, numeric dates month or day first
("09/20/2024 5:05 PM", "20.09.2024"), numbers in a locale's or a spreadsheet's style ("$1,234.50",
"1.234,50 €"), durations ("26:05:00", or minutes as a column's name says) and CSAT ratings as words
(Zendesk's good / bad). Each reading is an Ibis expression (DuckDB and Spark alike; for numeric dates,
each engine's own date parser); which reading a column takes is decided from its values in
``features.contract``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from features.windows import words


# A time of day followed by a UTC offset or a zone: "10:00+02:00", "10:00:00.5 -0300", "10:00Z", "10:00 Europe/Paris".
ZONED = r"[0-9]:[0-9]{2}(:[0-9]{2}([.,][0-9]*)?)?\s*[+A-Za-z-]"


def text_time(text: ir.StringValue) -> ir.TimestampValue:
    """Text as a time; null when the text is no time. Text naming a zone or offset is read through a zoned
    timestamp, as the instant it names in UTC; other text directly, several times faster (a plain timestamp
    would read "10:00+02:00" as 10:00, dropping the offset, so the zone must be looked for first). An offset
    may follow a space, as Ruby writes times ("2025-07-01 09:34:56 -0300")."""
    joined = text.replace(" +", "+").replace(" -", "-")
    zoned = joined.try_cast(dt.Timestamp(timezone="UTC")).cast("timestamp")
    return ibis.ifelse(text.re_search(ZONED), zoned, text.try_cast("timestamp"))


# Unix times: (values below this size, units per second); seconds from 1973 on, and so on; None: not a time.
EPOCH_UNITS = ((1e8, None), (1e11, 1), (1e14, 10**3), (1e17, 10**6), (1e20, 10**9))
# Spreadsheet serial dates (Excel, LibreOffice, Google Sheets: days since 1899-12-30, the time of day as the fraction),
# as a date column formatted as a number exports: read from 1990-01-01 to 2100-01-01, a range no Unix time falls in.
SERIAL_DAYS = (32874, 73051)
SERIAL_UNIX_DAY = 25569  # 1970-01-01


def time_from_number(value: ir.NumericValue) -> ir.TimestampValue:
    """A Unix time in seconds, milliseconds, microseconds or nanoseconds, told apart by size (each unit's values
    for the years 1973 to 5138 fall in their own range), or a spreadsheet's serial date (``SERIAL_DAYS``); null
    outside those ranges, so a bare year is not a time.

    Cut to whole seconds, the finest unit every engine converts, and never below a whole second the time was at
    or after, so no row moves into an earlier window (a serial's fraction first to the millisecond it stands for).
    """
    size = value.abs()
    if value.type().is_floating():
        size = ibis.ifelse(value.isnan(), ibis.null("float64"), size)
    per_second = ibis.cases(*[(size < below, ibis.literal(units, type="int64")) for below, units in EPOCH_UNITS])
    seconds = value // per_second if value.type().is_integer() else (value / per_second).floor()
    serial = ((value.cast("float64") - SERIAL_UNIX_DAY) * 86400).round(3).floor()
    seconds = ibis.ifelse((value >= SERIAL_DAYS[0]) & (value < SERIAL_DAYS[1]), serial, seconds)
    return seconds.cast("int64").as_timestamp("s").cast("timestamp")


# Text that starts as a date with day and month as numbers, as spreadsheets and CRMs export them: "09/20/2024",
# "20.09.2024 17:05", "9/20/2024 5:05:33 PM". Read once a table's own values show the order and the form.
NUMERIC_DATE = r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}( |$)"
# The forms read: one separator, a four-digit year, then maybe a time with or without seconds and fraction, AM or PM.
NUMERIC_DATE_FORM = re.compile(
    r"[0-9]{1,2}([/.-])[0-9]{1,2}([/.-])([0-9]{2,4})"
    r"(?: ([0-9]{1,2}):[0-9]{2}(:[0-9]{2}(?:([.,])[0-9]{1,6})?)?( ?)([AP]M)?)?"
)
# A numeric date month or day first, for telling an account attribute holding dates from one holding versions (1.2.10).
ANY_NUMERIC_DATE = r"^(0?[1-9]|[12][0-9]|3[01])[/.-](0?[1-9]|[12][0-9]|3[01])[/.-][0-9]{4}( |$)"
MONTH_FIRST, DAY_FIRST = "month_first", "day_first"
DATE_ORDERS = (MONTH_FIRST, DAY_FIRST)
ORDER_SETTING = f'[dates] order = "{MONTH_FIRST}" or "{DAY_FIRST}"'  # how a mapping names the order


@ibis.udf.scalar.builtin(name="try_strptime")
def _duckdb_try_strptime(text: str, form: str) -> datetime:
    """DuckDB's ``try_strptime``: null when the text does not fit the format."""


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _spark_try_to_timestamp(text: str, form: str) -> datetime:
    """Spark's ``try_to_timestamp``: null when the text does not fit the format."""


@dataclass(frozen=True)
class DateFormat:
    """One form of numeric date, in each engine's format language: a format is read by the engine's own parser,
    which checks the day exists, and is many times faster than taking the text apart."""

    strftime: str  # DuckDB's strptime: %m/%d/%Y %I:%M %p
    java: str  # Spark's to_timestamp: M/d/yyyy h:m a

    def read(self, text: ir.StringValue, engine: str) -> ir.TimestampValue:
        """``text`` (upper case, stripped) as a time on ``engine`` (an Ibis backend's name); null when it does not fit."""
        if engine == "pyspark":
            return _spark_try_to_timestamp(text, self.java).cast("timestamp")
        return _duckdb_try_strptime(text, self.strftime).cast("timestamp")


def date_format(example: str, order: str) -> DateFormat | None:
    """The format of ``example`` (upper case, stripped), a numeric date written ``order``; None for a form not read.
    A two-digit year is refused before (``features.contract.date_formats``), as it leaves the century a guess."""
    form = NUMERIC_DATE_FORM.fullmatch(example)
    if form is None or form[1] != form[2] or len(form[3]) != 4:
        return None
    separator, (first, second) = form[1], ("%m", "%d") if order == MONTH_FIRST else ("%d", "%m")
    codes = [first, separator, second, separator, "%Y"]
    if form[4]:
        codes += [" ", "%I" if form[8] else "%H", ":", "%M"]
        if form[5]:
            codes += [":", "%S"] + ([form[6], "%f"] if form[6] else [])
        if form[8]:
            codes += [form[7], "%p"]
    java = {"%m": "M", "%d": "d", "%Y": "yyyy", "%H": "H", "%I": "h", "%M": "m", "%S": "s", "%f": "SSSSSS", "%p": "a"}
    return DateFormat("".join(codes), "".join(java.get(code, code) for code in codes))


# A number with marks: digits with thousands marks (, . space ') and a decimal mark, a currency or a sign around
# (up to five characters each side: "USD ", " €", "-$"), maybe in parentheses.
MARKED_NUMBER = r"^[(]?[^0-9()]{0,5}([0-9]([0-9.,' ’]*[0-9])?)[^0-9()]{0,5}[)]?$"
DECIMAL_MARKS = (".", ",")
DECIMAL_SETTING = '[numbers] decimal = "." or ","'  # how a mapping names the decimal mark


@dataclass(frozen=True)
class NumberFormat:
    """How a column writes numbers as a spreadsheet or a locale does: "$1,234.50" (decimal point) or "1.234,50 €"
    (decimal comma). A currency around the digits is set aside, the other mark, spaces and apostrophes separate
    thousands, and a number in parentheses is negative, as accounts write it."""

    decimal: str  # "." or ","

    def read(self, text: ir.StringValue) -> ir.FloatingValue:
        """The number ``text`` writes; null when it is none (a letter among its digits, more than a currency around)."""
        digits = text.re_extract(MARKED_NUMBER, 1)
        for mark in (" ", "'", "’", "," if self.decimal == "." else "."):
            digits = digits.replace(mark, "")
        number = (digits.replace(",", ".") if self.decimal == "," else digits).try_cast("float64")
        negative = text.re_search("^[^0-9]*-") | (text.contains("(") & text.contains(")"))
        return ibis.ifelse(negative, -number, number)


def decimal_mark(shape: str) -> str | None:
    """"." or "," when a number's marks show which is the decimal one (``9,999.99``, ``99,9``, ``9.999.999``); None
    when they cannot (``9,999``, or no mark at all)."""
    commas, points = shape.count(","), shape.count(".")
    if commas and points:
        return "." if shape.rfind(".") > shape.rfind(",") else ","
    if not commas and not points:
        return None
    mark, other = (",", ".") if commas else (".", ",")
    if shape.count(mark) > 1:
        return other
    return None if len(shape) - shape.rfind(mark) - 1 == 3 else mark


# Units a duration column's name states ("First reply time in minutes", "Resolution time (in hrs)"), in seconds.
DURATION_UNITS = {
    **dict.fromkeys(("seconds", "second", "secs", "sec"), 1), **dict.fromkeys(("minutes", "minute", "mins", "min"), 60),
    **dict.fromkeys(("hours", "hour", "hrs", "hr"), 3600), **dict.fromkeys(("days", "day"), 86400),
}
# A duration as hours, minutes and maybe seconds, as Freshdesk and HubSpot export them: "26:05:00", "0:45".
CLOCK_DURATION = r"^\s*([0-9]+):([0-5][0-9])(:([0-5][0-9]([.][0-9]*)?))?\s*$"


@dataclass(frozen=True)
class Duration:
    """How a column writes a length of time: as hours, minutes and seconds ("26:05:00"), or as a number of units
    its name states (``unit`` seconds each; None when it states none, and only the first form is read)."""

    unit: float | None

    def seconds(self, value: ir.Value) -> ir.FloatingValue:
        """``value`` in seconds; null when it is no duration."""
        if value.type().is_numeric():
            return value.cast("float64") * self.unit if self.unit else ibis.null("float64")
        text = value.cast("string")
        hours, minutes, seconds = (text.re_extract(CLOCK_DURATION, group).try_cast("float64") for group in (1, 2, 4))
        number = text.try_cast("float64") * self.unit if self.unit else ibis.null("float64")
        return ibis.ifelse(hours.notnull(), hours * 3600 + minutes * 60 + seconds.fill_null(0), number)


def duration_unit(column: str) -> float | None:
    """The unit, in seconds, a column's name states (``minutes`` in ``First reply time in minutes``); None when it
    states none, or two."""
    units = {DURATION_UNITS[word] for word in words(column) if word in DURATION_UNITS}
    return units.pop() if len(units) == 1 else None


def rating_key(text: str) -> str:
    """A rating's text with case, spaces and punctuation set aside: ``Not offered`` and ``not_offered`` are one."""
    return re.sub(r"[\W_]+", "", text.lower())


RATINGS_SETTING = 'e.g. [csat] scores = { good = 5, bad = 1 }, unrated = ["offered"]'


@dataclass(frozen=True)
class TextRatings:
    """CSAT ratings a helpdesk exports as text (Zendesk's ``good`` / ``bad``), each by its ``rating_key``: the
    score it stands for on the contract's 1-5 scale, and the texts that mean no rating (``offered``)."""

    scores: dict[str, float] = field(default_factory=dict)
    unrated: tuple[str, ...] = ()

    def scored(self, csat: ir.Value) -> ir.Value:
        """Text ratings as the numbers they stand for (as text, parsed as any other), unrated ones empty; a column
        of numbers, and text that is neither, as it is."""
        if not csat.type().is_string() or not (self.scores or self.unrated):
            return csat
        key = csat.lower().re_replace(r"[^\p{L}\p{N}]+", "")  # rating_key, in SQL
        cases = [(key == text, ibis.literal(f"{score:g}")) for text, score in self.scores.items()]
        cases += [(key.isin(list(self.unrated)), ibis.null("string"))] if self.unrated else []
        return ibis.cases(*cases, else_=csat)
