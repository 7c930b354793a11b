"""Who is a customer at each observation date, and whether they churned within the horizon.

Subscriptions are merged into *spells*: unbroken stretches of paying, where a new subscription
starting within ``grace_days`` of the previous one ending is a renewal, not a loss. The end of
a spell is a churn. An account that comes back later starts a new spell; it is a customer
again (and can churn again) from then on, and its earlier churns become a feature.

A customer at ``as_of`` is an account with a subscription running then: started before
``as_of`` and not ended before it. Only what is known at ``as_of`` decides that: of the end
dates, only whether they fall before it. An account in a lapse between two subscriptions is not
a customer while the lapse lasts, whether or not it renews later, so the future cannot choose
the rows.

The label window is ``[as_of, as_of + horizon)``: a customer's subscription runs at least
until ``as_of``, so a churn dated on ``as_of`` itself (the last day paid) belongs to that row.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from features.windows import shift

OPEN_END = datetime(9999, 12, 31)


def churn_dates(subscriptions: ir.Table, grace_days: int) -> ir.Table:
    """One row per spell end (account_id, churned_at); a spell still running has none."""
    subs = subscriptions.mutate(end_or_open=subscriptions.end_date.fill_null(ibis.literal(OPEN_END)))
    earlier = ibis.window(group_by="account_id", order_by=["start_date", "end_or_open"], rows=(None, -1))
    running_end = subs.end_or_open.max().over(earlier)
    starts_spell = running_end.isnull() | (subs.start_date > shift(running_end, grace_days))
    subs = subs.mutate(starts_spell=starts_spell.cast("int64"))
    cumulative = ibis.window(group_by="account_id", order_by=["start_date", "end_or_open"], rows=(None, 0))
    subs = subs.mutate(spell=subs.starts_spell.sum().over(cumulative))
    spells = subs.group_by(["account_id", "spell"]).aggregate(churned_at=subs.end_or_open.max())
    return spells.filter(spells.churned_at < ibis.literal(OPEN_END)).select("account_id", "churned_at")


def customers(subscriptions: ir.Table, dates: ir.Table) -> ir.Table:
    """(account_id, as_of) for every account with a subscription running at ``as_of``.

    Also the subscription figures known at ``as_of`` that the account family builds on.
    """
    joined = subscriptions.cross_join(dates)
    joined = joined.filter(joined.start_date < joined.as_of)
    running = joined.end_date.isnull() | (joined.end_date >= joined.as_of)
    state = joined.group_by(["account_id", "as_of"]).aggregate(
        running_subscriptions=running.sum(),
        current_start=joined.start_date.max(where=running),
        mrr=joined.mrr.sum(where=running),
        subscription_seats=joined.seats.sum(where=running),
    )
    return state.filter(state.running_subscriptions > 0)


def churn_labels(
    spine: ir.Table, churns: ir.Table, *, horizon_days: int, grace_days: int, observed_until: datetime
) -> ir.Table:
    """``churned`` per spine row: 1, 0, or null while ``as_of + horizon + grace`` is past the data.

    A churn is only certain once its grace period has passed without a renewal, so a label
    needs the whole horizon plus the grace period observed.
    """
    joined = spine.select("account_id", "as_of").join(churns, "account_id")
    hit = joined.filter(
        (joined.churned_at >= joined.as_of) & (joined.churned_at < shift(joined.as_of, horizon_days))
    )
    hits = hit.group_by(["account_id", "as_of"]).aggregate(hit=hit.count())
    labelled = spine.left_join(hits, ["account_id", "as_of"]).select(spine, "hit")
    last = last_labelled_date(observed_until, horizon_days=horizon_days, grace_days=grace_days)
    known = labelled.as_of.date() <= ibis.literal(last, type="date")
    churned = ibis.cases((~known, ibis.null("int8")), (labelled.hit > 0, 1), else_=0).cast("int8")
    return labelled.mutate(churned=churned).drop("hit")


def last_labelled_date(observed_until: datetime, *, horizon_days: int, grace_days: int) -> date:
    """The latest as_of whose label is observable: horizon and grace both inside the data."""
    return shift(observed_until, -(horizon_days + grace_days)).date()
