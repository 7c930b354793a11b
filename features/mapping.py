"""What a company's exports mean: which event types are logins, password resets, knowledge-base views,
downloads or micro-conversions, and which extra account columns may be features."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from features.errors import ChurnInputError
from features.windows import plain

DEFAULT_MAPPING = Path(__file__).with_name("default_mapping.toml")
KINDS = ("login", "password_reset", "kb_view", "content_download", "micro_conversion")


@dataclass(frozen=True)
class CompanyMapping:
    """Lower-cased event type names per meaning, and the account attributes to carry: None carries every extra
    column of ``accounts`` that is not a date.

    An event type has a meaning when it reads as one of its names once case, spaces and punctuation are set
    aside (``plain``), as analytics tools name one event ``password_reset``, ``Password Reset`` or
    ``passwordReset``.
    """

    login: tuple[str, ...] = ()
    password_reset: tuple[str, ...] = ()
    kb_view: tuple[str, ...] = ()
    content_download: tuple[str, ...] = ()
    micro_conversion: tuple[str, ...] = ()
    attributes: tuple[str, ...] | None = None

    def types_of(self, kind: str, event_types: list[str]) -> list[str]:
        """The raw event types in the data that carry this meaning."""
        names = {plain(name) for name in getattr(self, kind)}
        return [event_type for event_type in event_types if plain(event_type) in names]

    def housekeeping_types(self, event_types: list[str]) -> list[str]:
        """Event types that are logging in or looking for help rather than product use; the others count as breadth."""
        kinds = ("login", "password_reset", "kb_view")
        return [event_type for kind in kinds for event_type in self.types_of(kind, event_types)]

    def meanings_absent(self, event_types: list[str]) -> list[str]:
        """The meanings no event type in the data carries: their features are zero throughout, which the build
        reports, since it usually means the company names those events otherwise and needs a mapping. A meaning
        the mapping switched off (an empty list) is not absent but unwanted."""
        return [kind for kind in KINDS if getattr(self, kind) and not self.types_of(kind, event_types)]


def load_mapping(path: str | Path | None = None) -> CompanyMapping:
    """Read a TOML or YAML mapping with an ``[event_types]`` table, an ``[accounts]`` table or both; keys it
    leaves out keep the defaults.

    An empty list switches a meaning off; ``attributes = []`` carries no account attribute.
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
    if not isinstance(document, dict) or not document or not set(document) <= set(sections):
        unknown = sorted(set(document) - set(sections)) if isinstance(document, dict) else []
        problem = f"unknown table {unknown[0]!r}; " if unknown else ""
        raise ChurnInputError(f"{problem}expected an [event_types] table, an [accounts] table or both", table=where)
    values = {}
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
    base = {field.name: getattr(defaults, field.name) for field in fields(CompanyMapping)} if defaults else {}
    return CompanyMapping(**{**base, **values})
