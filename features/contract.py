"""The data contract at the edge: which tables a company hands us, their columns and types, and bad input refused.

Everything here runs before a feature is computed, so a bad file stops the build with one
error naming the table, the column and the problem, and nothing is written. Rows that are
usable but must not count (unknown accounts, dated after the cut-off) are removed and counted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import ibis
import ibis.expr.types as ir
import ibis.selectors
import pandas as pd

from features.errors import ChurnInputError
from features.files import TableFiles, find_table, open_table, reading, table_missing, table_stem
from features.rollups import Period, counted_at_period_end, period_of, without_empty_counts
from features.text_values import (
    ANY_NUMERIC_DATE, DAY_FIRST, DECIMAL_SETTING, MONTH_FIRST, NUMERIC_DATE, NUMERIC_DATE_FORM, ORDER_SETTING,
    DURATION_UNITS, RATINGS_SETTING, DateFormat, Duration, NumberFormat, TextRatings, date_format, decimal_mark,
    duration_unit, text_time, time_from_number,
)
from features.windows import plain, words

ID, TEXT, TIME, NUMBER, DURATION = "id", "text", "time", "number", "duration"
UNPARSED = "_unparsed__"  # prefix of the flags of values that failed to parse; no contract column has it


@dataclass(frozen=True)
class TableSpec:
    """Columns of one contract table; ``row_time`` dates a row, so rows after the cut-off are future-dated (none for
    a lookup of users, which dates nothing).

    A log's rows (``is_log``) each stand alone, so a row with an empty ``not_null`` column (an event no
    account made, a survey sent but not answered) is skipped and counted; in accounts and
    subscriptions such a row is refused, as every other row depends on it.
    ``may_lack`` are contract columns an export often does not have (a helpdesk without CSAT, a
    product sold without seats): a table lacking one has it empty, and the features that need it
    are not built (see ``features.build.unbuilt_features``). Any other column is required.
    ``unique`` are the columns no two rows may share, checked when the table has them all: an account's id, a
    ticket's; a subscription's id and start, as a subscription renewed in a row of its own may keep its id.
    """

    columns: dict[str, str]
    row_time: str | None
    not_null: tuple[str, ...]
    required: bool = False
    unique: tuple[str, ...] = ()
    optional: dict[str, str] = field(default_factory=dict)
    is_log: bool = False
    may_lack: tuple[str, ...] = ()

    @property
    def kinds(self) -> dict[str, str]:
        """Every column the contract knows, required or optional, with its kind."""
        return {**self.columns, **self.optional}


CONTRACT = {
    "accounts": TableSpec(
        {"account_id": ID, "created_at": TIME, "plan": TEXT, "seats": NUMBER},
        "created_at", ("account_id", "created_at"), required=True, unique=("account_id",), may_lack=("plan", "seats"),
    ),
    "subscriptions": TableSpec(
        {"account_id": ID, "start_date": TIME, "end_date": TIME, "mrr": NUMBER, "seats": NUMBER},
        # required in effect: when a company has none, a flat accounts table stands for it (flat_subscriptions)
        "start_date", ("account_id", "start_date"), unique=("subscription_id", "start_date"),
        optional={"subscription_id": ID, "term_months": NUMBER, "billing_interval": TEXT, "billing_interval_count": NUMBER,
                  "quantity": NUMBER, "trial_end": TIME},  # a free trial's end: paid for from then (paid_subscriptions)
        may_lack=("mrr", "seats"),
    ),
    "events": TableSpec(
        {"account_id": ID, "user_id": ID, "timestamp": TIME, "event_type": TEXT},
        "timestamp", ("account_id", "timestamp", "event_type"), required=True, is_log=True, may_lack=("user_id",),
        optional={"event_count": NUMBER},  # a log of counts per day, week or month (features.rollups)
    ),
    "tickets": TableSpec(
        {"ticket_id": ID, "account_id": ID, "opened_at": TIME, "first_response_at": TIME, "resolved_at": TIME,
         "priority": TEXT, "category": TEXT, "csat": NUMBER},
        "opened_at", ("ticket_id", "account_id", "opened_at"), unique=("ticket_id",), is_log=True,
        may_lack=("first_response_at", "resolved_at", "priority", "category", "csat"),
        # the requester: for a ticket naming no organization, whose account it is; and, for a table without the first
        # reply's or the resolution's time, how long each took from the opening (times_after_opening)
        optional={"user_id": ID, "first_response_time": DURATION, "resolution_time": DURATION},
    ),
    "emails": TableSpec(
        {"account_id": ID, "user_id": ID, "sent_at": TIME, "opened_at": TIME, "clicked_at": TIME},
        "sent_at", ("account_id", "sent_at"), is_log=True, may_lack=("user_id", "opened_at", "clicked_at"),
        optional={"email_event": TEXT, "message_id": ID},  # a log of email events (email_messages)
    ),
    "surveys": TableSpec(
        {"account_id": ID, "user_id": ID, "responded_at": TIME, "nps": NUMBER},
        "responded_at", ("account_id", "responded_at", "nps"), is_log=True, may_lack=("user_id",),
    ),
    # Each user's account, for logs that name users and not accounts: analytics trackers key events by user,
    # email and survey tools by contact. Read only when a log lacks account_id, in some rows or in all.
    "users": TableSpec({"user_id": ID, "account_id": ID}, None, ("user_id", "account_id")),
}
BY_USER_HINT = "; a log naming users alone takes each user's account from a users table of user_id and account_id"
# Names other tools give contract columns, read as the contract's when a table has none of the contract's name in
# any style and exactly one of these: analytics trackers write events as event, distinct_id and time (Google
# Analytics' export as event_name and event_timestamp), product logs their user by address; CRMs and
# helpdesks name accounts organizations or companies, HubSpot a company's id its record_id; Zendesk writes a ticket's
# id, requester and times as id, requester_id, created_at and solved_at, Freshdesk as created_time, first_responded_at
# and resolved_time, Salesforce a case's as CreatedDate and ClosedDate, HubSpot a ticket's as Create date, First agent
# reply date and Close date, Intercom a conversation's first reply as first_admin_reply_at, Jira an issue's times as
# Created and Resolved; Stripe a subscription's account and end as customer and ended_at; email tools a message's
# recipient by address, and its times as send_time or sent_date, first_opened_at and first_clicked_at; survey tools
# an answer's time as Delighted's Response timestamp, Typeform's Submit Date or Google Forms' Timestamp.
ACCOUNT_NAMES = ("org_id", "organization_id", "organisation_id", "company_id", "customer_id", "workspace_id",
                 "tenant_id", "group_id")
USER_NAMES = ("distinct_id", "person_id", "contact_id", "member_id", "visitor_id")
SEAT_NAMES = ("seat_count", "number_of_seats", "seats_purchased", "licenses", "licences", "license_count",
              "licence_count", "licensed_seats")  # not quantity: on a plan without seats Stripe writes 1
COMMON_NAMES = {
    "accounts": {"account_id": ("id", "record_id", *ACCOUNT_NAMES),
                 "created_at": ("created", "created_date", "create_date", "date_created", "created_on", "creation_date",
                                "signup_date", "signed_up_at", "signup_at"),
                 "plan": ("plan_name", "plan_tier", "pricing_plan", "subscription_plan", "tier"), "seats": SEAT_NAMES},
    "subscriptions": {"subscription_id": ("id", "sub_id"), "account_id": ("customer", *ACCOUNT_NAMES),
                      "start_date": ("started_at", "start"),
                      "end_date": ("ended_at", "end"), "mrr": ("monthly_recurring_revenue", "mrr_amount"),
                      "seats": SEAT_NAMES, "trial_end": ("trial_ends_at", "trial_end_date", "trial_ended_at",
                                                         "trial_end_at", "trial_expires_at", "trial_expiration_date")},
    "events": {"account_id": ACCOUNT_NAMES, "user_id": (*USER_NAMES, "user_email", "email", "email_address", "username"),
               "event_type": ("event", "event_name", "action", "event_action", "activity_type", "action_name"),
               "timestamp": ("time", "event_time", "occurred_at", "ts", "created_at", "event_timestamp", "event_ts",
                             "event_at", "event_datetime", "happened_at", "tracked_at", "datetime"),
               "event_count": ("count", "events", "events_count", "n_events", "num_events", "number_of_events",
                               "occurrences", "n")},
    "tickets": {"ticket_id": ("id",), "account_id": ACCOUNT_NAMES, "user_id": ("requester_id", "requester"),
                "opened_at": ("created_at", "created_time", "created_date", "create_date", "created", "opened_date"),
                "first_response_at": ("first_responded_at", "first_reply_at", "first_agent_reply_date",
                                      "first_admin_reply_at"),
                "resolved_at": ("solved_at", "resolved_time", "closed_at", "closed_date", "close_date", "resolved_date",
                                "solved_date", "resolved"),
                "csat": ("satisfaction_rating", "satisfaction_score", "satisfaction", "csat_score", "csat_rating")},
    "emails": {"account_id": ACCOUNT_NAMES, "user_id": (*USER_NAMES, "email", "email_address", "recipient"),
               "sent_at": ("sent", "sent_time", "send_time", "sent_date", "send_date", "delivered_at"),
               "opened_at": ("first_opened_at", "first_open_at", "first_open_date", "opened_date", "open_date"),
               "clicked_at": ("first_clicked_at", "first_click_at", "first_click_date", "clicked_date", "click_date"),
               "email_event": ("event", "event_type", "activity_type", "activity"),  # else type (contract_renames)
               "message_id": ("sg_message_id", "email_id", "msg_id", "email_message_id", "campaign_id", "email_campaign_id")},
    "surveys": {"account_id": ACCOUNT_NAMES, "user_id": (*USER_NAMES, "email", "email_address"),
                "responded_at": ("created_at", "submitted_at", "response_date", "responded_on", "response_timestamp",
                                 "submit_date", "submitted_on", "date_submitted", "completed_at", "timestamp", "date"),
                "nps": ("score", "nps_score", "nps_rating", "nps_value", "likelihood_to_recommend")},
    "users": {"account_id": ACCOUNT_NAMES, "user_id": ("id", *USER_NAMES)},
}
# A flat accounts table's column saying when each customer left, when there is no subscriptions table.
SUBSCRIPTION_ENDS = ("churned_at", "churn_date", "churned_on", "cancelled_at", "canceled_at", "cancelled_on",
                     "canceled_on", "cancellation_date", "ended_at", "end_date", "closed_at", "closed_on")
# A flat accounts table's column saying whether each customer left, not when: no end a subscription could have.
STATUS_NAMES = ("status", "churned", "is_churned", "churn", "has_churned", "churn_status", "customer_status",
                "account_status", "active", "is_active")
# A log of email events, as email tools export them (SendGrid's event, email, timestamp and sg_message_id; HubSpot's
# Type, Recipient, Created and Email Campaign ID): each message's send, opens and clicks in rows of their own, read as
# one email per message, a message being one recipient's rows of one id (email_messages). Its time column is one of
# these when the table has no sent_at under any name; the events are told apart by name, case and punctuation set
# aside, and any other (a bounce, an unsubscribe) is not read.
EMAIL_EVENT_TIMES = ("timestamp", "time", "created", "created_at", "event_time", "occurred_at", "activity_date", "date")
EMAIL_TIMES = "emails.sent_at, opened_at, clicked_at"  # what the build says a log of email events gives
EMAIL_EVENTS = {
    "sent_at": ("send", "sent", "sendemail", "emailsent", "processed", "delivered", "delivery", "emaildelivered"),
    "opened_at": ("open", "opened", "openemail", "emailopened", "emailopen", "uniqueopen"),
    "clicked_at": ("click", "clicked", "clickemail", "emailclicked", "emailclick", "uniqueclick", "clicklink"),
}
EMAIL_EVENTS_READ = (
    "each message's first send, open and click in the log of email events (a message: one recipient's rows of one id)"
)
# A page-view log's page, read as its event type when the log has no event type under any name (Segment's and
# RudderStack's pages tables, a web analytics export): the path first, else the URL, else a mobile screen's name.
# Each page's URLs read as one event type (features.event_types).
PAGE_NAMES = (("path", "page_path"), ("url", "page_url"), ("screen_name",))
# A wide table of counts (a usage table of account, date, logins, reports_created, …, as CS tools and warehouses keep
# one) has a column per event type. A column counting users (active_users, unique_visitors, seats, dau) is not one:
# summed over days it counts neither events nor users. Its words: a noun for people, alone or with these.
PEOPLE = ("user", "users", "visitor", "visitors", "member", "members", "people", "person", "persons", "seat", "seats",
          "license", "licenses", "licence", "licences")
PEOPLE_COUNTED = ("active", "unique", "distinct", "daily", "weekly", "monthly", "total", "count", "num", "number", "n",
                  "of", "used")
USERS_COUNTED = "a count of users, which summed over days counts neither events nor users"
# Nor is a measure of money, time, a score or a ratio beside the counts (mrr, minutes_in_app, health_score, avg_…).
MEASURE_WORDS = ("mrr", "arr", "revenue", "amount", "price", "cost", "spend", "value", "score", "rating", "nps", "csat",
                 "health", "employees", "year", "age", "days", "hours", "minutes", "seconds", "duration", "time",
                 "percent", "pct", "rate", "ratio", "share", "avg", "average", "mean", "median")
NO_COUNT = "a measure of money, time, a score or a ratio, not a count of events"
WIDE_COUNTS = "each column of counts, named as its event type"
NOT_A_NUMBER = "not a number"
# A subscription's end in a billing export with no end under any other name, the first of these kinds it has: when it
# expired (Recurly's expires_at, beside canceled_at, when the cancellation was asked for), else when it was cancelled
# (Chargebee's cancelled_at).
END_NAMES = (("expires_at", "expired_at", "expiration_date", "expiry_date"),
             ("cancelled_at", "canceled_at", "cancellation_date", "cancelled_on", "canceled_on", "churned_at", "churn_date"))
# A log of counts per period's day, week or month, read as its timestamp when it has no time under any other name.
PERIOD_NAMES = ("date", "day", "event_date", "activity_date", "usage_date", "week", "week_start", "month",
                "month_start", "period_start")
# Table → contract column → the kinds of names read for it, the first kind the table has, when it has none of the
# column's common names. A bare type is an email event's only without another event column: HubSpot's; SendGrid's
# type is a bounce's.
FALLBACK_NAMES = {
    "emails": {"email_event": (("type",),)},
    "events": {"event_type": PAGE_NAMES, "timestamp": (PERIOD_NAMES,)},
    "subscriptions": {"end_date": END_NAMES},
}
# A ticket's first reply and resolution as helpdesks export them when not as times: how long each took from the
# opening (Zendesk's First reply time in minutes and Full resolution time in minutes, Freshdesk's First response time
# (in hrs), HubSpot's Time to first agent reply (HH:mm:ss) and Time to close). Read, for a table with no such time
# under any name, from the one column of the first tier of names it has; a name is its words but time, its unit and
# such words as to, in, agent. Durations within business hours are no elapsed time, and are not read.
DURATION_TIMES = {"first_response_at": "first_response_time", "resolved_at": "resolution_time"}
DURATION_NAMES = {
    "first_response_time": (({"first", "reply"}, {"first", "response"}, {"reply"}),),
    "resolution_time": (({"resolution"}, {"close"}, {"resolve"}), ({"first", "resolution"},)),
}
DURATION_FILLER = {"time", "to", "in", "the", "of", "agent", "admin", "full", "hh", "mm", "ss", *DURATION_UNITS}
UNSTATED_UNIT = ("numbers in a unit its name does not state: read once the name says minutes, hours or seconds, as "
                 "Zendesk's First reply time in minutes does")
# Names of a yearly recurring revenue, read as a twelfth of it for MRR by a table that has no MRR column: CRMs keep
# ARR. Not annual_revenue, which a CRM gives as the customer company's own revenue.
ANNUAL_REVENUE_NAMES = ("arr", "annual_recurring_revenue")
# A billing export's price per billing interval, read for MRR by a subscriptions table with no MRR or ARR column:
# Stripe's Amount per Interval (every Interval Count of them) for Quantity units. In the currency's units, as a
# dashboard exports prices; in cents when the name says so. Not plan_amount or unit_amount: APIs give those in cents.
PRICE_NAMES = ("amount", "price", "unit_price", "plan_price")
PRICE_IN_CENTS_NAMES = ("amount_in_cents", "price_in_cents", "unit_amount_in_cents", "unit_price_in_cents")
BILLING = {"billing_interval": ("interval", "plan_interval", "billing_cycle", "billing_frequency", "billing_period_unit",
                                "plan_interval_unit", "interval_unit"),
           "billing_interval_count": ("interval_count", "plan_interval_count", "plan_interval_length", "interval_length"),
           "quantity": ("plan_quantity",)}
# Months per billing interval, by the interval's name with case, spaces and punctuation set aside.
MONTHS_PER_INTERVAL = {
    **dict.fromkeys(("day", "daily"), 12 / 365), **dict.fromkeys(("week", "weekly"), 12 / 52),
    **dict.fromkeys(("month", "monthly"), 1), **dict.fromkeys(("quarter", "quarterly"), 3),
    **dict.fromkeys(("halfyear", "halfyearly", "semiannual", "semiannually", "biannual"), 6),
    **dict.fromkeys(("year", "yearly", "annual", "annually"), 12),
}
# The columns a flat accounts table gives its subscriptions beyond the contract's, which a mapping may name too.
FLAT_COLUMNS = ("churned_at", "mrr", "trial_end")
# What stands for accounts.created_at when an export lacks it, and why an account is then left out.
FIRST_SUBSCRIPTION = "each account's first subscription start"
NEVER_SUBSCRIBED = "no created_at, and no subscription to date the account by"
# Why a subscription is left out: it ended within its free trial, so the account was never a paying customer.
UNPAID_TRIAL = "a free trial that ended unpaid"
TRIAL_RUNNING = "in its free trial at the cut-off"  # not a customer yet
# Why a row of accounts, subscriptions or users is left out: it holds nothing.
BLANK_ROW = "blank: every field empty"
# Why a row of accounts, subscriptions or tickets is left out: it repeats another whole.
EXACT_COPY = "an exact copy of another row"
# Why a log's row has no account when its account was looked up by user.
NO_ACCOUNT = "no account_id, and a user_id not in users"
SHARED_USER = "no account_id, and a user_id of several accounts in users"
NO_USER = "no account_id, and no user_id"

# A log's row dated before this is a placeholder (1970-01-01 for a Unix time of 0, 1900-01-01 from a spreadsheet),
# not a time: SaaS products log nothing so early. Kept, one such row would start the log's history decades early,
# adding observation dates back to it and counting every window since as observed and idle.
EARLIEST_LOG_TIME = datetime(1990, 1, 1)
PLACEHOLDER = f"dated before {EARLIEST_LOG_TIME:%Y} (a placeholder such as 1970-01-01, not a time)"

# Rows of a table looked at first for how it writes numeric dates and numbers; the whole table only when they cannot tell.
SAMPLE_ROWS = 100_000
# Forms of numeric dates read per column, the most frequent first; values of rarer forms are refused, named.
MAX_DATE_FORMS = 4

# (table, column, problem, test for a bad row) — value checks beyond types.
RULES = (
    ("accounts", "seats", "negative", lambda t: t.seats < 0),
    ("subscriptions", "seats", "negative", lambda t: t.seats < 0),
    ("subscriptions", "mrr", "negative", lambda t: t.mrr < 0),
    ("subscriptions", "end_date", "before start_date", lambda t: t.end_date < t.start_date),
    ("subscriptions", "term_months", "not a positive number of months", lambda t: t.term_months <= 0),
    ("events", "event_count", "negative or not a whole number",
     lambda t: (t.event_count < 0) | (t.event_count != t.event_count.floor())),
    ("surveys", "nps", "outside 0-10", lambda t: (t.nps < 0) | (t.nps > 10)),
    ("tickets", "csat", "outside 1-5", lambda t: (t.csat < 1) | (t.csat > 5)),
)


@dataclass(frozen=True)
class Prepared:
    """Typed tables with skipped rows removed, what was skipped, and the observed period."""

    tables: dict[str, ir.Table]
    skipped: dict[tuple[str, str], int]
    first_times: dict[str, datetime | None]
    observed_until: datetime
    unused_columns: dict[str, str] = field(default_factory=dict)  # "table.column" → why it is not carried
    scheduled_ends: int = 0  # subscriptions ending after ``observed_until``: running through it, not churn yet
    absent_columns: tuple[str, ...] = ()  # "table.column" of each ``may_lack`` column a table lacks: empty throughout
    common_names: dict[str, str] = field(default_factory=dict)  # "table.column" → its column of a COMMON_NAMES name
    derived_columns: dict[str, str] = field(default_factory=dict)  # "table.column" a table lacks → what stands for it
    events_period: Period | None = None  # the period a log of counts is dated by (features.rollups); None for days
    trials: int = 0  # subscriptions starting with a free trial, each a customer's from the trial's end


def read_tables(con, data_dir: str | Path, named: dict[str, str] | None = None) -> dict[str, ir.Table]:
    """Open every contract table present in ``data_dir`` (see ``found_tables``) on an Ibis connection."""
    return {name: open_table(con, name, files) for name, files in found_tables(data_dir, named).items()}


def found_tables(data_dir: str | Path, named: dict[str, str] | None = None) -> dict[str, TableFiles]:
    """The files of every contract table present in ``data_dir`` (``features.files.find_table``), those ``named``
    (the mapping's ``[tables]``) where it names them; a required table missing is refused, with what the folder
    holds."""
    folder = Path(data_dir)
    if not folder.is_dir():
        raise ChurnInputError(f"data folder {folder} does not exist")
    tables = {}
    for name, spec in CONTRACT.items():
        files = find_table(folder, name, (named or {}).get(name))
        if files is None and spec.required:
            raise table_missing(folder, name)
        if files is not None:
            tables[name] = files
    return tables


def read_under_other_names(tables: dict[str, TableFiles]) -> dict[str, str]:
    """Each table read from a file of another name than its own (``customers.csv`` for accounts), for the report."""
    return {name: files.source.name for name, files in tables.items() if plain(table_stem(files.source)) != plain(name)}


def prepare(
    raw: dict[str, ir.Table],
    *,
    cutoff: datetime,
    observed_until: datetime | None = None,
    attributes: tuple[str, ...] | None = None,
    column_names: dict[str, dict[str, str]] | None = None,
    date_order: str | None = None,
    decimal_mark: str | None = None,
    ratings: TextRatings | None = None,
    keep: Callable[[ir.Table], ir.Table] | None = None,
) -> Prepared:
    """Type, check and clean the tables; rows dated after ``cutoff`` or naming unknown accounts are dropped.

    Profiles each table in one aggregate query (a second counts duplicate ids). A table with times or numbers
    written as text (CSV) is parsed once and kept by ``keep`` (``cached`` by default), as every later query
    would parse it again. ``observed_until`` defaults to the latest event at or before the cut-off: the product log
    is the one every company exports densely, and the features stand on it. A later date elsewhere does not stretch
    it. A billing export shows a running contract's term end, a support export may run a month past the events;
    either read as the data's end would make months without a single event into observation dates, and every
    term end into a churn.
    ``attributes`` names the extra account columns to carry (see ``account_attributes``); ``column_names``
    (the mapping's ``[columns.<table>]``) names a table's columns that are the contract's under other names;
    ``date_order`` (the mapping's ``[dates] order``) how numeric dates such as "03/04/2025" are read, else the
    data tells (``date_formats``); ``decimal_mark`` (its ``[numbers] decimal``) the same for numbers written as
    "1.234,50" or "$1,234.50" (``number_formats``); ``ratings`` (its ``[csat]``) what text CSAT ratings score.
    A ``users`` table gives the rows of logs naming users alone their accounts (``_with_accounts_of_users``).
    """
    keep = keep or cached
    for name, spec in CONTRACT.items():
        if spec.required and name not in raw:
            raise ChurnInputError("required table is missing", table=name)
    column_names = column_names or {}
    annual = None  # the yearly revenue column subscriptions.mrr is read from, a twelfth of it
    price = price_column = None  # how subscriptions.mrr is read from a price per billing interval (price_read)
    unused = {}  # "table.column" → why it is not carried
    named_raw, common, sources = {}, {}, {}  # sources: table → contract column → the column it is read from
    durations, derived_times = {}, {}  # how tickets give their reply and resolution as durations (ticket_durations)
    for name, table in raw.items():
        if name not in CONTRACT:
            continue
        named = column_names.get(name)
        left_out = displaced(list(table.columns), named)
        unused |= {f"{name}.{c}": f"the mapping reads {named[c]!r} as {c}" for c in left_out}
        table = table.drop(*left_out) if left_out else table
        renames = contract_renames(name, list(table.columns), named)
        sources[name] = renames
        common |= {f"{name}.{column}": given for column, given in common_names_read(renames, named).items()}
        named_raw[name] = table.rename(renames) if renames else table
        if name == "tickets":
            with reading(name):
                named_raw[name], durations, not_read, derived_times = ticket_durations(named_raw[name], renames)
            unused |= not_read
            for duration in DURATION_NAMES:  # reported as the times they stand for
                common.pop(f"tickets.{duration}", None)
        if name == "subscriptions":
            annual, price = annual_revenue(renames, named), price_read(renames, named)
            price_column = renames["mrr"] if price else None
    raw, derived, trials = named_raw, dict(derived_times), 0
    if "event_type" not in raw["events"].columns:  # a wide table of counts, a column per event type
        with reading("events"):
            raw["events"], counts, not_read = _wide_counts_as_log(raw["events"])
        if counts:
            derived["events.event_type, event_count"] = WIDE_COUNTS + f" ({', '.join(map(repr, counts))})"
            unused |= {f"events.{column}": why for column, why in not_read.items()}
    blank = {}
    for name in [name for name in raw if not CONTRACT[name].is_log]:  # a log's blank row is one of empty columns
        with reading(name):
            raw[name], blank[(name, BLANK_ROW)] = _without_blank_rows(raw[name])
    if "subscriptions" not in raw:  # a flat customer table: one subscription per account, to its churn date
        accounts = raw["accounts"]
        columns = flat_subscriptions(list(accounts.columns), column_names.get("accounts"))
        raw["subscriptions"] = accounts.select(**{read: accounts[column] for read, column in columns.items()})
        given = {column: read for read, column in columns.items() if column not in CONTRACT["accounts"].columns}
        raw["accounts"] = accounts.drop(*given)
        exported = {**{c: c for c in accounts.columns}, **column_names.get("accounts", {})}  # a mapped one as named
        end = exported[columns["end_date"]]
        derived["subscriptions"] = f"one subscription per account (from its created_at to its {end})"
        annual = annual_revenue(columns, column_names.get("accounts"))
        unused |= {f"accounts.{exported[column]}": f"read as subscriptions.{read}" for column, read in given.items()}
    with reading("subscriptions"):  # a copy would be a second subscription: its MRR and seats counted twice
        raw["subscriptions"], blank[("subscriptions", EXACT_COPY)] = _without_copies(raw["subscriptions"])
    unread = [column for column in BILLING if column in raw["subscriptions"].columns] if price is None else []
    raw["subscriptions"] = raw["subscriptions"].drop(*unread) if unread else raw["subscriptions"]  # MRR is given
    if annual:
        derived["subscriptions.mrr"] = f"a twelfth of the yearly {annual!r}"
    if price:
        derived["subscriptions.mrr"] = price
    if annual or price:
        common.pop("subscriptions.mrr", None)
        common = {key: given for key, given in common.items() if key.removeprefix("subscriptions.") not in BILLING}
    if ratings is not None and "tickets" in raw and "csat" in raw["tickets"].columns:
        raw["tickets"] = raw["tickets"].mutate(csat=ratings.scored(raw["tickets"].csat))
    with reading("accounts"):
        carried, not_carried = account_attributes(raw["accounts"], attributes)
    unused |= not_carried
    undated = "created_at" not in raw["accounts"].columns  # dated below by each account's first subscription
    if undated:
        raw["accounts"] = raw["accounts"].mutate(created_at=ibis.null("timestamp"))
    users = raw.pop("users", None)
    lacking = set() if users is None else {name for name, table in raw.items() if _lacks_accounts(name, table)}
    raw = {name: table.mutate(account_id=ibis.null("string")) if name in lacking else table
           for name, table in raw.items()}
    dates, numbers = date_formats(raw, date_order), number_formats(raw, decimal_mark)
    formats = {name: {**dates.get(name, {}), **numbers.get(name, {})} for name in raw}
    formats.get("tickets", {}).update(durations)
    typed = {}
    for name, table in raw.items():
        typed[name] = _typed(name, table, carried if name == "accounts" else {}, formats[name])
        if name == "tickets" and durations:
            typed[name] = times_after_opening(typed[name])
        if name == "subscriptions" and annual:
            typed[name] = typed[name].mutate(mrr=typed[name].mrr / 12)
        if name == "subscriptions" and price:
            with reading(name):
                typed[name] = monthly_price(typed[name], price_column)
        if name == "subscriptions" and "trial_end" in table.columns:
            with reading(name):
                typed[name], trials, trial_skips = paid_subscriptions(typed[name], cutoff)
            blank |= {(name, why): n for why, n in trial_skips.items()}
        if name == "emails" and {"email_event", "message_id"} & set(table.columns):
            with reading(name):
                messages = email_messages(typed[name], given=list(table.columns))
            derived |= {EMAIL_TIMES: EMAIL_EVENTS_READ} if messages is not typed[name] else {}
            typed[name] = messages.drop(*[c for c in ("email_event", "message_id") if c in messages.columns])
        if _parses_text(table, name) and name not in lacking:  # a log lacking accounts is kept once they are found
            with reading(name):
                typed[name] = keep(typed[name])
    typed, by_user, skipped = _with_accounts_of_users(typed, users, lacking, keep)
    with reading("events"):  # a week's or a month's count is known at its end
        period = period_of(typed["events"], since=EARLIEST_LOG_TIME)
    typed["events"] = counted_at_period_end(typed["events"], period) if period else typed["events"]
    skipped |= blank
    if undated:
        with reading("subscriptions"):
            typed["accounts"], skipped[("accounts", NEVER_SUBSCRIBED)] = _dated_by_first_subscription(
                typed["accounts"], typed["subscriptions"]
            )
    accounts = typed["accounts"].filter(typed["accounts"].created_at <= cutoff)
    tables, first_times, last_event = {}, {}, None
    for name, table in typed.items():
        with reading(name):
            profile = _profile(name, table, accounts, cutoff)
            if profile.get("duplicates"):  # an export whose pages overlapped repeats rows whole: they say nothing new
                table, copies = _without_copies(table, rows=int(profile["rows"]))
                skipped[(name, EXACT_COPY)] = skipped.get((name, EXACT_COPY), 0) + copies
                if copies:
                    profile = _profile(name, table, accounts, cutoff)
        _raise_first_problem(name, raw[name], table, profile, formats[name], sources.get(name, {}))
        if name != "accounts" and profile["unknown"] and not profile.get("known", 1):  # keys differ: nothing to use
            raise _accounts_not_found(name, table, raw["accounts"])  # every column, carried or not
        tables[name] = _without_skipped(name, table, profile, accounts, cutoff)
        if name == "events":
            with reading(name):
                tables[name], no_counts = without_empty_counts(tables[name])
            skipped |= {(name, why): n for why, n in no_counts.items()}
        skipped[(name, "future-dated")] = int(profile["future"])
        if name != "accounts":
            skipped[(name, "unknown account")] = int(profile["unknown"])
        if CONTRACT[name].is_log:
            skipped |= {(name, f"empty {column}"): int(profile[f"empty__{column}"]) for column in CONTRACT[name].not_null}
            if name in by_user:  # a row without an account is one whose user gave it none
                empty = skipped.pop((name, "empty account_id"))
                skipped[(name, NO_ACCOUNT)] = empty - skipped[(name, NO_USER)] - skipped.get((name, SHARED_USER), 0)
                if empty == int(profile["rows"]) and skipped[(name, NO_ACCOUNT)]:  # not one user found: keys differ
                    raise _users_not_found(name, table, users, common.get("users.user_id"))
            skipped[(name, PLACEHOLDER)] = int(profile["early"])
        first_times[name] = _timestamp(profile["first"])
        if name == "events":
            last_event = _timestamp(profile["last__timestamp"])
    if last_event is None:
        raise ChurnInputError(f"no rows dated on or before {cutoff:%Y-%m-%d %H:%M}", table="events")
    if period:  # the log's history starts with its first period, not at that period's end
        first_times["events"] = period.start_of(first_times["events"])
    until = observed_until or last_event
    subscriptions = tables["subscriptions"]
    with reading("subscriptions"):
        scheduled = _collect(subscriptions.aggregate(n=(subscriptions.end_date > until).sum().fill_null(0)))["n"]
    if attributes is None and carried:  # chosen in the mapping, an attribute is the company's call
        with reading("accounts"):
            telling = _attributes_telling_who_left(tables["accounts"], subscriptions, until, list(carried))
        tables["accounts"] = tables["accounts"].drop(*telling) if telling else tables["accounts"]
        unused |= {f"accounts.{column}": TELLS_WHO_LEFT.format(detail) for column, detail in telling.items()}
    given_otherwise = {"emails.opened_at", "emails.clicked_at"} if EMAIL_TIMES in derived else set()  # email_messages
    given_otherwise |= set(derived_times)  # ticket_durations
    absent = tuple(
        f"{name}.{column}" for name in raw for column in CONTRACT[name].may_lack
        if column not in raw[name].columns and f"{name}.{column}" not in given_otherwise
    )
    return Prepared(
        tables=tables, skipped=skipped, first_times=first_times, observed_until=until, unused_columns=unused,
        scheduled_ends=int(scheduled), absent_columns=absent, common_names=common, events_period=period, trials=trials,
        derived_columns={**derived, **({"accounts.created_at": FIRST_SUBSCRIPTION} if undated else {})},
    )


def _without_blank_rows(table: ir.Table) -> tuple[ir.Table, int]:
    """The table without its rows whose every field is empty, and how many there were: the rows below the data that
    a spreadsheet exports as ``;;;;`` hold nothing, and would otherwise read as accounts without an id."""
    empty = [table[c].isnull() | (table[c].strip() == "") if table[c].type().is_string() else table[c].isnull()
             for c in table.columns]
    is_blank = ibis.and_(*empty)
    count = int(_collect(table.aggregate(n=is_blank.sum().fill_null(0)))["n"])
    return (table.filter(~is_blank) if count else table), count


def email_messages(emails: ir.Table, given: list[str]) -> ir.Table:
    """A log of email events (``EMAIL_EVENTS``: a row per send, open or click, its time read as ``sent_at``) as one
    email per message: sent, first opened and first clicked, told apart by the ``message_id`` the events share. An
    emails table of its own times (``given`` has opened_at or clicked_at), or whose events name no send, open or click,
    is the contract's as it is (the caller drops the event columns). A log of events without message ids is refused:
    nothing ties an open to its send."""
    if {"opened_at", "clicked_at"} & set(given) or "email_event" not in emails.columns:
        return emails
    t = emails
    key = _plain_text(t.email_event)
    known = [name for names in EMAIL_EVENTS.values() for name in names]
    if not _collect(t.aggregate(n=key.isin(known).sum().fill_null(0)))["n"]:
        return emails
    if "message_id" not in t.columns:
        raise ChurnInputError(
            "a log of email events (sends, opens and clicks in rows of their own) needs each message's id to tie its "
            "opens and clicks to its send; the table has none under a known name (message_id, sg_message_id, email_id, "
            "…): name it in a mapping file, [columns.emails] message_id = \"your column\"",
            table="emails", column="message_id",
        )
    keys = [c for c in ("account_id", "user_id", "message_id") if c in t.columns]
    first = lambda names: ibis.ifelse(key.isin(list(names)), t.sent_at, ibis.null("timestamp")).min()  # noqa: E731
    flags = [c for c in t.columns if c.startswith(UNPARSED)]
    return t.group_by(keys).aggregate(
        **{column: first(names) for column, names in EMAIL_EVENTS.items()}, **{flag: t[flag].any() for flag in flags},
    ).drop("message_id")


def paid_subscriptions(subscriptions: ir.Table, cutoff: datetime) -> tuple[ir.Table, int, dict[str, int]]:
    """Subscriptions as paid for: one starting with a free trial starts at the trial's end, and one ending by then
    is left out, as its account never paid, as is one whose trial runs past ``cutoff``; with how many were moved
    and how many of each were left out.

    A trial is a product tried, not a customer kept: counted as customers, trials ending unpaid would be churn,
    and a model would learn who converts a trial rather than who leaves. The trial's end is known from its start,
    so a feature at any date sees no later fact. The column is then dropped."""
    in_trial = lambda t: (t.trial_end > t.start_date).fill_null(False)  # noqa: E731
    unpaid = lambda t: in_trial(t) & (t.end_date <= t.trial_end).fill_null(False)  # noqa: E731
    running = lambda t: in_trial(t) & ~unpaid(t) & (t.trial_end > cutoff)  # noqa: E731
    t = subscriptions
    found = _collect(t.aggregate(
        moved=(in_trial(t) & ~unpaid(t)).sum().fill_null(0), unpaid=unpaid(t).sum().fill_null(0),
        running=running(t).sum().fill_null(0),
    ))
    paid = t.filter(~unpaid(t) & ~running(t)) if found["unpaid"] or found["running"] else t
    if found["moved"]:
        paid = paid.mutate(start_date=ibis.ifelse(in_trial(paid), paid.trial_end, paid.start_date))
    skipped = {UNPAID_TRIAL: int(found["unpaid"]), TRIAL_RUNNING: int(found["running"])}
    return paid.drop("trial_end"), int(found["moved"] - found["running"]), skipped


def event_type_columns(events: ir.Table) -> tuple[list[str], dict[str, str]]:
    """For an events table naming no event type, its columns of counts, each an event type's (a wide usage table:
    account_id, date, logins, reports_created, …), and why each other column is not read: a column of whole,
    non-negative numbers is a count, but not an id, a count of users (``PEOPLE``: active_users, unique_visitors) or
    another measure (``MEASURE_WORDS``: mrr, minutes_in_app)."""
    extra = [c for c in events.columns if c not in CONTRACT["events"].kinds and not c.startswith(UNPARSED)]
    _, numbers, _, _ = _column_contents(events, extra)
    users = {c for c in numbers if c.lower() in ("dau", "wau", "mau") or (
        set(words(c)) & set(PEOPLE) and set(words(c)) <= {*PEOPLE, *PEOPLE_COUNTED})}
    ids = {c for c in numbers if column_key(c).endswith("id")}
    measures = {c for c in numbers if set(words(c)) & set(MEASURE_WORDS)}
    candidates = [c for c in extra if c in numbers and c not in users | ids | measures]
    number = lambda c: events[c].try_cast("float64") if events[c].type().is_string() else events[c].cast("float64")  # noqa: E731
    found = _collect(events.aggregate(**{
        f"c{i}": ((number(c) < 0) | (number(c) != number(c).floor())).sum().fill_null(0) for i, c in enumerate(candidates)
    })) if candidates else {}
    counts = [c for i, c in enumerate(candidates) if not found[f"c{i}"]]
    why = lambda c: (  # noqa: E731
        USERS_COUNTED if c in users else "an id" if c in ids else NO_COUNT if c in measures
        else NOT_A_NUMBER if c not in numbers else "not a count: some of its values are negative or fractions"
    )
    return counts, {c: why(c) for c in extra if c not in counts}


def _wide_counts_as_log(events: ir.Table) -> tuple[ir.Table, list[str], dict[str, str]]:
    """An events table naming no event type as a log of counts when it is a wide table of them
    (``event_type_columns``), with its columns of counts and why each other column is not read; as it is when it has
    no numbers (its missing event type is refused with the other missing columns), and refused, saying why each
    number is no count, when it has numbers but no counts."""
    counts, not_read = event_type_columns(events)
    if counts:
        return counts_in_columns(events, counts), counts, not_read
    if numbers := {column: why for column, why in not_read.items() if why != NOT_A_NUMBER}:
        raise ChurnInputError(
            "required column is missing, and no column is a count of events to read as one (a wide table of "
            f"counts, a column per event type): {'; '.join(f'{c!r} is {why}' for c, why in numbers.items())}; "
            'name the event type column in a mapping file: [columns.events] event_type = "your column"',
            table="events", column="event_type",
        )
    return events, [], {}


def counts_in_columns(events: ir.Table, counts: list[str]) -> ir.Table:
    """A wide table of counts as a log of counts: a row per row and column of ``counts``, its name the event type."""
    as_text = any(events[c].type().is_string() for c in counts)
    typed = events.mutate(**{c: events[c].cast("string" if as_text else "float64") for c in counts})
    return typed.pivot_longer(ibis.selectors.cols(*counts), names_to="event_type", values_to="event_count")


def _count(table: ir.Table) -> int:
    return int(_collect(table.aggregate(n=table.count()))["n"])


def _without_copies(table: ir.Table, *, rows: int | None = None) -> tuple[ir.Table, int]:
    """The table (of ``rows`` rows, counted when not given) with each row repeated whole kept once, and how many
    copies there were. Rows sharing an id and differing in anything else are left for the duplicate check to
    refuse: which of them is right is not known."""
    unique = table.distinct()
    copies = (_count(table) if rows is None else rows) - _count(unique)
    return (unique if copies else table), copies


def flat_subscriptions(columns: list[str], named: dict[str, str] | None = None) -> dict[str, str]:
    """Subscription column → the column of a flat accounts table it is read from, one subscription per account:
    from its created_at to the one column saying when it left (``SUBSCRIPTION_ENDS``, or the one the mapping
    ``named`` as churned_at), with its seats and, when the table has one, its MRR column. For a company without a
    subscriptions table, whose accounts export says when each customer left. Without an MRR column, its one yearly
    revenue column (``ANNUAL_REVENUE_NAMES``) is read, a twelfth of it (``annual_revenue``); a trial's end, when
    the table has one (``paid_subscriptions``). ``columns`` are the table's after ``contract_renames``."""
    ends = ["churned_at"] if "churned_at" in (named or {}) else [
        column for column in columns if column_key(column) in {column_key(name) for name in SUBSCRIPTION_ENDS}
    ]
    if len(ends) != 1 or "created_at" not in columns:
        found = f"it has {', '.join(map(repr, ends))}, which is more than one" if ends else "it has none"
        if not ends:
            states = _named_as(columns, STATUS_NAMES)
            status = f"; {states[0]!r} says who left but not when, and no label as of a date stands on that" if states else ""
            found += f' (if it is named otherwise, name it in a mapping file: [columns.accounts] churned_at = "your column"{status})'
        raise ChurnInputError(
            "required table is missing; a flat accounts table may stand for it, one subscription per account from "
            f"its created_at to the one column saying when it left ({', '.join(SUBSCRIPTION_ENDS[:4])}, …), but "
            + (found if "created_at" in columns else "it has no created_at"),
            table="subscriptions",
        )
    read = {"account_id": "account_id", "start_date": "created_at", "end_date": ends[0]}
    mrr_names = {column_key(name) for name in ("mrr", *COMMON_NAMES["subscriptions"]["mrr"])}
    mrr = ["mrr"] if "mrr" in (named or {}) else [column for column in columns if column_key(column) in mrr_names]
    yearly = yearly_revenue(columns)
    read |= {"mrr": mrr[0]} if len(mrr) == 1 else {"mrr": yearly} if not mrr and yearly else {}
    trial = "trial_end" if "trial_end" in (named or {}) else _first_named(
        columns, (("trial_end", *COMMON_NAMES["subscriptions"]["trial_end"]),)
    )
    read |= {"trial_end": trial} if trial else {}
    return read | ({"seats": "seats"} if "seats" in columns else {})


def _dated_by_first_subscription(accounts: ir.Table, subscriptions: ir.Table) -> tuple[ir.Table, int]:
    """Accounts without ``created_at``, dated by their first subscription's start, and how many accounts had
    none: those are left out, as they never were customers (their logs' rows are then rows of unknown accounts).

    A CRM or billing export may carry no creation date; the first subscription is when the account became a
    customer, so tenure and the first 90 days count from it.
    """
    first = subscriptions.group_by("account_id").aggregate(first_start=subscriptions.start_date.min())
    joined = accounts.left_join(first, "account_id")
    dated = joined.select(*[joined.first_start.name(c) if c == "created_at" else joined[c] for c in accounts.columns])
    never = _collect(dated.aggregate(n=dated.created_at.isnull().sum().fill_null(0)))["n"]
    return (dated.filter(dated.created_at.notnull()) if never else dated), int(never)


def _accounts_of_users(users: ir.Table) -> tuple[ir.Table, ir.Table | None, dict[tuple[str, str], int]]:
    """Each user's account (``user_id``, ``account_id``) for the users of one account; the users of several (a
    consultant in two clients' workspaces), or None when there are none; the users' rows skipped for an empty column.

    A shared user's rows naming no account are left out: whose activity such a row is would be a guess.
    """
    typed = _typed("users", users, {})
    given = typed.filter(typed.user_id.notnull() & typed.account_id.notnull())
    given = given.select(user_id=_user_key(given.user_id), account_id=given.account_id).distinct()
    per_user = given.group_by("user_id").aggregate(accounts=given.count(), account_id=given.account_id.max())
    lookup = cached(per_user.filter(per_user.accounts == 1).select("user_id", "account_id"))
    shared = per_user.filter(per_user.accounts > 1).select("user_id")
    any_shared = _collect(shared.aggregate(n=shared.count()))["n"] > 0
    empty = _collect(typed.aggregate(**{column: typed[column].isnull().sum().fill_null(0) for column in typed.columns}))
    skipped = {("users", f"empty {column}"): int(count) for column, count in empty.items()}
    return lookup, cached(shared) if any_shared else None, skipped


def _with_accounts_of_users(
    typed: dict[str, ir.Table], users: ir.Table | None, lacking: set[str], keep: Callable[[ir.Table], ir.Table]
) -> tuple[dict[str, ir.Table], set[str], dict[tuple[str, str], int]]:
    """The typed tables, each log row naming a user and no account given the user's account (``_accounts_of_users``);
    the logs so completed; and the rows skipped: the users' own, and each log's naming a user of several accounts.
    Users are read only when some log needs them: those ``lacking`` an account column, or naming users alone in some
    rows. A completed log is kept (``keep``), as every read of it would otherwise look its users up again."""
    needing = [] if users is None else [
        name for name, table in typed.items() if name in lacking or _names_users_alone(name, table)
    ]
    if not needing:
        return typed, set(), {}
    with reading("users"):
        lookup, shared, skipped = _accounts_of_users(users)
    completed = {}
    for name in needing:
        with reading(name):
            completed[name] = log = keep(_attributed(typed[name], lookup))
            whose = {NO_USER: log.user_id.isnull()}  # why a row has no account → which rows
            if shared is not None:
                whose[SHARED_USER] = _user_key(log.user_id).isin(shared.user_id)
            unattributed = [(log.account_id.isnull() & rows).sum().fill_null(0).name(f"n{i}") for i, rows in
                            enumerate(whose.values())]
            counts = _collect(log.aggregate(unattributed))
            skipped |= {(name, why): int(counts[f"n{i}"]) for i, why in enumerate(whose)}
    return {**typed, **completed}, set(needing), skipped


def _users_not_found(name: str, log: ir.Table, users: ir.Table, read_from: str | None) -> ChurnInputError:
    """The error for a log none of whose users is in ``users``, so that no row has an account: the two name users by
    different keys (an email address against a CRM's contact id). The column of ``users`` holding the log's users,
    when one does, is named with the mapping that reads it."""
    example, users_example, holding = _keys_compared(log, users, "user_id", ("account_id",))
    hint = (
        f"users.{holding} holds them: name it in a mapping file, [columns.users] user_id = {json.dumps(holding)}"
        if holding else "name users by the same ids in both tables"
    )
    read = f" (read from {read_from!r})" if read_from else ""
    return ChurnInputError(
        f"no row names an account, and not one of its users is in users.user_id{read} ({example!r} against "
        f"{users_example!r}, say), so no row has one; {hint}",
        table=name, column="user_id",
    )


def _accounts_not_found(name: str, log: ir.Table, accounts: ir.Table) -> ChurnInputError:
    """The error for a table none of whose rows names a known account: it names accounts by another key than
    accounts.account_id (a helpdesk's organization names against a CRM's ids), and would be left out whole. The
    column of ``accounts`` holding its keys, when one does, is named."""
    example, accounts_example, holding = _keys_compared(log, accounts, "account_id")
    hint = (
        f"accounts.{holding} holds them: {name} names accounts by it, where the other tables have account_id"
        if holding else "name accounts by the same ids in every table"
    )
    return ChurnInputError(
        f"not one row names a known account ({example!r} against accounts' {accounts_example!r}, say), so every row "
        f"would be left out; {hint}",
        table=name, column="account_id",
    )


def _keys_compared(log: ir.Table, table: ir.Table, key: str, skip: tuple[str, ...] = ()) -> tuple[str, str, str | None]:
    """For an error saying that ``log`` and ``table`` name things by different keys: an example of the log's ``key``,
    one of the table's, and the other column of ``table`` (but ``skip``) holding most of the log's first thousand
    keys, or None."""
    given = log.filter(log[key].notnull())
    keys = given.select(value=_user_key(given[key])).distinct().limit(1000).to_pyarrow().column("value").to_pylist()
    others = [column for column in table.columns if column != key and column not in skip]
    held = _collect(table.aggregate(**{
        f"c{i}": _user_key(table[column].cast("string").strip()).isin(keys).sum() for i, column in enumerate(others)
    })) if others and keys else {}
    holding = max(((held[f"c{i}"], column) for i, column in enumerate(others) if held.get(f"c{i}")), default=None)

    def example(of: ir.Table) -> str:
        return _collect(of.filter(of[key].notnull()).select(key).limit(1))[key]

    return example(given), example(table), holding[1] if holding else None


def _lacks_accounts(name: str, table: ir.Table) -> bool:
    """Whether a log names users but has no ``account_id`` column: its accounts all come from users."""
    return "user_id" in CONTRACT[name].kinds and "user_id" in table.columns and "account_id" not in table.columns


def _names_users_alone(name: str, log: ir.Table) -> bool:
    """Whether some row of a typed log names a user and no account."""
    if "user_id" not in log.columns:
        return False
    alone = (log.account_id.isnull() & log.user_id.notnull()).sum().fill_null(0)
    with reading(name):
        return bool(_collect(log.aggregate(n=alone))["n"])


def _attributed(log: ir.Table, users: ir.Table) -> ir.Table:
    """The log with each row naming no account given its user's account; a row naming one keeps it, as the
    log records where the activity happened."""
    keyed = log.mutate(user_key=_user_key(log.user_id))
    lookup = users.rename(user_key="user_id", account_of_user="account_id")
    joined = keyed.left_join(lookup, "user_key")
    account = ibis.coalesce(joined.account_id, joined.account_of_user)
    return joined.select(*[account.name(c) if c == "account_id" else joined[c] for c in log.columns])


def _user_key(user_id: ir.StringValue) -> ir.StringValue:
    """A user id as the users table is looked up by: an email address in lower case, as each export writes one in a
    case of its own (a CRM's ``Jane.Doe@Acme.com`` is an email tool's ``jane.doe@acme.com``); any other id as it is."""
    return ibis.ifelse(user_id.contains("@"), user_id.lower(), user_id)


def date_formats(tables: dict[str, ir.Table], declared: str | None = None) -> dict[str, dict[str, tuple[DateFormat, ...]]]:
    """Table → text time column → the formats of its numeric dates ("09/20/2024", "20.09.2024 17:05"), for the
    columns that hold such dates, most frequent form first.

    The order, month or day first, is the ``declared`` one (the mapping's ``[dates] order``), else the data tells:
    a first number above 12 is a day, a second one a month. A table's first rows are looked at, and the whole table
    when they cannot tell. A table in which no date can tell ("03/04/2025" could be 4 March or 3 April) takes the
    order the other tables show, and is refused when they show none or both; so is a table showing both orders,
    and a date with a two-digit year, whose century would be a guess.
    """
    forms, shown, undecided = {}, {}, {}
    for name, table in tables.items():
        columns = [c for c in _time_columns(name, table) if table[c].type().is_string()]
        if not columns:
            continue
        with reading(name):
            found = _date_forms(table.limit(SAMPLE_ROWS), columns)
            if found and declared is None and not any(form[DAY_FIRST] or form[MONTH_FIRST] for form in found):
                found = _date_forms(table, columns)
        if not found:
            continue
        forms[name] = found
        day = next((form for form in found if form[DAY_FIRST]), None)
        month = next((form for form in found if form[MONTH_FIRST]), None)
        if declared is None and day and month:
            raise ChurnInputError(
                f"holds dates written month first ({month[MONTH_FIRST]!r} in {month['column']}) and day first "
                f"({day[DAY_FIRST]!r} in {day['column']}); each table must write them one way",
                table=name, column=month["column"],
            )
        if day or month:
            shown[name] = DAY_FIRST if day else MONTH_FIRST
        else:
            undecided[name] = (found[0]["column"], found[0]["example"])
    orders = _settled(shown, undecided, declared, lambda name, column, example, seen: ChurnInputError(
        f"dates such as {example!r} may be month first or day first, and "
        + ("no date in the tables tells which" if not seen else "the other tables write them both ways")
        + f"; name the order in a mapping file: {ORDER_SETTING}",
        table=name, column=column,
    ))
    formats = {}
    for name, found in forms.items():
        columns = formats.setdefault(name, {})
        for form in found:
            written = NUMERIC_DATE_FORM.fullmatch(form["example"])
            if written and len(written[3]) == 2:
                raise ChurnInputError(
                    f"dates such as {form['example']!r} give the year in two digits, which leaves the century a guess; "
                    "export them with four-digit years",
                    table=name, column=form["column"],
                )
            chosen = columns.setdefault(form["column"], ())
            read = date_format(form["example"], orders[name])
            if read is not None and read not in chosen and len(chosen) < MAX_DATE_FORMS:
                columns[form["column"]] = (*chosen, read)
    return formats


def number_formats(tables: dict[str, ir.Table], declared: str | None = None) -> dict[str, dict[str, NumberFormat]]:
    """Table → text number column → its style, for the columns that write numbers as spreadsheets and locales do
    ("$1,234.50", "1.234,50 €", "1 234,5"): a plain number elsewhere is read as it is.

    The decimal mark is the ``declared`` one (the mapping's ``[numbers] decimal``), else the numbers tell: the later
    of two marks (1,234.50), the one a number holds once with other than three digits after it (99,5), or the other
    one of a mark held twice (1,234,567). A column of numbers that cannot tell ("$1,234" may be 1234 or 1.234) takes
    the mark other columns show, and is refused when they show none or both; so is a column showing both.
    """
    found, shown, undecided = [], {}, {}
    for name, table in tables.items():
        columns = [
            column for column, kind in CONTRACT[name].kinds.items()
            if kind == NUMBER and column in table.columns and table[column].type().is_string()
        ]
        for column in columns:
            with reading(name):
                shapes = _number_shapes(table.limit(SAMPLE_ROWS), column)
                if any(shape["formatted"] for shape in shapes) and declared is None and not _marks(shapes):
                    shapes = _number_shapes(table, column)
            if not any(shape["formatted"] for shape in shapes):
                continue
            found.append((name, column))
            marks = _marks(shapes)
            if declared is None and len(marks) > 1:
                raise ChurnInputError(
                    f"holds numbers written with a decimal point ({marks['.']!r}) and with a decimal comma "
                    f"({marks[',']!r}); a column must write them one way",
                    table=name, column=column,
                )
            untold = [  # numbers with a mark that cannot tell which it is ("$1,234"); "$5" has none
                shape["example"] for shape in shapes if decimal_mark(shape["shape"]) is None and shape["shape"].strip("9")
            ]
            if marks:
                shown[(name, column)] = next(iter(marks))
            elif untold:
                undecided[(name, column)] = (column, untold[0])
    decided = _settled(shown, undecided, declared, lambda key, column, example, seen: ChurnInputError(
        f"numbers such as {example!r} may use either mark for decimals, and "
        + ("no number in the tables tells which" if not seen else "the other columns use both")
        + f"; name the decimal mark in a mapping file: {DECIMAL_SETTING}",
        table=key[0], column=column,
    ))
    formats = {}
    for name, column in found:
        formats.setdefault(name, {})[column] = NumberFormat(decided.get((name, column), declared or "."))
    return formats


def _settled(shown: dict, undecided: dict, declared: str | None, refused: Callable) -> dict:
    """Key → choice (an order, a decimal mark): the ``declared`` one for every key, else the one each key's values
    ``shown``, and for each ``undecided`` key (→ its column and an example) the one choice the others show.
    ``refused(key, column, example, seen)`` is the error raised when they show none or both."""
    if declared is not None:
        return dict.fromkeys([*shown, *undecided], declared)
    seen = set(shown.values())
    for key, (column, example) in undecided.items():
        if len(seen) != 1:
            raise refused(key, column, example, seen)
    return {**shown, **dict.fromkeys(undecided, next(iter(seen), None))}


def _number_shapes(table: ir.Table, column: str) -> list[dict]:
    """The shapes of a text number column's values (digits as 9, other signs but marks set aside: ``9,999.99``),
    most frequent first, each with its rows, an example and how many of those are no plain number."""
    t = table.select(value=table[column].strip())
    t = t.filter(t.value.notnull() & (t.value != ""))
    formatted = t.value.try_cast("float64").isnull() & t.value.re_search("[0-9]")
    shapes = t.group_by(shape=t.value.re_replace("[^0-9.,]", "").re_replace("[0-9]", "9")).aggregate(
        rows=t.count(), example=t.value.arbitrary(), formatted=formatted.sum()
    )
    return shapes.order_by([ibis.desc("rows"), "shape"]).limit(50).to_pyarrow().to_pylist()


def _marks(shapes: list[dict]) -> dict[str, str]:
    """Decimal mark → an example of a number showing it, among ``shapes``."""
    marks = {}
    for shape in shapes:
        mark = decimal_mark(shape["shape"])
        if mark is not None:
            marks.setdefault(mark, shape["example"])
    return marks


def _date_forms(table: ir.Table, columns: list[str]) -> list[dict]:
    """The forms of numeric date in each of ``columns`` (digits set aside), most frequent first: its column, rows,
    an example, and an example whose first number is above 12 (``DAY_FIRST``) or whose second is (``MONTH_FIRST``)."""
    found = []
    for column in columns:
        t = table.select(value=table[column].strip().upper())
        t = t.filter(t.value.re_search(NUMERIC_DATE))
        first = t.value.re_extract("^([0-9]+)", 1).try_cast("int64")
        second = t.value.re_extract("^[0-9]+[/.-]([0-9]+)", 1).try_cast("int64")
        shapes = t.group_by(shape=t.value.re_replace("[0-9]+", "9")).aggregate(
            rows=t.count(),
            example=t.value.arbitrary(),
            **{DAY_FIRST: t.value.arbitrary(where=first > 12), MONTH_FIRST: t.value.arbitrary(where=second > 12)},
        )
        shapes = shapes.order_by([ibis.desc("rows"), "shape"]).limit(4 * MAX_DATE_FORMS)
        found += [{"column": column, **form} for form in shapes.to_pyarrow().to_pylist()]
    return sorted(found, key=lambda form: -form["rows"])


# Why a column of the accounts table beyond the contract's is not an attribute.
AS_EXPORTED = "a date: accounts are as exported, so it would tell earlier rows what came later"
NOT_CHOSEN = "not among the mapping's [accounts] attributes"
EMPTY = "empty in every row: a field nobody fills in says nothing"
NAME_LIKE = "text distinct for nearly every account: a name or an id, from which a model learns nothing general"
TELLS_WHO_LEFT = (
    "it tells the accounts that had left by the data's end from the others ({}): a state at the export, which "
    "would show every earlier row what came later"
)
# An attribute tells who had left when its association with having left is at least this (Cramér's V, or an AUC this
# far from one half, doubled: 0.9 is an AUC of 0.95), over at least LEAK_ACCOUNTS accounts that left and as many that
# stayed. A status, a churn reason or a cancellation fee does; an industry or a plan, which churn merely varies with,
# comes nowhere near.
LEAK_ASSOCIATION, LEAK_ACCOUNTS = 0.9, 10
# A text column is name-like when at least this share of its values, over at least NAME_LIKE_ROWS of them, are distinct.
NAME_LIKE_SHARE, NAME_LIKE_ROWS = 0.9, 20


def account_attributes(accounts: ir.Table, chosen: tuple[str, ...] | None) -> tuple[dict[str, str], dict[str, str]]:
    """The extra columns of ``accounts`` carried as attributes with their kinds, and ``"accounts.<column>"`` → why
    each other one is not.

    An attribute is a number when its column is numeric, or text whose every value is one (a CSV's
    ``employees`` or ``annual_revenue``), so the model can order it; any other is text, a category.

    The accounts table is a snapshot taken at export, not at each as_of, so an attribute is only
    honest if it does not change (industry, country). A date there (``churned_at``,
    ``cancelled_at``, ``last_login_at``) is the plainest case of one that does, and is never
    carried: a date column, or text in which every value is an ISO 8601 time or a numeric date. Other columns
    that change (``status``, ``health_score``) cannot be told apart from the data; ``chosen`` (the
    mapping's ``[accounts] attributes``) lists the columns to carry, None carrying every column but dates,
    name-like text (a company's name, website or CRM id: distinct for nearly every account, no category at all)
    and columns empty in every row (a CRM's fields nobody fills in).
    """
    spec = CONTRACT["accounts"]
    extra = [column for column in accounts.columns if column not in spec.columns]
    dates, numbers, names, empty = _column_contents(accounts, extra)
    kinds = {c: NUMBER if c in numbers else TEXT for c in extra if c not in dates}
    if chosen is None:
        kept = {c: kind for c, kind in kinds.items() if c not in names | empty}
        why = lambda c: EMPTY if c in empty else AS_EXPORTED if c in dates else NAME_LIKE  # noqa: E731
        return kept, {f"accounts.{c}": why(c) for c in extra if c not in kept}
    for column in chosen:
        problem = (
            "a contract column, not an attribute" if column in spec.columns
            else f"no such column; its extra columns: {', '.join(map(repr, extra[:20])) or 'none'}" if column not in extra
            else AS_EXPORTED if column in dates
            else None
        )
        if problem:
            raise ChurnInputError(f"named in the mapping's attributes, but {problem}", table="accounts", column=column)
    unused = {f"accounts.{c}": AS_EXPORTED if c in dates else NOT_CHOSEN for c in extra if c not in chosen}
    return {c: kind for c, kind in kinds.items() if c in chosen}, unused


def _attributes_telling_who_left(
    accounts: ir.Table, subscriptions: ir.Table, until: datetime, columns: list[str]
) -> dict[str, str]:
    """Attribute → how strongly it tells the accounts whose last subscription had ended by ``until`` from the
    others, for the ``columns`` that do (``LEAK_ASSOCIATION``): an account's status, its churn reason, a date-free
    trace of leaving. Exported once, such a column holds each account's state at the export, so at every earlier
    as_of it would tell the model the label. Text is compared as categories (an empty value one of them) by
    Cramér's V, bias-corrected; a number by the AUC it gives, and by whether it is empty (a fee only leavers have). Both are a few
    lines of pandas here: SciPy's and scikit-learn's would add half a second of imports to every build."""
    last = subscriptions.group_by("account_id").aggregate(
        open=subscriptions.end_date.isnull().any(), last_end=subscriptions.end_date.max()
    )
    joined = accounts.left_join(last, accounts.account_id == last.account_id)
    left = (~joined.open.fill_null(True)) & (joined.last_end <= until)
    frame = joined.select(*columns, left__=left.fill_null(False)).to_pandas()
    gone = frame.pop("left__").astype(bool)
    if min(gone.sum(), (~gone).sum()) < LEAK_ACCOUNTS:
        return {}
    telling = {}
    for column in columns:
        values = frame[column]
        measures = [("Cramér's V", _cramers_v(values.isna(), gone))]
        if pd.api.types.is_numeric_dtype(values):
            given = values.notna()
            if gone[given].nunique() == 2:
                auc = _auc(values[given].astype(float), gone[given])
                measures.append((f"AUC {auc:.2f}", 2 * abs(auc - 0.5)))
        else:
            measures.append(("Cramér's V", _cramers_v(values.fillna("").astype(str), gone)))
        how, strength = max(measures, key=lambda measure: measure[1])
        if strength >= LEAK_ASSOCIATION:
            telling[column] = f"{how} {strength:.2f}" if how.startswith("Cramér") else how
    return telling


def _cramers_v(values: pd.Series, flag: pd.Series, *, bias_corrected: bool = True) -> float:
    """Cramér's V of ``values`` (categories) against a yes-or-no ``flag``: 0 when unrelated, 1 when each category
    holds one side only; 0 when either has a single value. Bias-corrected (Bergsma, 2013) by default: uncorrected,
    a column of many small categories (a city) reads as telling by chance, as each holds few accounts."""
    observed = pd.crosstab(values, flag).to_numpy(dtype=float)
    if min(observed.shape) < 2:
        return 0.0
    n = observed.sum()
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / n
    phi2 = ((observed - expected) ** 2 / expected).sum() / n
    rows, columns = observed.shape
    if not bias_corrected:
        return float((phi2 / (min(rows, columns) - 1)) ** 0.5)
    phi2 = max(0.0, phi2 - (rows - 1) * (columns - 1) / (n - 1))
    rows, columns = rows - (rows - 1) ** 2 / (n - 1), columns - (columns - 1) ** 2 / (n - 1)
    return float((phi2 / (min(rows, columns) - 1)) ** 0.5)


def _auc(scores: pd.Series, flag: pd.Series) -> float:
    """The area under the ROC curve of ``scores`` for a yes-or-no ``flag`` (Mann-Whitney's U over its maximum), ties
    counting half."""
    ranks = scores.rank()
    positives, negatives = int(flag.sum()), int((~flag).sum())
    return float((ranks[flag].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _column_contents(table: ir.Table, columns: list[str]) -> tuple[set[str], set[str], set[str], set[str]]:
    """Columns holding dates (of a date or time type, or text whose every non-empty value is an ISO 8601 time or a
    numeric date such as "09/20/2024"), columns holding numbers (of a numeric type, or text whose every non-empty
    value is a number), the other text columns that are name-like (``NAME_LIKE_SHARE`` of their values distinct),
    and the columns empty in every row."""
    if not columns:
        return set(), set(), set(), set()
    dates = {c for c in columns if table[c].type().is_timestamp() or table[c].type().is_date()}
    numbers = {c for c in columns if table[c].type().is_numeric() and not table[c].type().is_boolean()}
    text = {c for c in columns if table[c].type().is_string()}
    checks = {}
    for i, column in enumerate(columns):
        value = table[column].strip().nullif("") if column in text else table[column]
        checks[f"given_{i}"] = value.count()
        if column in text:
            iso = value.re_search(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}") & text_time(value).notnull()
            is_time = iso | value.re_search(ANY_NUMERIC_DATE)
            checks[f"times_{i}"] = is_time.fill_null(False).sum()
            checks[f"numbers_{i}"] = value.try_cast("float64").count()
            checks[f"distinct_{i}"] = value.nunique()
    counts = _collect(table.aggregate(**checks))
    given = {c: counts[f"given_{i}"] for i, c in enumerate(columns)}
    text_at = {c: i for i, c in enumerate(columns) if c in text}

    def every(what: str) -> set[str]:  # the text columns each of whose given values is one
        return {c for c, i in text_at.items() if given[c] and counts[f"{what}_{i}"] == given[c]}

    dates, numbers = dates | every("times"), numbers | every("numbers")
    names = {
        c for c, i in text_at.items() if c not in dates | numbers and given[c] >= NAME_LIKE_ROWS
        and counts[f"distinct_{i}"] >= NAME_LIKE_SHARE * given[c]
    }
    return dates, numbers, names, {c for c in columns if not given[c]}


def _without_skipped(name: str, table: ir.Table, profile: dict, accounts: ir.Table, cutoff: datetime) -> ir.Table:
    """The table without future-dated rows, rows of unknown accounts and a log's rows with an empty required
    column; no filter at all when the profile found none, since a big log is read more than once and each filter
    (the unknown-account one is a join) is paid each time."""
    drop = [table[column].isnull() for column in CONTRACT[name].not_null if profile[f"empty__{column}"]]
    if profile["future"]:
        drop.append(table[CONTRACT[name].row_time] > cutoff)
    if profile.get("early"):
        drop.append(table[CONTRACT[name].row_time] < EARLIEST_LOG_TIME)
    if profile.get("unknown"):
        drop.append(~table.account_id.isin(accounts.account_id))
    kept = table.filter(~ibis.or_(*drop)) if drop else table
    return kept.drop(*[column for column in table.columns if column.startswith(UNPARSED)])


def cached(table: ir.Table) -> ir.Table:
    """``Table.cache`` (a temporary table on DuckDB, a cached DataFrame on Spark) with the in-memory tables it
    reads registered first, which PySpark's cache leaves undone."""
    table._find_backend()._run_pre_execute_hooks(table)
    return table.cache()


def contract_renames(name: str, columns: list[str], named: dict[str, str] | None = None) -> dict[str, str]:
    """Contract name → column: those ``named`` (the mapping's ``[columns.<table>]``), then contract columns written
    in another style (``Account ID``, ``accountId``, ``TIMESTAMP``, Salesforce's ``Plan__c``): a column takes the
    contract's name when it alone reads the same once case, spaces and punctuation are set aside (``column_key``).
    A contract column still without one takes the one column of its ``COMMON_NAMES`` the table has (``event`` for
    event_type, ``org_id`` for account_id). Of two of them for an id, one named as an id (``Requester id`` beside
    ``Requester``, a name) is taken; otherwise which is meant would be a guess: the mapping is asked for, but for an
    optional column, which is then not read."""
    spec = CONTRACT[name]
    renames = {}
    for column, company_column in (named or {}).items():
        if company_column not in columns:
            raise ChurnInputError(
                f"the mapping reads column {company_column!r} as {column}, but the table has {_shown(columns)}",
                table=name, column=column,
            )
        renames[column] = company_column
    for column in [column for column in spec.kinds if column not in BILLING]:  # written in another style
        matches = [c for c in columns if column_key(c) == plain(column) and c not in renames.values()]
        if column not in columns and column not in renames and len(matches) == 1:
            renames[column] = matches[0]
    for column, common in COMMON_NAMES.get(name, {}).items():  # under another tool's name
        if column in renames or any(column_key(c) == plain(column) for c in columns):
            continue
        matches = _named_as(columns, common, taken=renames.values())
        ids = [c for c in matches if column_key(c).endswith("id")]
        if spec.kinds[column] == ID and len(matches) > 1 and len(ids) == 1:  # Zendesk's Requester id, not Requester
            matches = ids
        if len(matches) == 1:
            renames[column] = matches[0]
        elif matches and column in spec.columns:  # a column the features need: asked for, not silently lacked
            raise ChurnInputError(
                f"{' and '.join(map(repr, matches))} could each be {column}, and which is meant would be a guess; name "
                f"it in a mapping file: [columns.{name}] {column} = {json.dumps(matches[0])}",
                table=name, column=column,
            )
    keys = set(map(column_key, columns))
    lacking = lambda column: column not in renames and plain(column) not in keys  # noqa: E731
    for column, tiers in FALLBACK_NAMES.get(name, {}).items():
        if lacking(column) and (found := _first_named(columns, tiers, taken=renames.values())):
            renames[column] = found
    if name == "emails" and not lacking("email_event") and lacking("sent_at"):  # a log of email events: each row's time
        found = _first_named(columns, (EMAIL_EVENT_TIMES,), taken=renames.values())
        renames |= {"sent_at": found} if found else {}
    if name == "tickets":  # how long the first reply and the resolution took, for a table giving no time of them
        wanted = [duration for time, duration in DURATION_TIMES.items() if lacking(time) and lacking(duration)]
        renames |= {d: c for d, c in duration_columns(columns, taken=renames.values()).items() if d in wanted}
    if name == "subscriptions" and lacking("mrr"):
        yearly = yearly_revenue(columns)
        renames |= {"mrr": yearly} if yearly else billed_price(columns, renames)  # a twelfth of ARR, or a month's price
    return {column: company_column for column, company_column in renames.items() if column != company_column}


def duration_columns(columns: list[str], *, taken=()) -> dict[str, str]:
    """Contract duration → the one column of ``columns`` named as it (``DURATION_NAMES``), but for those ``taken``."""
    found = {}
    for duration, tiers in DURATION_NAMES.items():
        for tier in tiers:
            if named := [c for c in columns if c not in taken and _duration_words(c) in tier]:
                found |= {duration: named[0]} if len(named) == 1 else {}
                break
    return found


def _duration_words(column: str) -> frozenset[str] | None:
    """What a duration column's name says it measures (``{first, reply}`` for ``First reply time in minutes``); None
    for a name without time, or within business hours."""
    named = set(words(column))
    if "time" not in named or "business" in named:
        return None
    return frozenset(named - DURATION_FILLER)


def ticket_durations(tickets: ir.Table, given: dict[str, str]) -> tuple[ir.Table, dict[str, Duration], dict, dict]:
    """How the table's duration columns are read (``given``: each as the export names it): (the table, each
    duration's ``Duration``, why one is not read, the times they stand for). A duration beside the time it would
    stand for is not read; a column of times under a duration's name is that time."""
    formats, unused, derived = {}, {}, {}
    for time, duration in DURATION_TIMES.items():
        if duration not in tickets.columns:
            continue
        source, dtype = given.get(duration, duration), tickets[duration].type()
        if time in tickets.columns:
            why = f"the table gives {time}"
        elif dtype.is_timestamp() or dtype.is_date():
            tickets = tickets.rename({time: duration})
            derived[f"tickets.{time}"] = f"{source!r} (a column of times)"
            continue
        elif dtype.is_numeric() and duration_unit(source) is None:
            why = UNSTATED_UNIT
        else:
            formats[duration] = Duration(duration_unit(source))
            derived[f"tickets.{time}"] = f"opened_at plus {source!r}"
            continue
        tickets = tickets.drop(duration)
        unused[f"tickets.{source}"] = why
    return tickets, formats, unused, derived


def times_after_opening(tickets: ir.Table) -> ir.Table:
    """``first_response_at`` and ``resolved_at`` from the durations standing for them (``ticket_durations``): the
    opening's time plus each, at the whole second at or after it, so no reply counts before it came."""
    durations = {time: duration for time, duration in DURATION_TIMES.items() if duration in tickets.columns}
    opened = tickets.opened_at.epoch_seconds()
    times = {
        time: (opened + tickets[duration]).ceil().cast("int64").as_timestamp("s").cast("timestamp")
        for time, duration in durations.items()
    }
    return tickets.mutate(**times).drop(*durations.values())


def common_names_read(renames: dict[str, str], named: dict[str, str] | None = None) -> dict[str, str]:
    """Of ``contract_renames``, the contract columns read from a column of a common name (``COMMON_NAMES``), not
    named by the mapping nor written in another style: worth telling, as the build chose them."""
    return {
        column: company_column for column, company_column in renames.items()
        if column not in (named or {}) and plain(column) != column_key(company_column)
    }


def yearly_revenue(columns: list[str]) -> str | None:
    """The one column of ``columns`` named as a yearly recurring revenue (``ANNUAL_REVENUE_NAMES``), or None: what
    stands for MRR, a twelfth of it, in a table with no MRR column."""
    return _first_named(columns, (ANNUAL_REVENUE_NAMES,))


def annual_revenue(read: dict[str, str], named: dict[str, str] | None = None) -> str | None:
    """The yearly revenue column (ARR) that ``read`` (``contract_renames``, ``flat_subscriptions``) reads MRR from,
    which is then a twelfth of it; None for a column of MRR, or one the mapping names as mrr, which it then is."""
    column = read.get("mrr")
    return column if column and "mrr" not in (named or {}) and yearly_revenue([column]) else None


def billed_price(columns: list[str], renames: dict[str, str]) -> dict[str, str]:
    """For a subscriptions table with no MRR or ARR column: ``mrr`` read from its one price column
    (``PRICE_NAMES``) when it has one billing interval column, with its interval count and quantity columns when
    it has them (``BILLING``; ``renames`` holds those the mapping named); else nothing."""
    prices = _named_as(columns, (*PRICE_NAMES, *PRICE_IN_CENTS_NAMES))
    billing = {}
    for column, names in BILLING.items():
        found = _named_as(columns, (column, *names), taken=renames.values())
        billing |= {column: renames.get(column) or (found[0] if len(found) == 1 else None)}
    if len(prices) != 1 or not billing["billing_interval"]:
        return {}
    return {"mrr": prices[0], **{column: found for column, found in billing.items() if found and column not in renames}}


def price_read(read: dict[str, str], named: dict[str, str] | None = None) -> str | None:
    """How MRR is read from a price per billing interval (``billed_price``), for the build's report; None when
    ``read`` reads MRR otherwise, or the mapping names the MRR column, which is then MRR as it is."""
    price, interval = read.get("mrr"), read.get("billing_interval")
    is_price = bool(price) and bool(_named_as([price], (*PRICE_NAMES, *PRICE_IN_CENTS_NAMES)))
    if not is_price or not interval or "mrr" in (named or {}):
        return None
    units = f" × {read['quantity']!r}" if "quantity" in read else ""
    every = f" (every {read['billing_interval_count']!r} of them)" if "billing_interval_count" in read else ""
    cents = " in cents" if _in_cents(price) else ""
    return f"a month's worth of {price!r}{cents}{units} per {interval!r}{every}"


def monthly_price(subscriptions: ir.Table, price_column: str) -> ir.Table:
    """Subscriptions with MRR a month's worth of the price per billing interval read as ``mrr`` (from the company's
    ``price_column``, in cents when its name says so), and each subscription's term, when the table has none, its
    billing interval; a billing interval of no known length is refused, named with an example. The billing columns
    are then dropped: the features read MRR."""
    t = subscriptions
    key = _plain_text(t.billing_interval)
    unknown = t.filter(t.billing_interval.notnull() & ~key.isin(list(MONTHS_PER_INTERVAL)))
    example = _collect(unknown.aggregate(example=unknown.billing_interval.min()))["example"]
    if example is not None:
        raise ChurnInputError(
            f"{example!r} is not a billing interval of known length; expected day, week, month, quarter or year",
            table="subscriptions", column="billing_interval",
        )
    every = t.billing_interval_count.fill_null(1) if "billing_interval_count" in t.columns else 1
    months = key.cases(*MONTHS_PER_INTERVAL.items()) * every
    quantity = t.quantity.fill_null(1) if "quantity" in t.columns else 1
    t = t.mutate(mrr=t.mrr * quantity / (100 if _in_cents(price_column) else 1) / months)
    if "term_months" not in t.columns:
        t = t.mutate(term_months=months)
    return t.drop(*[column for column in BILLING if column in t.columns])


def _in_cents(price_column: str) -> bool:
    return bool(_named_as([price_column], PRICE_IN_CENTS_NAMES))


def _named_as(columns, names, *, taken=()) -> list[str]:
    """The ``columns`` whose name reads as one of ``names`` (``column_key``), but for those already ``taken``."""
    keys = {plain(name) for name in names}
    return [column for column in columns if column_key(column) in keys and column not in taken]


def _first_named(columns, tiers, *, taken=()) -> str | None:
    """The one column named as the first of ``tiers`` (each a tuple of names, ``_named_as``) the table has a column
    of; None when it has none, or several of that tier, as which is meant would be a guess."""
    for names in tiers:
        if found := _named_as(columns, names, taken=taken):
            return found[0] if len(found) == 1 else None
    return None


def _plain_text(text: ir.StringValue) -> ir.StringValue:
    """``plain`` in SQL for the Latin names of events and intervals: lower case, every other character dropped."""
    return text.lower().re_replace(r"[^a-z0-9]", "")


def column_key(column: str) -> str:
    """A column's name as it is matched to the contract's: case, spaces and punctuation set aside (``plain``), and
    the ``__c`` that ends a Salesforce custom field's name (``Churn_Date__c``, ``Plan__c``) or the note in brackets
    that ends a billing export's (Stripe's ``Start (UTC)``, ``MRR (USD)``)."""
    stem = column[:-3] if column.lower().endswith("__c") else column
    return plain(re.sub(r"\s*[(\[][^()\[\]]*[)\]]\s*$", "", stem) or stem)


def displaced(columns: list[str], named: dict[str, str] | None) -> list[str]:
    """Columns bearing a contract column's name that the mapping reads from another column: left out, as the
    mapping says which column is meant."""
    return [column for column, company_column in (named or {}).items() if column in columns and column != company_column]


def _shown(columns: list[str]) -> str:
    return ", ".join(map(repr, columns[:20])) + (f", … ({len(columns)} in all)" if len(columns) > 20 else "")


def _typed(name: str, table: ir.Table, attributes: dict[str, str], formats: dict | None = None) -> ir.Table:
    """Contract columns in their types, and for accounts the ``attributes`` in theirs (column → kind); text times
    with numeric dates and text numbers in a locale's style read in their ``formats`` (``date_formats``,
    ``number_formats``). A value that does not parse becomes null, and is flagged in ``_unparsed__<column>`` for
    ``_profile`` to count. Ids are read without the spaces around them (``A001 ``), as fixed-width and hand-kept
    exports pad them: in accounts, subscriptions and users, and in a log read from text (CSV) but the events. A
    typed log's ids and the events' are machine-written, and too many to look at for nothing."""
    formats = formats or {}
    spec = CONTRACT[name]
    missing = [column for column in spec.columns if column not in table.columns and column not in spec.may_lack]
    if missing:
        raise ChurnInputError(
            f"required column is missing; the table has {_shown(list(table.columns))} (if yours is named otherwise, "
            f"name it in a mapping file: [columns.{name}] {missing[0]} = \"your column\""
            + (BY_USER_HINT if missing[0] == "account_id" and spec.is_log and "user_id" in spec.kinds else "") + ")",
            table=name, column=missing[0],
        )
    wanted = {**spec.columns, **{c: kind for c, kind in spec.optional.items() if c in table.columns}}
    if name == "accounts":
        wanted.update(attributes)
    given = lambda column: table[column] if column in table.columns else ibis.null()  # noqa: E731  # a may_lack column
    typed = {column: _as(given(column), kind, name, column, formats.get(column, ())) for column, kind in wanted.items()}
    if ids_unpadded(name, from_text=_parses_text(table, name)):
        typed |= {column: _unpadded(typed[column]) for column, kind in wanted.items()
                  if kind == ID and column in table.columns and table[column].type().is_string()}
    return table.select(**typed, **unparsed_flags(table, typed, wanted))


def ids_unpadded(name: str, *, from_text: bool) -> bool:
    """Whether table ``name``'s ids are read without the spaces around them (``_typed``): not a typed log's, nor the
    events' (machine-written, and too many to look at for nothing)."""
    return not CONTRACT[name].is_log or (name != "events" and from_text)


def _unpadded(text: ir.StringValue) -> ir.StringValue:
    """``text`` without the spaces around it, null when it is nothing else; stripped only when it starts or ends with
    a space, several times faster for the many that do not."""
    return ibis.ifelse(text.startswith(" ") | text.endswith(" "), text.strip().nullif(""), text)


def unparsed_flags(table: ir.Table, typed: dict[str, ir.Value], kinds: dict[str, str]) -> dict[str, ir.BooleanValue]:
    """``_unparsed__<column>``: whether the row gave a value that did not parse, for each column that is parsed."""
    flags = {}
    for column in _parsed_columns(table, kinds):
        given = table[column]
        present = given.notnull() & (given.strip() != "") if given.type().is_string() else given.notnull()
        flags[f"{UNPARSED}{column}"] = ibis.ifelse(typed[column].isnull(), present, False)  # a CASE: looks only at nulls
    return flags


def _unparsed_example(name: str, raw: ir.Table, column: str, formats: tuple[DateFormat, ...] | NumberFormat) -> str:
    """A value of ``column`` as given that did not parse: looked up again only when there is one to show."""
    kind = CONTRACT[name].kinds[column]
    flags = unparsed_flags(raw, {column: _as(raw[column], kind, name, column, formats)}, {column: kind})
    bad = raw.filter(flags[f"{UNPARSED}{column}"])
    return _collect(bad.select(example=bad[column].cast("string")).limit(1))["example"]


def _parsed_columns(table: ir.Table, kinds: dict[str, str]) -> list[str]:
    """Columns whose values are parsed, so may fail to be: text read as times or numbers, and numbers read as
    Unix times."""
    return [
        column for column, kind in kinds.items()
        if column in table.columns and kind in (TIME, NUMBER, DURATION)
        and (table[column].type().is_string() or (kind in (TIME, DURATION) and table[column].type().is_numeric()))
    ]


def _parses_text(table: ir.Table, name: str) -> bool:
    """Whether a time or number column of the table is text (CSV), which is slow to parse and so parsed once."""
    return any(table[column].type().is_string() for column in _parsed_columns(table, CONTRACT[name].kinds))


def read_as(value: ir.Value, kind: str, table: str, column: str, formats: tuple[DateFormat, ...] | NumberFormat = ()):
    """A column as the build reads a contract column of ``kind`` (``TIME``: timestamps, dates, text with numeric
    dates in ``formats`` (``date_formats``) or Unix times; ``NUMBER``: numbers, or text in a ``NumberFormat``)."""
    return _as(value, kind, table, column, formats)


def _as(
    value: ir.Value, kind: str, table: str, column: str, formats: tuple[DateFormat, ...] | NumberFormat = ()
) -> ir.Value:
    """``value`` as ``kind``; ``formats`` are a time column's numeric date formats, a number column's style, or how a
    duration is written (in seconds once read)."""
    dtype = value.type()
    if kind == DURATION and (dtype.is_string() or dtype.is_numeric()):
        return formats.seconds(value)
    if kind == ID and dtype.is_floating():  # whole-number ids written as floats (a column with gaps, from pandas)
        whole = (value == value.floor()) & (value.abs() < 2**53)
        return ibis.ifelse(whole, value.cast("int64").cast("string"), value.cast("string"))
    if kind in (ID, TEXT):
        return value.cast("string")
    if dtype.is_string():  # the casts read through surrounding spaces and make blank text null
        if kind == TIME:  # text with a colon is no Unix time, and is spared that slower reading
            unix = ibis.ifelse(value.contains(":"), None, time_from_number(value.try_cast("float64")))
            if not formats:
                return ibis.coalesce(text_time(value), unix)
            engine, text = value._find_backend(use_default=True).name, value.strip().upper()
            return ibis.coalesce(*[form.read(text, engine) for form in formats], text_time(value), unix)
        return formats.read(value) if isinstance(formats, NumberFormat) else value.try_cast("float64")
    if dtype.is_null():
        return value.cast("timestamp" if kind == TIME else "float64")
    if kind == TIME and (dtype.is_timestamp() or dtype.is_date()):
        return value.cast("timestamp")
    if kind == TIME and dtype.is_numeric():
        return time_from_number(value)
    if kind == NUMBER and dtype.is_numeric():
        return value.cast("float64")
    expected = {TIME: "timestamps, dates or Unix times", DURATION: "durations"}.get(kind, "numbers")
    raise ChurnInputError(f"has type {dtype}, expected {expected}", table=table, column=column)


def _profile(name: str, table: ir.Table, accounts: ir.Table, cutoff: datetime) -> dict:
    """Counts of every problem, with an example value each, in as little reading as the table allows.

    A log naming only known accounts and holding nothing after the cut-off, as most exports do, is
    profiled from whole-table figures (``_clean_profile``); any other table naming accounts is
    profiled per account first (``_profile_per_account``).
    """
    spec = CONTRACT[name]
    profile = None if name == "accounts" else _clean_profile(name, table, accounts, cutoff)
    if profile is None:
        profile = _profile_per_account(name, table, accounts, cutoff)
    if len(spec.unique) == 1:
        [key] = spec.unique
        profile |= _collect(table.aggregate(duplicates=table[key].count() - table[key].nunique()))
    elif spec.unique and set(spec.unique) <= set(table.columns):  # an optional id (subscription_id) may be absent
        keyed = table.filter(ibis.and_(*[table[key].notnull() for key in spec.unique]))
        pairs = keyed.select(*spec.unique).distinct()
        profile["duplicates"] = _count(keyed) - _count(pairs)
    return profile


def _value_checks(name: str, table: ir.Table) -> dict[str, tuple[ir.Scalar, str]]:
    """Values that did not parse and values that break a rule: key → (aggregate, how per-account figures combine)."""
    checks = {}
    for column in [c.removeprefix(UNPARSED) for c in table.columns if c.startswith(UNPARSED)]:
        checks[f"unparsed__{column}"] = (table[f"{UNPARSED}{column}"].sum(), "sum")
    for rule_table, column, _, test in RULES:
        if rule_table == name and column in table.columns:
            bad = test(table).fill_null(False)
            checks[f"rule__{column}"] = (bad.sum(), "sum")
            checks[f"rule_example__{column}"] = (table[column].cast("string").arbitrary(where=bad), "arbitrary")
    return checks


def _profile_per_account(name: str, table: ir.Table, accounts: ir.Table, cutoff: datetime) -> dict:
    """The profile in one pass over the table. A table naming accounts is grouped per account first, and the
    unknown accounts are found among those few groups rather than by looking up every row (the lookup costs as
    much again as the whole profile of a big event log)."""
    spec = CONTRACT[name]
    future = table[spec.row_time] > cutoff
    metrics = {"rows": (table.count(), "sum"), "future": (future.sum(), "sum"), **_value_checks(name, table)}
    dated = ~future  # rows neither after the cut-off nor, in a log, placeholders
    if spec.is_log:
        early = (table[spec.row_time] < EARLIEST_LOG_TIME).fill_null(False)
        metrics["early"] = (early.sum(), "sum")
        dated &= ~early
    for column in spec.not_null:
        metrics[f"empty__{column}"] = (table[column].isnull().sum(), "sum")
    metrics["first"] = (table[spec.row_time].min(where=dated), "min")
    for column in _time_columns(name, table):
        metrics[f"last__{column}"] = (table[column].max(where=dated & (table[column] <= cutoff)), "max")
    if name == "accounts":
        return _collect(table.aggregate(**{key: value for key, (value, _) in metrics.items()}))
    per_account = table.group_by("account_id").aggregate(
        current=dated.sum(), **{key: value for key, (value, _) in metrics.items()}
    )
    known = per_account.account_id.isin(accounts.account_id)
    return _collect(per_account.aggregate(
        unknown=per_account.current.sum(where=~known).fill_null(0),
        known=per_account.current.sum(where=known).fill_null(0),
        **{key: _reduce(per_account[key], how, known) for key, (_, how) in metrics.items()},
    ))


def _clean_profile(name: str, table: ir.Table, accounts: ir.Table, cutoff: datetime) -> dict | None:
    """The profile of a table that names only known accounts and holds nothing after the cut-off; None for any
    other table.

    Such a table needs no per-account figures but a row count per account, and the rest are
    whole-table counts, minima and maxima, which DuckDB answers from Parquet's statistics without
    reading the rows: for a big event log, a fifth of the time of the full pass. Those are asked
    first, so a table that is not clean costs the full pass little more.
    """
    spec = CONTRACT[name]
    times = _time_columns(name, table)
    figures = {"rows": table.count(), "first": table[spec.row_time].min()}
    figures |= {f"given__{column}": table[column].count() for column in spec.not_null}
    figures |= {f"latest__{column}": table[column].max() for column in times}
    whole = _collect(table.aggregate(**figures))
    latest = [_timestamp(whole[f"latest__{column}"]) for column in times]
    first = _timestamp(whole["first"])
    if whole["given__account_id"] < whole["rows"] or any(t is not None and t > cutoff for t in latest):
        return None
    if spec.is_log and first is not None and first < EARLIEST_LOG_TIME:
        return None
    per_account = table.group_by("account_id").aggregate(rows=table.count())
    unknown = per_account.rows.sum(where=~per_account.account_id.isin(accounts.account_id)).fill_null(0)
    if _collect(per_account.aggregate(unknown=unknown))["unknown"]:
        return None
    known = whole[f"given__{spec.row_time}"]  # the rows of known accounts that are dated: every dated row
    profile = {"rows": whole["rows"], "first": whole["first"], "future": 0, "unknown": 0, "known": known}
    profile |= {"early": 0} if spec.is_log else {}
    profile |= {f"empty__{column}": whole["rows"] - whole[f"given__{column}"] for column in spec.not_null}
    profile |= {f"last__{column}": whole[f"latest__{column}"] for column in times}
    if checks := _value_checks(name, table):
        profile |= _collect(table.aggregate(**{
            key: value.fill_null(0) if how == "sum" else value for key, (value, how) in checks.items()
        }))
    return profile


def _time_columns(name: str, table: ir.Table) -> list[str]:
    return [column for column, kind in CONTRACT[name].kinds.items() if kind == TIME and column in table.columns]


def _reduce(column: ir.Column, how: str, known: ir.BooleanColumn) -> ir.Scalar:
    """One table-wide figure from per-account ones: problems are counted (a sum over none is zero) and
    exemplified in every row, while first and last times come from known accounts only, whose rows alone
    are used."""
    if how == "sum":
        return column.sum().fill_null(0)
    return getattr(column, how)(where=known if how in ("min", "max") else None)


def _collect(aggregate: ir.Table) -> dict:
    return aggregate.to_pyarrow().to_pylist()[0]


def _raise_first_problem(
    name: str, raw: ir.Table, table: ir.Table, profile: dict, formats: dict, sources: dict[str, str]
) -> None:
    """The first problem ``profile`` found, as an error; ``sources`` names the columns read under other names."""
    spec = CONTRACT[name]
    get = lambda key: profile.get(key.replace(":", "__"))  # noqa: E731
    if name == "accounts" and not get("rows"):
        raise ChurnInputError("no rows", table=name)
    for column, kind in spec.kinds.items():
        if get(f"unparsed:{column}"):
            example = _unparsed_example(name, raw, column, formats.get(column, ()))
            problem = not_parsed(get(f"unparsed:{column}"), example, kind, source=sources.get(column))
            if kind == DURATION:  # a column of times under a duration's name
                time = next(time for time, duration in DURATION_TIMES.items() if duration == column)
                problem += (f"; if it holds times, name it in a mapping file: [columns.{name}] {time} = "
                            f"{json.dumps(sources.get(column, column))}")
            if (name, column) == ("tickets", "csat"):
                problem += f" (text ratings are read by the mapping's [csat] scores and unrated; {RATINGS_SETTING})"
            raise ChurnInputError(problem, table=name, column=column)
    for column in spec.not_null:
        if get(f"empty:{column}") and not spec.is_log:
            raise ChurnInputError(f"{get(f'empty:{column}')} empty value(s)", table=name, column=column)
    if get("duplicates"):
        keys = list(spec.unique)
        keyed = table.filter(ibis.and_(*[table[key].notnull() for key in keys]))
        example = _collect(keyed.group_by(keys).aggregate(n=keyed.count()).filter(lambda t: t.n > 1).select(*keys).limit(1))
        if len(keys) == 1:
            raise ChurnInputError(
                f"duplicate value {example[keys[0]]!r} ({get('duplicates')} extra row(s))", table=name, column=keys[0]
            )
        start = _timestamp(example["start_date"])
        raise ChurnInputError(
            f"{example['subscription_id']!r} has rows starting {start:%Y-%m-%d} that differ ({get('duplicates')} extra "
            "row(s)), and which is right is not known, as when an export is appended to an earlier one; keep each "
            "subscription's latest row",
            table=name, column="subscription_id",
        )
    for rule_table, column, problem, _ in RULES:
        if rule_table == name and get(f"rule:{column}"):
            raise ChurnInputError(
                f"{get(f'rule:{column}')} value(s) {problem}, e.g. {get(f'rule_example:{column}')}", table=name, column=column
            )


def not_parsed(count: int, example: str, kind: str = TIME, *, source: str | None = None) -> str:
    """The problem of ``count`` values of a time or number column that did not parse (read from the ``source``
    column of another name), with one of them; for a numeric date or a number with marks, which ones are read."""
    hint = ""
    if kind == TIME and re.search(NUMERIC_DATE, example.strip()):
        hint = (
            f" (numeric dates are read in the forms a table's first {SAMPLE_ROWS:,} rows show, with a four-digit"
            f" year, month or day first as its dates or the mapping tell: {ORDER_SETTING})"
        )
    if kind == NUMBER and re.search("[0-9]", example):
        hint = (
            f" (numbers with thousands marks or currency signs are read in the style a column's first {SAMPLE_ROWS:,}"
            f" rows show, its decimal mark as its numbers or the mapping tell: {DECIMAL_SETTING})"
        )
    if kind == DURATION:
        hint = " (a duration is read as hours:minutes[:seconds], or as a number of the unit its column's name states)"
    what = {TIME: "timestamp", DURATION: "duration"}.get(kind, "number")
    of = f" of column {source!r}" if source else ""
    return f"{count} value(s){of} are not a {what}, e.g. {example!r}{hint}"


def _timestamp(value) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=None) if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())
