"""Features from the product event log: usage, plus the support and engagement signals that live in it.

Usage: logins, active users, seat utilisation, events per active user, breadth of feature
adoption, micro-conversions, trends, days since last activity, share of the organisation's
users active. From the same log: password resets and knowledge-base views (support) and
content downloads (engagement). And for every event type, mapped or not, its count, rate per
active user and trend, so an event log nobody here has seen still yields features.

The log is read twice, each time grouped to a size independent of its length (see
``features.calendar``): event counts per account, event type and segment, and per user the bit
set of segments they were active in.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from features.calendar import Calendar
from features.event_types import feature_type
from features.mapping import KINDS, CompanyMapping
from features.rollups import event_total
from features.windows import days_between, feature_name, observed, on_spine, ratio, sum_if, trend

# Features of the event log a company's tables cannot give when they lack every column of a key: not built then.
# An event log without users (server-side or account-level events) still gives counts, trends and breadth.
NEEDS = {
    ("accounts.seats", "subscriptions.seats"): ("usage__seat_utilisation",),
    ("events.user_id",): (
        "usage__active_users", "usage__active_users_trend", "usage__events_per_active_user", "usage__seat_utilisation",
        "usage__active_user_share", "support__kb_views_per_active_user", "events__*__per_active_user",
    ),
}


def events_by_segment(events: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, event_type, segment, events, last_seen); a row of a log of counts is that many events."""
    segmented = events.mutate(segment=calendar.segment(events.timestamp))
    return segmented.group_by(["account_id", "event_type", "segment"]).aggregate(
        events=event_total(segmented), last_seen=segmented.timestamp.max()
    )


def user_activity(events: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, user_id, first_seen, bits_0, bits_1, ...): when each user was seen, as a set of segments.

    Events without a user (anonymous visits, system events) count as events, but are nobody's activity.
    """
    segmented = events.mutate(segment=calendar.segment(events.timestamp))
    users = _activity(segmented, "user_id", calendar, first_seen=segmented.timestamp.min())
    return users.filter(users.user_id.notnull())  # tested after grouping: one row per account, not every event


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(bits: int) -> int:
    """The engine's own ``bit_or`` aggregate (DuckDB and Spark both have one; not every Ibis compiler maps it)."""


def event_type_counts(by_segment: ir.Table, calendar: Calendar) -> list[tuple[str, int]]:
    """Every event type seen before the last observation date, most frequent first.

    Later events must not decide which columns the table has, or a row's features would
    depend on the future.
    """
    by_segment = by_segment.filter(by_segment.segment < calendar.index(calendar.moments[-1]))
    counts = by_segment.group_by("event_type").aggregate(n=by_segment.events.sum())
    counts = counts.order_by([ibis.desc("n"), "event_type"])
    return [(row["event_type"], int(row["n"])) for row in counts.to_pyarrow().to_pylist()]


def generic_event_types(counts: list[tuple[str, int]], max_event_types: int) -> dict[str, list[str]]:
    """Feature type → raw event types, for the ``max_event_types`` most frequent feature types (``feature_type``:
    every URL of one page is one type, however many records it shows)."""
    groups: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    for event_type, n in counts:
        name = feature_type(event_type)
        groups.setdefault(name, []).append(event_type)
        totals[name] = totals.get(name, 0) + n
    kept = sorted(totals, key=lambda name: (-totals[name], name))[:max_event_types]
    return {name: groups[name] for name in kept}


def counts_per_segment(
    by_segment: ir.Table, *, mapping: CompanyMapping, event_types: list[str], generic_types: dict[str, list[str]]
) -> ir.Table:
    """(account_id, segment, last_seen, events, kind_<kind>..., type_<slug>...): events per account and segment,
    in all and of each kind and generic type; what the windowed counts are summed from. Each event type's kinds and
    generic column come from a table of the types (``_with_type_columns``): a page's URLs may be thousands of types.
    """
    kinds = {f"kind_{kind}": set(mapping.types_of(kind, event_types)) for kind in KINDS}
    column_of = {raw: code for code, raw_types in enumerate(generic_types.values()) for raw in raw_types}
    t = _with_type_columns(by_segment, event_types, {
        "column": pa.array([column_of.get(raw, -1) for raw in event_types], pa.int16()),
        **{name: pa.array([raw in types for raw in event_types]) for name, types in kinds.items()},
    })
    return t.group_by(["account_id", "segment"]).aggregate(
        last_seen=t.last_seen.max(),
        events=t.events.sum(),
        **{name: sum_if(t.events, t[name]) for name in kinds},
        **{f"type_{name}": sum_if(t.events, t.column == code) for code, name in enumerate(generic_types)},
    )


