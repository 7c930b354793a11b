"""Engagement family from emails and surveys: open and click rates and their change, NPS and its change.

An email counts as opened (clicked) at ``as_of`` only if it was opened (clicked) before; a
survey answer only if it was given before.
"""

from __future__ import annotations

from datetime import datetime

import ibis.expr.types as ir

from features.calendar import Calendar
from features.windows import days_between, feature_name, in_window, observed, on_spine, ratio, sum_if

FAMILY = "engagement"
# Features an emails export lacking a column cannot give (``TableSpec.may_lack``): not built then.
NEEDS = {
    ("emails.opened_at",): ("engagement__email_open_rate", "engagement__email_open_rate_change"),
    ("emails.clicked_at",): ("engagement__email_click_rate", "engagement__email_click_rate_change"),
}


def emails_by_segment(emails: ir.Table, calendar: Calendar) -> ir.Table:
    """Emails counted per account and segment of sent, opened and clicked time; no window can tell them apart."""
    segmented = emails.mutate(
        sent=calendar.segment(emails.sent_at),
        opened=calendar.segment(emails.opened_at),
        clicked=calendar.segment(emails.clicked_at),
    )
    return segmented.group_by(["account_id", "sent", "opened", "clicked"]).aggregate(emails=segmented.count())


def email_features(
    spine: ir.Table, by_segment: ir.Table, calendar: Calendar, *, history_start: datetime | None
) -> ir.Table:
    """Emails sent, open and click rates per window, and each rate's change against the previous window.

    An email sent in a window counts as opened if it was opened before ``as_of``, even after the window.
    A window reaching back before ``history_start`` (the first email in the log) has unknown counts and rates.
    """
    dates = calendar.segment_dates(within=list(calendar.spans))
    t = by_segment.join(dates, by_segment.sent == dates.segment)
    opened = (t.opened < t.now).fill_null(False)
    clicked = (t.clicked < t.now).fill_null(False)
    raw = {}
    for span in calendar.spans:
        sent_in = t[span] == 1
        raw |= {
            f"sent_{span}": sum_if(t.emails, sent_in),
            f"opened_{span}": sum_if(t.emails, sent_in & opened),
            f"clicked_{span}": sum_if(t.emails, sent_in & clicked),
        }
    r = on_spine(spine, t.group_by(["account_id", "as_of"]).aggregate(**raw))
    zero = lambda column: r[column].fill_null(0)  # noqa: E731
    reach = lambda span: sum(calendar.spans[span])  # noqa: E731  # window plus lag: how far back the span starts
    sent = lambda span: observed(r[f"sent_{span}"], r.as_of, reach(span), history_start)  # noqa: E731
    rate = lambda what, span: ratio(zero(f"{what}_{span}").cast("float64"), sent(span))  # noqa: E731
    columns = {}
    for w in calendar.windows:
        cur, prev = f"cur_{w}", f"prev_{w}"
        columns |= {
            feature_name(FAMILY, "emails_sent", w): sent(cur),
            feature_name(FAMILY, "email_open_rate", w): rate("opened", cur),
            feature_name(FAMILY, "email_click_rate", w): rate("clicked", cur),
            feature_name(FAMILY, "email_open_rate_change", w): rate("opened", cur) - rate("opened", prev),
            feature_name(FAMILY, "email_click_rate_change", w): rate("clicked", cur) - rate("clicked", prev),
        }
    return r.select("account_id", "as_of", **columns)


def survey_features(
    spine: ir.Table, surveys: ir.Table, dates: ir.Table, window: int, *, history_start: datetime | None
) -> ir.Table:
    """Latest NPS answer and its age, mean NPS over ``window`` days and its change against the window before.

    A window reaching back before ``history_start`` (the first answer in the log) has an unknown number of answers.
    """
    t = surveys.cross_join(dates)
    t = t.filter(t.responded_at < t.as_of)
    current = in_window(t.responded_at, t.as_of, window)
    previous = in_window(t.responded_at, t.as_of, window, lag_days=window)
    r = on_spine(
        spine,
        t.group_by(["account_id", "as_of"]).aggregate(
            latest=t.nps.argmax(t.responded_at),
            latest_at=t.responded_at.max(),
            mean=t.nps.mean(where=current),
            mean_prev=t.nps.mean(where=previous),
            answers=t.count(where=current),
        ),
    )
    return r.select(
        "account_id",
        "as_of",
        **{
            feature_name(FAMILY, "nps_latest"): r.latest,
            feature_name(FAMILY, "days_since_nps"): days_between(r.as_of, r.latest_at),
            feature_name(FAMILY, "nps_mean", window): r.mean,
            feature_name(FAMILY, "nps_change", window): r.mean - r.mean_prev,
            feature_name(FAMILY, "nps_answers", window): observed(r.answers, r.as_of, window, history_start),
        },
    )

