"""Support family from the tickets table: volume, backlog, speed of answer, resolution time, CSAT.

A ticket is seen at ``as_of`` only if it was opened before; its first response, resolution and
CSAT only if they happened before too (CSAT is taken to arrive with the resolution).
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from features.windows import feature_name, in_window, observed, on_spine, trend

FAMILY = "support"
# Features a tickets export lacking a column cannot give (``TableSpec.may_lack``): not built then.
NEEDS = {
    ("tickets.first_response_at",): ("support__unanswered_tickets", "support__median_first_response_hours"),
    ("tickets.resolved_at",): (  # CSAT is taken to arrive with the resolution
        "support__open_backlog", "support__median_resolution_hours", "support__csat_mean", "support__low_csat_tickets",
    ),
    ("tickets.csat",): ("support__csat_mean", "support__low_csat_tickets"),
}
HOUR = 3600.0


def support_features(
    spine: ir.Table, tickets: ir.Table, dates: ir.Table, windows: tuple[int, ...], *, history_start: datetime | None
) -> ir.Table:
    """The support family for every spine row; an account without tickets has zero counts, unknown times.

    A window reaching back before ``history_start`` (the first ticket in the log) has unknown counts.
    """
    t = tickets.cross_join(dates)
    t = t.filter(t.opened_at < t.as_of)
    answered = (t.first_response_at < t.as_of).fill_null(False)
    resolved = (t.resolved_at < t.as_of).fill_null(False)
    # A response or resolution stamped before the ticket opened (clock skew, tickets imported late) took no time.
    response_hours = ((t.first_response_at.epoch_seconds() - t.opened_at.epoch_seconds()) / HOUR).clip(lower=0)
    resolution_hours = ((t.resolved_at.epoch_seconds() - t.opened_at.epoch_seconds()) / HOUR).clip(lower=0)
    raw = {"open_backlog": t.count(where=~resolved), "unanswered": t.count(where=~answered)}
    for w in windows:
        opened_in = in_window(t.opened_at, t.as_of, w)
        resolved_in = in_window(t.resolved_at, t.as_of, w).fill_null(False)
        raw |= {
            f"opened_{w}": t.count(where=opened_in),
            f"opened_prev_{w}": t.count(where=in_window(t.opened_at, t.as_of, w, lag_days=w)),
            f"response_{w}": _median_of(response_hours, opened_in & answered),
            f"resolution_{w}": _median_of(resolution_hours, resolved_in),
            f"csat_{w}": t.csat.mean(where=resolved_in),
            f"low_csat_{w}": t.count(where=resolved_in & (t.csat <= 2).fill_null(False)),
        }
    r = on_spine(spine, t.group_by(["account_id", "as_of"]).aggregate(**raw))
    zero = lambda column: r[column].fill_null(0)  # noqa: E731
    count = lambda column, days: observed(r[column], r.as_of, days, history_start)  # noqa: E731
    columns = {
        feature_name(FAMILY, "open_backlog"): zero("open_backlog"),
        feature_name(FAMILY, "unanswered_tickets"): zero("unanswered"),
    }
    for w in windows:
        opened = count(f"opened_{w}", w)
        columns |= {
            feature_name(FAMILY, "tickets_opened", w): opened,
            feature_name(FAMILY, "tickets_opened_trend", w): trend(opened, count(f"opened_prev_{w}", 2 * w)),
            feature_name(FAMILY, "median_first_response_hours", w): r[f"response_{w}"],
            feature_name(FAMILY, "median_resolution_hours", w): r[f"resolution_{w}"],
            feature_name(FAMILY, "csat_mean", w): r[f"csat_{w}"],
            feature_name(FAMILY, "low_csat_tickets", w): count(f"low_csat_{w}", w),
        }
    return r.select("account_id", "as_of", **columns)


def _median_of(value: ir.FloatingValue, where: ir.BooleanValue) -> ir.FloatingScalar:
    """Median of ``value`` over the rows ``where`` holds. Written as a median over nulls elsewhere, because
    Ibis compiles ``median(where=...)`` for Spark into a percentile whose fraction is not a constant."""
    return ibis.ifelse(where, value, ibis.null()).median()
