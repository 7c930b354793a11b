"""Event types as features count them: a page's URL is one type, whichever record it shows.

Web analytics and auto-capturing trackers name a page view by its URL: ``/projects/4812/board``,
``https://app.acme.io/search?q=churn``. Read as written, one page is thousands of event types, one per
record or query, so breadth counts records rather than features used, and no page is frequent enough to
get columns of its own. A path is read as its template instead, as APM tools group URLs: a segment holding a
digit is a record id (``{id}``: numbers, UUIDs, CRM and payment ids), the query is set aside, and a fragment
is kept only when it is the route of a single-page app (``#/projects/12``). In any other name only a word that
can be nothing but a record's id is set aside (``Viewed Project 48213``, ``opened_doc_<uuid>``): five digits or
more, a UUID, or eight hex digits or more mixing digits and letters. Shorter numbers are kept: onboarding steps,
versions and years name different things (``Step 2 Completed``, ``export_v2``, ``Q4 2024 review``).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote, urlsplit

from features.windows import slug

ID = "{id}"
# A URL with a scheme, or a path, standing alone or as a word of a longer name ("Viewed /projects/12").
_URL = re.compile(r"(?<!\S)(?:[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+|/)\S*")
# A word of a name that is a record's id: a UUID, five digits or more, or eight hex digits or more with a digit and a letter.
_RECORD_ID = re.compile(
    r"(?<![A-Za-z0-9])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9]{5,}"
    r"|(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,})(?![A-Za-z0-9])"
)


@functools.lru_cache(maxsize=1 << 16)
def page_template(event_type: str) -> str:
    """``event_type`` with each URL or path in it as its template, and each record id in the rest as ``{id}``;
    cached, as a log may hold many thousands."""
    parts = re.split(f"({_URL.pattern})", event_type)  # URLs at odd positions
    return "".join(_template(part) if i % 2 else _RECORD_ID.sub(ID, part) for i, part in enumerate(parts))


@functools.lru_cache(maxsize=1 << 16)
def feature_type(event_type: str) -> str:
    """What features call ``event_type``: its template's slug, shared by every type that reads the same."""
    return slug(page_template(event_type))


def page_path(event_type: str) -> str | None:
    """The route of an event type that is one URL, else None: ``/login`` for ``https://app.acme.io/login?next=/``
    and for ``https://app.acme.io/#/login``, so a mapping's ``/login`` means it on any host."""
    template = page_template(event_type)
    if not _URL.fullmatch(template):
        return None
    parts = urlsplit(template)
    return parts.fragment.removeprefix("!") if parts.fragment else parts.path or "/"


def _template(url: str) -> str:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
    route = parts.fragment.removeprefix("!")
    if not route.startswith("/"):
        return origin + _path(parts.path)
    return f"{origin}{_path(parts.path)}#{'!' if parts.fragment.startswith('!') else ''}{_path(route.split('?')[0])}"


def _path(path: str) -> str:
    segments = [ID if any(c.isdigit() for c in segment) else segment for segment in unquote(path).split("/")]
    return "/".join(segments).rstrip("/") or ("/" if path.startswith("/") else "")
