"""Which of a company's event types mean login, password reset, knowledge-base view, download or micro-conversion."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from features.errors import ChurnInputError

DEFAULT_MAPPING = Path(__file__).with_name("default_mapping.toml")


@dataclass(frozen=True)
class EventMapping:
    """Lower-cased event type names per meaning; matching is case-insensitive."""

    login: tuple[str, ...] = ()
    password_reset: tuple[str, ...] = ()
    kb_view: tuple[str, ...] = ()
    content_download: tuple[str, ...] = ()
    micro_conversion: tuple[str, ...] = ()

    def types_of(self, kind: str, event_types: list[str]) -> list[str]:
        """The raw event types in the data that carry this meaning."""
        names = set(getattr(self, kind))
        return [event_type for event_type in event_types if str(event_type).lower() in names]

    def feature_types(self, event_types: list[str]) -> list[str]:
        """Event types that are product use rather than logging in or looking for help."""
        housekeeping = {name for kind in ("login", "password_reset", "kb_view") for name in getattr(self, kind)}
        return [event_type for event_type in event_types if str(event_type).lower() not in housekeeping]


def load_mapping(path: str | Path | None = None) -> EventMapping:
    """Read a TOML or YAML mapping with an ``[event_types]`` table; keys it leaves out keep the defaults.

    An empty list switches a meaning off.
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


def _parse(path: Path, document, defaults: EventMapping | None = None) -> EventMapping:
    where = str(path)
    if not isinstance(document, dict) or not isinstance(document.get("event_types"), dict):
        raise ChurnInputError("expected an [event_types] table", table=where, column="event_types")
    known = {field.name for field in fields(EventMapping)}
    values = {}
    for key, names in document["event_types"].items():
        if key not in known:
            raise ChurnInputError(f"unknown key; expected one of {', '.join(sorted(known))}", table=where, column=f"event_types.{key}")
        if not isinstance(names, list) or not all(isinstance(name, str) and name.strip() for name in names):
            raise ChurnInputError("expected a list of event type names", table=where, column=f"event_types.{key}")
        values[key] = tuple(name.strip().lower() for name in names)
    base = {name: getattr(defaults, name) for name in known} if defaults else {}
    return EventMapping(**{**base, **values})