def usage_features(
    spine: ir.Table,
    by_segment: ir.Table,
    per_segment: ir.Table,
    users: ir.Table,
    calendar: Calendar,
    *,
    mapping: CompanyMapping,
    event_types: list[str],
    generic_types: dict[str, list[str]],
    generic_window: int,
    history_start: datetime,
) -> ir.Table:
    """The event-log features for every spine row, plus ``active_users_{w}`` and ``users_ever`` for ratios.

    Counts are summed from ``per_segment`` (``counts_per_segment``: one row per account and
    segment, not per event type too), each window joined to the dates through its own segments
    only. Breadth counts the product event types whose segment bits meet a window, as active
    users count users. A window reaching back before ``history_start`` (the log's first event)
    is not observed in full, so its counts are null rather than too low; a trend needs the
    window before it too.
    """
    sums = {w: {} for w in calendar.windows}  # per window, as each is spread over its own segments alone
    for w in calendar.windows:
        sums[w] |= {f"events_{w}": ("events", f"cur_{w}"), f"events_prev_{w}": ("events", f"prev_{w}")}
        sums[w] |= {f"{kind}_{w}": (f"kind_{kind}", f"cur_{w}") for kind in KINDS}
        sums[w][f"login_prev_{w}"] = ("kind_login", f"prev_{w}")
    for name in generic_types:  # slugs hold no "__", so these names cannot meet another type's
        sums[generic_window][f"type_cur__{name}"] = (f"type_{name}", f"cur_{generic_window}")
        sums[generic_window][f"type_prev__{name}"] = (f"type_{name}", f"prev_{generic_window}")
    parts = [_counts_per_date(per_segment, calendar, {}, last_seen=True)]
    parts += [_counts_per_date(per_segment, calendar, sums[w], within=[f"cur_{w}", f"prev_{w}"]) for w in calendar.windows]

    users_ever = lambda t: t.count(where=t.first_seen < t.as_of)  # noqa: E731
    parts.append(_active_members(users, calendar, list(calendar.spans), "active", users_ever=users_ever))
    product = _product_use(by_segment, event_types, mapping.housekeeping_types(event_types))
    product_types = _activity(product, "event_type", calendar)
    parts.append(_active_members(product_types, calendar, [f"cur_{w}" for w in calendar.windows], "breadth"))
    table = on_spine(spine, parts[0])
    for part in parts[1:]:
        table = table.join(on_spine(spine, part), ["account_id", "as_of"])
    return _named(table, calendar.windows, generic_types, generic_window, history_start)


def usage_ratios(table: ir.Table, windows: tuple[int, ...], seats: str, users_ever: str) -> dict[str, ir.Value]:
    """Seat utilisation and share of the organisation active, once seats and users ever are joined in."""
    columns = {}
    for w in windows:
        active = table[f"active_users_{w}"]
        columns[feature_name("usage", "seat_utilisation", w)] = ratio(active.cast("float64"), table[seats])
        columns[feature_name("usage", "active_user_share", w)] = ratio(active.cast("float64"), table[users_ever])
    return columns


def _counts_per_date(
    per_segment: ir.Table,
    calendar: Calendar,
    sums: dict[str, tuple[str, str]],
    *,
    last_seen: bool = False,
    within: list[str] | None = None,
) -> ir.Table:
    """(account_id, as_of, [last_seen], <name>...): each name the sum of a column over a span of each date.

    ``within`` names every span the sums use, so only segments inside them are joined to the dates.
    """
    joined = per_segment.join(calendar.segment_dates(within), "segment")
    return joined.group_by(["account_id", "as_of"]).aggregate(
        **({"last_seen": joined.last_seen.max()} if last_seen else {}),
        **{name: sum_if(joined[column], joined[span] == 1) for name, (column, span) in sums.items()},
    )


def _activity(rows: ir.Table, member: str, calendar: Calendar, **extra) -> ir.Table:
    """(account_id, <member>, bits_0, ...): the set of segments each member (a user, an event type) was seen in,
    from rows with a ``segment`` column."""
    bits = calendar.activity_bits(rows.segment)
    return rows.group_by(["account_id", member]).aggregate(**extra, **{name: bit_or(bit) for name, bit in bits.items()})


