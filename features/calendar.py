"""Segments: the time resolution window features need, so big logs are read once and compacted.

Every window feature compares a row's time with a few *edges*: ``as_of``, ``as_of - w`` and
``as_of - 2w`` for each observation date and window. Between two consecutive edges no feature
can tell rows apart, so a log is grouped by segment (the index of the last edge at or before a
row's time) in one pass, and the observation dates are joined to the few segments instead of
to every row. ``Calendar`` holds the edges and the small lookup tables that do that join:

- ``segment_dates``: for each observation date, the segments before it, each with one 0/1
  column per span (``cur_30``: the last 30 days; ``prev_30``: the 30 days before those);
- ``span_masks``: the same spans as bit masks over segment indices, for per-user activity
  kept as a bit set (a user is active in a span when their bits and the span's mask meet).

The rule is ``windows.in_window``; ``test_calendar`` checks that segments agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from features.windows import in_window

BITS_PER_WORD = 62  # bits of a signed 64-bit word a left shift can set without reaching the sign


@dataclass(frozen=True)
class Calendar:
    dates: tuple[date, ...]
    windows: tuple[int, ...]

    @cached_property
    def moments(self) -> list[datetime]:
        return [datetime.combine(d, datetime.min.time()) for d in self.dates]

    @cached_property
    def points(self) -> list[datetime]:
        """Segment starts: a sentinel for everything before the first edge, then every edge."""
        edges = {m - timedelta(days=days) for m in self.moments for w in self.windows for days in (0, w, 2 * w)}
        edges = sorted(edges)
        return [edges[0] - timedelta(days=1), *edges]

    @cached_property
    def spans(self) -> dict[str, tuple[int, int]]:
        """Span name → (window days, lag days): the current window and the one before it, for trends."""
        return {name: span for w in self.windows for name, span in ((f"cur_{w}", (w, 0)), (f"prev_{w}", (w, w)))}

    @property
    def words(self) -> int:
        """64-bit words for a bit set of the segments a span can hold: all but the first (before every
        edge) and the last (from the last date on), bit ``segment - 1``."""
        return -(-(len(self.points) - 2) // BITS_PER_WORD)

    def index(self, moment: datetime) -> int:
        return self.points.index(moment)

    def segment(self, t: ir.TimestampValue) -> ir.IntegerValue:
        """Index of the last segment start at or before ``t`` (null stays null); about log2(edges) comparisons."""
        points = self.points

        def pick(lo: int, hi: int):
            if lo == hi:
                return ibis.literal(lo, type="int16")
            mid = (lo + hi + 1) // 2
            return ibis.ifelse(t < ibis.literal(points[mid], type="timestamp"), pick(lo, mid - 1), pick(mid, hi))

        return ibis.cases((t.notnull(), pick(0, len(points) - 1)))

    def in_span(self, segment: int, as_of: datetime, span: str) -> bool:
        window, lag = self.spans[span]
        return bool(in_window(self.points[segment], as_of, window, lag_days=lag))

    def segment_dates(self, within: list[str] | None = None) -> ir.Table:
        """(segment, as_of, now, <span>...): every segment before each date, ``now`` being the date's own index.

        ``within`` keeps only the segments inside one of those spans of the date: all a sum over
        them needs (the latest time before a date needs every segment before it). Fewer pairs make
        the join that spreads a compacted log over the dates smaller.
        """
        rows = {"segment": [], "as_of": [], "now": [], **{span: [] for span in self.spans}}
        for moment in self.moments:
            now = self.index(moment)
            for segment in range(now):
                if within is not None and not any(self.in_span(segment, moment, span) for span in within):
                    continue
                rows["segment"].append(segment)
                rows["as_of"].append(moment)
                rows["now"].append(now)
                for span in self.spans:
                    rows[span].append(int(self.in_span(segment, moment, span)))
        schema = {"segment": pa.int16(), "as_of": pa.timestamp("us"), "now": pa.int16(), **dict.fromkeys(self.spans, pa.int8())}
        return ibis.memtable(pa.table({name: pa.array(values, schema[name]) for name, values in rows.items()}))

    def span_masks(self) -> ir.Table:
        """(as_of, now, <span>_<word>...): each span of each date as bit masks over segment indices."""
        rows = {"as_of": self.moments, "now": [self.index(m) for m in self.moments]}
        for span in self.spans:
            for word in range(self.words):
                rows[f"{span}_{word}"] = [self._mask(moment, span, word) for moment in self.moments]
        columns = {name: pa.array(values) for name, values in rows.items()}
        columns["as_of"] = pa.array(self.moments, pa.timestamp("us"))
        return ibis.memtable(pa.table(columns))

    def activity_bits(self, segment: ir.IntegerValue) -> dict[str, ir.IntegerValue]:
        """Per word, the bit of ``segment`` (0 in other words); ``bit_or`` over rows gives the set of active segments."""
        one = ibis.literal(1, type="int8").cast("int64")  # written as a cast: Spark reads a bare 1 as a 32-bit int,
        # and its shift of one wraps at 32 bits
        bits = {}
        for word in range(self.words):
            low = 1 + word * BITS_PER_WORD
            inside = (segment >= low) & (segment < low + BITS_PER_WORD)
            bits[f"bits_{word}"] = ibis.ifelse(inside, one << (segment.cast("int64") - low), 0)
        return bits

    def _mask(self, moment: datetime, span: str, word: int) -> int:
        low = 1 + word * BITS_PER_WORD
        segments = range(low, min(low + BITS_PER_WORD, self.index(moment)))
        return sum(1 << (segment - low) for segment in segments if self.in_span(segment, moment, span))
