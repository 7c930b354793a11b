"""What a company's exports mean: which event types are logins, password resets, knowledge-base views,
downloads or micro-conversions, which extra account columns may be features, which of its columns are
the contract's when it names them otherwise, and, where its data cannot tell, how it writes dates and
numbers; and what its CSAT ratings written as words score."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from features.contract import CONTRACT, FLAT_COLUMNS
from features.errors import ChurnInputError
from features.event_types import page_path, page_template
from features.text_values import DATE_ORDERS, DECIMAL_MARKS, TextRatings, rating_key
from features.windows import plain, words

DEFAULT_MAPPING = Path(__file__).with_name("default_mapping.toml")
KINDS = ("login", "password_reset", "kb_view", "content_download", "micro_conversion")
# Words an event's name may start with to say who did it ("User Signed In", "Member Logged In", "AdminPasswordReset")
# or which part of the product logged it ("auth login"): a meaning's names match the name without them too.
ACTORS = ("user", "users", "member", "members", "customer", "account", "admin", "visitor", "contact", "client", "auth")
# What sets a namespace before an event's name: "auth.login", "user:signed_in", "kb.article_viewed".
NAMESPACED = re.compile(r"^[^\s./:]+[.:](?=[^\s/]*$)")


@dataclass(frozen=True)
class CompanyMapping:
    """Lower-cased event type names per meaning, and the account attributes to carry: None carries every extra
    column of ``accounts`` that is not a date.

    An event type has a meaning when it reads as one of its names once case, spaces and punctuation are set
    aside (``plain``), as analytics tools name one event ``password_reset``, ``Password Reset`` or
    ``passwordReset``; or does without the namespace or the actor its name starts with (``auth.login``,
    ``User Signed In``).
    """

    login: tuple[str, ...] = ()
    password_reset: tuple[str, ...] = ()
    kb_view: tuple[str, ...] = ()
    content_download: tuple[str, ...] = ()
    micro_conversion: tuple[str, ...] = ()
    attributes: tuple[str, ...] | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table → contract column → the company's column
    tables: dict[str, str] = field(default_factory=dict)  # contract table → its file or folder in the data folder
    date_order: str | None = None  # "month_first" or "day_first": how numeric dates ("03/04/2025") read; None: as the data shows
    decimal_mark: str | None = None  # "." or ",": how numbers with marks ("1.234,50") read; None: as the data shows
    ratings: TextRatings = field(default_factory=TextRatings)  # text CSAT ratings: their scores, and those meaning none

    def types_of(self, kind: str, event_types: list[str]) -> list[str]:
        """The raw event types in the data that carry this meaning: read as written, as a page's template
        (``/help/articles/{id}``) or, for a URL, by its route alone (``/login`` on any host)."""
        names = {plain(name) for name in getattr(self, kind)}
        return [event_type for event_type in event_types if not names.isdisjoint(_readings(event_type))]

    def housekeeping_types(self, event_types: list[str]) -> list[str]:
        """Event types that are logging in or looking for help rather than product use; the others count as breadth."""
        kinds = ("login", "password_reset", "kb_view")
        return [event_type for kind in kinds for event_type in self.types_of(kind, event_types)]

    def meanings_absent(self, event_types: list[str]) -> list[str]:
        """The meanings no event type in the data carries: their features are zero throughout, which the build
        reports, since it usually means the company names those events otherwise and needs a mapping. A meaning
        the mapping switched off (an empty list) is not absent but unwanted."""
        return [kind for kind in KINDS if getattr(self, kind) and not self.types_of(kind, event_types)]


@functools.lru_cache(maxsize=1 << 16)
def _readings(event_type: str) -> frozenset[str]:
    path = page_path(event_type)
    if path is not None:  # a URL: its page, its route
        return frozenset({plain(event_type), plain(page_template(event_type)), plain(path)})
    template = page_template(event_type)
    named = {template, NAMESPACED.sub("", template)}
    return frozenset(plain(name) for whole in named for name in (whole, _without_actor(whole)))


def _without_actor(name: str) -> str:
    """``name`` without an actor word it starts with (``ACTORS``), unless that is all of it: ``Signed In`` for
    ``User Signed In`` and for ``userSignedIn``."""
    given = words(name)
    return " ".join(given[1:]) if len(given) > 1 and given[0] in ACTORS else name


def load_mapping(path: str | Path | None = None) -> CompanyMapping:
    """Read a TOML or YAML mapping with any of an ``[event_types]`` table, an ``[accounts]`` table,
    ``[columns.<table>]`` tables, and ``[tables]``, ``[dates]``, ``[numbers]`` and ``[csat]`` tables; keys it leaves
    out keep the defaults.

    An empty list switches a meaning off; ``attributes = []`` carries no account attribute.
    ``[columns.events]`` with ``timestamp = "happened_at"`` reads the events' ``happened_at`` as the
    contract's ``timestamp``: a company names its own columns in the mapping, not by rewriting its exports.
    ``[tables]`` with ``accounts = "customers_2025.csv"`` reads that file of the data folder as the accounts.
    ``[dates]`` with ``order = "day_first"`` reads "03/04/2025" as 3 April (``month_first``: 4 March);
    ``[numbers]`` with ``decimal = ","`` reads "1.234" as 1234 (``"."``: 1.234).
    ``[csat]`` with ``scores = { good = 5, bad = 1 }`` and ``unrated = ["offered"]`` reads text CSAT ratings.
    """
    defaults = _parse(DEFAULT_MAPPING, tomllib.loads(DEFAULT_MAPPING.read_text()))
    if path is None:
        return defaults
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise ChurnInputError(f"mapping file {path} does not exist", table=where)
    text = path.read_text()
    try:
        document = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ChurnInputError(f"cannot be parsed: {exc}", table=where) from None
    return _parse(path, document, defaults)


def _parse(path: Path, document, defaults: CompanyMapping | None = None) -> CompanyMapping:
    where = str(path)
    sections = {"event_types": KINDS, "accounts": ("attributes",)}
    tables = {*sections, "columns", "tables", "dates", "numbers", "csat"}
    if not isinstance(document, dict) or not document or not set(document) <= tables:
        unknown = sorted(set(document) - tables) if isinstance(document, dict) else []
        problem = f"unknown table {unknown[0]!r}; " if unknown else ""
        raise ChurnInputError(
            f"{problem}expected [event_types], [accounts], [columns.<table>], [tables], [dates], [numbers] or [csat] "
            "tables",
            table=where,
        )
    values = {}
    if "tables" in document:
        values["tables"] = _table_files(document["tables"], where)
    if "columns" in document:
        values["columns"] = _column_names(document["columns"], where)
    if "dates" in document:
        values["date_order"] = _one_of(document["dates"], "dates", "order", DATE_ORDERS, where)
    if "numbers" in document:
        values["decimal_mark"] = _one_of(document["numbers"], "numbers", "decimal", DECIMAL_MARKS, where)
    if "csat" in document:
        values["ratings"] = _ratings(document["csat"], where, defaults.ratings if defaults else TextRatings())
    for section, keys in sections.items():
        entries = document.get(section, {})
        if not isinstance(entries, dict):
            raise ChurnInputError("expected a table of keys and lists", table=where, column=section)
        for key, names in entries.items():
            if key not in keys:
                raise ChurnInputError(f"unknown key; expected one of {', '.join(keys)}", table=where, column=f"{section}.{key}")
            if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
                raise ChurnInputError("expected a list of names", table=where, column=f"{section}.{key}")
            # event types are matched by their plain form; attributes are column names, kept as written
            values[key] = tuple(name.strip() if section == "accounts" else name.strip().lower() for name in names)
    base = {each.name: getattr(defaults, each.name) for each in fields(CompanyMapping)} if defaults else {}
    return CompanyMapping(**{**base, **values})


def _one_of(section, table: str, key: str, choices: tuple[str, ...], where: str) -> str:
    """A table of one key naming one of ``choices``: ``[dates] order``, ``[numbers] decimal``."""
    if not isinstance(section, dict) or set(section) != {key}:
        raise ChurnInputError(f"expected [{table}] with one key, {key}", table=where, column=table)
    if section[key] not in choices:
        raise ChurnInputError(
            f"expected {' or '.join(map(repr, choices))}, got {section[key]!r}", table=where, column=f"{table}.{key}"
        )
    return section[key]


def _ratings(section, where: str, defaults: TextRatings) -> TextRatings:
    """``[csat]``: ``scores``, text → a score from 1 to 5, and ``unrated``, the texts meaning no rating."""
    if not isinstance(section, dict) or not section or not set(section) <= {"scores", "unrated"}:
        raise ChurnInputError("expected [csat] with scores = { text = 1-5 } and unrated = [texts]", table=where, column="csat")
    scores, unrated = section.get("scores"), section.get("unrated")
    if scores is not None:
        bad = not isinstance(scores, dict) or not scores or any(
            not isinstance(score, int | float) or isinstance(score, bool) or not 1 <= score <= 5 for score in scores.values()
        )
        if bad:
            raise ChurnInputError("expected { text = a score from 1 to 5, ... }", table=where, column="csat.scores")
    if unrated is not None and (not isinstance(unrated, list) or not all(isinstance(text, str) for text in unrated)):
        raise ChurnInputError("expected a list of texts", table=where, column="csat.unrated")
    keys = lambda texts: [rating_key(str(text)) for text in texts]  # noqa: E731
    if any(not key for key in keys([*(scores or {}), *(unrated or [])])):
        raise ChurnInputError("a rating text needs a letter or a digit", table=where, column="csat")
    return TextRatings(
        scores=dict(zip(keys(scores), map(float, scores.values()))) if scores is not None else defaults.scores,
        unrated=tuple(keys(unrated)) if unrated is not None else defaults.unrated,
    )


def _table_files(section, where: str) -> dict[str, str]:
    """``[tables]``: contract table → its file or folder in the data folder (``accounts = "customers_2025.csv"``)."""
    if not isinstance(section, dict) or not section:
        raise ChurnInputError('expected [tables] with contract table = "your file"', table=where, column="tables")
    for table, file in section.items():
        if table not in CONTRACT:
            raise ChurnInputError(f"unknown table; expected one of {', '.join(CONTRACT)}", table=where, column=f"tables.{table}")
        if not isinstance(file, str) or not file.strip():
            raise ChurnInputError("expected the name of a file or folder in the data folder", table=where,
                                  column=f"tables.{table}")
    return {table: file.strip() for table, file in section.items()}


def _column_names(section, where: str) -> dict[str, dict[str, str]]:
    """``[columns.<table>]``: contract column → the company's column, each checked against the contract."""
    if not isinstance(section, dict):
        raise ChurnInputError("expected [columns.<table>] tables", table=where, column="columns")
    names = {}
    for table, columns in section.items():
        at = f"columns.{table}"
        if table not in CONTRACT:
            raise ChurnInputError(f"unknown table; expected one of {', '.join(CONTRACT)}", table=where, column=at)
        if not isinstance(columns, dict):
            raise ChurnInputError("expected contract column = \"your column\"", table=where, column=at)
        known = [*CONTRACT[table].kinds, *(FLAT_COLUMNS if table == "accounts" else ())]
        for contract_column, company_column in columns.items():
            if contract_column not in known:
                raise ChurnInputError(
                    f"not a column of the contract's {table}; those are {', '.join(CONTRACT[table].kinds)}"
                    + (f", and for a flat customer table {', '.join(FLAT_COLUMNS)}" if table == "accounts" else ""),
                    table=where, column=f"{at}.{contract_column}",
                )
            if not isinstance(company_column, str) or not company_column.strip():
                raise ChurnInputError("expected the name of one of your columns", table=where, column=f"{at}.{contract_column}")
        given = {contract_column: company_column.strip() for contract_column, company_column in columns.items()}
        chosen = list(given.values())
        if len(set(chosen)) < len(chosen):
            twice = next(name for name in chosen if chosen.count(name) > 1)
            raise ChurnInputError(f"{twice!r} is named for two contract columns", table=where, column=at)
        names[table] = given
    return names