def _product_use(by_segment: ir.Table, event_types: list[str], housekeeping: list[str]) -> ir.Table:
    """``by_segment``'s rows of product use, not of logging in or looking for help (``housekeeping``), each event
    type read as its feature type (a page's URLs as one); through a table of the types, as ``counts_per_segment``."""
    left_out = set(housekeeping)
    product = [event_type for event_type in event_types if event_type not in left_out]
    names = pa.array([feature_type(event_type) for event_type in product], pa.string())
    joined = _with_type_columns(by_segment, product, {"feature_type": names})  # an inner join: housekeeping left out
    return joined.mutate(event_type=joined.feature_type).drop("feature_type")


def _with_type_columns(by_segment: ir.Table, event_types: list[str], columns: dict[str, pa.Array]) -> ir.Table:
    """``by_segment``'s rows of ``event_types`` with each type's ``columns`` (a value per type, in their order), from
    a table of the types joined in: a list of thousands of types tested on every row would be slow."""
    lookup = ibis.memtable(pa.table({"raw_type": pa.array(event_types, pa.string()), **columns}))
    return by_segment.join(lookup, by_segment.event_type == lookup.raw_type).drop("raw_type")


def _active_members(members: ir.Table, calendar: Calendar, spans: list[str], prefix: str, **extra) -> ir.Table:
    """(account_id, as_of, <extra>..., <prefix>_<span>...): members whose segment bits meet each span of each date.

    ``extra`` are further aggregates, each a function of the members joined to the dates.
    """
    joined = members.cross_join(calendar.span_masks())

    def meets(span: str):
        hit = ibis.literal(False)
        for word in range(calendar.words):
            hit |= (joined[f"bits_{word}"] & joined[f"{span}_{word}"]) != 0
        return hit

    return joined.group_by(["account_id", "as_of"]).aggregate(
        **{name: aggregate(joined) for name, aggregate in extra.items()},
        **{f"{prefix}_{span}": joined.count(where=meets(span)) for span in spans},
    )


def _named(raw: ir.Table, windows, generic_types, generic_window: int, history_start: datetime) -> ir.Table:
    def count(column: str, days: int):
        return observed(raw[column], raw.as_of, days, history_start)

    columns = {feature_name("usage", "days_since_last_activity"): days_between(raw.as_of, raw.last_seen)}
    for w in windows:
        events, active = count(f"events_{w}", w), count(f"active_cur_{w}", w)
        logins = count(f"login_{w}", w)
        columns |= {
            feature_name("usage", "logins", w): logins,
            feature_name("usage", "logins_trend", w): trend(logins, count(f"login_prev_{w}", 2 * w)),
            feature_name("usage", "active_users", w): active,
            feature_name("usage", "active_users_trend", w): trend(active, count(f"active_prev_{w}", 2 * w)),
            feature_name("usage", "events", w): events,
            feature_name("usage", "events_trend", w): trend(events, count(f"events_prev_{w}", 2 * w)),
            feature_name("usage", "events_per_active_user", w): ratio(events.cast("float64"), active),
            feature_name("usage", "breadth", w): count(f"breadth_cur_{w}", w),
            feature_name("usage", "micro_conversions", w): count(f"micro_conversion_{w}", w),
            feature_name("support", "password_resets", w): count(f"password_reset_{w}", w),
            feature_name("support", "kb_views_per_active_user", w): ratio(count(f"kb_view_{w}", w).cast("float64"), active),
            feature_name("engagement", "content_downloads", w): count(f"content_download_{w}", w),
        }
    gw = generic_window
    active = count(f"active_cur_{gw}", gw)
    for name in generic_types:
        current = count(f"type_cur__{name}", gw)
        columns |= {
            feature_name("events", f"{name}__count", gw): current,
            feature_name("events", f"{name}__per_active_user", gw): ratio(current.cast("float64"), active),
            feature_name("events", f"{name}__trend", gw): trend(current, count(f"type_prev__{name}", 2 * gw)),
        }
    kept = {f"active_users_{w}": count(f"active_cur_{w}", w) for w in windows}
    return raw.select("account_id", "as_of", users_ever=raw.users_ever.fill_null(0), **kept, **columns)
