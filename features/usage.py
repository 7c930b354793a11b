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

from features.calendar import Calendar
from features.mapping import EventMapping
from features.windows import days_between, feature_name, on_spine, ratio, shift, slug, trend

KINDS = ("login", "password_reset", "kb_view", "content_download", "micro_conversion")


def events_by_segment(events: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, event_type, segment, events, last_seen)."""
    segmented = events.mutate(segment=calendar.segment(events.timestamp))
    return segmented.group_by(["account_id", "event_type", "segment"]).aggregate(
        events=segmented.count(), last_seen=segmented.timestamp.max()
    )


def user_activity(events: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, user_id, first_seen, bits_0, bits_1, ...): when each user was seen, as a set of segments."""
    segment = calendar.segment(events.timestamp)
    bits = calendar.activity_bits(segment)
    return events.group_by(["account_id", "user_id"]).aggregate(
        first_seen=events.timestamp.min(), **{name: bit_or(bit) for name, bit in bits.items()}
    )


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
    """Feature slug → raw event types, for the ``max_event_types`` most frequent slugs."""
    groups: dict[str, list[str]] = {}
    for event_type, _ in counts:
        name = slug(event_type)
        if name in groups or len(groups) < max_event_types:
            groups.setdefault(name, []).append(event_type)
    return groups


def usage_features(
    spine: ir.Table,
    by_segment: ir.Table,
    users: ir.Table,
    calendar: Calendar,
    *,
    mapping: EventMapping,
    event_types: list[str],
    generic_types: dict[str, list[str]],
    generic_window: int,
    history_start: datetime,
) -> ir.Table:
    """The event-log features for every spine row, plus ``active_users_{w}`` and ``users_ever`` for ratios.

    A window reaching back before ``history_start`` (the log's first event) is not observed in
    full, so its counts are null rather than too low; a trend needs the window before it too.
    """
    counts = _counts_per_date(by_segment, calendar)
    kinds = {kind: counts.event_type.isin(mapping.types_of(kind, event_types) or [""]) for kind in KINDS}
    product = counts.event_type.isin(mapping.feature_types(event_types) or [""])
    raw = {"last_seen": counts.last_seen.max()}
    for w in calendar.windows:
        cur, prev = counts[f"cur_{w}"], counts[f"prev_{w}"]
        raw |= {
            f"events_{w}": cur.sum(),
            f"events_prev_{w}": prev.sum(),
            f"breadth_{w}": counts.count(where=product & (cur > 0)),
            **{f"{kind}_{w}": cur.sum(where=kinds[kind]) for kind in KINDS},
            f"login_prev_{w}": prev.sum(where=kinds["login"]),
        }
    for name, raw_types in generic_types.items():
        is_type = counts.event_type.isin(raw_types)
        raw[f"type_{name}"] = counts[f"cur_{generic_window}"].sum(where=is_type)
        raw[f"type_prev_{name}"] = counts[f"prev_{generic_window}"].sum(where=is_type)
    per_account = counts.group_by(["account_id", "as_of"]).aggregate(**raw)
    table = on_spine(spine, per_account).join(on_spine(spine, _active_users(users, calendar)), ["account_id", "as_of"])
    return _named(table, calendar.windows, generic_types, generic_window, history_start)


def usage_ratios(table: ir.Table, windows: tuple[int, ...], seats: str, users_ever: str) -> dict[str, ir.Value]:
    """Seat utilisation and share of the organisation active, once seats and users ever are joined in."""
    columns = {}
    for w in windows:
        active = table[f"active_users_{w}"]
        columns[feature_name("usage", "seat_utilisation", w)] = ratio(active.cast("float64"), table[seats])
        columns[feature_name("usage", "active_user_share", w)] = ratio(active.cast("float64"), table[users_ever])
    return columns


def _counts_per_date(by_segment: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, event_type, as_of, last_seen, cur_7, prev_7, ...): event counts per span of each date."""
    dates = calendar.segment_dates()
    joined = by_segment.join(dates, "segment")
    return joined.group_by(["account_id", "event_type", "as_of"]).aggregate(
        last_seen=joined.last_seen.max(),
        **{span: (joined.events * joined[span]).sum() for span in calendar.spans},
    )


def _active_users(users: ir.Table, calendar: Calendar) -> ir.Table:
    """(account_id, as_of, users_ever, active_<span>...): users seen before each date, and active in each span."""
    masks = calendar.span_masks()
    joined = users.cross_join(masks)

    def active(span: str):
        hit = ibis.literal(False)
        for word in range(calendar.words):
            hit |= (joined[f"bits_{word}"] & joined[f"{span}_{word}"]) != 0
        return hit

    return joined.group_by(["account_id", "as_of"]).aggregate(
        users_ever=joined.count(where=joined.first_seen < joined.as_of),
        **{f"active_{span}": joined.count(where=active(span)) for span in calendar.spans},
    )


def _named(raw: ir.Table, windows, generic_types, generic_window: int, history_start: datetime) -> ir.Table:
    start = ibis.literal(history_start, type="timestamp")

    def count(column: str, days: int):
        """No events in an observed window is zero; a window reaching before the log is unknown."""
        return ibis.ifelse(shift(raw.as_of, -days) >= start, raw[column].fill_null(0), ibis.null())

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
            feature_name("usage", "breadth", w): count(f"breadth_{w}", w),
            feature_name("usage", "micro_conversions", w): count(f"micro_conversion_{w}", w),
            feature_name("support", "password_resets", w): count(f"password_reset_{w}", w),
            feature_name("support", "kb_views_per_active_user", w): ratio(count(f"kb_view_{w}", w).cast("float64"), active),
            feature_name("engagement", "content_downloads", w): count(f"content_download_{w}", w),
        }
    gw = generic_window
    active = count(f"active_cur_{gw}", gw)
    for name in generic_types:
        current = count(f"type_{name}", gw)
        columns |= {
            feature_name("events", f"{name}__count", gw): current,
            feature_name("events", f"{name}__per_active_user", gw): ratio(current.cast("float64"), active),
            feature_name("events", f"{name}__trend", gw): trend(current, count(f"type_prev_{name}", 2 * gw)),
        }
    kept = {f"active_users_{w}": count(f"active_cur_{w}", w) for w in windows}
    return raw.select("account_id", "as_of", users_ever=raw.users_ever.fill_null(0), **kept, **columns)
