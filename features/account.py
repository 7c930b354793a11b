"""Account family: tenure, the first 90 days, plan, seats, MRR and its change, renewal timing, past churns.

Everything here is computed on the spine of customers (one row per account and as_of), from
subscription rows that started before ``as_of`` and account attributes.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from features.windows import days_between, feature_name, on_spine, shift

FAMILY = "account"
# Features an export cannot give when it lacks every column of a key (``TableSpec.may_lack``): not built then.
NEEDS = {
    ("accounts.plan",): ("account__plan",),
    ("subscriptions.mrr",): ("account__mrr", "account__mrr_per_seat", "account__mrr_change", "account__mrr_change_ratio"),
    ("accounts.seats", "subscriptions.seats"): ("account__seats", "account__mrr_per_seat"),  # either one gives the seats
}
DAYS_PER_MONTH = 365.25 / 12
ANNUAL_TERM_MONTHS = 12


def mrr_as_of(subscriptions: ir.Table, dates: ir.Table, days_before: int) -> ir.Table:
    """MRR of the subscriptions running ``days_before`` days before each as_of (account_id, as_of, mrr_before)."""
    joined = subscriptions.cross_join(dates)
    then = shift(joined.as_of, -days_before)
    running = (joined.start_date < then) & (joined.end_date.isnull() | (joined.end_date >= then))
    joined = joined.filter(running)
    return joined.group_by(["account_id", "as_of"]).aggregate(mrr_before=joined.mrr.sum())


def account_features(
    customers: ir.Table,
    accounts: ir.Table,
    subscriptions: ir.Table,
    dates: ir.Table,
    churns: ir.Table,
    *,
    change_days: int,
    grace_days: int,
) -> ir.Table:
    """One row per customer row: the account family, with ``seats`` for the usage ratios.

    Days to renewal counts to the next anniversary of the running subscription's start, every
    ``term_months`` when subscriptions carry that column, else yearly.
    """
    spine = customers
    before = mrr_as_of(subscriptions, dates, change_days)
    past = churns.cross_join(dates)
    past = past.filter(past.churned_at < shift(past.as_of, -grace_days))
    past = past.group_by(["account_id", "as_of"]).aggregate(previous_churns=past.count())

    keys = ["account_id", "as_of"]
    t = spine.join(accounts, "account_id").join(on_spine(spine, before), keys).join(on_spine(spine, past), keys)
    t = _with_terms(t, subscriptions)
    tenure = days_between(t.as_of, t.created_at)
    since_start = days_between(t.as_of, t.current_start).cast("float64")
    term_days = t.term_months.fill_null(ANNUAL_TERM_MONTHS) * DAYS_PER_MONTH
    elapsed_terms = (since_start / term_days).floor()
    attributes = [c for c in accounts.columns if c not in ("account_id", "created_at", "plan", "seats")]
    mrr = t.mrr.fill_null(0.0)
    seats = ibis.coalesce(t.subscription_seats.cast("float64"), t.seats)
    columns = {
        feature_name(FAMILY, "tenure_days"): tenure,
        feature_name(FAMILY, "first_90_days"): (tenure < 90).cast("int8"),
        feature_name(FAMILY, "plan"): t.plan,
        feature_name(FAMILY, "seats"): seats,
        feature_name(FAMILY, "mrr"): mrr,
        feature_name(FAMILY, "mrr_per_seat"): mrr / seats.nullif(0),
        feature_name(FAMILY, "mrr_change", change_days): mrr - t.mrr_before.fill_null(0.0),
        feature_name(FAMILY, "mrr_change_ratio", change_days): mrr / t.mrr_before.nullif(0),
        feature_name(FAMILY, "subscription_age_days"): since_start,
        feature_name(FAMILY, "days_to_renewal"): (elapsed_terms + 1) * term_days - since_start,
        feature_name(FAMILY, "previous_churns"): t.previous_churns.fill_null(0),
        **{feature_name(FAMILY, f"attr_{column}"): t[column] for column in attributes},
    }
    return t.select("account_id", "as_of", seats_for_ratios=seats, **columns)


def _with_terms(t: ir.Table, subscriptions: ir.Table) -> ir.Table:
    """Add the running subscription's ``term_months`` (null when the company's table has none)."""
    if "term_months" not in subscriptions.columns:
        return t.mutate(term_months=ibis.null("float64"))
    terms = subscriptions.group_by(["account_id", "start_date"]).aggregate(term_months=subscriptions.term_months.max())
    terms = terms.rename(term_account="account_id", term_start="start_date")
    joined = t.left_join(terms, [t.account_id == terms.term_account, t.current_start == terms.term_start])
    return joined.drop("term_account", "term_start")
