"""Accounts and their month-by-month life: sign-up, renewals, resizing, churn and the odd win-back.

The churn decision of every active month is a Bernoulli draw with exactly the probability
written to truth.parquet, computed from the hidden health (see ``health``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from features.synthetic import tables
from features.synthetic.contracts import Contracts, term_start_at
from features.synthetic.health import (
    ENGAGEMENT,
    ONBOARDING_MONTHS,
    HealthWalk,
    churn_probability,
    with_onboarding,
)
from features.synthetic.timeline import SECONDS_PER_DAY, Timeline, day_in_month, month_index

PLANS = ("starter", "growth", "enterprise")
PLAN_SHARE = np.array([0.55, 0.33, 0.12])
SEAT_RANGE = np.array([[3.0, 10.0], [10.0, 50.0], [50.0, 300.0]])
LIST_PRICE_PER_SEAT = np.array([19.0, 32.0, 55.0])
MONTHLY_TERM_SHARE = np.array([0.65, 0.30, 0.05])

INDUSTRIES = ("software", "fintech", "healthcare", "retail", "manufacturing", "education", "media", "logistics")
INDUSTRY_SHARE = np.array([0.24, 0.12, 0.11, 0.13, 0.12, 0.1, 0.09, 0.09])
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "CA", "AU", "IN", "BR", "JP", "SE", "ES")
COUNTRY_SHARE = np.array([0.34, 0.11, 0.1, 0.06, 0.05, 0.07, 0.05, 0.07, 0.05, 0.04, 0.03, 0.03])
# Middle of the working day in UTC hours, so event times follow the customer's office hours.
COUNTRY_MIDDAY_UTC = np.array([18.0, 13.0, 12.0, 12.0, 12.0, 18.0, 3.0, 8.0, 16.0, 4.0, 12.0, 12.0])
SIZE_BUCKETS = ("1-10", "11-50", "51-200", "201-1000", "1000+")
SIZE_EDGES = np.array([10.0, 50.0, 200.0, 1000.0])

ARRIVALS_PER_MONTH = 0.025  # new accounts per month, as a share of the accounts existing at the start
MAX_TENURE_DAYS = 8 * 365
BURN_IN_MONTHS = 6
WINBACK_SHARE = 0.06  # of churned accounts schedule a return; about half of those land inside a year
RENEWAL_OUTLOOK = np.array([0.6, 0.0, 0.8])
RESIZE_OUTLOOK = np.array([0.5, 0.0, 0.5])


@dataclass(frozen=True)
class AccountHistory:
    """One chunk of accounts: hidden states and activity windows per (account, month), plus the small tables."""

    account_ids: list[str]
    country: np.ndarray
    state: np.ndarray  # (accounts, months, 3) hidden health
    seats: np.ndarray  # (accounts, months) licensed seats
    span_start: np.ndarray  # (accounts, months) first day with activity
    span_end: np.ndarray  # (accounts, months) first day after activity; equal to span_start when inactive
    churned: np.ndarray  # (accounts, months) churn drawn in that month
    active_at_start: np.ndarray  # (accounts, months)
    accounts: pa.Table
    subscriptions: pa.Table
    truth: pa.Table


def draw_creation_days(n_accounts: int, timeline: Timeline, rng: np.random.Generator) -> np.ndarray:
    """Creation days of every account, sorted so account numbers follow sign-up order.

    Most accounts exist before the history with backdated tenure; the rest arrive evenly through it.
    """
    n_existing = max(1, round(n_accounts / (1 + ARRIVALS_PER_MONTH * timeline.months)))
    tenure = np.minimum(np.ceil(rng.gamma(1.4, 380.0, n_existing)), MAX_TENURE_DAYS).astype(np.int64) + 7
    existing = timeline.start_day - tenure
    arriving = rng.integers(timeline.start_day, timeline.end_day, n_accounts - n_existing)
    return np.sort(np.concatenate([existing, arriving]))


def simulate_accounts(
    first_number: int, created: np.ndarray, timeline: Timeline, rng: np.random.Generator
) -> AccountHistory:
    """Run the monthly health, churn, renewal and win-back process for one chunk of accounts."""
    n, months = len(created), timeline.months
    ids = [f"A{number:06d}" for number in range(first_number, first_number + n)]
    plan = rng.choice(len(PLANS), n, p=PLAN_SHARE)
    low, high = SEAT_RANGE[plan, 0], SEAT_RANGE[plan, 1]
    contracts = Contracts(
        seats=np.round(np.exp(rng.uniform(np.log(low), np.log(high)))).astype(np.int64),
        price_per_seat=LIST_PRICE_PER_SEAT[plan] * rng.uniform(0.75, 1.05, n) * np.where(plan == 2, 0.9, 1.0),
    )
    monthly_term = rng.random(n) < MONTHLY_TERM_SHARE[plan]
    onboarding = rng.normal(0.0, 1.0, n)
    country = rng.choice(len(COUNTRIES), n, p=COUNTRY_SHARE)
    walk = HealthWalk(n, rng)
    recent = [walk.step().copy() for _ in range(BURN_IN_MONTHS)][-3:]

    created_month = month_index(created)
    anchor_month, anchor_day = created_month.copy(), created - day_in_month(created_month, 0)
    state = np.zeros((n, months, 3), dtype=np.float32)
    seats = np.zeros((n, months), dtype=np.int64)
    span_start = np.zeros((n, months), dtype=np.int64)
    span_end = np.zeros((n, months), dtype=np.int64)
    churned = np.zeros((n, months), dtype=bool)
    active_at_start = np.zeros((n, months), dtype=bool)
    hazard = np.zeros((n, months))
    first_seats = contracts.seats.copy()
    active = np.zeros(n, dtype=bool)
    return_month = np.full(n, -1)
    return_day = np.zeros(n, dtype=np.int64)

    for t in range(months):
        month_start, month_end = int(timeline.month_starts[t]), int(timeline.month_starts[t + 1])
        month_abs = timeline.first_month_index + t
        age = month_abs - created_month
        health = with_onboarding(walk.step(), onboarding, age)
        state[:, t] = health

        starting = (created <= month_start) if t == 0 else (created == month_start)
        contracts.open(starting, term_start_at(created[starting], month_start, monthly_term[starting]))
        active |= starting
        arriving = (created > month_start) & (created < month_end)
        returning = return_month == t
        first_seats = np.where(starting | arriving, contracts.seats, first_seats)

        renewal_day = day_in_month(np.full(n, month_abs), anchor_day)
        renewal = (
            ~monthly_term
            & (month_abs > anchor_month)
            & ((month_abs - anchor_month) % 12 == 0)
            & (renewal_day > contracts.start)
        )
        probability = churn_probability(
            health,
            engagement_change=health[:, ENGAGEMENT] - recent[0][:, ENGAGEMENT],
            plan=plan,
            poor_start=((age >= 0) & (age < ONBOARDING_MONTHS)) * np.maximum(0.0, -onboarding),
            monthly_term=monthly_term,
            renewal=renewal,
        )
        churn = active & (rng.random(n) < probability)
        any_day = month_start + 1 + np.floor(rng.random(n) * (month_end - month_start - 1)).astype(np.int64)
        churn_day = np.maximum(np.where(renewal, renewal_day, any_day), np.maximum(contracts.start, month_start) + 1)
        active_at_start[:, t], hazard[:, t], churned[:, t], seats[:, t] = active, probability, churn, contracts.seats
        span_start[:, t] = np.select([active, arriving, returning], [month_start, created, return_day], 0)
        span_end[:, t] = np.select([churn, active | arriving | returning], [churn_day, month_end], 0)

        contracts.close(churn, churn_day[churn])
        comes_back = np.flatnonzero(churn & (rng.random(n) < WINBACK_SHARE))
        delay = rng.integers(2, 9, len(comes_back))
        return_month[comes_back] = t + delay
        return_day[comes_back] = day_in_month(month_abs + delay, rng.integers(1, 28, len(comes_back)))

        staying = active & ~churn
        contracts.renew(staying & renewal, renewal_day, health @ RENEWAL_OUTLOOK, timeline.end_day - 1, rng)
        contracts.resize_some(staying & monthly_term, month_start, month_end, health @ RESIZE_OUTLOOK, rng)
        contracts.open(arriving, created[arriving])
        contracts.open(returning, return_day[returning])
        anchor_month[returning] = month_abs
        anchor_day[returning] = return_day[returning] - month_start
        walk.restart(returning)
        active = staying | arriving | returning
        recent = recent[1:] + [health]

    return AccountHistory(
        account_ids=ids,
        country=country,
        state=state,
        seats=seats,
        span_start=span_start,
        span_end=span_end,
        churned=churned,
        active_at_start=active_at_start,
        accounts=_accounts_table(ids, created, plan, first_seats, country, rng),
        subscriptions=contracts.table(ids, active),
        truth=_truth_table(ids, timeline, active_at_start, hazard),
    )


def _accounts_table(ids, created, plan, seats, country, rng) -> pa.Table:
    n = len(ids)
    employees = seats * np.exp(rng.normal(1.3, 0.7, n))
    signup_second = np.clip(rng.normal(14.0, 3.0, n) * 3600, 0, SECONDS_PER_DAY - 1).astype(np.int64)
    return pa.table(
        {
            "account_id": pa.array(ids, pa.string()),
            "created_at": tables.timestamps(tables.day_seconds(created) + signup_second),
            "plan": pa.array(np.array(PLANS)[plan], pa.string()),
            "seats": pa.array(seats, pa.int64()),
            "industry": pa.array(np.array(INDUSTRIES)[rng.choice(len(INDUSTRIES), n, p=INDUSTRY_SHARE)], pa.string()),
            "country": pa.array(np.array(COUNTRIES)[country], pa.string()),
            "company_size": pa.array(np.array(SIZE_BUCKETS)[np.searchsorted(SIZE_EDGES, employees)], pa.string()),
        },
        schema=tables.SCHEMAS["accounts"],
    )


def _truth_table(ids, timeline, active_at_start, hazard) -> pa.Table:
    which, month = np.nonzero(active_at_start)
    return pa.table(
        {
            "account_id": pa.array(np.array(ids)[which], pa.string()),
            "month": tables.dates(timeline.month_starts[month]),
            "churn_probability": pa.array(hazard[which, month], pa.float64()),
        },
        schema=tables.SCHEMAS["truth"],
    )
