"""Users and product events of one chunk of accounts, drawn per (user, month, event type) then spread in time.

Counts are Poisson with rates derived from the hidden health, so the observable signals
(logins and their trend, seat utilisation, feature breadth, password-reset bursts,
knowledge-base use, micro-conversions) move with it but with noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.synthetic import tables
from features.synthetic.accounts import COUNTRY_MIDDAY_UTC, AccountHistory
from features.synthetic.health import ENGAGEMENT, VALUE
from features.synthetic.timeline import SECONDS_PER_DAY

LOGIN, PASSWORD_RESET, KB_VIEW, CONTENT_DOWNLOAD = 0, 1, 2, 3
MICRO_CONVERSIONS = ("report_created", "dashboard_shared", "invite_sent", "integration_connected", "workflow_published")
MICRO_CONVERSION_RATE = np.array([0.35, 0.15, 0.06, 0.03, 0.1])  # per engaged user-month
FEATURES = (
    "dashboard_view",
    "search",
    "comment_added",
    "export_csv",
    "api_call",
    "task_updated",
    "file_uploaded",
    "calendar_synced",
)
FEATURE_RATE = np.array([0.45, 0.35, 0.2, 0.08, 0.3, 0.3, 0.12, 0.06])  # per login, once adopted
UNADOPTED_SHARE = 0.02
EVENT_TYPES = ("login", "password_reset", "kb_view", "content_download", *MICRO_CONVERSIONS, *FEATURES)
FIRST_MICRO, FIRST_FEATURE = 4, 4 + len(MICRO_CONVERSIONS)

LOGINS_PER_USER_MONTH = 6.0
KB_VIEWS_PER_USER_MONTH = 0.5
DOWNLOADS_PER_USER_MONTH = 0.12
USER_REPLACEMENT = 0.02  # monthly chance a seat changes hands
RETURNING_RESET_CHANCE = 0.25  # a user back after a month without logins often resets the password
DORMANT_RESET_CHANCE = 0.4  # a dormant user tries to come back, resets, and lapses again
BACKGROUND_RESETS = 0.015
WORKDAY_SD_HOURS = 2.5


@dataclass(frozen=True)
class Users:
    """Seat holders of a chunk: one row per seat slot, one column per month."""

    account: np.ndarray  # (slots,) chunk-local account index
    present: np.ndarray  # (slots, months) holds a seat this month
    engaged: np.ndarray  # (slots, months) present and not dormant
    user: np.ndarray  # (slots, months) index into ``ids``; -1 when absent
    propensity: np.ndarray  # (slots,) how heavy a user this is
    ids: list[str]


def active_share(history: AccountHistory, days_in_month: np.ndarray) -> np.ndarray:
    """Share of each month the account was a customer; rates scale with it."""
    return (history.span_end - history.span_start) / days_in_month


def build_users(history: AccountHistory, share: np.ndarray, rng: np.random.Generator) -> Users:
    """Active seats follow engagement (utilisation); low-ranked slots are the stable core users."""
    n_accounts, months = share.shape
    engagement = history.state[:, :, ENGAGEMENT]
    utilisation = _sigmoid(0.5 + engagement + rng.normal(0.0, 0.4, (n_accounts, 1)))
    headcount = np.where(share > 0, np.maximum(rng.binomial(history.seats, utilisation), 1), 0)
    slots_per_account = headcount.max(axis=1)
    account = np.repeat(np.arange(n_accounts), slots_per_account)
    rank = np.arange(len(account)) - np.repeat(np.cumsum(slots_per_account) - slots_per_account, slots_per_account)
    present = rank[:, None] < headcount[account]
    propensity = np.exp(rng.normal(-0.15, 0.55, len(account)))
    dormancy = _sigmoid(-2.6 - 1.4 * engagement[account] - 0.8 * np.log(propensity)[:, None])
    engaged = present & (rng.random(present.shape) >= dormancy)

    holder = np.cumsum(rng.random(present.shape) < USER_REPLACEMENT, axis=1)
    code = np.arange(len(account))[:, None] * (months + 1) + holder
    unique_codes, user = np.unique(code[present], return_inverse=True)
    user_account = unique_codes // (months + 1)
    user_account = account[user_account]
    first = np.searchsorted(user_account, np.arange(n_accounts))
    number = np.arange(len(unique_codes)) - first[user_account] + 1
    ids = [f"{history.account_ids[a]}-U{k:04d}" for a, k in zip(user_account.tolist(), number.tolist())]
    user_grid = np.full(present.shape, -1, dtype=np.int32)
    user_grid[present] = user
    return Users(account=account, present=present, engaged=engaged, user=user_grid, propensity=propensity, ids=ids)


def draw_events(
    history: AccountHistory, users: Users, share: np.ndarray, month_starts: np.ndarray, rng: np.random.Generator
) -> pa.Table:
    """Every product event of the chunk, sorted by account then time."""
    n_accounts, months = share.shape
    state = history.state[users.account]
    engagement, value = state[:, :, ENGAGEMENT], state[:, :, VALUE]
    exposure = (share * np.exp(rng.normal(0.0, 0.2, share.shape)))[users.account] * users.engaged
    login_rate = LOGINS_PER_USER_MONTH * users.propensity[:, None] * np.exp(0.55 * engagement) * exposure

    adoption_order = _weighted_order(FEATURE_RATE, n_accounts, rng)
    explorer = rng.normal(0.0, 0.5, (n_accounts, 1))
    breadth = np.clip(np.round(1 + 7 * _sigmoid(0.3 + 1.1 * history.state[:, :, VALUE] + explorer)), 1, len(FEATURES))
    adopted = adoption_order[:, None, :] < breadth[:, :, None]
    feature_rate = FEATURE_RATE * np.where(adopted, 1.0, UNADOPTED_SHARE)[users.account]
    kb_habit = np.exp(rng.normal(0.0, 0.5, n_accounts))[users.account][:, None]

    rates = np.empty(state.shape[:2] + (len(EVENT_TYPES),), dtype=np.float64)
    rates[:, :, LOGIN] = login_rate
    rates[:, :, PASSWORD_RESET] = 0.0
    rates[:, :, KB_VIEW] = KB_VIEWS_PER_USER_MONTH * kb_habit * np.exp(0.5 * engagement + 0.4 * value) * exposure
    rates[:, :, CONTENT_DOWNLOAD] = DOWNLOADS_PER_USER_MONTH * np.exp(0.6 * value) * exposure
    conversion_scale = np.exp(0.7 * value + 0.3 * engagement) * exposure
    rates[:, :, FIRST_MICRO:FIRST_FEATURE] = MICRO_CONVERSION_RATE * conversion_scale[:, :, None]
    rates[:, :, FIRST_FEATURE:] = feature_rate * login_rate[:, :, None]
    counts = rng.poisson(rates)
    counts[:, :, PASSWORD_RESET] = _password_resets(counts[:, :, LOGIN], users, exposure, rng)

    cell = np.repeat(np.arange(counts.size), counts.ravel())
    cell, event_type = np.divmod(cell, len(EVENT_TYPES))
    slot, month = np.divmod(cell, months)
    account = users.account[slot]
    start, end = history.span_start[account, month], history.span_end[account, month]
    day = workday_between(start, end, rng)
    second = office_seconds(history.country[account], rng)
    burst = np.flatnonzero(event_type == PASSWORD_RESET)
    burst_day = workday_between(history.span_start, history.span_end, rng)[users.account]
    burst_second = office_seconds(np.repeat(history.country[users.account], months), rng).reshape(burst_day.shape)
    day[burst] = burst_day[slot[burst], month[burst]]
    second[burst] = np.minimum(burst_second[slot[burst], month[burst]] + second[burst] % 600, SECONDS_PER_DAY - 1)
    moment = tables.day_seconds(day) + second
    since_start = moment - int(month_starts[0]) * SECONDS_PER_DAY
    order = np.argsort((account.astype(np.int64) << 40) | since_start, kind="stable")
    return pa.table(
        {
            "account_id": tables.category(account[order], history.account_ids),
            "user_id": tables.category(users.user[slot[order], month[order]], users.ids),
            "timestamp": tables.timestamps(moment[order]),
            "event_type": tables.category(event_type[order], EVENT_TYPES),
        },
        schema=tables.SCHEMAS["events"],
    )


def _password_resets(logins: np.ndarray, users: Users, exposure: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bursts of resets from lapsed users: back after a month without logins, or trying and giving up again."""
    logged_in = logins > 0
    holder = np.maximum.accumulate(users.user, axis=1)
    new_holder = np.zeros_like(logged_in)
    new_holder[:, 1:] = holder[:, 1:] != holder[:, :-1]
    months_with_logins = np.cumsum(logged_in, axis=1) - logged_in
    since_holder = np.maximum.accumulate(np.where(new_holder, months_with_logins, 0), axis=1)
    known = months_with_logins - since_holder > 0
    lapsed = np.zeros_like(logged_in)
    lapsed[:, 1:] = ~logged_in[:, :-1]
    returning = logged_in & lapsed & known & ~new_holder
    bursts = returning & (rng.random(logins.shape) < RETURNING_RESET_CHANCE)
    failed_return = users.present & ~users.engaged & (rng.random(logins.shape) < DORMANT_RESET_CHANCE)
    burst_size = 1 + rng.poisson(0.8, logins.shape)
    return (bursts | failed_return) * burst_size + rng.poisson(BACKGROUND_RESETS * exposure)


def workday_between(start: np.ndarray, end: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A day in [start, end); a weekend draw is redrawn once, as business software is mostly used on workdays."""
    span = np.maximum(end - start, 1)
    first = start + (rng.random(np.shape(start)) * span).astype(np.int64)
    second = start + (rng.random(np.shape(start)) * span).astype(np.int64)
    return np.where((first + 3) % 7 < 5, first, second)


def office_seconds(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Seconds into the UTC day, centred on the customer's working day."""
    hours = COUNTRY_MIDDAY_UTC[country] + rng.normal(0.0, WORKDAY_SD_HOURS, len(country))
    return (np.mod(hours, 24.0) * 3600).astype(np.int64)


def _weighted_order(weight: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Per account, the rank at which each feature gets adopted; popular features come first more often."""
    keys = -np.log(rng.random((n, len(weight)))) / weight
    return np.argsort(np.argsort(keys, axis=1), axis=1)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
