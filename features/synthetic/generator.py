"""Orchestration: validate arguments, simulate accounts chunk by chunk, stream every table to Parquet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np

from features.errors import ChurnInputError
from features.synthetic.accounts import draw_creation_days, simulate_accounts
from features.synthetic.activity import active_share, build_users, draw_events
from features.synthetic.output import TableWriters, staged_output
from features.synthetic.timeline import build_timeline
from features.synthetic.touchpoints import draw_emails, draw_surveys, draw_tickets

# Fixed, because the random streams are per chunk: changing it changes the data for a seed.
CHUNK_ACCOUNTS = 500
MAX_MONTHS = 120


@dataclass(frozen=True)
class GenerationSummary:
    """What one ``generate`` call wrote, for the CLI and for logs."""

    out_dir: Path
    history_start: date
    history_end: date
    months: int
    accounts: int
    subscriptions: int
    events: int
    tickets: int
    emails: int
    surveys: int
    churned_accounts: int
    monthly_churn_rate: float
    seconds: float
    events_per_second: float

    def describe(self) -> str:
        return "\n".join(
            [
                f"Wrote {self.months} months of history ({self.history_start} to {self.history_end})"
                f" to {self.out_dir}:",
                f"  accounts.parquet {self.accounts:,} rows, subscriptions.parquet {self.subscriptions:,}, "
                f"events.parquet {self.events:,}",
                f"  tickets.parquet {self.tickets:,}, emails.parquet {self.emails:,}, surveys.parquet {self.surveys:,}",
                "  truth.parquet: the true monthly churn probability of every active account (for evaluation only)",
                f"  {self.churned_accounts:,} accounts churned; mean monthly churn rate {self.monthly_churn_rate:.1%}",
                f"Took {self.seconds:.1f} s ({self.events_per_second:,.0f} events/s).",
            ]
        )


def generate(
    out_dir: Path | str,
    *,
    n_accounts: int,
    months: int,
    seed: int,
    on_progress: Callable[[str], None] = lambda message: None,
) -> GenerationSummary:
    """Write a synthetic SaaS history in the data contract to ``out_dir``; the same seed gives identical tables."""
    _check_arguments(n_accounts, months, seed)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ChurnInputError(f"{out_dir} exists and is not a folder", column="out_dir")
    began = time.perf_counter()
    timeline = build_timeline(months)
    n_chunks = -(-n_accounts // CHUNK_ACCOUNTS)
    streams = np.random.SeedSequence(seed).spawn(n_chunks + 1)
    created = draw_creation_days(n_accounts, timeline, np.random.default_rng(streams[0]))

    counts = dict.fromkeys(("accounts", "subscriptions", "events", "tickets", "emails", "surveys", "churned"), 0)
    churned_by_month = np.zeros(months)
    active_by_month = np.zeros(months)
    with staged_output(out_dir) as staging:
        writers = TableWriters(staging)
        try:
            for chunk in range(n_chunks):
                first = chunk * CHUNK_ACCOUNTS
                last = min(first + CHUNK_ACCOUNTS, n_accounts)
                account_rng, user_rng, event_rng, touch_rng = (
                    np.random.default_rng(stream) for stream in streams[chunk + 1].spawn(4)
                )
                history = simulate_accounts(first + 1, created[first:last], timeline, account_rng)
                share = active_share(history, timeline.days_in_month)
                users = build_users(history, share, user_rng)
                tables = {
                    "accounts": history.accounts,
                    "subscriptions": history.subscriptions,
                    "truth": history.truth,
                    "events": draw_events(history, users, share, timeline.month_starts, event_rng),
                    "tickets": draw_tickets(history, users, share, counts["tickets"] + 1, timeline.end_day, touch_rng),
                    "emails": draw_emails(history, users, share, timeline.end_day, touch_rng),
                    "surveys": draw_surveys(history, users, share, touch_rng),
                }
                for name, table in tables.items():
                    writers.write(name, table)
                    if name in counts:
                        counts[name] += table.num_rows
                counts["churned"] += int(history.churned.any(axis=1).sum())
                churned_by_month += history.churned.sum(axis=0)
                active_by_month += history.active_at_start.sum(axis=0)
                on_progress(f"accounts {last:,}/{n_accounts:,}, {_event_count(counts['events'])}")
        finally:
            writers.close()

    seconds = time.perf_counter() - began
    return GenerationSummary(
        out_dir=out_dir,
        history_start=timeline.start_date(),
        history_end=timeline.end_date(),
        months=months,
        accounts=counts["accounts"],
        subscriptions=counts["subscriptions"],
        events=counts["events"],
        tickets=counts["tickets"],
        emails=counts["emails"],
        surveys=counts["surveys"],
        churned_accounts=counts["churned"],
        monthly_churn_rate=float(np.mean(churned_by_month / np.maximum(active_by_month, 1))),
        seconds=seconds,
        events_per_second=counts["events"] / max(seconds, 1e-9),
    )


def _check_arguments(n_accounts: int, months: int, seed: int) -> None:
    for name, value, lowest, highest in (
        ("n_accounts", n_accounts, 1, None),
        ("months", months, 1, MAX_MONTHS),
        ("seed", seed, 0, None),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ChurnInputError(f"must be a whole number, got {value!r}", column=name)
        if value < lowest or (highest is not None and value > highest):
            bounds = f"between {lowest} and {highest}" if highest is not None else f"at least {lowest}"
            raise ChurnInputError(f"must be {bounds}, got {value}", column=name)


def _event_count(events: int) -> str:
    return f"{events / 1e6:.1f} M events" if events >= 100_000 else f"{events:,} events"
