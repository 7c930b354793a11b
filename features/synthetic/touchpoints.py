"""Support tickets, marketing emails and NPS surveys of one chunk, each driven by the hidden health with noise."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.synthetic import tables
from features.synthetic.accounts import AccountHistory
from features.synthetic.activity import Users, office_seconds, workday_between
from features.synthetic.health import ENGAGEMENT, SATISFACTION, VALUE
from features.synthetic.timeline import SECONDS_PER_DAY

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_SHARE = np.array([0.25, 0.5, 0.18, 0.07])
PRIORITY_RESPONSE_SHIFT = np.array([0.4, 0.0, -0.5, -1.0])  # log-hours: urgent tickets get answered sooner
CATEGORIES = ("billing", "bug", "how_to", "feature_request", "account")
CATEGORY_BASE = np.array([0.12, 0.3, 0.33, 0.15, 0.1])
TICKETS_PER_ACCOUNT_MONTH = 0.12  # times headcount ** 0.6
NEVER_ANSWERED = 0.03
CSAT_RESPONSE_RATE = 0.4
EMAILS_PER_USER_MONTH = 2.0
SURVEY_RESPONSES_PER_USER_MONTH = 0.03


def draw_tickets(
    history: AccountHistory, users: Users, share: np.ndarray, first_number: int, end_day: int, rng: np.random.Generator
) -> pa.Table:
    """Struggling, dissatisfied accounts open more tickets, wait longer for answers and rate them lower."""
    satisfaction, value = history.state[:, :, SATISFACTION], history.state[:, :, VALUE]
    headcount = np.zeros(share.shape)
    np.add.at(headcount, users.account, users.present)
    rate = TICKETS_PER_ACCOUNT_MONTH * headcount**0.6 * np.exp(-0.9 * satisfaction - 0.2 * value) * share
    cell = np.repeat(np.arange(share.size), rng.poisson(rate).ravel())
    account, month = np.divmod(cell, share.shape[1])
    n = len(cell)
    mood = satisfaction[account, month] + rng.normal(0.0, 0.5, n)
    opened = tables.day_seconds(
        workday_between(history.span_start[account, month], history.span_end[account, month], rng)
    ) + office_seconds(history.country[account], rng)

    priority = rng.choice(len(PRIORITIES), n, p=PRIORITY_SHARE)
    category_weight = CATEGORY_BASE * np.exp(
        np.outer(-value[account, month], [0.6, 0.0, 0.0, 0.0, 0.2]) + np.outer(-mood, [0.0, 0.4, 0.0, 0.0, 0.0])
    )
    category_weight /= category_weight.sum(axis=1, keepdims=True)
    category = np.minimum((rng.random((n, 1)) > np.cumsum(category_weight, axis=1)).sum(axis=1), len(CATEGORIES) - 1)

    response_hours = np.exp(np.log(4.0) - 0.5 * mood + PRIORITY_RESPONSE_SHIFT[priority] + rng.normal(0.0, 0.9, n))
    responded = opened + (response_hours * 3600).astype(np.int64)
    resolution_hours = np.exp(np.log(20.0) - 0.3 * mood + rng.normal(0.0, 1.1, n))
    resolved = responded + (resolution_hours * 3600).astype(np.int64)
    history_end = end_day * SECONDS_PER_DAY
    unanswered = (rng.random(n) < NEVER_ANSWERED) | (responded >= history_end)
    unresolved = unanswered | (resolved >= history_end)
    csat = np.clip(np.round(5.1 + 0.8 * mood - 0.25 * np.log1p(resolution_hours) + rng.normal(0.0, 0.7, n)), 1, 5)
    no_csat = unresolved | (rng.random(n) >= CSAT_RESPONSE_RATE)

    order = np.lexsort((opened, account))
    return pa.table(
        {
            "ticket_id": pa.array([f"T{first_number + i:08d}" for i in range(n)], pa.string()),
            "account_id": tables.category(account[order], history.account_ids),
            "opened_at": tables.timestamps(opened[order]),
            "first_response_at": tables.timestamps(responded[order], missing=unanswered[order]),
            "resolved_at": tables.timestamps(resolved[order], missing=unresolved[order]),
            "priority": tables.category(priority[order], PRIORITIES),
            "category": tables.category(category[order], CATEGORIES),
            "csat": pa.array(csat[order], pa.float64(), mask=no_csat[order]),
        },
        schema=tables.SCHEMAS["tickets"],
    )


def draw_emails(
    history: AccountHistory, users: Users, share: np.ndarray, end_day: int, rng: np.random.Generator
) -> pa.Table:
    """Every seat holder gets product emails; opens and clicks fall as engagement and value fall."""
    state = history.state[users.account]
    exposure = share[users.account] * users.present
    cell = np.repeat(np.arange(exposure.size), rng.poisson(EMAILS_PER_USER_MONTH * exposure).ravel())
    slot, month = np.divmod(cell, exposure.shape[1])
    account = users.account[slot]
    n = len(cell)
    habit = rng.normal(0.0, 0.4, len(history.account_ids))[account]
    open_logit = (
        -0.3 + 0.8 * state[slot, month, ENGAGEMENT] + 0.4 * np.log(users.propensity[slot]) + habit
        - 1.0 * ~users.engaged[slot, month]
    )
    click_logit = -2.0 + 0.7 * state[slot, month, VALUE] + 0.3 * state[slot, month, ENGAGEMENT]
    sent_day = workday_between(history.span_start[account, month], history.span_end[account, month], rng)
    sent = tables.day_seconds(sent_day)
    sent += np.clip(((7 + rng.normal(0.0, 1.0, n)) * 3600).astype(np.int64), 0, SECONDS_PER_DAY - 1)
    opened_at = sent + (rng.exponential(5.0, n) * 3600).astype(np.int64) + 30
    clicked_at = opened_at + (rng.exponential(120.0, n)).astype(np.int64) + 5
    history_end = end_day * SECONDS_PER_DAY
    opened = (rng.random(n) < _sigmoid(open_logit)) & (opened_at < history_end)
    clicked = opened & (rng.random(n) < _sigmoid(click_logit)) & (clicked_at < history_end)

    order = np.lexsort((sent, account))
    return pa.table(
        {
            "account_id": tables.category(account[order], history.account_ids),
            "user_id": tables.category(users.user[slot[order], month[order]], users.ids),
            "sent_at": tables.timestamps(sent[order]),
            "opened_at": tables.timestamps(opened_at[order], missing=~opened[order]),
            "clicked_at": tables.timestamps(clicked_at[order], missing=~clicked[order]),
        },
        schema=tables.SCHEMAS["emails"],
    )


def draw_surveys(history: AccountHistory, users: Users, share: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """A few seat holders answer NPS each month; scores track satisfaction and value."""
    exposure = share[users.account] * users.present
    slot, month = np.nonzero(rng.random(exposure.shape) < SURVEY_RESPONSES_PER_USER_MONTH * exposure)
    account = users.account[slot]
    n = len(slot)
    satisfaction, value = history.state[account, month, SATISFACTION], history.state[account, month, VALUE]
    nps = np.clip(np.round(7.0 + 1.8 * satisfaction + 0.6 * value + rng.normal(0.0, 1.6, n)), 0, 10).astype(np.int64)
    responded = tables.day_seconds(
        workday_between(history.span_start[account, month], history.span_end[account, month], rng)
    ) + office_seconds(history.country[account], rng)
    order = np.lexsort((responded, account))
    return pa.table(
        {
            "account_id": tables.category(account[order], history.account_ids),
            "user_id": tables.category(users.user[slot[order], month[order]], users.ids),
            "responded_at": tables.timestamps(responded[order]),
            "nps": pa.array(nps[order], pa.int64()),
        },
        schema=tables.SCHEMAS["surveys"],
    )


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
